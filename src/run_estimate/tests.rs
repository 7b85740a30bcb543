use std::collections::BTreeMap;
use std::sync::Arc;

use super::*;
use crate::builder::Builder;
use crate::keys::BuildKey;
use crate::plan::{PlanSettings, plan_scenario};
use crate::planned_scenario::PlannedScenario;

const VARIANTS: [&str; 4] = ["single", "multi", "prebuilt", "tidy"];

fn scenario(prebuilds: usize) -> Arc<PlannedScenario> {
    Arc::new(PlannedScenario::made_up(0, "s", &VARIANTS, prebuilds, true))
}

fn settings(runs: u32, warmup: u32) -> PlanSettings {
    PlanSettings {
        runs,
        warmup,
        cache_modes: CacheMode::LOCAL.to_vec(),
        builder: Builder::BuildKit,
        builders_by_host: BTreeMap::new(),
        seed: 11,
        on_every_host: false,
    }
}

fn planned(runs: u32, warmup: u32, done: &BTreeSet<BuildKey>) -> ScenarioPlan {
    plan_scenario(&scenario(2), "local", &settings(runs, warmup), done)
}

#[test]
fn the_count_is_the_plan_s_own_builds() {
    let plan = planned(3, 0, &BTreeSet::new());
    let count = PlanCount::of(&plan, 3);
    assert_eq!(
        count.sentence(),
        "4 variants x 3 modes x 3 runs = 36 timed builds, plus 2 prebuilds"
    );
    assert_eq!(count.total(), plan.builds.len() + plan.prebuilds);

    let plan = planned(2, 1, &BTreeSet::new());
    let count = PlanCount::of(&plan, 2);
    assert_eq!(
        count.sentence(),
        "4 variants x 3 modes x 2 runs = 24 timed builds, plus 12 warmup builds, plus 2 prebuilds"
    );
    assert_eq!(count.total(), 38);
}

#[test]
fn a_resumed_plan_counts_what_is_left_and_its_priming_builds() {
    let full = planned(2, 0, &BTreeSet::new());
    // The first round done: the cold builds of the second need no priming, but the warm
    // build of a variant whose cold build is done and whose cache is unknown does.
    let done: BTreeSet<BuildKey> = full
        .builds
        .iter()
        .filter(|b| b.key.run == 1 || (b.key.variant == "single" && b.key.cache == CacheMode::Cold))
        .map(|b| b.key.clone())
        .collect();
    let plan = planned(2, 0, &done);
    let count = PlanCount::of(&plan, 2);
    assert_eq!(count.already_done, 13);
    assert_eq!(count.timed, 11);
    assert_eq!(count.priming, 1, "{:?}", plan.builds);
    assert_eq!(
        count.sentence(),
        "11 timed builds left (13 done before), plus 1 priming build, plus 2 prebuilds"
    );
    assert_eq!(count.total(), plan.builds.len() + plan.prebuilds);
}

/// An earlier run of every cell: cold builds took 10 and 20 s, warm 1 and 3 s, incremental 2 s.
fn prior(cost: RunCost) -> PriorRun {
    let mut cells = BTreeMap::new();
    for variant in VARIANTS {
        for (mode, times) in [
            (CacheMode::Cold, vec![20.0, 10.0]),
            (CacheMode::Warm, vec![1.0, 3.0]),
            (CacheMode::Incremental, vec![2.0, 2.0]),
        ] {
            cells.insert((variant.to_string(), mode), times);
        }
    }
    PriorRun {
        folder: PathBuf::from("reports/s/1"),
        source: PriorSource::Here,
        same_inputs: true,
        cells,
        cost,
        builds: 24,
        variants: 4,
        ci_builds: 0,
        prebuilds: 2,
    }
}

#[test]
fn the_estimate_adds_each_planned_build_s_earlier_time_and_the_overheads() {
    let cost = RunCost {
        wall_seconds: 400.0,
        measured_build_seconds: 300.0,
        prebuild_seconds: 30.0,
        analysis_seconds: 22.0,
        prune_seconds: 12.0,
        ..RunCost::default()
    };
    let plan = planned(3, 0, &BTreeSet::new());
    let full = estimate(&plan, &prior(cost)).unwrap();
    // 36 builds: 12 cold (10 to 20 s), 12 warm (1 to 3 s), 12 incremental (2 s); prebuilds 30 s,
    // analysis 22 s, and the other 48 s of the earlier run's 24 builds, 2 s a build.
    let fixed = 30.0 + 22.0 + 36.0 * 2.0;
    assert!((full.low_seconds - (12.0 * 10.0 + 12.0 + 24.0 + fixed)).abs() < 1e-9);
    assert!((full.high_seconds - (12.0 * 20.0 + 36.0 + 24.0 + fixed)).abs() < 1e-9);
    assert_eq!(about(&full), "about 4-8 min");

    let plan = plan_scenario(&scenario(0), "local", &settings(1, 0), &BTreeSet::new());
    let quick = estimate(&plan, &prior(RunCost::default())).unwrap();
    assert_eq!((quick.low_seconds, quick.high_seconds), (52.0, 100.0));
    assert_eq!(about(&quick), "about 1-2 min");
}

#[test]
fn work_the_earlier_run_did_not_measure_gets_no_estimate() {
    let mut partial = prior(RunCost::default());
    partial
        .cells
        .remove(&("multi".to_string(), CacheMode::Incremental));
    let plan = planned(1, 0, &BTreeSet::new());
    assert_eq!(
        estimate(&plan, &partial).unwrap_err(),
        "it has no successful incremental build of multi"
    );
    let mut no_prebuilds = prior(RunCost::default());
    no_prebuilds.prebuilds = 0;
    assert_eq!(
        estimate(&plan, &no_prebuilds).unwrap_err(),
        "it made no prebuilds"
    );
}

#[test]
fn estimates_read_in_seconds_below_a_minute_and_a_half() {
    let range = |low_seconds, high_seconds| {
        about(&Estimate {
            low_seconds,
            high_seconds,
        })
    };
    assert_eq!(range(41.0, 56.0), "about 40-55 s");
    assert_eq!(range(1.0, 2.0), "about 5 s");
    assert_eq!(range(100.0, 110.0), "about 1-2 min");
    assert_eq!(range(120.0, 180.0), "about 2-3 min");
    assert_eq!(
        range(200.0, 150.0),
        "about 3-4 min",
        "a high below the low is the low"
    );
}

#[test]
fn the_line_names_its_source_or_says_there_is_none() {
    let plan = planned(2, 0, &BTreeSet::new());
    let count = PlanCount::of(&plan, 2);
    let earlier = prior(RunCost::default());
    let line = plan_line(
        "python-node",
        Some("quick"),
        None,
        &count,
        Some(&earlier),
        Some(Ok(Estimate {
            low_seconds: 190.0,
            high_seconds: 230.0,
        })),
    );
    assert_eq!(
        line,
        "python-node (quick): 4 variants x 3 modes x 2 runs = 24 timed builds, plus 2 prebuilds; about 3-4 min, judging by the last run of this scenario and profile here (reports/s/1)"
    );
    let line = plan_line("python-node", None, Some("ci"), &count, None, None);
    assert!(
        line.starts_with("python-node on ci: 4 variants")
            && line.ends_with("; no estimate yet: no earlier run of this scenario and profile was found next to the results folder, nor a report of these scenario files under reports/"),
        "{line}"
    );
    let other = PriorRun {
        same_inputs: false,
        source: PriorSource::Committed,
        ..earlier.clone()
    };
    let line = plan_line(
        "s",
        None,
        None,
        &count,
        Some(&other),
        Some(Ok(Estimate {
            low_seconds: 30.0,
            high_seconds: 30.0,
        })),
    );
    assert!(
        line.ends_with("about 30 s, judging by the last committed report of this scenario and profile, maybe from another machine (reports/s/1, whose scenario files differed)"),
        "{line}"
    );
    let line = plan_line(
        "s",
        None,
        None,
        &count,
        Some(&earlier),
        Some(Err("it made no prebuilds".to_string())),
    );
    assert!(
        line.ends_with("; no estimate: the last run of this scenario and profile (reports/s/1) cannot tell: it made no prebuilds"),
        "{line}"
    );
}

/// The committed reports are real folders: the earlier run found is the latest of the profile
/// asked for, and its cells are its rows. A committed one counts only for the same inputs.
#[test]
fn the_prior_is_the_latest_run_of_the_same_profile() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("reports/python-node");
    let dirs = [(dir.clone(), PriorSource::Here)];
    for profile in [None, Some("quick")] {
        let found = find_prior(&dirs, "python-node", profile, "local", "no such hash", &[])
            .unwrap_or_else(|| panic!("no committed python-node run of profile {profile:?}"));
        assert!(!found.same_inputs);
        assert_eq!(found.source, PriorSource::Here);
        let committed = [(dir.clone(), PriorSource::Committed)];
        assert_eq!(
            find_prior(
                &committed,
                "python-node",
                profile,
                "local",
                "no such hash",
                &[]
            ),
            None,
            "a report of other scenario files says nothing of these"
        );
        let meta = RunMeta::read(&found.folder).unwrap();
        assert_eq!(meta.settings.options.profile.as_deref(), profile);
        let latest = |meta: &RunMeta| meta.invocations.iter().map(|i| i.started_at.clone()).max();
        for entry in std::fs::read_dir(&dir).unwrap() {
            let Ok(other) = RunMeta::read(&entry.unwrap().path()) else {
                continue;
            };
            if other.settings.options.profile.as_deref() == profile {
                assert!(latest(&other) <= latest(&meta));
            }
        }
        let rows: Vec<BuildRecord> =
            crate::results::read_rows(&found.folder.join(RESULTS_FILE)).unwrap();
        let single_cold = rows
            .iter()
            .filter(|r| {
                r.variant == "single"
                    && r.cache == CacheMode::Cold
                    && r.status == BuildStatus::Ok
                    && !r.warmup
            })
            .count();
        assert_eq!(
            found.cells[&("single".to_string(), CacheMode::Cold)].len(),
            single_cold
        );
        assert_eq!(found.prebuilds, 2);
        let hash = meta
            .scenarios
            .iter()
            .find(|s| s.name == "python-node")
            .map(|s| s.inputs.sha256.clone())
            .unwrap();
        let same = find_prior(&committed, "python-node", profile, "local", &hash, &[]).unwrap();
        assert!(same.same_inputs && same.source == PriorSource::Committed);
        let excluded = find_prior(
            &dirs,
            "python-node",
            profile,
            "local",
            "no such hash",
            std::slice::from_ref(&found.folder),
        );
        assert_ne!(excluded.map(|p| p.folder), Some(found.folder.clone()));
    }
    assert!(find_prior(&dirs, "python-node", Some("none such"), "local", "", &[]).is_none());
    assert!(find_prior(&dirs, "python-node", None, "elsewhere", "", &[]).is_none());
}

#[test]
fn the_ci_modes_previous_jobs_count_per_ci_build_planned() {
    let mut settings = settings(1, 0);
    settings.cache_modes = vec![CacheMode::Cold, CacheMode::CiCold];
    let plan = plan_scenario(&scenario(0), "local", &settings, &BTreeSet::new());
    let mut earlier = prior(RunCost {
        wall_seconds: 100.0,
        measured_build_seconds: 40.0,
        registry_seconds: 16.0,
        ci_previous_job_seconds: 8.0,
        ..RunCost::default()
    });
    for variant in VARIANTS {
        earlier
            .cells
            .insert((variant.to_string(), CacheMode::CiCold), vec![4.0]);
    }
    assert_eq!(
        estimate(&plan, &earlier).unwrap_err(),
        "it ran no build of a CI mode"
    );
    earlier.ci_builds = 8;
    let with_ci = estimate(&plan, &earlier).unwrap();
    // Cold 10 to 20 s and ci-cold 4 s for each of 4 variants; the previous jobs and registry
    // transfers, 24 s over 8 CI builds, for 4; the other 36 s over 24 builds, for 8.
    let fixed = 24.0 * 4.0 / 8.0 + 36.0 / 24.0 * 8.0;
    assert!((with_ci.low_seconds - (40.0 + 16.0 + fixed)).abs() < 1e-9);
    assert!((with_ci.high_seconds - (80.0 + 16.0 + fixed)).abs() < 1e-9);
}
