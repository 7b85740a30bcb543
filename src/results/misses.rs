//! Where a build that expected cache stopped using it: the first step of each stage that ran
//! instead of coming from cache, read from the build's `steps.csv` rows.
//!
//! The runner writes it to `results.csv` (`first_miss`) and the report's "why" explains it;
//! both call [`first_misses`], so the column and the sentences never disagree.

use super::steps::StepRecord;

/// Between two stages' entries in the `first_miss` column.
pub const FIRST_MISS_SEPARATOR: &str = " | ";

/// One stage of a build that did not come wholly from cache.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StageMiss {
    /// The stage, as `steps.csv` names it.
    pub stage: String,
    /// The 1-based step (`FROM` being 1) of the stage's first step that ran.
    pub step: u32,
    /// That step's instruction, as `steps.csv` records it (secrets already redacted).
    pub instruction: String,
    /// The stage's steps that ran instead of coming from cache, the first miss included.
    pub ran_steps: u32,
    /// The stage's steps (`FROM` not counted).
    pub total_steps: u32,
}

/// The first miss of each stage among one build's `steps` (the builder's own work is left
/// out), one per stage that ran a step, ordered by `stage_order` (the Dockerfile's stages;
/// compared without regard to case, as Docker compares stage names), then any stage it does not
/// list in the order its first step appears in `steps`. Empty when every step came from cache.
pub fn first_misses<'a>(
    steps: impl IntoIterator<Item = &'a StepRecord>,
    stage_order: &[String],
) -> Vec<StageMiss> {
    let mut stages: Vec<(String, Vec<&StepRecord>)> = Vec::new();
    for step in steps.into_iter().filter(|s| s.is_dockerfile_step()) {
        match stages.iter_mut().find(|(stage, _)| *stage == step.stage) {
            Some((_, own)) => own.push(step),
            None => stages.push((step.stage.clone(), vec![step])),
        }
    }
    let rank = |stage: &str| {
        stage_order
            .iter()
            .position(|s| s.eq_ignore_ascii_case(stage))
            .unwrap_or(stage_order.len())
    };
    // A stable sort keeps the stages the order does not list in their order of appearance.
    stages.sort_by_key(|(stage, _)| rank(stage));
    stages
        .into_iter()
        .filter_map(|(stage, own)| {
            let first = own.iter().filter(|s| !s.cached).min_by_key(|s| s.step)?;
            Some(StageMiss {
                step: first.step,
                instruction: first.instruction.clone(),
                ran_steps: count(own.iter().filter(|s| !s.cached)),
                total_steps: count(own.iter()),
                stage,
            })
        })
        .collect()
}

/// The `first_miss` cell of `misses`: `stage: INSTRUCTION` per stage, joined by
/// [`FIRST_MISS_SEPARATOR`]; empty when there are none.
pub fn first_miss_column(misses: &[StageMiss]) -> String {
    misses
        .iter()
        .map(|miss| format!("{}: {}", miss.stage, miss.instruction))
        .collect::<Vec<_>>()
        .join(FIRST_MISS_SEPARATOR)
}

fn count<T>(items: impl Iterator<Item = T>) -> u32 {
    u32::try_from(items.count()).unwrap_or(u32::MAX)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::builder::Builder;
    use crate::cache_mode::CacheMode;

    /// A step of stage `stage`; `step` counts `FROM` as 1.
    pub(crate) fn step(stage: &str, step: u32, instruction: &str, cached: bool) -> StepRecord {
        StepRecord {
            scenario: "s".into(),
            variant: "multi".into(),
            host: "local".into(),
            cache: CacheMode::Incremental,
            run: 1,
            stage: stage.into(),
            step,
            instruction: instruction.into(),
            started_offset_s: f64::from(step),
            seconds: 0.5,
            cached,
            builder: Builder::BuildKit,
            warmup: false,
            run_id: "r".into(),
            seq: 1,
        }
    }

    #[test]
    fn a_build_wholly_from_cache_has_no_miss_and_an_empty_column() {
        let steps = [
            step("", 0, "[internal] load build context", false),
            step("0", 2, "WORKDIR /src", true),
            step("0", 3, "COPY app/ .", true),
        ];
        let misses = first_misses(&steps, &[]);
        assert!(misses.is_empty());
        assert_eq!(first_miss_column(&misses), "");
    }

    #[test]
    fn each_stage_that_missed_names_its_first_ran_step_in_dockerfile_order() {
        // Listed in the order the build reported them: the final stage's steps first.
        let steps = [
            step("final", 2, "COPY --from=builder /out /app", false),
            step("deps", 2, "RUN apt-get install -y gcc", true),
            step("builder", 4, "RUN make", false),
            step("builder", 3, "COPY app/ /src/", false),
            step("builder", 2, "WORKDIR /src", true),
            step("final", 3, "CMD [\"/app\"]", false),
        ];
        let order = ["deps", "Builder", "final"].map(String::from);
        let misses = first_misses(&steps, &order);
        assert_eq!(
            misses,
            [
                StageMiss {
                    stage: "builder".into(),
                    step: 3,
                    instruction: "COPY app/ /src/".into(),
                    ran_steps: 2,
                    total_steps: 3,
                },
                StageMiss {
                    stage: "final".into(),
                    step: 2,
                    instruction: "COPY --from=builder /out /app".into(),
                    ran_steps: 2,
                    total_steps: 2,
                },
            ],
            "stage deps came wholly from cache and has no entry"
        );
        assert_eq!(
            first_miss_column(&misses),
            "builder: COPY app/ /src/ | final: COPY --from=builder /out /app"
        );
    }

    #[test]
    fn stages_the_order_does_not_list_follow_in_order_of_appearance() {
        let steps = [
            step("b", 2, "RUN b", false),
            step("a", 2, "RUN a", false),
            step("1", 2, "RUN one", false),
        ];
        let column = first_miss_column(&first_misses(&steps, &["1".to_string()]));
        assert_eq!(column, "1: RUN one | b: RUN b | a: RUN a");
    }
}
