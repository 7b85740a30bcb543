//! `stagebench site`: a static site of every results folder under a directory.

use std::process::ExitCode;

use crate::cli::SiteArgs;
use crate::commands::EXIT_FAILURE;
use crate::site::make_site;

/// Makes the site, and says what it wrote and which folders it could not read. A folder it
/// could not read still leaves a site (the other nights are published, the broken one is named
/// on the index), but the command fails: a reader that meets data it cannot judge never reports
/// success, so a nightly job notices.
pub(crate) fn site_command(args: &SiteArgs) -> anyhow::Result<ExitCode> {
    let summary = make_site(&args.dir, &args.out, args.noise_threshold)?;
    for (folder, error) in &summary.unreadable {
        eprintln!(
            "stagebench: {} is left out of the site (named on its index): {error}",
            folder.display()
        );
    }
    eprintln!(
        "{} nights ({} made again, {} removed), {} files written, {} unchanged, in {}",
        summary.nights,
        summary.nights_made,
        summary.nights_removed,
        summary.files.written,
        summary.files.unchanged,
        args.out.display()
    );
    if summary.unreadable.is_empty() {
        Ok(ExitCode::SUCCESS)
    } else {
        Ok(ExitCode::from(EXIT_FAILURE))
    }
}
