//! Where a run's rows go: each results folder with the scenarios it gathers, the settings its
//! meta.json records, and each scenario's entry before any host has built it; and, with
//! `--resume`, the folder as the earlier invocations left it.
//!
//! Config resolves this from the flags, so that the runner creates (or reopens) the folders
//! once it knows the hosts, without reading a flag or a scenario file. The folders are opened by
//! the runner rather than by its caller because a run refuses some hosts (another machine than
//! the one resumed, a builder that cannot do what is asked, a prebuild tag that is taken) before
//! it writes anything, and those checks talk to the daemons the runner holds.

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::results::{RunMeta, ScenarioMeta};
use crate::run_options::RecordedSettings;

/// Where a run's rows go.
#[derive(Debug, Clone)]
pub struct ResultsLayout {
    /// The results folders, each with its scenarios.
    pub folders: Vec<FolderLayout>,
    /// The command line as meta.json records it (secrets redacted).
    pub command_line: Vec<String>,
    /// With `--resume`: the folder being continued, as this invocation found it.
    pub resumed: Option<ResumedFolder>,
}

/// One results folder.
#[derive(Debug, Clone)]
pub struct FolderLayout {
    /// The folder.
    pub dir: PathBuf,
    /// The settings its meta.json records.
    pub settings: RecordedSettings,
    /// Its scenarios by their index in the order given, each with its meta.json entry before
    /// any host is known (its `host` is left empty).
    pub entries: BTreeMap<usize, ScenarioMeta>,
}

/// The folder a `--resume` continues.
#[derive(Debug, Clone)]
pub struct ResumedFolder {
    /// The folder.
    pub dir: PathBuf,
    /// Its meta.json as this invocation found it.
    pub meta: RunMeta,
    /// The `seq` of each host's last row, which the host's next row follows.
    pub last_seq_by_host: BTreeMap<String, u32>,
}
