//! `stagebench merge`: results folders combined into a new one, with every report.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;

use crate::cli::MergeArgs;
use crate::commands::report::{export_all, print_table};
use crate::report::{self, ReportData};
use crate::results::{ResultSet, find_results_folders, is_results_folder};

/// Combines results folders into `--out` and writes every report there.
pub(crate) fn merge_command(args: &MergeArgs) -> anyhow::Result<ExitCode> {
    if is_results_folder(&args.out) {
        anyhow::bail!(
            "{} already holds results; merge into a new folder",
            args.out.display()
        );
    }
    let mut parts = Vec::new();
    for dir in &args.dirs {
        let found = find_results_folders(dir);
        if found.is_empty() {
            anyhow::bail!(
                "{} holds no stagebench results folder (results.csv and meta.json)",
                dir.display()
            );
        }
        for folder in found {
            let set = ResultSet::load(&folder).with_context(|| {
                format!(
                    "cannot merge {} into {}",
                    folder.display(),
                    args.out.display()
                )
            })?;
            parts.push((folder, set));
        }
    }
    let folders = parts.len();
    let mut merged = ResultSet::merge(parts)?;
    // meta.json is published with the reports: the folders merged are named relative to the
    // working directory, never by a path of this machine.
    let working_dir = std::env::current_dir().context("cannot read the current directory")?;
    for folder in &mut merged.meta.merged_from {
        *folder = crate::workdir::recorded_path(&working_dir, Path::new(folder));
    }
    let rows = merged.records.len();
    let hosts = merged.meta.hosts.len();
    merged.write(&args.out)?;
    let data = ReportData::new(merged);
    let written = report::write_all(&data, &args.out)?;
    print_table(&data, args.export.targets().use_stdout());
    export_all(&data, &args.export)?;
    eprintln!(
        "merged {folders} results folders ({rows} rows, {hosts} hosts) into {}; wrote {} files",
        args.out.display(),
        written.len() + 2
    );
    Ok(ExitCode::SUCCESS)
}
