//! What each night page was made from, kept in the site so that a night whose inputs are
//! unchanged is not parsed and drawn again: a year of nights is made again in well under a
//! second because only the new night and the index are.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::UNIX_EPOCH;

use serde::{Deserialize, Serialize};

/// The manifest's file name in the site's root; the leading dot keeps it out of the way (and
/// `.nojekyll` keeps Pages from caring).
pub(crate) const MANIFEST_FILE: &str = ".stagebench-site.json";

/// Night page folder (relative to the site) -> fingerprint of its inputs.
#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct Manifest {
    /// The stagebench that made the pages (see [`made_by`]): another build may draw them
    /// differently.
    pub made_by: String,
    /// Each night's fingerprint.
    pub nights: BTreeMap<String, String>,
}

impl Manifest {
    /// The manifest in `site`; an empty one when there is none or it cannot be read, which only
    /// costs making every night again.
    pub(crate) fn read(site: &Path) -> Manifest {
        let manifest = std::fs::read(site.join(MANIFEST_FILE))
            .ok()
            .and_then(|bytes| serde_json::from_slice::<Manifest>(&bytes).ok())
            .unwrap_or_default();
        if manifest.made_by == made_by() {
            manifest
        } else {
            Manifest::default()
        }
    }

    /// The manifest as it will be written.
    pub(crate) fn to_json(&self) -> Vec<u8> {
        let mut json = serde_json::to_vec_pretty(self).unwrap_or_default();
        json.push(b'\n');
        json
    }
}

/// stagebench's version and the size and time of its executable: a rebuilt binary of the same
/// version (a developer's, or a CI's fresh build) may draw pages differently, so it makes every
/// night again once.
pub(crate) fn made_by() -> String {
    let executable = std::env::current_exe()
        .and_then(std::fs::metadata)
        .map_or_else(|_| "unknown".to_string(), |m| stamp(&m));
    format!("stagebench {} ({executable})", env!("CARGO_PKG_VERSION"))
}

/// Size and modification time of every file directly in `folder` and of each of `extra` (the
/// Dockerfiles a page shows): a file rewritten in place changes its time, a new one the list.
pub(crate) fn fingerprint(folder: &Path, extra: &[&Path]) -> String {
    let mut files: Vec<(String, String)> = Vec::new();
    if let Ok(entries) = std::fs::read_dir(folder) {
        for entry in entries.filter_map(Result::ok) {
            if let Ok(metadata) = entry.metadata()
                && metadata.is_file()
            {
                files.push((
                    entry.file_name().to_string_lossy().into_owned(),
                    stamp(&metadata),
                ));
            }
        }
    }
    files.sort();
    for path in extra {
        let stamp = std::fs::metadata(path).map_or_else(|_| "missing".to_string(), |m| stamp(&m));
        files.push((path.display().to_string(), stamp));
    }
    files
        .iter()
        .map(|(name, stamp)| format!("{name}:{stamp}"))
        .collect::<Vec<_>>()
        .join("|")
}

/// `<bytes>@<nanoseconds since the epoch>` of a file.
fn stamp(metadata: &std::fs::Metadata) -> String {
    let modified_ns = metadata
        .modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos());
    format!("{}@{modified_ns}", metadata.len())
}
