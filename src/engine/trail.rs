//! What a build's stream said it made, and when it ran, gathered as the stream arrives so that
//! a build cut short is known too. Nothing here is proof: [`ownership`](super::ownership)
//! confirms the IDs with the daemon, and [`run_cache`](super::run_cache) reads the build
//! cache's records against the time the build ran.

use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

use super::steps::BuildEvent;

/// What a build's stream said it made, as it arrived.
#[derive(Debug, Clone, Default)]
pub(super) struct BuildTrail {
    /// Image IDs in the stream's structured `aux` field.
    pub reported_images: Vec<String>,
    /// IDs of classic ` ---> <id>` lines: candidates only.
    pub printed_images: Vec<String>,
    /// IDs of classic ` ---> Running in <id>` lines where the daemon names a step's container:
    /// candidates only.
    pub printed_containers: Vec<String>,
    /// BuildKit vertices by digest.
    vertices: BTreeMap<String, VertexSpan>,
    /// The smallest (arrival on this machine's clock − start on the daemon's) of any vertex
    /// update: maps a time on this machine's clock onto the daemon's, erring early.
    daemon_clock_shift_s: Option<f64>,
    /// When the build request was sent, on this machine's clock (Unix seconds).
    started_s: f64,
    /// When the build answered or was cut short, on this machine's clock (Unix seconds).
    ended_s: f64,
}

/// When a BuildKit vertex ran, on the daemon's clock (Unix seconds).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct VertexSpan {
    /// The earliest start any update gave.
    started_s: Option<f64>,
    /// The latest completion any update gave.
    completed_s: Option<f64>,
}

impl BuildTrail {
    /// The trail of a build whose request is sent now.
    pub(super) fn starting_now() -> BuildTrail {
        BuildTrail {
            started_s: now_s(),
            ..BuildTrail::default()
        }
    }

    /// Notes that the build answered, or was cut short, now.
    pub(super) fn end_now(&mut self) {
        self.ended_s = now_s();
    }

    /// Takes what one event of the build's stream says.
    pub(super) fn observe(&mut self, event: &BuildEvent<'_>) {
        match *event {
            BuildEvent::Step(_) => {}
            BuildEvent::ImageReported(id) => push_new(&mut self.reported_images, id),
            BuildEvent::ImagePrinted(id) => push_new(&mut self.printed_images, id),
            BuildEvent::ContainerPrinted(id) => push_new(&mut self.printed_containers, id),
            BuildEvent::Vertex {
                digest,
                started_s,
                completed_s,
                cached: _,
            } => {
                let span = self.vertices.entry(digest.to_string()).or_default();
                if let Some(started) = started_s {
                    span.started_s = Some(span.started_s.map_or(started, |s| s.min(started)));
                    let shift = now_s() - started;
                    self.daemon_clock_shift_s =
                        Some(self.daemon_clock_shift_s.map_or(shift, |s| s.min(shift)));
                }
                if let Some(completed) = completed_s {
                    span.completed_s =
                        Some(span.completed_s.map_or(completed, |c| c.max(completed)));
                }
            }
        }
    }

    /// Whether the stream printed an ID that only the daemon can confirm.
    pub(super) fn printed_anything(&self) -> bool {
        !self.printed_images.is_empty() || !self.printed_containers.is_empty()
    }

    /// When the build ran, on the daemon's clock: from the moment its request was sent until
    /// it answered or was cut short (or its last vertex completed, if later), this machine's
    /// times moved onto the daemon's clock as near as the vertex updates tell, erring early.
    /// Nothing when no vertex ever reported a start, since then nothing tells the two clocks
    /// apart.
    ///
    /// The whole build, and not each vertex's own span: the record of a build's context was
    /// seen created up to 60 ms before its vertex said it started, while only cached vertices
    /// had started.
    pub(super) fn running_window(&self) -> Option<(f64, f64)> {
        let shift = self.daemon_clock_shift_s?;
        let first_start = self
            .vertices
            .values()
            .filter_map(|span| span.started_s)
            .min_by(f64::total_cmp)?;
        let last_completion = self
            .vertices
            .values()
            .filter_map(|span| span.completed_s)
            .max_by(f64::total_cmp)
            .unwrap_or(first_start);
        let requested = (self.started_s - shift).min(first_start);
        let ended = (self.ended_s - shift).max(last_completion);
        Some((requested, ended))
    }
}

fn push_new(list: &mut Vec<String>, id: &str) {
    if !list.iter().any(|known| known == id) {
        list.push(id.to_string());
    }
}

/// Now on this machine's clock, in Unix seconds.
fn now_s() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}
