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

/// The headline table goes to standard output, unless an export already uses it.
pub(super) fn print_table(data: &ReportData, exports_to_stdout: bool) {
    let table = report::terminal_table(data);
    if exports_to_stdout {
        eprint!("{table}");
    } else {
        crate::out!("{table}");
    }
}

pub(super) fn export_all(data: &ReportData, export: &ExportArgs) -> anyhow::Result<()> {
    Ok(report::write_exports(&export.targets(), data, None)?)
}
