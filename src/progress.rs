//! What the user sees while builds run.
//!
//! On a terminal: one live line per build (scenario, variant, cache mode, run i/N, elapsed time,
//! current step) above an overall bar with an ETA. Elsewhere (CI logs): one plain line per build.
//! `--quiet`: nothing but errors.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

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

/// Progress display for a whole run.
pub struct Progress {
    mode: ProgressMode,
    multi: MultiProgress,
    overall: ProgressBar,
    current: Option<ProgressBar>,
}

impl Progress {
    /// Starts the display for `total_builds` planned builds.
    pub fn new(mode: ProgressMode, total_builds: u64) -> Progress {
        let multi = MultiProgress::with_draw_target(match mode {
            ProgressMode::Terminal => ProgressDrawTarget::stderr(),
            _ => ProgressDrawTarget::hidden(),
        });
        let overall = multi.add(ProgressBar::new(total_builds));
        overall.set_style(
            ProgressStyle::with_template(
                "{bar:30.cyan/blue} {pos}/{len} builds, {elapsed} elapsed, ETA {eta}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        Progress {
            mode,
            multi,
            overall,
            current: None,
        }
    }

    /// Prints a line that stays (above the bars on a terminal).
    pub fn note(&self, line: &str) {
        match self.mode {
            ProgressMode::Terminal => {
                if self.multi.println(line).is_err() {
                    eprintln!("{line}");
                }
            }
            ProgressMode::Plain => eprintln!("{line}"),
            ProgressMode::Quiet => {}
        }
    }

    /// Shows a build starting; `label` names scenario, variant, cache mode and run.
    pub fn start_build(&mut self, label: &str) {
        if self.mode != ProgressMode::Terminal {
            return;
        }
        let bar = self
            .multi
            .insert_before(&self.overall, ProgressBar::new_spinner());
        bar.set_style(
            ProgressStyle::with_template("{spinner} {prefix} {elapsed:>4} {wide_msg}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar.set_prefix(label.to_string());
        bar.enable_steady_tick(Duration::from_millis(120));
        self.current = Some(bar);
    }

    /// Shows the step the current build is at.
    pub fn set_step(&self, step: &str) {
        if let Some(bar) = &self.current {
            bar.set_message(step.to_string());
        }
    }

    /// Ends the current build with a one-line result that stays on screen.
    pub fn finish_build(&mut self, line: &str) {
        if let Some(bar) = self.current.take() {
            bar.finish_and_clear();
            self.multi.remove(&bar);
        }
        self.overall.inc(1);
        self.note(line);
    }

    /// Removes the bars.
    pub fn finish(&mut self) {
        if let Some(bar) = self.current.take() {
            bar.finish_and_clear();
        }
        self.overall.finish_and_clear();
    }
}
