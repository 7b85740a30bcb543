//! `stagebench site`: a static site of every results folder under a directory, to open from
//! `file://` or to publish on GitHub Pages, with no server and no script.
//!
//! ```text
//! SITE/index.html                       trends, last night's table, step changes, every night
//! SITE/trends/<scenario>-history.svg    the trend charts
//! SITE/nights/<folder>/index.html       a night: its report, charts, data files, Dockerfiles
//! SITE/style.css, SITE/.nojekyll        one stylesheet; Pages serves paths starting with `_`
//! SITE/.stagebench-site.json            what each night page was made from (see manifest.rs)
//! ```
//!
//! Every link is relative and spells out `index.html`, which `file://` needs and which keeps the
//! site working under a Pages project's `/<repo>/` prefix. Nights whose inputs have not changed
//! are not made again, and no file is written whose bytes are already there.
//!
//! A folder that cannot be read does not stop the site: a nightly dashboard should still show
//! the other nights. It is named on standard error and at the top of the index, and left out of
//! every chart and table. A directory holding no readable results folder at all is an error.

mod files;
mod index;
mod manifest;
mod markdown;
mod night;
mod page;
mod svg;

use std::path::{Path, PathBuf};

pub use files::WriteCounts;
use files::{url_safe, write_if_changed};
use manifest::{MANIFEST_FILE, Manifest, fingerprint, made_by};

use crate::report::chart::ChartOutput;
use crate::report::{ReportError, trend_charts};
use crate::results::{ResultSet, find_results_folders};

/// A site could not be made; the message names the file or folder.
#[derive(Debug, thiserror::Error)]
pub enum SiteError {
    /// Nothing to publish.
    #[error("{0} holds no stagebench results folder (results.csv and meta.json)")]
    NoResultsFolders(PathBuf),
    /// Every results folder failed to load.
    #[error("none of the {count} results folders under {dir} can be read; the first: {first}")]
    NothingReadable {
        /// The directory searched.
        dir: PathBuf,
        /// How many folders were found.
        count: usize,
        /// The first folder's error.
        first: String,
    },
    /// A file of a results folder could not be read.
    #[error("cannot read {path}: {error}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why (in the message, not a source: the chain would say it twice).
        error: std::io::Error,
    },
    /// A file of the site could not be written.
    #[error("cannot write {path}: {error}")]
    Write {
        /// The file.
        path: PathBuf,
        /// Why (in the message, not a source: the chain would say it twice).
        error: std::io::Error,
    },
    /// A chart or report could not be made.
    #[error(transparent)]
    Report(#[from] ReportError),
}

/// A results folder as the site shows it.
#[derive(Debug, Clone)]
pub(crate) struct Night {
    /// The folder read.
    pub folder: PathBuf,
    /// Its page's folder relative to the site (`nights/go-service/20261129T200219Z`).
    pub dir: String,
    /// Its page relative to the site's root.
    pub href: String,
    /// The folder relative to the directory searched, for display.
    pub label: String,
    /// When its run started (RFC 3339).
    pub started_at: String,
    /// Its scenarios, in the order of its meta.json.
    pub scenarios: Vec<String>,
}

/// What making the site did.
#[derive(Debug, Default)]
pub struct SiteSummary {
    /// Results folders shown.
    pub nights: usize,
    /// Night pages made again because their inputs were new or had changed.
    pub nights_made: usize,
    /// Night pages removed because their folder is gone.
    pub nights_removed: usize,
    /// Files written and files left as they were.
    pub files: WriteCounts,
    /// Folders that could not be read, each with the reason.
    pub unreadable: Vec<(PathBuf, String)>,
}

/// Makes (or brings up to date) the site of every results folder under `dir` in `site`.
pub fn make_site(dir: &Path, site: &Path, noise_threshold: f64) -> Result<SiteSummary, SiteError> {
    let folders = find_results_folders(dir);
    if folders.is_empty() {
        return Err(SiteError::NoResultsFolders(dir.to_path_buf()));
    }
    let mut summary = SiteSummary::default();
    let mut sets: Vec<(PathBuf, ResultSet)> = Vec::new();
    for folder in &folders {
        match ResultSet::load(folder) {
            Ok(set) => sets.push((folder.clone(), set)),
            Err(error) => summary.unreadable.push((folder.clone(), error.to_string())),
        }
    }
    if sets.is_empty() {
        return Err(SiteError::NothingReadable {
            dir: dir.to_path_buf(),
            count: folders.len(),
            first: summary
                .unreadable
                .first()
                .map_or_else(String::new, |(_, error)| error.clone()),
        });
    }

    let old_manifest = Manifest::read(site);
    let mut manifest = Manifest {
        made_by: made_by(),
        nights: Default::default(),
    };
    let mut nights: Vec<Night> = Vec::with_capacity(sets.len());
    for (folder, set) in &sets {
        let night = night_of(dir, folder, set);
        let dockerfiles = night::dockerfiles(folder, set);
        let extra: Vec<&Path> = dockerfiles.iter().map(|d| d.path.as_path()).collect();
        let print = fingerprint(folder, &extra);
        let page_exists = site.join(&night.href).is_file();
        if !page_exists || old_manifest.nights.get(&night.dir) != Some(&print) {
            night::write_night(site, &night, set, &mut summary.files)?;
            summary.nights_made += 1;
        }
        manifest.nights.insert(night.dir.clone(), print);
        nights.push(night);
    }
    summary.nights = nights.len();
    // Pages of folders that are gone go too: nothing links to them any more. Only folders the
    // manifest names under nights/, each component as url_safe makes it, are ever removed.
    for gone in old_manifest
        .nights
        .keys()
        .filter(|dir| !manifest.nights.contains_key(*dir))
    {
        let components: Vec<&str> = gone.split('/').collect();
        let ours = components.len() >= 2
            && components[0] == "nights"
            && components[1..]
                .iter()
                .all(|c| url_safe(c) == *c && !c.starts_with('.'));
        if ours {
            let path = site.join(gone);
            if path.is_dir() {
                std::fs::remove_dir_all(&path).map_err(|error| SiteError::Write { path, error })?;
                summary.nights_removed += 1;
            }
        }
    }

    let history = crate::history::history(sets, noise_threshold);
    let mut trends = Vec::new();
    for (scenario, file) in trend_charts(&history, ChartOutput::SiteSvg)? {
        let title = chart_title(&file);
        let desc = svg::describe(&file.file_name);
        let svg = svg::with_title_and_desc(&String::from_utf8_lossy(&file.bytes), &title, &desc);
        let href = format!("trends/{}", url_safe(&file.file_name));
        write_if_changed(&site.join(&href), svg.as_bytes(), &mut summary.files)?;
        trends.push(index::TrendChart {
            scenario,
            href,
            title,
        });
    }
    let index = index::index_page(&history, &nights, &summary.unreadable, &trends);
    write_if_changed(
        &site.join("index.html"),
        index.into_string().as_bytes(),
        &mut summary.files,
    )?;
    write_if_changed(
        &site.join(page::STYLESHEET),
        page::STYLE_CSS.as_bytes(),
        &mut summary.files,
    )?;
    write_if_changed(&site.join(".nojekyll"), b"", &mut summary.files)?;
    write_if_changed(
        &site.join(MANIFEST_FILE),
        &manifest.to_json(),
        &mut summary.files,
    )?;
    Ok(summary)
}

/// A chart's title as drawn, or its file name should it have drawn none.
fn chart_title(file: &crate::report::chart::ChartFile) -> String {
    if file.title.is_empty() {
        file.file_name.clone()
    } else {
        file.title.clone()
    }
}

/// `2026-11-29 20:11 UTC` from an RFC 3339 time in UTC; other text as it is.
fn short_date(rfc3339: &str) -> String {
    match (rfc3339.get(..10), rfc3339.get(11..16)) {
        (Some(day), Some(minute)) if rfc3339.ends_with('Z') => format!("{day} {minute} UTC"),
        _ => rfc3339.to_string(),
    }
}

/// Where `folder`'s page goes and what the site calls it.
fn night_of(dir: &Path, folder: &Path, set: &ResultSet) -> Night {
    let relative = folder.strip_prefix(dir).unwrap_or(folder);
    let mut components: Vec<String> = relative
        .components()
        .map(|c| url_safe(&c.as_os_str().to_string_lossy()))
        .collect();
    if components.is_empty() {
        // DIR is itself a results folder.
        components.push(url_safe(
            &folder
                .file_name()
                .map_or_else(|| "night".into(), |n| n.to_string_lossy()),
        ));
    }
    let dir_in_site = format!("nights/{}", components.join("/"));
    let mut scenarios: Vec<String> = Vec::new();
    for scenario in &set.meta.scenarios {
        if !scenarios.contains(&scenario.name) {
            scenarios.push(scenario.name.clone());
        }
    }
    Night {
        folder: folder.to_path_buf(),
        href: format!("{dir_in_site}/index.html"),
        dir: dir_in_site,
        label: relative.display().to_string(),
        started_at: set
            .meta
            .first_invocation()
            .map_or_else(String::new, |i| i.started_at.clone()),
        scenarios,
    }
}
