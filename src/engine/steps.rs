//! Reading a build's progress stream: which step runs now, which came from cache.
//!
//! The two builders report differently. BuildKit sends vertex updates (several per vertex, so
//! they are grouped by digest); the classic builder prints `Step N/M : ...` lines followed by
//! ` ---> Using cache` and ` ---> <image id>`. Both are reduced to the same counts here.

use std::collections::BTreeMap;

use bollard::models::{BuildInfo, BuildInfoAux};
use serde::{Deserialize, Serialize};

/// Something a build reports while it runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BuildEvent<'a> {
    /// A step started; the text names it.
    Step(&'a str),
    /// The classic builder committed an image (a short ID). Reported as it happens, so that an
    /// interrupted build's images can still be removed.
    ImageCreated(&'a str),
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
}

/// Accumulates what a build stream says.
#[derive(Debug, Default)]
pub(crate) struct StepTracker {
    vertices: BTreeMap<String, Vertex>,
    classic_steps: u32,
    classic_current_is_from: bool,
    classic_cached: u32,
    last_lines: Vec<String>,
    current_step: String,
}

/// Lines of build output kept to explain a failure.
const KEPT_OUTPUT_LINES: usize = 5;

impl StepTracker {
    /// Takes one item of the stream into account.
    pub(crate) fn observe(
        &mut self,
        info: &BuildInfo,
        on_event: &mut (impl FnMut(BuildEvent<'_>) + ?Sized),
    ) {
        if let Some(BuildInfoAux::BuildKit(status)) = &info.aux {
            for update in &status.vertexes {
                let vertex = self.vertices.entry(update.digest.clone()).or_default();
                if !update.name.is_empty() {
                    vertex.name.clone_from(&update.name);
                }
                vertex.cached |= update.cached;
                if !update.error.is_empty() {
                    vertex.error.clone_from(&update.error);
                }
                if update.started.is_some() && update.completed.is_none() && !update.name.is_empty()
                {
                    self.set_step(&update.name, on_event);
                }
            }
            // Parallel stages interleave their output, so each step keeps its own.
            for log in &status.logs {
                let vertex = self.vertices.entry(log.vertex.clone()).or_default();
                keep_output(&mut vertex.last_lines, &String::from_utf8_lossy(&log.msg));
            }
        }
        if let Some(text) = &info.stream {
            for line in text.lines() {
                self.observe_classic_line(line, on_event);
            }
        }
    }

    fn observe_classic_line(
        &mut self,
        line: &str,
        on_event: &mut (impl FnMut(BuildEvent<'_>) + ?Sized),
    ) {
        let trimmed = line.trim();
        if let Some(rest) = trimmed.strip_prefix("Step ") {
            let instruction = rest.split_once(" : ").map(|(_, i)| i).unwrap_or_default();
            self.classic_current_is_from = instruction
                .split_whitespace()
                .next()
                .is_some_and(|w| w.eq_ignore_ascii_case("FROM"));
            if !self.classic_current_is_from {
                self.classic_steps += 1;
            }
            self.set_step(trimmed, on_event);
        } else if trimmed == "---> Using cache" {
            if !self.classic_current_is_from {
                self.classic_cached += 1;
            }
        } else if let Some(id) = trimmed.strip_prefix("---> ") {
            // After a FROM step the ID is the base image's, which is not ours to remove.
            let is_id = id.len() >= 12 && id.chars().all(|c| c.is_ascii_hexdigit());
            if is_id && !self.classic_current_is_from {
                on_event(BuildEvent::ImageCreated(id));
            }
        } else if !trimmed.is_empty() {
            keep_output(&mut self.last_lines, trimmed);
        }
    }

    fn set_step(&mut self, step: &str, on_event: &mut (impl FnMut(BuildEvent<'_>) + ?Sized)) {
        if self.current_step != step {
            self.current_step = step.to_string();
            on_event(BuildEvent::Step(step));
        }
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

/// Keeps the last [`KEPT_OUTPUT_LINES`] non-empty lines of `text` in `lines`.
fn keep_output(lines: &mut Vec<String>, text: &str) {
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        if lines.len() == KEPT_OUTPUT_LINES {
            lines.remove(0);
        }
        lines.push(line.to_string());
    }
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

    fn classic(lines: &[&str]) -> (StepTracker, Vec<String>) {
        let mut tracker = StepTracker::default();
        let mut steps = Vec::new();
        let mut images = Vec::new();
        for line in lines {
            let info = BuildInfo {
                stream: Some(format!("{line}\n")),
                ..Default::default()
            };
            tracker.observe(&info, &mut |event| match event {
                BuildEvent::Step(s) => steps.push(s.to_string()),
                BuildEvent::ImageCreated(id) => images.push(id.to_string()),
            });
        }
        assert!(steps.iter().all(|s| s.starts_with("Step ")));
        (tracker, images)
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
}
