//! steps.csv from real builds: stage names, overlapping stages under BuildKit and none under the
//! classic builder, and cached steps on a warm run.

use std::collections::{BTreeMap, BTreeSet};

use stagebench::results::{BuildRecord, OfBuild, ResultSet, StepRecord};
use stagebench::scenario::image_repository_for;

use crate::support::{RemoveOnDrop, docker_daemon, stagebench, stderr, write_tree};

/// Two independent stages that each sleep 2 s, and a final stage copying from both. `left` has
/// ten steps, so that BuildKit pads its step numbers (`[left  2/10]`).
const TWO_STAGES: &str = "FROM busybox:latest AS left\n\
    RUN sleep 2 && echo left > /left\n\
    RUN true\nRUN true\nRUN true\nRUN true\nRUN true\nRUN true\nRUN true\nRUN true\n\
    FROM busybox:latest AS right\n\
    RUN sleep 2 && echo right > /right\n\
    FROM busybox:latest\n\
    COPY --from=left /left /left\n\
    COPY --from=right /right /right\n";

/// Each stage's span (first step's start to last step's end) in one build.
fn stage_spans(steps: &[&StepRecord]) -> BTreeMap<String, (f64, f64)> {
    let mut spans: BTreeMap<String, (f64, f64)> = BTreeMap::new();
    for step in steps.iter().filter(|s| s.is_dockerfile_step()) {
        let end = step.started_offset_s + step.seconds;
        let span = spans
            .entry(step.stage.clone())
            .or_insert((step.started_offset_s, end));
        span.0 = span.0.min(step.started_offset_s);
        span.1 = span.1.max(end);
    }
    spans
}

fn run(dir: &std::path::Path, builder: &str) -> ResultSet {
    let out = format!("out-{builder}");
    let output = stagebench(
        dir,
        &[
            "run",
            ".",
            "--runs",
            "1",
            "--cache",
            "cold,warm",
            "--builder",
            builder,
            "--out",
            &out,
        ],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    ResultSet::load(&dir.join(out)).unwrap()
}

fn steps_of<'a>(set: &'a ResultSet, build: &BuildRecord) -> Vec<&'a StepRecord> {
    set.steps.iter().filter(|s| s.belongs_to(build)).collect()
}

#[test]
fn docker_steps_name_stages_overlap_under_buildkit_only_and_count_cached_steps() {
    let Some(_daemon) = docker_daemon() else {
        return;
    };
    let dir = write_tree(&[("stages.Dockerfile", TWO_STAGES)]);
    let mut cleanup = RemoveOnDrop(Vec::new());
    for builder in ["buildkit", "classic"] {
        let set = run(dir.path(), builder);
        cleanup
            .0
            .push(image_repository_for(&set.records[0].scenario));
        let cold = set
            .records
            .iter()
            .find(|r| r.cache.as_str() == "cold")
            .unwrap();
        let steps = steps_of(&set, cold);
        let stages: BTreeSet<&str> = steps
            .iter()
            .filter(|s| s.is_dockerfile_step())
            .map(|s| s.stage.as_str())
            .collect();
        // The `AS` names, and the index of the unnamed final stage.
        assert_eq!(
            stages,
            BTreeSet::from(["left", "right", "2"]),
            "{builder}: {steps:#?}"
        );
        let dockerfile_steps = steps.iter().filter(|s| s.is_dockerfile_step()).count();
        assert_eq!(dockerfile_steps as u32, cold.total_steps, "{builder}");
        // A FROM row is kept with its time but is no counted step; BuildKit calls a local
        // base image's FROM cached even in a cold build.
        assert!(
            steps
                .iter()
                .filter(|s| s.is_dockerfile_step())
                .all(|s| !s.cached),
            "{builder}: {steps:#?}"
        );
        // The classic builder times each stage's FROM; BuildKit runs one vertex per distinct
        // base image, named after the first stage that uses it.
        let froms = steps.iter().filter(|s| s.is_from()).count();
        let expected_froms = if builder == "buildkit" { 1 } else { 3 };
        assert_eq!(froms, expected_froms, "{builder}: {steps:#?}");
        let spans = stage_spans(&steps);
        let (left, right) = (spans["left"], spans["right"]);
        // The sleeps alone take 2 s in each stage.
        assert!(
            left.1 - left.0 >= 1.9 && right.1 - right.0 >= 1.9,
            "{spans:?}"
        );
        let overlap = left.1.min(right.1) - left.0.max(right.0);
        match builder {
            "buildkit" => assert!(
                overlap > 1.0,
                "BuildKit runs the two stages side by side: {spans:?}"
            ),
            _ => assert!(
                overlap <= 0.05,
                "the classic builder runs one stage after the other: {spans:?}"
            ),
        }
        for span in spans.values() {
            assert!(span.1 <= cold.build_seconds + 0.05, "{spans:?} {cold:?}");
        }

        let warm = set
            .records
            .iter()
            .find(|r| r.cache.as_str() == "warm")
            .unwrap();
        let warm_steps: Vec<&StepRecord> = steps_of(&set, warm)
            .into_iter()
            .filter(|s| s.is_dockerfile_step())
            .collect();
        assert_eq!(warm_steps.len(), 12, "{builder}: {warm_steps:#?}");
        assert!(
            warm_steps.iter().all(|s| s.cached),
            "{builder}: every step of a warm rebuild comes from cache: {warm_steps:#?}"
        );
        assert_eq!((warm.cached_steps, warm.total_steps), (12, 12), "{builder}");
    }
}
