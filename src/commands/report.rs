//! `stagebench report`: every report file remade from a results folder, and the headline table
//! and exports that `run` and `merge` print too.

use std::process::ExitCode;

use crate::cli::{ExportArgs, ReportArgs};
use crate::report::{self, ReportData};
use crate::results::ResultSet;

/// Writes every report file into a results folder and the requested exports.
pub(crate) fn report_command(args: &ReportArgs) -> anyhow::Result<ExitCode> {
    let mut set = ResultSet::load(&args.dir)?;
    if let Some(noise) = args.noise_threshold {
        set.meta.settings.options.noise_threshold = noise;
    }
    let data = ReportData::new(set);
    let written = report::write_all(&data, &args.dir)?;
    let to_stdout = args.export.targets().use_stdout();
    print_table(&data, to_stdout);
    export_all(&data, &args.export)?;
    eprintln!("wrote {} files in {}", written.len(), args.dir.display());
    Ok(ExitCode::SUCCESS)
}

/// The headline table goes to standard output, unless an export already uses it; on a terminal
/// narrower than the table, the narrow layout takes its place.
pub(super) fn print_table(data: &ReportData, exports_to_stdout: bool) {
    let width_columns = if exports_to_stdout {
        output_width_columns(&std::io::stderr())
    } else {
        output_width_columns(&std::io::stdout())
    };
    let table = report::terminal_table_for_width(data, width_columns);
    if exports_to_stdout {
        eprint!("{table}");
    } else {
        crate::out!("{table}");
    }
}

/// The width to lay the table out for, printed on `stream`: `COLUMNS` when it holds a width, as
/// it is the user's word and overrides what the terminal says (as in Python's
/// shutil.get_terminal_size and many tools); otherwise the terminal's width when `stream` is one.
/// Printed to a file, a pipe or a CI log, with no `COLUMNS`, there is no width: nobody reads
/// those in a window of fixed width (a log viewer scrolls, `less -S` does not wrap, and a script
/// or `grep` wants a variant's figures on one row), so the full table is kept, as it always was.
fn output_width_columns<S>(stream: &S) -> Option<usize>
where
    S: std::io::IsTerminal + std::os::fd::AsFd,
{
    let from_environment = std::env::var("COLUMNS")
        .ok()
        .and_then(|value| value.trim().parse::<usize>().ok())
        .filter(|width| *width > 0);
    from_environment.or_else(|| {
        stream
            .is_terminal()
            .then(|| terminal_size::terminal_size_of(stream))
            .flatten()
            .map(|(terminal_size::Width(width), _)| usize::from(width))
            .filter(|width| *width > 0)
    })
}

pub(super) fn export_all(data: &ReportData, export: &ExportArgs) -> anyhow::Result<()> {
    Ok(report::write_exports(&export.targets(), data, None)?)
}
