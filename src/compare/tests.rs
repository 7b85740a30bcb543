use super::*;
use crate::builder::Builder;
use crate::cache_mode::CacheMode;
use crate::results::{BuildRecord, RunMeta};
use crate::stats::NoContrast;

/// One series of scenario `app` on host `local`: its variant, cache mode, the build time of
/// each successful timed run, and the image size.
type Series<'a> = (&'a str, CacheMode, &'a [f64], u64);

fn record(variant: &str, cache: CacheMode, run: usize, seconds: f64, bytes: u64) -> BuildRecord {
    BuildRecord {
        scenario: "app".to_string(),
        variant: variant.to_string(),
        builder: Builder::BuildKit,
        cache,
        run: run as u32 + 1,
        warmup: false,
        status: BuildStatus::Ok,
        build_seconds: seconds,
        image_id: "sha256:x".to_string(),
        image_bytes: Some(bytes),
        layers: Some(3),
        cached_steps: 0,
        total_steps: 3,
        started_at: String::new(),
        error: String::new(),
        host: "local".to_string(),
        run_id: "r".to_string(),
        seq: 0,
        compressed_bytes: None,
        pull_seconds: None,
        export_seconds: None,
        cache_bytes: None,
        first_miss: String::new(),
        engine: crate::builder::EngineKind::Docker,
    }
}

/// A result set of `meta` with the rows of `series`.
fn set(meta: &RunMeta, series: &[Series<'_>]) -> ResultSet {
    let records = series
        .iter()
        .flat_map(|(variant, cache, seconds, bytes)| {
            seconds
                .iter()
                .enumerate()
                .map(|(run, s)| record(variant, *cache, run, *s, *bytes))
        })
        .collect();
    with_rows(meta, records)
}

/// A result set of `meta` holding `records`, numbered in order.
fn with_rows(meta: &RunMeta, mut records: Vec<BuildRecord>) -> ResultSet {
    for (index, record) in records.iter_mut().enumerate() {
        record.seq = index as u32 + 1;
    }
    ResultSet::with_identity(meta.clone(), records)
}

/// `builds` timed rows of `variant` that ended with `status`.
fn unsuccessful(variant: &str, status: BuildStatus, builds: usize) -> Vec<BuildRecord> {
    (0..builds)
        .map(|run| BuildRecord {
            status,
            image_id: String::new(),
            image_bytes: None,
            layers: None,
            error: "RUN false: exit code: 1".to_string(),
            ..record(variant, COLD, run, 0.4, 0)
        })
        .collect()
}

fn fixture_meta() -> RunMeta {
    RunMeta::read(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/go-service"),
    )
    .unwrap()
}

fn run(base: &ResultSet, current: &ResultSet) -> CompareResult {
    compare(base, current, Thresholds::default(), false).unwrap()
}

fn change<'a>(result: &'a CompareResult, variant: &str) -> &'a SeriesChange {
    result
        .changes
        .iter()
        .find(|c| c.key.variant == variant)
        .unwrap_or_else(|| panic!("no series {variant} in {result:#?}"))
}

const COLD: CacheMode = CacheMode::Cold;
const WARM: CacheMode = CacheMode::Warm;
const STEADY: &[f64] = &[100.0, 101.0, 99.0, 100.5, 99.5, 100.2];

fn times(factor: f64) -> Vec<f64> {
    STEADY.iter().map(|s| s * factor).collect()
}

#[test]
fn identical_data_passes() {
    let meta = fixture_meta();
    let base = set(&meta, &[("single", COLD, STEADY, 500_000_000)]);
    let result = run(&base, &base);
    assert_eq!(result.changes.len(), 1);
    assert_eq!(result.regressions().count(), 0);
    assert_eq!(result.verdict(), Verdict::Pass);
    let change = &result.changes[0];
    assert_eq!(change.not_gated, None);
    assert_eq!(change.contrast.as_ref().unwrap().outcome, Outcome::Same);
    assert_eq!(change.runs(), (6, 6));
}

#[test]
fn a_twofold_slowdown_fails() {
    let meta = fixture_meta();
    let base = set(&meta, &[("single", COLD, STEADY, 500_000_000)]);
    let current = set(&meta, &[("single", COLD, &times(2.0), 500_000_000)]);
    let result = run(&base, &current);
    let change = &result.changes[0];
    assert!(change.time_regression && !change.size_regression);
    assert_eq!(change.regressions(), [Regression::Time]);
    assert_eq!(change.contrast.as_ref().unwrap().outcome, Outcome::Slower);
    assert_eq!(result.verdict(), Verdict::Regression);
}

#[test]
fn a_three_percent_change_within_wide_noise_passes() {
    let meta = fixture_meta();
    let noisy = [10.0, 14.0, 9.0, 12.5, 11.0, 13.0];
    let shifted: Vec<f64> = noisy.iter().map(|s| s * 1.03).collect();
    let base = set(&meta, &[("single", COLD, &noisy, 1)]);
    let current = set(&meta, &[("single", COLD, &shifted, 1)]);
    let result = run(&base, &current);
    assert_eq!(result.verdict(), Verdict::Pass);
    assert_eq!(
        result.changes[0].contrast.as_ref().unwrap().outcome,
        Outcome::Inconclusive
    );
}

#[test]
fn a_significant_slowdown_inside_the_time_threshold_passes() {
    let meta = fixture_meta();
    let base = set(&meta, &[("single", COLD, STEADY, 1)]);
    let current = set(&meta, &[("single", COLD, &times(1.07), 1)]);
    let result = run(&base, &current);
    let change = &result.changes[0];
    assert_eq!(change.contrast.as_ref().unwrap().outcome, Outcome::Slower);
    assert!(!change.time_regression, "7% is below the 10% threshold");
    assert_eq!(result.verdict(), Verdict::Pass);
}

#[test]
fn image_growth_fails_above_the_floor_and_passes_below_it() {
    let meta = fixture_meta();
    let base = set(&meta, &[("single", COLD, STEADY, 500_000_000)]);
    let grown = set(&meta, &[("single", COLD, STEADY, 510_000_000)]);
    let result = run(&base, &grown);
    assert_eq!(
        result.changes[0].regressions(),
        [Regression::Size],
        "2% and 10 MB"
    );
    // A small image growing by 50% but 600 kB stays under the 1 MB floor.
    let small = set(&meta, &[("single", COLD, STEADY, 1_200_000)]);
    let bigger = set(&meta, &[("single", COLD, STEADY, 1_800_000)]);
    assert!(!run(&small, &bigger).changes[0].size_regression);
    // And 1.5 MB on 500 MB is under 1%.
    let slight = set(&meta, &[("single", COLD, STEADY, 501_500_000)]);
    assert!(!run(&base, &slight).changes[0].size_regression);
}

#[test]
fn pull_size_growth_fails_even_when_the_image_size_holds() {
    let meta = fixture_meta();
    let with_pull = |bytes: u64| {
        let mut set = set(&meta, &[("single", COLD, STEADY, 500_000_000)]);
        set.records[0].compressed_bytes = Some(bytes);
        set
    };
    let base = with_pull(200_000_000);
    let result = run(&base, &with_pull(230_000_000));
    let change = &result.changes[0];
    assert_eq!(change.image.change_bytes(), Some(0));
    assert_eq!(change.pull.change_bytes(), Some(30_000_000));
    assert!(change.size_regression, "15% and 30 MB more to pull");
    let result = run(&base, &with_pull(200_500_000));
    assert!(
        !result.changes[0].size_regression,
        "500 kB is under the floor"
    );
    // A side that never analysed its image has no pull size to regress.
    let unanalysed = set(&meta, &[("single", COLD, STEADY, 500_000_000)]);
    let result = run(&unanalysed, &with_pull(900_000_000));
    assert_eq!(result.changes[0].pull.change_bytes(), None);
    assert!(!result.changes[0].size_regression);
}

#[test]
fn different_fingerprints_are_refused_unless_allowed() {
    let meta = fixture_meta();
    let mut other = meta.clone();
    other.hosts[0].daemon.kernel_version = "6.99".to_string();
    let base = set(&meta, &[("single", COLD, STEADY, 1)]);
    let current = set(&other, &[("single", COLD, STEADY, 1)]);
    let error = compare(&base, &current, Thresholds::default(), false).unwrap_err();
    assert!(error.to_string().contains("host local differs"), "{error}");
    assert!(error.to_string().contains("kernel"), "{error}");
    let allowed = compare(&base, &current, Thresholds::default(), true).unwrap();
    assert_eq!(allowed.changes.len(), 1);
    assert_eq!(allowed.host_differences.len(), 1);
    assert_eq!(allowed.verdict(), Verdict::Pass);
}

#[test]
fn a_series_missing_now_is_a_regression() {
    let meta = fixture_meta();
    let base = set(
        &meta,
        &[("single", COLD, STEADY, 1), ("multi", COLD, STEADY, 1)],
    );
    let current = set(&meta, &[("single", COLD, STEADY, 1)]);
    let result = run(&base, &current);
    assert_eq!(result.changes.len(), 2, "the missing series is listed too");
    let missing = change(&result, "multi");
    assert_eq!(missing.regressions(), [Regression::Missing]);
    assert_eq!(missing.current, None);
    assert_eq!(missing.runs(), (6, 0));
    assert_eq!(missing.not_gated, None);
    assert_eq!(change(&result, "single").verdict(), Verdict::Pass);
    assert_eq!(result.verdict(), Verdict::Regression);
    assert_eq!(result.regressions().count(), 1);
}

#[test]
fn an_empty_current_side_misses_every_series() {
    let meta = fixture_meta();
    let base = set(
        &meta,
        &[("single", COLD, STEADY, 1), ("multi", WARM, STEADY, 1)],
    );
    let result = run(&base, &with_rows(&meta, Vec::new()));
    assert_eq!(result.regressions().count(), 2);
    assert_eq!(result.verdict(), Verdict::Regression);
}

#[test]
fn a_series_whose_every_build_failed_is_a_regression_counting_its_builds() {
    let meta = fixture_meta();
    let base = set(
        &meta,
        &[("single", COLD, STEADY, 1), ("multi", COLD, STEADY, 1)],
    );
    let mut rows = set(&meta, &[("single", COLD, STEADY, 1)]).records;
    rows.extend(unsuccessful("multi", BuildStatus::Failed, 3));
    let result = run(&base, &with_rows(&meta, rows));
    let failed = change(&result, "multi");
    assert_eq!(
        failed.regressions(),
        [Regression::AllBuildsFailed { builds: 3 }]
    );
    let current = failed.current.as_ref().unwrap();
    assert_eq!(current.unsuccessful, [(BuildStatus::Failed, 3)]);
    assert_eq!((current.runs_ok, current.median_seconds), (0, None));
    assert_eq!(failed.not_gated, None, "a failure is not 'not gated'");
    assert_eq!(result.verdict(), Verdict::Regression);
}

#[test]
fn timeouts_interruptions_and_cache_mismatches_count_as_builds_that_failed() {
    let meta = fixture_meta();
    let base = set(&meta, &[("multi", COLD, STEADY, 1)]);
    let mut rows = unsuccessful("multi", BuildStatus::TimedOut, 2);
    rows.extend(unsuccessful("multi", BuildStatus::Interrupted, 1));
    rows.extend(unsuccessful("multi", BuildStatus::CacheMismatch, 1));
    rows.extend(unsuccessful("multi", BuildStatus::Failed, 1));
    // A warmup that succeeded is no timed run.
    rows.push(BuildRecord {
        warmup: true,
        ..record("multi", COLD, 0, 100.0, 1)
    });
    let result = run(&base, &with_rows(&meta, rows));
    let failed = &result.changes[0];
    assert_eq!(
        failed.regressions(),
        [Regression::AllBuildsFailed { builds: 5 }]
    );
    assert_eq!(
        failed.current.as_ref().unwrap().unsuccessful,
        [
            (BuildStatus::Failed, 1),
            (BuildStatus::TimedOut, 2),
            (BuildStatus::Interrupted, 1),
            (BuildStatus::CacheMismatch, 1),
        ]
    );
}

#[test]
fn some_failed_builds_still_leave_the_successful_ones_judged() {
    let meta = fixture_meta();
    let base = set(&meta, &[("multi", COLD, STEADY, 1)]);
    let mut rows = set(&meta, &[("multi", COLD, STEADY, 1)]).records;
    rows.extend(unsuccessful("multi", BuildStatus::Failed, 2));
    let result = run(&base, &with_rows(&meta, rows));
    let change = &result.changes[0];
    assert_eq!(change.current.as_ref().unwrap().builds(), 8);
    assert_eq!(change.verdict(), Verdict::Pass);
}

#[test]
fn one_run_a_side_is_not_gated_even_three_times_slower() {
    let meta = fixture_meta();
    let base = set(&meta, &[("multi", COLD, &[100.0], 1)]);
    let current = set(&meta, &[("multi", COLD, &[300.0], 1)]);
    let result = run(&base, &current);
    let change = &result.changes[0];
    assert_eq!(change.contrast, None);
    assert_eq!(change.not_gated, Some(NotGated::TooFewRuns { required: 3 }));
    assert!(!change.time_regression);
    assert_eq!(change.verdict(), Verdict::NotGated);
    assert_eq!(result.verdict(), Verdict::NotGated);
    assert_eq!(result.not_gated().count(), 1);
}

#[test]
fn too_few_runs_on_either_side_is_not_gated() {
    let meta = fixture_meta();
    let full = set(&meta, &[("multi", COLD, STEADY, 1)]);
    let two = set(&meta, &[("multi", COLD, &[100.0, 101.0], 1)]);
    for (base, current) in [(&full, &two), (&two, &full)] {
        let result = run(base, current);
        assert_eq!(
            result.changes[0].not_gated,
            Some(NotGated::TooFewRuns { required: 3 })
        );
        assert_eq!(result.verdict(), Verdict::NotGated);
    }
}

#[test]
fn require_runs_sets_how_many_runs_are_enough() {
    let meta = fixture_meta();
    let base = set(&meta, &[("multi", COLD, &[100.0, 101.0], 1)]);
    let slower = set(&meta, &[("multi", COLD, &[300.0, 302.0], 1)]);
    let with = |required_runs| Thresholds {
        required_runs,
        ..Thresholds::default()
    };
    // Two runs a side: judged (and a regression) when two are enough...
    let two = compare(&base, &slower, with(2), false).unwrap();
    assert_eq!(two.changes[0].regressions(), [Regression::Time]);
    assert_eq!(two.verdict(), Verdict::Regression);
    // ...and not gated when three are needed, the contrast still shown for what it is.
    let three = compare(&base, &slower, with(3), false).unwrap();
    assert!(three.changes[0].contrast.is_some());
    assert!(!three.changes[0].time_regression);
    assert_eq!(three.verdict(), Verdict::NotGated);
    // Fewer than 2 is never enough, whatever a library caller asks.
    let one = set(&meta, &[("multi", COLD, &[100.0], 1)]);
    for required in [0, 1] {
        let result = compare(&one, &one, with(required), false).unwrap();
        assert_eq!(
            result.changes[0].not_gated,
            Some(NotGated::TooFewRuns {
                required: MIN_REQUIRED_RUNS
            })
        );
    }
}

#[test]
fn a_baseline_that_never_succeeded_cannot_judge_the_series() {
    let meta = fixture_meta();
    let base = with_rows(&meta, unsuccessful("multi", BuildStatus::Failed, 3));
    let current = set(&meta, &[("multi", COLD, STEADY, 1)]);
    let result = run(&base, &current);
    assert_eq!(result.changes[0].runs(), (0, 6));
    assert_eq!(
        result.changes[0].not_gated,
        Some(NotGated::TooFewRuns { required: 3 })
    );
    assert_eq!(result.verdict(), Verdict::NotGated);
}

#[test]
fn a_series_the_statistics_cannot_compare_is_not_gated_for_that_reason() {
    let meta = fixture_meta();
    let base = set(&meta, &[("multi", COLD, STEADY, 1)]);
    // Rows a reader would refuse, built here directly: a time of 0 has no logarithm, so the
    // statistics form no contrast, though both sides have six runs.
    let mut current = set(&meta, &[("multi", COLD, STEADY, 1)]);
    current.records[2].build_seconds = 0.0;
    let result = run(&base, &current);
    assert_eq!(result.changes[0].runs(), (6, 6));
    assert_eq!(
        result.changes[0].not_gated,
        Some(NotGated::NoContrast {
            reason: NoContrast::UnusableTime
        })
    );
    assert_eq!(result.verdict(), Verdict::NotGated);
}

#[test]
fn two_constant_samples_give_no_interval_so_the_series_is_not_gated() {
    let meta = fixture_meta();
    let base = set(&meta, &[("multi", COLD, &[10.0, 10.0, 10.0], 1)]);
    let current = set(&meta, &[("multi", COLD, &[10.0, 10.0, 10.0], 1)]);
    let result = run(&base, &current);
    assert_eq!(
        result.changes[0].not_gated,
        Some(NotGated::NoContrast {
            reason: NoContrast::NoNoise
        })
    );
    assert_eq!(result.verdict(), Verdict::NotGated);
}

#[test]
fn a_series_only_the_current_side_has_is_not_gated_unless_it_failed() {
    let meta = fixture_meta();
    let base = set(&meta, &[("single", COLD, STEADY, 1)]);
    let current = set(
        &meta,
        &[("single", COLD, STEADY, 1), ("new", COLD, STEADY, 1)],
    );
    let result = run(&base, &current);
    let new = change(&result, "new");
    assert_eq!(new.baseline, None);
    assert_eq!(new.not_gated, Some(NotGated::NotInBaseline));
    assert_eq!(result.verdict(), Verdict::NotGated);

    let mut rows = base.records.clone();
    rows.extend(unsuccessful("new", BuildStatus::Failed, 2));
    let result = run(&base, &with_rows(&meta, rows));
    assert_eq!(
        change(&result, "new").regressions(),
        [Regression::AllBuildsFailed { builds: 2 }]
    );
    assert_eq!(result.verdict(), Verdict::Regression);
}

#[test]
fn a_regression_outweighs_a_series_that_is_not_gated() {
    let meta = fixture_meta();
    let base = set(
        &meta,
        &[("single", COLD, STEADY, 1), ("multi", COLD, STEADY, 1)],
    );
    let current = set(
        &meta,
        &[
            ("single", COLD, &times(2.0), 1),
            ("multi", COLD, &[100.0], 1),
        ],
    );
    let result = run(&base, &current);
    assert_eq!(change(&result, "single").verdict(), Verdict::Regression);
    assert_eq!(change(&result, "multi").verdict(), Verdict::NotGated);
    assert_eq!(result.verdict(), Verdict::Regression);
    assert_eq!(result.not_gated().count(), 1);
}

#[test]
fn image_growth_is_judged_with_one_run_and_outweighs_the_time_not_gated() {
    let meta = fixture_meta();
    let base = set(&meta, &[("multi", COLD, &[100.0], 500_000_000)]);
    let current = set(&meta, &[("multi", COLD, &[100.0], 600_000_000)]);
    let result = run(&base, &current);
    let change = &result.changes[0];
    assert_eq!(change.regressions(), [Regression::Size]);
    assert_eq!(change.not_gated, Some(NotGated::TooFewRuns { required: 3 }));
    assert_eq!(change.verdict(), Verdict::Regression);
}

#[test]
fn nothing_on_either_side_judges_nothing() {
    let meta = fixture_meta();
    let empty = with_rows(&meta, Vec::new());
    let result = run(&empty, &empty);
    assert!(result.changes.is_empty());
    assert_eq!(result.verdict(), Verdict::NotGated);
}

#[test]
fn with_different_hosts_allowed_a_series_missing_now_is_still_found() {
    let meta = fixture_meta();
    let mut other = meta.clone();
    other.hosts[0].daemon.kernel_version = "6.99".to_string();
    let base = set(
        &meta,
        &[("single", COLD, STEADY, 1), ("multi", COLD, STEADY, 1)],
    );
    let current = set(&other, &[("single", COLD, STEADY, 1)]);
    let result = compare(&base, &current, Thresholds::default(), true).unwrap();
    assert_eq!(
        change(&result, "multi").regressions(),
        [Regression::Missing]
    );
    assert_eq!(change(&result, "single").verdict(), Verdict::Pass);
}

#[test]
fn every_series_combination_gets_the_verdict_its_worst_case_gives() {
    // Exhaustive over what one series can be on each side: absent, all failed, one run, two
    // runs, and six runs (steady or twice as slow).
    let meta = fixture_meta();
    let kinds: [(&str, Option<Vec<BuildRecord>>); 6] = [
        ("absent", None),
        ("failed", Some(unsuccessful("s", BuildStatus::Failed, 3))),
        ("one", Some(set(&meta, &[("s", COLD, &[100.0], 1)]).records)),
        (
            "two",
            Some(set(&meta, &[("s", COLD, &[100.0, 100.5], 1)]).records),
        ),
        ("six", Some(set(&meta, &[("s", COLD, STEADY, 1)]).records)),
        (
            "slow",
            Some(set(&meta, &[("s", COLD, &times(2.0), 1)]).records),
        ),
    ];
    for (base_name, base_rows) in &kinds {
        for (current_name, current_rows) in &kinds {
            let side = |rows: &Option<Vec<BuildRecord>>| {
                with_rows(&meta, rows.clone().unwrap_or_default())
            };
            let result = run(&side(base_rows), &side(current_rows));
            let expected = match (*base_name, *current_name) {
                ("absent", "absent") => None,
                (_, "failed") => Some(Verdict::Regression),
                (base, "absent") if base != "absent" => Some(Verdict::Regression),
                ("six", "slow") => Some(Verdict::Regression),
                ("absent" | "failed" | "one" | "two", _) | (_, "one" | "two") => {
                    Some(Verdict::NotGated)
                }
                ("six" | "slow", "six") | ("slow", "slow") => Some(Verdict::Pass),
                other => panic!("uncovered case {other:?}"),
            };
            let verdict = result.changes.first().map(SeriesChange::verdict);
            assert_eq!(
                verdict, expected,
                "baseline {base_name}, current {current_name}: {result:#?}"
            );
        }
    }
}

#[test]
fn an_auto_run_s_row_says_after_how_many_runs_the_gate_read_its_interval() {
    let folder = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/auto-run");
    let current = ResultSet::load(&folder).unwrap();
    // The same rows as a baseline of fixed counts: every series is plainly not a regression.
    let mut baseline = current.clone();
    baseline.meta.settings.options.stopping = None;
    let result = run(&baseline, &current);
    let cold = result
        .changes
        .iter()
        .find(|c| c.key.variant == "multi" && c.key.cache == COLD)
        .unwrap();
    let current_builds = cold.current.as_ref().unwrap().builds();
    let rounds = cold.read_after_rounds.unwrap();
    assert!(
        rounds < current_builds,
        "read after {rounds} of {current_builds}"
    );
    let table = crate::report::compare_terminal(&result);
    let row = table
        .lines()
        .find(|l| l.contains("multi cold"))
        .unwrap_or_else(|| panic!("{table}"));
    assert!(
        row.contains(&format!("(n={current_builds})"))
            && row.contains(&format!(", read after {rounds} runs)")),
        "{row}"
    );
    // A series the gate read at its last run says nothing more.
    let warm = result
        .changes
        .iter()
        .find(|c| c.key.variant == "multi" && c.key.cache == WARM)
        .unwrap();
    assert_eq!(
        warm.read_after_rounds,
        Some(warm.current.as_ref().unwrap().builds())
    );
    let row = table.lines().find(|l| l.contains("multi warm")).unwrap();
    assert!(!row.contains("read after"), "{row}");
    // Fixed counts on the current side: no look, no note.
    let fixed = run(&baseline, &baseline);
    assert!(fixed.changes.iter().all(|c| c.read_after_rounds.is_none()));
    assert!(!crate::report::compare_terminal(&fixed).contains("read after"));
}
