//! `stagebench history`: every results folder under a directory, as a trend.

use std::process::ExitCode;

use anyhow::Context;

use crate::cli::HistoryArgs;
use crate::report;
use crate::results::{ResultSet, find_results_folders};

/// `stagebench history`: every results folder under DIR, as a trend.
pub(crate) fn history_command(args: &HistoryArgs) -> anyhow::Result<ExitCode> {
    let folders = find_results_folders(&args.dir);
    if folders.is_empty() {
        anyhow::bail!(
            "{} holds no stagebench results folder (results.csv and meta.json)",
            args.dir.display()
        );
    }
    let mut sets = Vec::new();
    for folder in folders {
        let set = ResultSet::load(&folder)?;
        sets.push((folder, set));
    }
    let history = crate::history::history(sets, args.noise_threshold);
    let out = args.out.clone().unwrap_or_else(|| args.dir.clone());
    std::fs::create_dir_all(&out).with_context(|| format!("cannot create {}", out.display()))?;
    let written = report::write_history(&history, &out)?;
    let steps: Vec<&crate::history::HistoryPoint> = history.step_changes().collect();
    crate::outln!(
        "{} runs, {} series, {} step change{}",
        history.runs.len(),
        history.series().len(),
        steps.len(),
        if steps.len() == 1 { "" } else { "s" }
    );
    for point in steps {
        if let Some(change) = point.contrast() {
            crate::outln!(
                "  {} {} {} {} ({}, {}): {}",
                point.started_at.get(..16).unwrap_or(&point.started_at),
                point.key.scenario,
                point.key.variant,
                point.key.cache,
                point.key.builder,
                point.key.host,
                report::speedup_phrase(change.speedup())
            );
        }
    }
    eprintln!("wrote {} files in {}", written.len(), out.display());
    Ok(ExitCode::SUCCESS)
}
