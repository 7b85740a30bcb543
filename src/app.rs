//! Dispatch: the parsed command line handed to its command, each in its own module under
//! `commands/`.

use std::process::ExitCode;

use crate::cli::{Cli, Command};
use crate::commands;

/// Runs the parsed command line.
pub async fn run(cli: Cli, command_line: Vec<String>) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Run(args) => commands::run::run_command(&args, command_line).await,
        Command::List(args) => commands::list::list_command(&args),
        Command::Validate(args) => commands::validate::validate_command(&args).await,
        Command::Report(args) => commands::report::report_command(&args),
        Command::Merge(args) => commands::merge::merge_command(&args),
        Command::Compare(args) => Ok(commands::compare::compare_command(&args)),
        Command::History(args) => commands::history::history_command(&args),
        Command::Site(args) => commands::site::site_command(&args),
    }
}
