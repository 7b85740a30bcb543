//! `steps.csv`: one row per step of every measured build, so that a build's time can be taken
//! apart by stage and instruction.
//!
//! A row belongs to the `results.csv` row with the same `run_id`, `host` and `seq`. The steps of
//! a build are written just before its results row, so a run killed between the two leaves step
//! rows with no build, which readers ignore, and never a build whose steps were lost.
//! The first eleven columns are a contract other tools depend on; new ones are only appended.

use serde::{Deserialize, Serialize};

use super::csv::CsvRow;
use super::record::BuildRecord;
use crate::builder::Builder;
use crate::cache_mode::CacheMode;
use crate::seconds::Seconds;
use crate::step_timing::{StepTiming, is_from_instruction};

/// File name of the step table in a results folder.
pub const STEPS_FILE: &str = "steps.csv";

/// One step of one measured build: a row of `steps.csv`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepRecord {
    /// Scenario name.
    pub scenario: String,
    /// Variant name.
    pub variant: String,
    /// Docker host that ran the build.
    pub host: String,
    /// Cache state of the build.
    pub cache: CacheMode,
    /// The build's run number (as in `results.csv`).
    pub run: u32,
    /// The stage's `AS` name, or its index when it has none; empty for the builder's own work
    /// (BuildKit's `[internal] load build context`, `exporting to image`).
    pub stage: String,
    /// 1-based position of the instruction in its stage, `FROM` being 1 (its row times the
    /// base image's resolution or pull); 0 for the builder's own work.
    pub step: u32,
    /// The instruction as the builder shows it, or the name of the builder's own work.
    pub instruction: String,
    /// Seconds from the start of the build request to the start of the step.
    pub started_offset_s: Seconds,
    /// How long the step took.
    pub seconds: Seconds,
    /// Whether the step was taken from cache.
    pub cached: bool,
    /// Builder that ran the build.
    pub builder: Builder,
    /// Whether the build was a warmup run.
    pub warmup: bool,
    /// The build's run id (as in `results.csv`).
    pub run_id: String,
    /// The build's sequence number on its host (as in `results.csv`).
    pub seq: u32,
}

impl StepRecord {
    /// The rows of `timings`, the steps of the build that `build` records.
    pub fn of_build(build: &BuildRecord, timings: &[StepTiming]) -> Vec<StepRecord> {
        timings
            .iter()
            .map(|timing| StepRecord {
                scenario: build.scenario.clone(),
                variant: build.variant.clone(),
                host: build.host.clone(),
                cache: build.cache,
                run: build.run,
                stage: timing.stage.clone(),
                step: timing.step,
                instruction: timing.instruction.clone(),
                started_offset_s: timing.started_offset_s,
                seconds: timing.seconds,
                cached: timing.cached,
                builder: build.builder,
                warmup: build.warmup,
                run_id: build.run_id.clone(),
                seq: build.seq,
            })
            .collect()
    }

    /// Whether the step is a Dockerfile instruction rather than the builder's own work or a
    /// stage's `FROM`, which the step counts leave out too.
    pub fn is_dockerfile_step(&self) -> bool {
        !self.stage.is_empty() && !self.is_from()
    }

    /// Whether the step is a stage's `FROM`: its time is the base image's pull, if any.
    pub fn is_from(&self) -> bool {
        !self.stage.is_empty() && self.step == 1 && is_from_instruction(&self.instruction)
    }
}

super::record::of_build!(StepRecord);

impl CsvRow for StepRecord {
    const HEADER: &'static [&'static str] = &[
        "scenario",
        "variant",
        "host",
        "cache",
        "run",
        "stage",
        "step",
        "instruction",
        "started_offset_s",
        "seconds",
        "cached",
        "builder",
        "warmup",
        "run_id",
        "seq",
    ];

    /// Its names are names stagebench writes (see `names`). A step starts at a finite offset
    /// into its build, 0 or more, and takes a finite time, 0 or more (a cached step can take
    /// none): stage breakdowns add these up.
    fn refusal(&self) -> Option<String> {
        if let Some(problem) =
            super::names::row_refusal(&self.scenario, &self.variant, Some(&self.host))
        {
            return Some(problem);
        }
        [
            ("started_offset_s", self.started_offset_s),
            ("seconds", self.seconds),
        ]
        .into_iter()
        .find(|(_, value)| !value.is_finite() || *value < 0.0)
        .map(|(column, value)| {
            format!("{column} is {value}, but it holds a finite number of seconds, 0 or more")
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::csv::{AppendOnlyCsv, read_rows};
    use crate::results::record::{BuildStatus, OfBuild};

    #[test]
    fn rows_carry_the_build_s_identity_and_read_back_equal() {
        let build = BuildRecord {
            scenario: "s".to_string(),
            variant: "multi".to_string(),
            builder: Builder::BuildKit,
            cache: CacheMode::Warm,
            run: 2,
            warmup: false,
            status: BuildStatus::Ok,
            build_seconds: 1.5,
            image_id: String::new(),
            image_bytes: None,
            layers: None,
            cached_steps: 1,
            total_steps: 1,
            started_at: String::new(),
            error: String::new(),
            host: "local".to_string(),
            run_id: "r1".to_string(),
            seq: 7,
            compressed_bytes: None,
            pull_seconds: None,
            export_seconds: None,
            cache_bytes: None,
            first_miss: String::new(),
            engine: crate::builder::EngineKind::Docker,
        };
        let rows = StepRecord::of_build(
            &build,
            &[StepTiming {
                stage: "build".to_string(),
                step: 2,
                instruction: "RUN make, then \"test\"".to_string(),
                started_offset_s: 0.25,
                seconds: 1.0,
                cached: true,
            }],
        );
        assert!(rows.iter().all(|row| row.belongs_to(&build)));
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(STEPS_FILE);
        let mut file = AppendOnlyCsv::<StepRecord>::create(&path).unwrap();
        for row in &rows {
            file.append(row).unwrap();
        }
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.starts_with(
            "scenario,variant,host,cache,run,stage,step,instruction,started_offset_s,seconds,cached,"
        ));
        let back: Vec<StepRecord> = read_rows(&path).unwrap();
        assert_eq!(back, rows);
    }
}
