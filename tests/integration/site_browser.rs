//! The site of the committed reports in a real browser: headless Chromium crawls it from
//! index.html over file:// and every page, image, stylesheet and linked file must load with no
//! script error, no console error, no failed request and no link that leaves the site or
//! points at a missing file or `#fragment`. Screenshots of the index and of a night page are
//! written to `target/tmp/site-browser/` for a person to look at.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::path::{Path, PathBuf};
use std::time::Instant;

use serde_json::Value;
use url::Url;

use crate::support::{files_under, stagebench, stderr};
use crate::support_browser::{Browser, Visit};

const WIDTH_PX: u32 = 1280;

/// What a page tells about itself once loaded.
const FACTS: &str = r#"({
  contentType: document.contentType,
  root: document.documentElement.tagName,
  text: document.contentType === "text/html" ? "" : document.documentElement.textContent,
  links: document.contentType === "text/html"
    ? [...document.querySelectorAll("a[href], area[href]")]
        .map(a => ({href: a.href, fragment: decodeURIComponent(a.hash.slice(1))})) : [],
  ids: [...document.querySelectorAll("[id]")].map(e => e.id),
  images: [...document.images].map(i => ({src: i.currentSrc || i.src, ok: i.complete && i.naturalWidth > 0})),
})"#;

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The results folders under reports/ (each holds a results.csv): one night page each.
fn nights() -> usize {
    files_under(&repo().join("reports"))
        .iter()
        .filter(|f| f.file_name().is_some_and(|n| n == "results.csv"))
        .count()
}

/// The problems that a visit's events show: thrown errors, console errors, failed requests and
/// requests for anything outside the site. Every file:// URL requested is added to `loaded`.
fn event_problems(
    page: &str,
    events: &[Value],
    site: &Path,
    loaded: &mut BTreeSet<PathBuf>,
) -> Vec<String> {
    let mut problems = Vec::new();
    for event in events {
        let params = &event["params"];
        match event["method"].as_str().unwrap_or_default() {
            "Runtime.exceptionThrown" => problems.push(format!(
                "{page}: script error {}",
                params["exceptionDetails"]
            )),
            "Runtime.consoleAPICalled"
                if matches!(params["type"].as_str(), Some("error" | "assert")) =>
            {
                problems.push(format!(
                    "{page}: console {}: {}",
                    params["type"], params["args"]
                ))
            }
            "Log.entryAdded" if params["entry"]["level"] == "error" => {
                problems.push(format!("{page}: logged error {}", params["entry"]))
            }
            "Network.loadingFailed" => problems.push(format!(
                "{page}: {} request failed: {}",
                params["type"], params["errorText"]
            )),
            "Network.requestWillBeSent" => {
                let requested = params["request"]["url"].as_str().unwrap_or_default();
                match site_file(requested, site) {
                    Ok(file) => {
                        loaded.insert(file);
                    }
                    Err(_) if requested.starts_with("data:") => {}
                    Err(why) => problems.push(format!("{page}: requests {requested}: {why}")),
                }
            }
            _ => {}
        }
    }
    problems
}

/// The file of the site that `url` names, fragment ignored; an error for any URL that leaves
/// the site (the web, another scheme, a file elsewhere).
fn site_file(url: &str, site: &Path) -> Result<PathBuf, String> {
    let parsed = Url::parse(url).map_err(|e| format!("not a URL ({e})"))?;
    match parsed.scheme() {
        "file" => {}
        "http" | "https" => return Err("links to the web; the site must work offline".into()),
        other => return Err(format!("a {other}: link leaves the site")),
    }
    let path = parsed
        .to_file_path()
        .map_err(|()| "not a local path".to_string())?;
    if !path.starts_with(site) {
        return Err(format!("{} is outside the site", path.display()));
    }
    Ok(path)
}

fn path_in(site: &Path, url: &str) -> String {
    site_file(url, site)
        .map(|p| p.strip_prefix(site).unwrap().display().to_string())
        .unwrap_or_else(|_| url.to_string())
}

/// Width and height of a PNG, read from its IHDR chunk.
fn png_size(png: &[u8]) -> (u32, u32) {
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "not a PNG");
    let word = |at: usize| u32::from_be_bytes(png[at..at + 4].try_into().unwrap());
    (word(16), word(20))
}

#[test]
fn every_page_of_the_site_loads_in_chromium_without_errors_or_broken_links() {
    let started = Instant::now();
    let Some(mut browser) = Browser::launch(WIDTH_PX) else {
        return;
    };
    let launched = started.elapsed();
    let out = tempfile::tempdir().unwrap();
    let site = out.path().join("site");
    let output = stagebench(
        repo(),
        &["site", "reports", "--out", site.to_str().unwrap()],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let site = site.canonicalize().unwrap();
    let index = Url::from_file_path(site.join("index.html")).unwrap();
    let site_made = started.elapsed() - launched;
    let crawl_started = Instant::now();

    let mut queue = VecDeque::from([index.to_string()]);
    let mut queued = BTreeSet::from([index.to_string()]);
    let mut problems: Vec<String> = Vec::new();
    // Every file of the site the browser asked for: pages, downloads, images, stylesheets.
    let mut loaded: BTreeSet<PathBuf> = BTreeSet::new();
    // The ids of each HTML page, for the links with a #fragment.
    let mut ids: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut fragment_links: Vec<(String, String, String)> = Vec::new();
    // Images that loaded: a chart links to its own file, which needs no visit of its own.
    let mut shown_images: BTreeSet<String> = BTreeSet::new();
    let (mut html_pages, mut other_documents, mut downloads) = (0, 0, 0);
    let (mut images, mut links, mut image_links) = (0, 0, 0);
    while let Some(url) = queue.pop_front() {
        let page = path_in(&site, &url);
        let file = site_file(&url, &site).unwrap();
        let visit: Visit = browser.open(&url);
        if visit.is_download() {
            // Chromium saves what it does not display (CSV): the saved bytes must be the file's.
            // The navigation itself ends as net::ERR_ABORTED, which is how every download ends.
            let (saved, completed) = browser.downloaded(&visit);
            let events: Vec<Value> = visit
                .events
                .into_iter()
                .filter(|e| {
                    !(e["method"] == "Network.loadingFailed"
                        && e["params"]["type"] == "Document"
                        && e["params"]["errorText"] == "net::ERR_ABORTED")
                })
                .collect();
            problems.extend(event_problems(&page, &events, &site, &mut loaded));
            if !completed {
                problems.push(format!("{page}: the download did not complete"));
            } else if std::fs::read(&saved).unwrap() != std::fs::read(&file).unwrap() {
                problems.push(format!("{page}: the download differs from the file"));
            }
            downloads += 1;
            continue;
        }
        if let Some(error) = visit.error() {
            problems.push(format!("{page}: does not load: {error}"));
            continue;
        }
        problems.extend(event_problems(&page, &visit.events, &site, &mut loaded));
        browser.load_lazy_images();
        let facts = browser.evaluate(FACTS);
        let late = browser.take_events();
        problems.extend(event_problems(&page, &late, &site, &mut loaded));
        for image in facts["images"].as_array().unwrap() {
            images += 1;
            if image["ok"] == true {
                shown_images.insert(image["src"].as_str().unwrap().to_string());
            } else {
                problems.push(format!("{page}: image {} did not load", image["src"]));
            }
        }
        let content_type = facts["contentType"].as_str().unwrap();
        if content_type != "text/html" {
            // A file shown as it is (JSON, SVG): what the browser shows must be all of it.
            let shown = facts["text"].as_str().unwrap();
            let expected = std::fs::read_to_string(&file).unwrap();
            let whole = if content_type == "image/svg+xml" {
                facts["root"] == "svg"
            } else {
                shown == expected
            };
            if !whole {
                problems.push(format!("{page}: shown as {content_type}, not whole"));
            }
            other_documents += 1;
            continue;
        }
        html_pages += 1;
        ids.insert(
            url.clone(),
            facts["ids"]
                .as_array()
                .unwrap()
                .iter()
                .map(|id| id.as_str().unwrap().to_string())
                .collect(),
        );
        for link in facts["links"].as_array().unwrap() {
            let href = link["href"].as_str().unwrap();
            links += 1;
            if let Err(why) = site_file(href, &site) {
                problems.push(format!("{page}: link {href}: {why}"));
                continue;
            }
            let mut target = Url::parse(href).unwrap();
            target.set_fragment(None);
            let fragment = link["fragment"].as_str().unwrap();
            if !fragment.is_empty() {
                fragment_links.push((page.clone(), target.to_string(), fragment.to_string()));
            }
            if shown_images.contains(target.as_str()) {
                image_links += 1;
            } else if queued.insert(target.to_string()) {
                queue.push_back(target.to_string());
            }
        }
    }
    for (page, target, fragment) in &fragment_links {
        match ids.get(target) {
            Some(found) if found.contains(fragment) => {}
            Some(_) => problems.push(format!(
                "{page}: link to {}#{fragment}: no such id there",
                path_in(&site, target)
            )),
            None => problems.push(format!(
                "{page}: link to {}#{fragment}: not an HTML page",
                path_in(&site, target)
            )),
        }
    }
    let crawled = crawl_started.elapsed();

    // Screenshots for a person to look at; the index must be as wide as asked and taller than
    // one screen, since its trend charts are below the headline tables.
    let shots = Path::new(env!("CARGO_TARGET_TMPDIR")).join("site-browser");
    let index_png = shots.join("index.png");
    browser.open(index.as_str());
    browser.load_lazy_images();
    browser.screenshot(&index_png);
    let (width, height) = png_size(&std::fs::read(&index_png).unwrap());
    assert_eq!(width, WIDTH_PX, "the index is wider than the window");
    assert!(height > 900, "the index is only {height} px tall");
    let night = std::fs::read_dir(repo().join("reports/python-node"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .max()
        .unwrap();
    let night_png = shots.join("night.png");
    let night_url =
        Url::from_file_path(site.join(format!("nights/python-node/{night}/index.html"))).unwrap();
    browser.open(night_url.as_str());
    browser.load_lazy_images();
    browser.screenshot(&night_png);
    drop(browser);

    eprintln!(
        "Chromium started in {launched:.2?}; the site made in {site_made:.2?}; crawled \
         {html_pages} pages, {other_documents} other documents, {downloads} downloads, {images} \
         images, {links} links ({image_links} to images shown) in {crawled:.2?}; {:.2?} in all\n\
         screenshots: {}\n             {}",
        started.elapsed(),
        index_png.display(),
        night_png.display()
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));

    // Nothing vacuous: every page of the site was reached, and every file of it was asked for
    // (as a page, a download, an image or a stylesheet) save the site's own bookkeeping.
    let nights = nights();
    assert!(nights >= 10, "only {nights} nights under reports/");
    let all: BTreeSet<PathBuf> = files_under(&site)
        .into_iter()
        .filter(|f| !f.file_name().unwrap().to_str().unwrap().starts_with('.'))
        .collect();
    let html: BTreeSet<&PathBuf> = all
        .iter()
        .filter(|f| f.extension().is_some_and(|e| e == "html"))
        .collect();
    assert_eq!(html_pages, html.len(), "pages the crawl never reached");
    let night_pages = html
        .iter()
        .filter(|f| f.ends_with("index.html") && f.starts_with(site.join("nights")))
        .count();
    assert_eq!(night_pages, nights);
    let never: Vec<&PathBuf> = all.difference(&loaded).collect();
    assert!(never.is_empty(), "files no page uses: {never:?}");
    assert!(downloads >= nights, "{downloads} downloads");
    assert!(images >= nights, "{images} images");
    assert_eq!(image_links, images, "every chart links to its file");
}
