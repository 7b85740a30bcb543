//! What the user sees while builds run: a rendering of the runner's [`RunEvent`]s.
//!
//! On a terminal: one live line per host (scenario, variant, cache mode, run i/N, elapsed time,
//! current step) above an overall bar whose length is the plan's exact build count. Elsewhere
//! (CI logs): one plain line per build. `--quiet`: nothing but errors. With more than one host,
//! every line starts with the host's name.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::runner::{EventSink, RunEvent};

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
    /// Whether lines name their host.
    several_hosts: bool,
    /// The live line of each host's running build.
    current: Mutex<HashMap<String, ProgressBar>>,
}

impl Progress {
    /// Starts the display for `total_builds` planned builds on `hosts` hosts.
    pub fn new(mode: ProgressMode, total_builds: u64, hosts: usize) -> Progress {
        let multi = MultiProgress::with_draw_target(match mode {
            ProgressMode::Terminal => ProgressDrawTarget::stderr(),
            ProgressMode::Plain | ProgressMode::Quiet => ProgressDrawTarget::hidden(),
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
            several_hosts: hosts > 1,
            current: Mutex::new(HashMap::new()),
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

    /// Builds done and planned so far, as the bar counts them.
    pub fn position(&self) -> (u64, u64) {
        (self.overall.position(), self.overall.length().unwrap_or(0))
    }

    /// Removes the bars.
    pub fn finish(&self) {
        for (_, bar) in self.bars().drain() {
            bar.finish_and_clear();
        }
        self.overall.finish_and_clear();
    }

    fn bars(&self) -> std::sync::MutexGuard<'_, HashMap<String, ProgressBar>> {
        // A poisoned lock only means a panic mid-draw; the bars are still usable.
        self.current
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn prefixed(&self, host: Option<&str>, text: &str) -> String {
        match host {
            Some(host) if self.several_hosts => format!("[{host}] {text}"),
            _ => text.to_string(),
        }
    }
}

impl EventSink for Progress {
    fn emit(&self, event: RunEvent) {
        match event {
            RunEvent::Note { host, text } => self.note(&self.prefixed(host.as_deref(), &text)),
            RunEvent::BuildStarted { host, label } => {
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
                bar.set_prefix(self.prefixed(Some(&host), &label));
                bar.enable_steady_tick(Duration::from_millis(120));
                if let Some(old) = self.bars().insert(host, bar) {
                    old.finish_and_clear();
                    self.multi.remove(&old);
                }
            }
            RunEvent::Step { host, step } => {
                if let Some(bar) = self.bars().get(&host) {
                    bar.set_message(step);
                }
            }
            RunEvent::BuildFinished { host, line } => {
                if let Some(bar) = self.bars().remove(&host) {
                    bar.finish_and_clear();
                    self.multi.remove(&bar);
                }
                self.overall.inc(1);
                self.note(&self.prefixed(Some(&host), &line));
            }
            RunEvent::PlanGrew { builds } => self.overall.inc_length(builds),
            RunEvent::PlanShrank { builds } => {
                let length = self.overall.length().unwrap_or(0);
                self.overall.set_length(length.saturating_sub(builds));
            }
        }
    }
}
