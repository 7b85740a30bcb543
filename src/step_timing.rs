//! One step of a build as the daemon ran it ([`StepTiming`]), and how a step names a stage's
//! `FROM` ([`is_from_instruction`]): the engine reads them from a build's progress stream, the
//! runner times pulls with them, and `steps.csv` records them.
//!
//! A leaf: it imports no module of the run's flow (engine, scenario, config, plan, runner,
//! results, stats, report), so that results can take a build's steps without depending on the
//! engine.

/// One step of one build as the daemon ran it: a Dockerfile instruction, or the builder's own
/// work (BuildKit's `exporting to image`), with when it started and how long it took.
///
/// A stage's `FROM` is a step too (step 1 of its stage, instruction `FROM <image>`): it runs
/// nothing, but when the base image has to come from a registry its time is the pull's. It is
/// not counted in [`StepCounts`](crate::engine::StepCounts) (see [`is_from_instruction`]).
#[derive(Debug, Clone, PartialEq)]
pub struct StepTiming {
    /// The stage's `AS` name, or its index (`0`, `1`, ...) when it has none; empty for the
    /// builder's own work.
    pub stage: String,
    /// 1-based position of the instruction in its stage, `FROM` being 1 (as BuildKit numbers
    /// them); 0 for the builder's own work.
    pub step: u32,
    /// The instruction as the builder shows it (`RUN make -j2`), or the name of the builder's
    /// own work (`exporting to image`).
    pub instruction: String,
    /// Seconds from the start of the build request to the step's start.
    pub started_offset_s: f64,
    /// How long the step took.
    pub seconds: f64,
    /// Whether it was taken from cache.
    pub cached: bool,
}

/// Whether `instruction` is a stage's `FROM`, as a [`StepTiming`] names it: BuildKit writes the
/// image as it resolved it (`FROM docker.io/library/busybox:latest`, with `@sha256:...` once
/// fetched from a registry), the classic builder as the Dockerfile does (`FROM busybox AS a`).
pub fn is_from_instruction(instruction: &str) -> bool {
    instruction
        .split_whitespace()
        .next()
        .is_some_and(|word| word.eq_ignore_ascii_case("FROM"))
}
