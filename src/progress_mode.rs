//! How progress is shown: a noun of its own, so that config resolves it from `--quiet` and the
//! terminal without depending on the display that renders the runner's events.

use std::io::IsTerminal;

/// How progress is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProgressMode {
    /// Live bars on a terminal.
    Terminal,
    /// One line per event, for logs.
    Plain,
    /// Nothing.
    Quiet,
}

impl ProgressMode {
    /// Terminal bars when stderr is a terminal, plain lines otherwise, nothing when quiet.
    pub fn detect(quiet: bool) -> ProgressMode {
        if quiet {
            ProgressMode::Quiet
        } else if std::io::stderr().is_terminal() {
            ProgressMode::Terminal
        } else {
            ProgressMode::Plain
        }
    }
}
