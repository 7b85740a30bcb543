//! `stagebench site` on the committed reports: every page well formed, every link and image
//! inside the site, every chart titled, described and with its text as text; made again, nothing
//! is rewritten. Then the errors: nothing to publish, and one folder that cannot be read.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use regex::Regex;

use crate::support::{files_under, stagebench, stderr};

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Checks that every element opened is closed, in order (void elements excepted).
fn assert_well_formed(page: &Path, html: &str) {
    const VOID: [&str; 9] = [
        "meta", "link", "img", "br", "hr", "input", "col", "source", "wbr",
    ];
    let tag = Regex::new(r"<(/?)([a-zA-Z][a-zA-Z0-9]*)([^>]*)>").unwrap();
    let mut open: Vec<String> = Vec::new();
    assert!(html.starts_with("<!DOCTYPE html>"), "{}", page.display());
    for captures in tag.captures_iter(html) {
        let name = captures[2].to_ascii_lowercase();
        if &captures[1] == "/" {
            let top = open.pop();
            assert_eq!(
                top.as_deref(),
                Some(name.as_str()),
                "{}: </{name}>",
                page.display()
            );
        } else if !VOID.contains(&name.as_str()) && !captures[3].ends_with('/') {
            open.push(name);
        }
    }
    assert!(open.is_empty(), "{}: unclosed {open:?}", page.display());
}

fn mtimes(dir: &Path) -> BTreeMap<PathBuf, SystemTime> {
    files_under(dir)
        .into_iter()
        .map(|f| {
            let modified = std::fs::metadata(&f).unwrap().modified().unwrap();
            (f, modified)
        })
        .collect()
}

#[test]
fn the_site_of_the_committed_reports_links_only_to_its_own_files_and_is_made_again_unchanged() {
    let out = tempfile::tempdir().unwrap();
    let site = out.path().join("site");
    let site_arg = site.to_str().unwrap();
    let output = stagebench(repo(), &["site", "reports", "--out", site_arg]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(site.join(".nojekyll").is_file());

    let link = Regex::new(r#"\s(href|src)="([^"]*)""#).unwrap();
    let img = Regex::new(r"<img\s[^>]*>").unwrap();
    let alt = Regex::new(r#"\salt="([^"]+)""#).unwrap();
    let files = files_under(&site);
    let pages: Vec<&PathBuf> = files
        .iter()
        .filter(|f| f.extension().is_some_and(|e| e == "html"))
        .collect();
    assert!(pages.len() > 10, "{pages:?}");
    for page in &pages {
        let html = std::fs::read_to_string(page).unwrap();
        assert_well_formed(page, &html);
        assert!(
            html.contains(r#"<link rel="icon" href="data:,">"#),
            "{}",
            page.display()
        );
        assert!(!html.contains("<script"), "{}", page.display());
        for captures in link.captures_iter(&html) {
            let target = captures[2].replace("&amp;", "&");
            if target.starts_with("https://") || target.starts_with("http://") || target == "data:,"
            {
                continue;
            }
            let (path, fragment) = target.split_once('#').unwrap_or((&target, ""));
            if path.is_empty() {
                assert!(
                    html.contains(&format!("id=\"{fragment}\"")),
                    "{}: #{fragment}",
                    page.display()
                );
                continue;
            }
            let resolved = page.parent().unwrap().join(path);
            assert!(
                resolved.is_file(),
                "{}: {target} does not exist",
                page.display()
            );
        }
        for element in img.find_iter(&html) {
            assert!(
                alt.is_match(element.as_str()),
                "{}: {}",
                page.display(),
                element.as_str()
            );
        }
    }
    for svg in files
        .iter()
        .filter(|f| f.extension().is_some_and(|e| e == "svg"))
    {
        let text = std::fs::read_to_string(svg).unwrap();
        let after_open = &text[text.find('>').unwrap() + 1..];
        assert!(
            after_open.trim_start().starts_with("<title>"),
            "{}",
            svg.display()
        );
        assert!(text.contains("<desc>"), "{}", svg.display());
        assert!(text.contains("<text "), "{}", svg.display());
    }
    let index = std::fs::read_to_string(site.join("index.html")).unwrap();
    for scenario in std::fs::read_dir(repo().join("reports")).unwrap() {
        let scenario = scenario.unwrap();
        if scenario.path().is_dir() {
            let name = scenario.file_name().into_string().unwrap();
            assert!(
                index.contains(&format!("src=\"trends/{name}-")),
                "no trend chart of {name} on the index"
            );
        }
    }

    let before = mtimes(&site);
    let again = stagebench(repo(), &["site", "reports", "--out", site_arg]);
    assert!(again.status.success(), "{}", stderr(&again));
    assert_eq!(mtimes(&site), before, "the second run rewrote files");
}

#[test]
fn a_directory_without_results_is_an_error_and_an_unreadable_folder_is_flagged_and_fails() {
    let root = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(root.path().join("empty")).unwrap();
    let output = stagebench(root.path(), &["site", "empty", "--out", "site"]);
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("empty holds no stagebench results folder"),
        "{}",
        stderr(&output)
    );

    let good = root.path().join("nights/go-service/good");
    std::fs::create_dir_all(&good).unwrap();
    let template = repo().join("reports/go-service/20261129T200219Z");
    for file in ["results.csv", "meta.json"] {
        std::fs::copy(template.join(file), good.join(file)).unwrap();
    }
    let broken = root.path().join("nights/go-service/broken");
    std::fs::create_dir_all(&broken).unwrap();
    std::fs::write(broken.join("results.csv"), "not,a,results,file\n").unwrap();
    std::fs::write(broken.join("meta.json"), "{").unwrap();
    // The site is still made, with the broken night named, and the command fails closed.
    let output = stagebench(root.path(), &["site", "nights", "--out", "site"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(stderr(&output).contains("broken"), "{}", stderr(&output));
    let index = std::fs::read_to_string(root.path().join("site/index.html")).unwrap();
    assert!(index.contains("could not be read"), "{index}");
    assert!(index.contains("broken"), "{index}");
    // The good night's Dockerfiles are not beside the copy: the page says so.
    let night = std::fs::read_to_string(root.path().join("site/nights/go-service/good/index.html"))
        .unwrap();
    assert!(night.contains("cannot be read"), "{night}");
}
