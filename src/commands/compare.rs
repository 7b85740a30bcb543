//! `stagebench compare`: two sets of results through the regression gate, and the gate itself,
//! which `run --baseline` uses too.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;

use crate::cli::CompareArgs;
use crate::commands::{EXIT_FAILURE, EXIT_USAGE};
use crate::compare::{self, Thresholds, Verdict};
use crate::docs::{self, Documented};
use crate::keys::SeriesKey;
use crate::report::{self, ReportData};
use crate::results::ResultSet;

/// `stagebench compare`: 0 clean, 1 regression, 2 usage or input error, or a series not gated.
pub(crate) fn compare_command(args: &CompareArgs) -> ExitCode {
    let inputs = || -> anyhow::Result<(ResultSet, ResultSet)> {
        let load = |path: &Path| {
            ResultSet::load_folder_or_summary(path)
                .with_context(|| format!("cannot compare {}", path.display()))
        };
        Ok((load(&args.baseline)?, load(&args.current)?))
    };
    let (baseline, current) = match inputs() {
        Ok(sides) => sides,
        Err(error) => {
            eprintln!("stagebench: {error:#}");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    let thresholds = crate::config::gate_thresholds(&args.gate, args.noise_threshold);
    let (outcome, verdicts) = gate(
        &baseline,
        &current,
        thresholds,
        args.gate.allow_different_hosts,
        args.export_markdown.as_deref(),
    );
    let current = ReportData::new(current);
    let exports = args
        .export_targets()
        .without(crate::export_targets::ExportFormat::Markdown);
    if let Err(error) = report::write_exports(&exports, &current, Some(&verdicts)) {
        eprintln!("stagebench: {error}");
        return ExitCode::from(EXIT_USAGE);
    }
    outcome
}

/// Compares, prints the table (and the Markdown to `markdown`), and says how to exit: 0 clean,
/// 1 a regression, 2 a series the gate could not judge or sides that cannot be compared. Also
/// returns the gate's words on each series that did not pass, for the exports.
pub(super) fn gate(
    baseline: &ResultSet,
    current: &ResultSet,
    thresholds: Thresholds,
    allow_different_hosts: bool,
    markdown: Option<&Path>,
) -> (ExitCode, BTreeMap<SeriesKey, String>) {
    let result = match compare::compare(baseline, current, thresholds, allow_different_hosts) {
        Ok(result) => result,
        Err(error) => {
            eprintln!(
                "stagebench: {}",
                docs::with_pointer(&error.to_string(), error.doc_section())
            );
            return (ExitCode::from(EXIT_USAGE), BTreeMap::new());
        }
    };
    let table = report::compare_terminal(&result);
    let markdown_to_stdout = markdown.is_some_and(|p| p.as_os_str() == "-");
    if markdown_to_stdout {
        eprint!("{table}");
    } else {
        crate::out!("{table}");
    }
    for sentence in report::gate_sentences(&result) {
        eprintln!("stagebench: {sentence}");
    }
    if result.changes.is_empty() {
        eprintln!("stagebench: nothing to compare: neither side has a timed build");
    }
    let verdicts = report::gate_verdicts(&result);
    if let Some(target) = markdown {
        let text = report::compare_markdown(&result);
        let written = if markdown_to_stdout {
            std::io::Write::write_all(&mut std::io::stdout(), text.as_bytes())
        } else {
            std::fs::write(target, text)
        };
        if let Err(error) = written {
            eprintln!("stagebench: cannot write {}: {error}", target.display());
            return (ExitCode::from(EXIT_USAGE), verdicts);
        }
    }
    let code = match result.verdict() {
        Verdict::Regression => ExitCode::from(EXIT_FAILURE),
        Verdict::NotGated => ExitCode::from(EXIT_USAGE),
        Verdict::Pass => ExitCode::SUCCESS,
    };
    (code, verdicts)
}
