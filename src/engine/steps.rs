//! Reading a build's progress stream: which step runs now, which came from cache, and when each
//! step started and ended.
//!
//! The two builders report differently. BuildKit sends vertex updates (several per vertex, so
//! they are grouped by digest) stamped with the daemon's clock; the classic builder prints
//! `Step N/M : ...` lines followed by ` ---> Using cache` and ` ---> <image id>`, which are timed
//! as they arrive. Both are reduced to the same counts and the same [`StepTiming`]s here.
//!
//! The stream also says what the build made, and the two kinds of saying are kept apart in
//! [`BuildEvent`]: the daemon's structured answers (the `aux` image IDs, BuildKit's vertices with
//! their daemon-clock times) and the classic builder's protocol lines (` ---> <id>`,
//! ` ---> Running in <id>`), which share the text stream with whatever a `RUN` prints and so
//! are only candidates to confirm with the daemon (see `ownership`).

use std::collections::BTreeMap;

use bollard::models::{BuildInfo, BuildInfoAux};
use serde::{Deserialize, Serialize};

use super::output::OutputStream;
use crate::builder::StepLines;
use crate::secrets::Secrets;
pub use crate::step_timing::{StepTiming, is_from_instruction};

/// Something a build reports while it runs. Reported as it happens, so that what a build cut
/// short made is known too.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum BuildEvent<'a> {
    /// A step started; the text names it.
    Step(&'a str),
    /// An image ID in the stream's structured `aux` field: the classic builder's image of each
    /// stage it finished, BuildKit's final image.
    ImageReported(&'a str),
    /// A ` ---> <id>` line after a classic step other than `FROM`: the daemon's way of naming
    /// the image it committed, but a `RUN` can print the same line. A candidate, never proof.
    ImagePrinted(&'a str),
    /// ` ---> Running in <id>` as the first line after a classic `Step` line (warnings aside),
    /// where the daemon names the container it created for the step before the step can print
    /// anything. A `RUN` can print a fake `Step` line too, so this is a candidate, never proof.
    ContainerPrinted(&'a str),
    /// A BuildKit vertex update, times on the daemon's clock in seconds since the Unix epoch.
    Vertex {
        /// The vertex's digest; updates of one vertex share it.
        digest: &'a str,
        /// When it started, if the update says.
        started_s: Option<f64>,
        /// When it completed, if the update says.
        completed_s: Option<f64>,
        /// Whether it was taken from cache.
        cached: bool,
    },
}

/// Dockerfile steps of one build. `FROM` is not counted: it runs nothing, and the classic builder
/// never reports it as cached, so counting it would make the two builders disagree.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepCounts {
    /// Steps the build executed or took from cache.
    pub total_steps: u32,
    /// Steps taken from cache.
    pub cached_steps: u32,
}

#[derive(Debug, Default)]
struct Vertex {
    name: String,
    cached: bool,
    error: String,
    /// The step's last lines of output, to explain its failure.
    last_lines: Vec<String>,
    /// Start and end on the daemon's clock, in seconds since the Unix epoch.
    started_daemon_s: Option<f64>,
    completed_daemon_s: Option<f64>,
}

/// A step of a classic build, timed as its lines arrived.
#[derive(Debug)]
struct ClassicStep {
    stage: String,
    step: u32,
    instruction: String,
    started_offset_s: f64,
    ended_offset_s: Option<f64>,
    cached: bool,
}

/// Accumulates what a build stream says. Every text from the daemon has the run's secrets
/// redacted as it arrives, before it is cut into lines, kept or cut short.
#[derive(Default)]
pub(crate) struct StepTracker {
    secrets: Secrets,
    /// How the builder prints its steps, when it prints them.
    step_lines: StepLines,
    /// The classic builder's output.
    classic_output: OutputStream,
    /// Each BuildKit vertex's output, by digest and stream (1 stdout, 2 stderr).
    vertex_output: BTreeMap<(String, i64), OutputStream>,
    vertices: BTreeMap<String, Vertex>,
    /// The smallest (arrival time − daemon start time) of any vertex update: an update arrives
    /// after the step started, so this maps the daemon's clock onto the build's own with an
    /// error no larger than the quickest report's delay, whatever the two clocks say.
    daemon_clock_shift_s: Option<f64>,
    classic_steps: u32,
    classic_current_is_from: bool,
    classic_cached: u32,
    /// Stages seen so far (a `FROM` starts one) and the position in the current one.
    classic_stages: u32,
    classic_stage_name: String,
    classic_step_in_stage: u32,
    classic_timed: Vec<ClassicStep>,
    /// Whether the last line was a `Step` line (or a create warning after one): the next line
    /// is where the daemon names the step's container.
    classic_container_expected: bool,
    last_lines: Vec<String>,
    current_step: String,
    /// The tag of a `Successfully tagged <tag>` line when it is the last line the stream said.
    tagged_last: Option<String>,
}

/// What the classic builder's stream says when its `stream` messages are `chunks`, one message
/// each arriving a second after the other: the steps counted, their timings and the message
/// that explains a failure. The classic stream is free text that any `RUN` can print into, so
/// this is the parser's whole surface, for its fuzz target and tests.
pub fn classic_stream_steps(chunks: &[&str]) -> (StepCounts, Vec<StepTiming>, String) {
    stream_steps(chunks, StepLines::Docker)
}

/// [`classic_stream_steps`] for a builder that prints its steps as `step_lines` says.
pub fn stream_steps(
    chunks: &[&str],
    step_lines: StepLines,
) -> (StepCounts, Vec<StepTiming>, String) {
    let mut tracker = StepTracker {
        step_lines,
        ..StepTracker::default()
    };
    for (index, chunk) in chunks.iter().enumerate() {
        let info = BuildInfo {
            stream: Some((*chunk).to_string()),
            ..BuildInfo::default()
        };
        tracker.observe(&info, index as f64, &mut |_| {});
    }
    let end = chunks.len() as f64;
    tracker.finish(end, &mut |_| {});
    (
        tracker.counts(),
        tracker.timings(end),
        tracker.failure_message("the build failed"),
    )
}

/// Lines of build output kept to explain a failure.
const KEPT_OUTPUT_LINES: usize = 5;

impl StepTracker {
    /// A tracker of a builder that prints its steps as `step_lines` says, which redacts
    /// `secrets` from everything the daemon says.
    pub(crate) fn new(secrets: &Secrets, step_lines: StepLines) -> StepTracker {
        StepTracker {
            secrets: secrets.clone(),
            step_lines,
            classic_output: OutputStream::new(secrets),
            ..StepTracker::default()
        }
    }

    /// Takes one item of the stream into account; `elapsed_s` is when it arrived, in seconds
    /// since the build request started.
    pub(crate) fn observe(
        &mut self,
        info: &BuildInfo,
        elapsed_s: f64,
        on_event: &mut (impl FnMut(BuildEvent<'_>) + ?Sized),
    ) {
        if let Some(BuildInfoAux::Default(image)) = &info.aux
            && let Some(id) = image.id.as_deref().filter(|id| !id.is_empty())
        {
            on_event(BuildEvent::ImageReported(id));
        }
        if let Some(BuildInfoAux::BuildKit(status)) = &info.aux {
            for update in &status.vertexes {
                on_event(BuildEvent::Vertex {
                    digest: &update.digest,
                    started_s: update
                        .started
                        .as_ref()
                        .map(|t| epoch_seconds(t.seconds, t.nanos)),
                    completed_s: update
                        .completed
                        .as_ref()
                        .map(|t| epoch_seconds(t.seconds, t.nanos)),
                    cached: update.cached,
                });
                let vertex = self.vertices.entry(update.digest.clone()).or_default();
                if !update.name.is_empty() {
                    vertex.name = self.secrets.redact(&update.name);
                }
                vertex.cached |= update.cached;
                if let Some(started) = &update.started {
                    let started_s = epoch_seconds(started.seconds, started.nanos);
                    vertex.started_daemon_s = Some(started_s);
                    let shift = elapsed_s - started_s;
                    self.daemon_clock_shift_s = Some(
                        self.daemon_clock_shift_s
                            .map_or(shift, |earlier| earlier.min(shift)),
                    );
                }
                if let Some(completed) = &update.completed {
                    vertex.completed_daemon_s =
                        Some(epoch_seconds(completed.seconds, completed.nanos));
                }
                if !update.error.is_empty() {
                    vertex.error = self.secrets.redact(&update.error);
                }
                if update.started.is_some() && update.completed.is_none() && !update.name.is_empty()
                {
                    let name = vertex.name.clone();
                    self.set_step(&name, on_event);
                }
            }
            // Parallel stages interleave their output, so each step keeps its own, and each
            // of its streams is redacted on its own: a value cut between two log messages of
            // one stream is still found.
            for log in &status.logs {
                let secrets = &self.secrets;
                let lines = self
                    .vertex_output
                    .entry((log.vertex.clone(), log.stream))
                    .or_insert_with(|| OutputStream::new(secrets))
                    .push(&log.msg, elapsed_s);
                let vertex = self.vertices.entry(log.vertex.clone()).or_default();
                for (line, _) in lines {
                    keep_output(&mut vertex.last_lines, &line);
                }
            }
        }
        if let Some(text) = &info.stream {
            for (line, started_s) in self.classic_output.push(text.as_bytes(), elapsed_s) {
                self.observe_classic_line(&line, started_s, on_event);
            }
        }
    }

    /// The stream ended at `elapsed_s`: what every output stream still held back (a last line
    /// without a newline, text that could have been the start of a secret) is taken in,
    /// redacted.
    pub(crate) fn finish(
        &mut self,
        elapsed_s: f64,
        on_event: &mut (impl FnMut(BuildEvent<'_>) + ?Sized),
    ) {
        for (line, started_s) in self.classic_output.finish(elapsed_s) {
            self.observe_classic_line(&line, started_s, on_event);
        }
        for ((digest, _), mut output) in std::mem::take(&mut self.vertex_output) {
            let vertex = self.vertices.entry(digest).or_default();
            for (line, _) in output.finish(elapsed_s) {
                keep_output(&mut vertex.last_lines, &line);
            }
        }
    }

    fn observe_classic_line(
        &mut self,
        line: &str,
        elapsed_s: f64,
        on_event: &mut (impl FnMut(BuildEvent<'_>) + ?Sized),
    ) {
        let trimmed = line.trim();
        if !trimmed.is_empty() {
            self.tagged_last = trimmed
                .strip_prefix("Successfully tagged ")
                .map(str::to_string);
        }
        if self.step_lines == StepLines::Buildah {
            self.observe_buildah_line(trimmed, elapsed_s, on_event);
            return;
        }
        let container_expected = std::mem::take(&mut self.classic_container_expected);
        if container_expected && !trimmed.is_empty() {
            if let Some(id) = trimmed.strip_prefix("---> Running in ") {
                if is_hex_id(id) {
                    on_event(BuildEvent::ContainerPrinted(id));
                }
                return;
            }
            // The daemon prints a container's create warnings before naming it.
            self.classic_container_expected = trimmed.starts_with("---> [Warning]");
        } else if container_expected {
            self.classic_container_expected = true;
        }
        if let Some(rest) = trimmed.strip_prefix("Step ") {
            let instruction = rest.split_once(" : ").map(|(_, i)| i).unwrap_or_default();
            if let Some(previous) = self.classic_timed.last_mut()
                && previous.ended_offset_s.is_none()
            {
                previous.ended_offset_s = Some(elapsed_s);
            }
            self.classic_current_is_from = is_from_instruction(instruction);
            if self.classic_current_is_from {
                self.classic_stage_name = stage_alias(instruction)
                    .map_or_else(|| self.classic_stages.to_string(), str::to_string);
                self.classic_stages += 1;
                self.classic_step_in_stage = 1;
                // Timed (a base image missing locally is pulled here) but not counted.
                self.classic_timed.push(ClassicStep {
                    stage: self.classic_stage_name.clone(),
                    step: 1,
                    instruction: instruction.to_string(),
                    started_offset_s: elapsed_s,
                    ended_offset_s: None,
                    cached: false,
                });
            } else {
                self.classic_steps += 1;
                self.classic_step_in_stage += 1;
                self.classic_timed.push(ClassicStep {
                    stage: self.classic_stage_name.clone(),
                    step: self.classic_step_in_stage,
                    instruction: instruction.to_string(),
                    started_offset_s: elapsed_s,
                    ended_offset_s: None,
                    cached: false,
                });
            }
            self.classic_container_expected = true;
            self.set_step(trimmed, on_event);
        } else if trimmed == "---> Using cache" {
            // Counted once per step, and only after one: a RUN step can print this line too
            // (found by the classic_stream fuzz target), and no count may exceed the steps.
            if !self.classic_current_is_from
                && let Some(step) = self.classic_timed.last_mut()
                && !step.cached
            {
                step.cached = true;
                self.classic_cached += 1;
            }
        } else if let Some(id) = trimmed.strip_prefix("---> ") {
            // After a FROM step the ID is the base image's, which is not ours to remove.
            if is_hex_id(id) && !self.classic_current_is_from {
                on_event(BuildEvent::ImagePrinted(id));
            }
        } else if !trimmed.is_empty() {
            keep_output(&mut self.last_lines, trimmed);
        }
    }

    /// One line of Buildah's stream: `[1/2] STEP 2/3: RUN make` (the `[stage/stages] ` prefix
    /// only when the Dockerfile has several stages), `--> Using cache <id>` inside a cached
    /// step, `--> <id>` for the image a step committed, `[2/2] COMMIT <tag>` where the final
    /// image is written. Anything else is the steps' output.
    fn observe_buildah_line(
        &mut self,
        trimmed: &str,
        elapsed_s: f64,
        on_event: &mut (impl FnMut(BuildEvent<'_>) + ?Sized),
    ) {
        let (stage_index, rest) = buildah_stage_prefix(trimmed);
        if let Some((step, instruction)) = buildah_step(rest) {
            self.end_open_step(elapsed_s);
            self.classic_current_is_from = is_from_instruction(instruction);
            if self.classic_current_is_from {
                let index = stage_index.unwrap_or(self.classic_stages);
                self.classic_stage_name =
                    stage_alias(instruction).map_or_else(|| index.to_string(), str::to_string);
                self.classic_stages += 1;
            } else {
                self.classic_steps += 1;
            }
            self.classic_timed.push(ClassicStep {
                stage: self.classic_stage_name.clone(),
                step,
                instruction: instruction.to_string(),
                started_offset_s: elapsed_s,
                ended_offset_s: None,
                cached: false,
            });
            self.set_step(trimmed, on_event);
        } else if rest == "COMMIT" || rest.starts_with("COMMIT ") {
            // The builder's own work, as BuildKit's `exporting to image` is: not a Dockerfile
            // step, so neither counted nor cached.
            self.end_open_step(elapsed_s);
            self.classic_current_is_from = true;
            self.classic_timed.push(ClassicStep {
                stage: String::new(),
                step: 0,
                instruction: "COMMIT".to_string(),
                started_offset_s: elapsed_s,
                ended_offset_s: None,
                cached: false,
            });
            self.set_step(trimmed, on_event);
        } else if let Some(id) = trimmed.strip_prefix("--> Using cache ") {
            // Counted once per step, and only inside one, as the classic line is.
            if is_hex_id(id)
                && !self.classic_current_is_from
                && let Some(step) = self.classic_timed.last_mut()
                && !step.cached
            {
                step.cached = true;
                self.classic_cached += 1;
            }
        } else if let Some(id) = trimmed.strip_prefix("--> ") {
            if is_hex_id(id) && !self.classic_current_is_from {
                on_event(BuildEvent::ImagePrinted(id));
            } else if is_hex_id(id) && self.classic_timed.last().is_some_and(|s| s.step == 0) {
                // After COMMIT: the final image, which the `aux` answer names as well.
                on_event(BuildEvent::ImagePrinted(id));
            }
        } else if !trimmed.is_empty() {
            keep_output(&mut self.last_lines, trimmed);
        }
    }

    /// Ends the step still open, at `elapsed_s`.
    fn end_open_step(&mut self, elapsed_s: f64) {
        if let Some(previous) = self.classic_timed.last_mut()
            && previous.ended_offset_s.is_none()
        {
            previous.ended_offset_s = Some(elapsed_s);
        }
    }

    fn set_step(&mut self, step: &str, on_event: &mut (impl FnMut(BuildEvent<'_>) + ?Sized)) {
        if self.current_step != step {
            self.current_step = step.to_string();
            on_event(BuildEvent::Step(step));
        }
    }

    /// Whether the stream's last line was the daemon saying it tagged `tag`: the build is done,
    /// whatever happens to the connection after it.
    pub(crate) fn finished_tagging(&self, tag: &str) -> bool {
        self.tagged_last.as_deref() == Some(tag)
    }

    /// Step counts so far; BuildKit vertices when there were any, classic steps otherwise.
    pub(crate) fn counts(&self) -> StepCounts {
        if self.vertices.is_empty() {
            return StepCounts {
                total_steps: self.classic_steps,
                cached_steps: self.classic_cached,
            };
        }
        let steps: Vec<&Vertex> = self
            .vertices
            .values()
            .filter(|v| is_dockerfile_step(&v.name))
            .collect();
        StepCounts {
            total_steps: steps.len() as u32,
            cached_steps: steps.iter().filter(|v| v.cached).count() as u32,
        }
    }

    /// Every step of the build in order of start, the builder's own work included; a step
    /// still running at `end_offset_s` (the end of the build request) ends there.
    pub(crate) fn timings(&self, end_offset_s: f64) -> Vec<StepTiming> {
        let mut timings: Vec<StepTiming> = if self.vertices.is_empty() {
            self.classic_timed
                .iter()
                .map(|step| {
                    let ended = step.ended_offset_s.unwrap_or(end_offset_s);
                    StepTiming {
                        stage: step.stage.clone(),
                        step: step.step,
                        instruction: step.instruction.clone(),
                        started_offset_s: step.started_offset_s,
                        seconds: (ended - step.started_offset_s).max(0.0),
                        cached: step.cached,
                    }
                })
                .collect()
        } else {
            let shift = self.daemon_clock_shift_s.unwrap_or(0.0);
            self.vertices
                .values()
                .filter_map(|vertex| {
                    let started_s = vertex.started_daemon_s?;
                    let (stage, step, instruction) = buildkit_step(&vertex.name);
                    let started_offset_s = (started_s + shift).clamp(0.0, end_offset_s);
                    let ended_offset_s = vertex
                        .completed_daemon_s
                        .map_or(end_offset_s, |completed| completed + shift)
                        .clamp(started_offset_s, end_offset_s.max(started_offset_s));
                    Some(StepTiming {
                        stage,
                        step,
                        instruction,
                        started_offset_s,
                        seconds: ended_offset_s - started_offset_s,
                        cached: vertex.cached,
                    })
                })
                .collect()
        };
        timings.sort_by(|a, b| {
            a.started_offset_s
                .total_cmp(&b.started_offset_s)
                .then_with(|| a.seconds.total_cmp(&b.seconds))
                .then_with(|| a.stage.cmp(&b.stage))
                .then_with(|| a.step.cmp(&b.step))
        });
        timings
    }

    /// The daemon's message, with the failing step named when the daemon's message lacks it,
    /// followed by the step's last lines of output: "exit code: 1" alone says nothing of why.
    pub(crate) fn failure_message(&self, daemon_message: &str) -> String {
        let failed_vertex = self.vertices.values().find(|v| !v.error.is_empty());
        let (message, output) = match failed_vertex {
            Some(vertex) if !daemon_message.contains(&vertex.name) && !vertex.name.is_empty() => (
                format!("{}: {daemon_message}", vertex.name),
                &vertex.last_lines,
            ),
            Some(vertex) => (daemon_message.to_string(), &vertex.last_lines),
            None if !self.current_step.is_empty() && self.vertices.is_empty() => (
                format!("{}: {daemon_message}", self.current_step),
                &self.last_lines,
            ),
            None => (daemon_message.to_string(), &self.last_lines),
        };
        if output.is_empty() {
            message
        } else {
            // One line, so that it stays one CSV cell a person can read.
            format!("{message}; last output: {}", output.join(" | "))
        }
    }
}

/// Whether `text` looks like an image or container ID as a builder prints it (12 hex digits
/// from Docker's classic builder, 11 from Buildah, or all 64).
fn is_hex_id(text: &str) -> bool {
    text.len() >= 11 && text.len() <= 64 && text.chars().all(|c| c.is_ascii_hexdigit())
}

/// Buildah's `[S/N] ` stage prefix: the stage's 0-based index and the rest of the line.
fn buildah_stage_prefix(line: &str) -> (Option<u32>, &str) {
    let parsed = line.strip_prefix('[').and_then(|rest| {
        let (label, rest) = rest.split_once("] ")?;
        let (stage, stages) = label.split_once('/')?;
        let stage: u32 = stage.parse().ok()?;
        stages.parse::<u32>().ok()?;
        Some((stage.checked_sub(1)?, rest))
    });
    match parsed {
        Some((index, rest)) => (Some(index), rest),
        None => (None, line),
    }
}

/// `STEP 2/3: RUN make` as (2, `RUN make`).
fn buildah_step(text: &str) -> Option<(u32, &str)> {
    let (position, instruction) = text.strip_prefix("STEP ")?.split_once(": ")?;
    let (step, steps) = position.split_once('/')?;
    steps.parse::<u32>().ok()?;
    Some((step.parse().ok()?, instruction))
}

/// Keeps the last [`KEPT_OUTPUT_LINES`] non-empty lines of `text` in `lines`.
fn keep_output(lines: &mut Vec<String>, text: &str) {
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        if lines.len() == KEPT_OUTPUT_LINES {
            lines.remove(0);
        }
        lines.push(printable(line));
    }
}

/// The longest output line kept (in characters): an error message quotes a few lines, not a
/// megabyte a build printed without a newline.
const KEPT_LINE_CHARS: usize = 300;

/// `line` fit to be written to a CSV cell and printed on a terminal: control characters (a
/// terminal escape sequence, a carriage return) shown as `�`, and cut at [`KEPT_LINE_CHARS`].
fn printable(line: &str) -> String {
    let mut kept: String = line
        .chars()
        .take(KEPT_LINE_CHARS)
        .map(|c| if c.is_control() { '\u{fffd}' } else { c })
        .collect();
    if line.chars().nth(KEPT_LINE_CHARS).is_some() {
        kept.push('…');
    }
    kept
}

/// A protobuf timestamp as seconds since the Unix epoch.
fn epoch_seconds(seconds: i64, nanos: i32) -> f64 {
    seconds as f64 + f64::from(nanos) * 1e-9
}

/// The `AS` name of a `FROM` instruction (`FROM busybox AS a`), if it has one.
fn stage_alias(instruction: &str) -> Option<&str> {
    let words: Vec<&str> = instruction.split_whitespace().collect();
    words
        .iter()
        .position(|w| w.eq_ignore_ascii_case("AS"))
        .and_then(|at| words.get(at + 1))
        .copied()
}

/// A BuildKit vertex as a row of `steps.csv`: (stage, step, instruction). `[a 2/3] RUN make`
/// is step 2 of stage `a`; `[stage-1 2/3] ...` is of the unnamed stage 1; `[2/3] ...`, which
/// BuildKit writes when the Dockerfile has one stage, is of stage 0. The builder's own work
/// (`[internal] load build context`, `exporting to image`) has no stage. `FROM` is kept, with
/// its stage (step 1), though the step counts leave it out: pulling the base image is its time.
fn buildkit_step(name: &str) -> (String, u32, String) {
    let Some(rest) = name.strip_prefix('[') else {
        return (String::new(), 0, name.to_string());
    };
    let Some((label, instruction)) = rest.split_once("] ") else {
        return (String::new(), 0, name.to_string());
    };
    // BuildKit pads the step number to the width of the count: `[python  2/12]`.
    let (stage_label, fraction) = match label.rsplit_once(' ') {
        Some((stage, fraction)) => (stage.trim(), fraction),
        None => ("", label),
    };
    let Some(step) = fraction
        .split_once('/')
        .and_then(|(a, b)| Some((a.parse::<u32>().ok()?, b.parse::<u32>().ok()?)))
        .map(|(a, _)| a)
    else {
        return (String::new(), 0, name.to_string());
    };
    let stage = match stage_label {
        "" => "0".to_string(),
        label => label
            .strip_prefix("stage-")
            .filter(|index| index.parse::<u32>().is_ok())
            .unwrap_or(label)
            .to_string(),
    };
    (stage, step, instruction.to_string())
}

/// BuildKit names Dockerfile steps `[stage 2/5] RUN ...`; internal vertices (`[internal] load
/// build context`, `exporting to image`) and `FROM` are not steps a Dockerfile author wrote.
fn is_dockerfile_step(name: &str) -> bool {
    let Some(rest) = name.strip_prefix('[') else {
        return false;
    };
    let Some((label, instruction)) = rest.split_once("] ") else {
        return false;
    };
    let numbered = label
        .rsplit(' ')
        .next()
        .and_then(|fraction| fraction.split_once('/'))
        .is_some_and(|(a, b)| a.parse::<u32>().is_ok() && b.parse::<u32>().is_ok());
    numbered && !instruction.starts_with("FROM ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_lines_count_once_per_step_and_never_before_one() {
        // The fuzz target's find: a cache line before any step, and one printed twice.
        let (counts, timings, _) = classic_stream_steps(&[
            " ---> Using cache\n",
            "Step 1/2 : FROM busybox\n",
            "Step 2/2 : RUN true\n",
            " ---> Using cache\n",
            " ---> Using cache\n",
        ]);
        assert_eq!((counts.total_steps, counts.cached_steps), (1, 1));
        // The FROM is timed but never cached; the one counted step is.
        assert!(
            timings
                .iter()
                .all(|t| t.cached != is_from_instruction(&t.instruction)),
            "{timings:?}"
        );
    }

    #[test]
    fn a_build_is_finished_when_the_last_line_says_its_tag() {
        let mut tracker = StepTracker::default();
        let line = |tracker: &mut StepTracker, text: &str| {
            let info = BuildInfo {
                stream: Some(text.to_string()),
                ..BuildInfo::default()
            };
            tracker.observe(&info, 0.0, &mut |_| {});
        };
        line(&mut tracker, "Successfully tagged x/y:a\n");
        assert!(tracker.finished_tagging("x/y:a"));
        assert!(!tracker.finished_tagging("x/y:b"));
        line(&mut tracker, "more output\n");
        assert!(
            !tracker.finished_tagging("x/y:a"),
            "only the last line counts"
        );
    }

    #[test]
    fn output_is_redacted_as_it_arrives_before_it_is_cut_into_lines_or_cut_short() {
        let secrets = Secrets::new(["T".to_string()], ["tok-SECRET-abcdef"]).unwrap();
        let long = format!("{}tok-SECRET-abcdef", "y".repeat(290));
        let chunks = [
            format!("{long}\n"),
            "split tok-SEC".to_string(),
            "RET-abcdef end".to_string(),
        ];
        let expected = format!(
            "last output: {}<secret> | split <secret> end",
            "y".repeat(290)
        );

        let mut buildkit = StepTracker::new(&secrets, StepLines::Docker);
        let mut failed = vertex("v", "[2/2] RUN x tok-SECRET-abcdef", Some(1), None, false);
        if let Some(BuildInfoAux::BuildKit(status)) = &mut failed.aux {
            status.vertexes[0].error = "exit code: 3 (tok-SECRET-abcdef)".to_string();
        }
        buildkit.observe(&failed, 0.0, &mut |_| {});
        for chunk in &chunks {
            let log = bollard::moby::buildkit::v1::VertexLog {
                vertex: "v".to_string(),
                stream: 1,
                msg: chunk.as_bytes().to_vec(),
                ..Default::default()
            };
            let info = BuildInfo {
                aux: Some(BuildInfoAux::BuildKit(
                    bollard::moby::buildkit::v1::StatusResponse {
                        logs: vec![log],
                        ..Default::default()
                    },
                )),
                ..Default::default()
            };
            buildkit.observe(&info, 0.5, &mut |_| {});
        }
        buildkit.finish(1.0, &mut |_| {});
        let message = buildkit.failure_message("exit code: 3");
        assert!(message.starts_with("[2/2] RUN x <secret>: "), "{message}");
        assert!(message.ends_with(&expected), "{message}");

        let mut classic = StepTracker::new(&secrets, StepLines::Docker);
        let mut steps = Vec::new();
        let mut classic_chunks = vec!["Step 2/2 : RUN x".to_string(), "\n".to_string()];
        classic_chunks.extend(chunks);
        for (index, chunk) in classic_chunks.iter().enumerate() {
            let info = BuildInfo {
                stream: Some(chunk.clone()),
                ..BuildInfo::default()
            };
            classic.observe(&info, index as f64, &mut |event| {
                if let BuildEvent::Step(step) = event {
                    steps.push(step.to_string());
                }
            });
        }
        classic.finish(9.0, &mut |_| {});
        assert_eq!(steps, ["Step 2/2 : RUN x"]);
        let message = classic.failure_message("exit code: 3");
        assert!(message.ends_with(&expected), "{message}");
        let timings = classic.timings(9.0);
        assert_eq!(
            timings[0].started_offset_s, 0.0,
            "timed from its first part"
        );
    }

    #[test]
    fn kept_output_is_printable_and_short() {
        let mut lines = Vec::new();
        keep_output(&mut lines, "ok\n\u{1b}[2Jcleared\r\n");
        keep_output(&mut lines, &"x".repeat(10_000));
        assert_eq!(lines[0], "ok");
        assert_eq!(lines[1], "\u{fffd}[2Jcleared");
        assert_eq!(lines[2].chars().count(), KEPT_LINE_CHARS + 1);
        assert!(lines[2].ends_with('…'));
    }

    /// Timings as (stage, step, instruction, start, seconds, cached), times to 0.1 s.
    fn rounded_rows(timings: &[StepTiming]) -> Vec<(&str, u32, &str, f64, f64, bool)> {
        timings
            .iter()
            .map(|t| {
                (
                    t.stage.as_str(),
                    t.step,
                    t.instruction.as_str(),
                    (t.started_offset_s * 10.0).round() / 10.0,
                    (t.seconds * 10.0).round() / 10.0,
                    t.cached,
                )
            })
            .collect()
    }

    fn classic(lines: &[&str]) -> (StepTracker, Vec<String>) {
        let mut tracker = StepTracker::default();
        let mut steps = Vec::new();
        let mut images = Vec::new();
        for line in lines {
            let info = BuildInfo {
                stream: Some(format!("{line}\n")),
                ..Default::default()
            };
            tracker.observe(&info, 0.0, &mut |event| match event {
                BuildEvent::Step(s) => steps.push(s.to_string()),
                BuildEvent::ImagePrinted(id) => images.push(id.to_string()),
                BuildEvent::ContainerPrinted(id) => images.push(format!("container {id}")),
                BuildEvent::ImageReported(_) | BuildEvent::Vertex { .. } => {}
            });
        }
        assert!(steps.iter().all(|s| s.starts_with("Step ")));
        (tracker, images)
    }

    #[test]
    fn a_container_is_named_only_where_the_daemon_names_it() {
        let (_, named) = classic(&[
            "Step 1/3 : FROM busybox",
            " ---> 0123456789ab",
            "Step 2/3 : RUN echo ' ---> Running in aaaaaaaaaaaa'",
            " ---> [Warning] a create warning",
            " ---> Running in 0000000000c1",
            " ---> Running in aaaaaaaaaaaa",
            " ---> 1123456789ab",
            "Step 3/3 : COPY . /app",
            "",
            " ---> 2123456789ab",
        ]);
        assert_eq!(
            named,
            ["container 0000000000c1", "1123456789ab", "2123456789ab"],
            "a line the step printed after the daemon's is not a container"
        );
    }

    /// Buildah's stream of a two-stage build through Podman's API, as Podman 4.3 sent it; `warm`
    /// is the same build again, every step from cache.
    fn buildah_chunks(warm: bool) -> Vec<String> {
        let cache = |id: &str| {
            if warm {
                vec![format!("--> Using cache {id}{}\n", "0".repeat(53))]
            } else {
                Vec::new()
            }
        };
        let mut chunks = vec!["[1/2] STEP 1/2: FROM debian:bookworm-slim AS a\n".to_string()];
        chunks.push("[1/2] STEP 2/2: RUN echo a > /a\n".to_string());
        chunks.extend(cache("e5e3d8674f2"));
        chunks.push("--> e5e3d8674f2\n".to_string());
        chunks.push("[2/2] STEP 1/4: FROM debian:bookworm-slim\n".to_string());
        chunks.push("[2/2] STEP 2/4: COPY --from=a /a /a\n".to_string());
        chunks.extend(cache("bcdd428d611"));
        chunks.push("--> bcdd428d611\n".to_string());
        chunks.push("[2/2] STEP 3/4: COPY f.txt /f.txt\n".to_string());
        chunks.extend(cache("2d5019c0b43"));
        chunks.push("--> 2d5019c0b43\n".to_string());
        chunks.push("[2/2] STEP 4/4: RUN echo b\n".to_string());
        if warm {
            chunks.extend(cache("b42ff1e160c"));
        } else {
            // What the step printed; a fake cache line among it counts for nothing.
            chunks.push("b\n--> Using cache 0123456789ab\n".to_string());
        }
        chunks.push("[2/2] COMMIT docker.io/probe/tiny:multi\n".to_string());
        chunks.push("--> b42ff1e160c\n".to_string());
        chunks.push("Successfully tagged docker.io/probe/tiny:multi\n".to_string());
        chunks.push("Successfully built b42ff1e160c5\n".to_string());
        chunks
    }

    #[test]
    fn buildah_steps_are_counted_timed_and_named_by_stage() {
        let cold = buildah_chunks(false);
        let cold: Vec<&str> = cold.iter().map(String::as_str).collect();
        let (counts, timings, _) = stream_steps(&cold, StepLines::Buildah);
        assert_eq!(
            counts,
            StepCounts {
                total_steps: 4,
                cached_steps: 1
            },
            "a RUN that prints the builder's cache line is taken at its word, as with the \
             classic builder: the text stream cannot tell the two apart"
        );
        let rows: Vec<(&str, u32, &str, bool)> = timings
            .iter()
            .map(|t| (t.stage.as_str(), t.step, t.instruction.as_str(), t.cached))
            .collect();
        assert_eq!(
            rows,
            [
                ("a", 1, "FROM debian:bookworm-slim AS a", false),
                ("a", 2, "RUN echo a > /a", false),
                ("1", 1, "FROM debian:bookworm-slim", false),
                ("1", 2, "COPY --from=a /a /a", false),
                ("1", 3, "COPY f.txt /f.txt", false),
                ("1", 4, "RUN echo b", true),
                ("", 0, "COMMIT", false),
            ]
        );
        // One chunk a second: each step lasts until the next step line.
        assert_eq!(timings[1].started_offset_s, 1.0);
        assert_eq!(timings[1].seconds, 2.0);

        let warm = buildah_chunks(true);
        let warm: Vec<&str> = warm.iter().map(String::as_str).collect();
        let (counts, timings, _) = stream_steps(&warm, StepLines::Buildah);
        assert_eq!(
            counts,
            StepCounts {
                total_steps: 4,
                cached_steps: 4
            }
        );
        assert!(timings.iter().filter(|t| t.step > 1).all(|t| t.cached));
    }

    #[test]
    fn a_single_stage_buildah_build_has_no_stage_prefix_and_is_stage_0() {
        let (counts, timings, _) = stream_steps(
            &[
                "STEP 1/2: FROM busybox\n",
                "STEP 2/2: RUN true\n",
                "--> Using cache 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n",
                "COMMIT t\n",
            ],
            StepLines::Buildah,
        );
        assert_eq!(counts.total_steps, 1);
        assert_eq!(counts.cached_steps, 1);
        assert_eq!(timings[0].stage, "0");
        assert_eq!(timings[1].stage, "0");
        assert_eq!(timings[2].instruction, "COMMIT");
    }

    #[test]
    fn docker_s_classic_lines_mean_nothing_to_the_buildah_reader_and_the_reverse() {
        let docker = [
            "Step 1/2 : FROM busybox\n",
            "Step 2/2 : RUN true\n",
            " ---> Using cache\n",
        ];
        assert_eq!(
            stream_steps(&docker, StepLines::Buildah).0,
            StepCounts::default()
        );
        let buildah = ["STEP 1/2: FROM busybox\n", "STEP 2/2: RUN true\n"];
        assert_eq!(
            stream_steps(&buildah, StepLines::Docker).0,
            StepCounts::default()
        );
    }

    #[test]
    fn classic_steps_count_cache_hits_and_skip_from() {
        let (tracker, images) = classic(&[
            "Step 1/3 : FROM busybox",
            " ---> 0123456789ab",
            "Step 2/3 : RUN echo hi",
            " ---> Using cache",
            " ---> 1123456789ab",
            "Step 3/3 : COPY . /app",
            " ---> 2123456789ab",
            "Successfully built 2123456789ab",
        ]);
        assert_eq!(
            tracker.counts(),
            StepCounts {
                total_steps: 2,
                cached_steps: 1
            }
        );
        assert_eq!(
            images,
            ["1123456789ab", "2123456789ab"],
            "the base image's ID after FROM is never collected for removal"
        );
    }

    #[test]
    fn buildkit_step_names() {
        assert!(is_dockerfile_step("[stage-1 2/3] COPY --from=a /x /x"));
        assert!(is_dockerfile_step("[2/2] RUN make"));
        assert!(!is_dockerfile_step("[1/2] FROM library/busybox:latest"));
        assert!(!is_dockerfile_step("[internal] load build context"));
        assert!(!is_dockerfile_step("exporting to image"));
    }

    /// A BuildKit status update for one vertex, as the daemon streams it.
    fn vertex(
        digest: &str,
        name: &str,
        started_s: Option<i64>,
        completed_s: Option<i64>,
        cached: bool,
    ) -> BuildInfo {
        let mut vertex = bollard::moby::buildkit::v1::Vertex {
            digest: digest.to_string(),
            name: name.to_string(),
            cached,
            ..Default::default()
        };
        let template = vertex.started.unwrap_or_default();
        let stamp = |seconds: i64| {
            let mut stamp = template;
            stamp.seconds = seconds;
            stamp.nanos = 0;
            stamp
        };
        vertex.started = started_s.map(stamp);
        vertex.completed = completed_s.map(stamp);
        BuildInfo {
            aux: Some(BuildInfoAux::BuildKit(
                bollard::moby::buildkit::v1::StatusResponse {
                    vertexes: vec![vertex],
                    ..Default::default()
                },
            )),
            ..Default::default()
        }
    }

    #[test]
    fn buildkit_steps_are_timed_on_the_build_s_clock_with_stages_named() {
        let mut tracker = StepTracker::default();
        // (arrival in seconds since the request, update); the daemon's clock reads 1000 when
        // the request is 0.5 s old, and each update takes at least 0.1 s to arrive.
        let updates = [
            (
                0.6,
                vertex(
                    "c",
                    "[internal] load build context",
                    Some(1000),
                    None,
                    false,
                ),
            ),
            (
                1.6,
                vertex(
                    "c",
                    "[internal] load build context",
                    Some(1000),
                    Some(1001),
                    false,
                ),
            ),
            (
                1.6,
                vertex(
                    "f",
                    "[a 1/2] FROM docker.io/library/busybox:latest",
                    Some(1001),
                    Some(1001),
                    false,
                ),
            ),
            (
                1.7,
                vertex("a", "[a 2/2] RUN sleep 3", Some(1001), None, false),
            ),
            (
                1.8,
                vertex("b", "[stage-1 2/2] RUN sleep 3", Some(1001), None, false),
            ),
            (4.7, vertex("a", "", Some(1001), Some(1004), false)),
            (4.8, vertex("b", "", Some(1001), Some(1004), false)),
            (
                4.8,
                vertex(
                    "d",
                    "[stage-2 2/3] COPY --from=a /x /x",
                    Some(1004),
                    Some(1004),
                    true,
                ),
            ),
            (
                5.0,
                vertex("e", "exporting to image", Some(1004), None, false),
            ),
        ];
        for (arrival, info) in &updates {
            tracker.observe(info, *arrival, &mut |_| {});
        }
        let timings = tracker.timings(6.0);
        let rows = rounded_rows(&timings);
        assert_eq!(
            rows,
            [
                ("", 0, "[internal] load build context", 0.6, 1.0, false),
                // A stage's FROM is kept with its time, though it is not counted.
                (
                    "a",
                    1,
                    "FROM docker.io/library/busybox:latest",
                    1.6,
                    0.0,
                    false
                ),
                ("1", 2, "RUN sleep 3", 1.6, 3.0, false),
                ("a", 2, "RUN sleep 3", 1.6, 3.0, false),
                ("2", 2, "COPY --from=a /x /x", 4.6, 0.0, true),
                // Still running when the request ended: it ends there.
                ("", 0, "exporting to image", 4.6, 1.4, false),
            ]
        );
        assert_eq!(
            tracker.counts(),
            StepCounts {
                total_steps: 3,
                cached_steps: 1
            }
        );
    }

    #[test]
    fn a_single_stage_s_steps_are_of_stage_0() {
        assert_eq!(
            buildkit_step("[2/2] RUN make"),
            ("0".to_string(), 2, "RUN make".to_string())
        );
        assert_eq!(
            buildkit_step("[build 1/3] FROM debian"),
            ("build".to_string(), 1, "FROM debian".to_string())
        );
        // Step numbers are padded to the width of the count; the stage is the same.
        assert_eq!(
            buildkit_step("[python  2/12] COPY a /a"),
            ("python".to_string(), 2, "COPY a /a".to_string())
        );
        assert_eq!(
            buildkit_step("[ 3/16] RUN make"),
            ("0".to_string(), 3, "RUN make".to_string())
        );
    }

    #[test]
    fn classic_steps_are_timed_as_their_lines_arrive() {
        let mut tracker = StepTracker::default();
        let lines = [
            (0.1, "Step 1/6 : FROM busybox:latest AS a"),
            (0.1, " ---> 0123456789ab"),
            (0.2, "Step 2/6 : RUN sleep 1"),
            (0.2, " ---> Running in 99"),
            (1.3, " ---> 1123456789ab"),
            (1.4, "Step 3/6 : FROM busybox:latest"),
            (1.4, " ---> 0123456789ab"),
            (1.5, "Step 4/6 : RUN echo hi"),
            (1.5, " ---> Using cache"),
            (1.5, " ---> 2123456789ab"),
            (1.6, "Step 5/6 : COPY --from=a /x /x"),
            (2.0, " ---> 3123456789ab"),
            (2.1, "Successfully built 3123456789ab"),
        ];
        for (arrival, line) in lines {
            let info = BuildInfo {
                stream: Some(format!("{line}\n")),
                ..Default::default()
            };
            tracker.observe(&info, arrival, &mut |_| {});
        }
        let timings = tracker.timings(2.2);
        let rows = rounded_rows(&timings);
        assert_eq!(
            rows,
            [
                ("a", 1, "FROM busybox:latest AS a", 0.1, 0.1, false),
                ("a", 2, "RUN sleep 1", 0.2, 1.2, false),
                ("1", 1, "FROM busybox:latest", 1.4, 0.1, false),
                ("1", 2, "RUN echo hi", 1.5, 0.1, true),
                ("1", 3, "COPY --from=a /x /x", 1.6, 0.6, false),
            ]
        );
    }
}
