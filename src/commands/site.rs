//! `stagebench site`: a static site of every results folder under a directory.

use std::process::ExitCode;

use crate::cli::SiteArgs;
use crate::site::make_site;

/// Makes the site, and says what it wrote and which folders it could not read.
pub(crate) fn site_command(args: &SiteArgs) -> anyhow::Result<ExitCode> {
    let summary = make_site(&args.dir, &args.out, args.noise_threshold)?;
    for (folder, error) in &summary.unreadable {
        eprintln!(
            "warning: {} is left out of the site (named on its index): {error}",
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
    Ok(ExitCode::SUCCESS)
}
