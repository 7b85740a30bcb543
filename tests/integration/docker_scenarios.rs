//! The shipped scenarios against a real daemon: they validate, and python-node's quick profile
//! runs its three variants to completion with the comparison's shape intact.

use std::path::{Path, PathBuf};

use stagebench::results::BuildStatus;

use crate::support::{RemoveOnDrop, docker_daemon, results, stagebench, stderr};

fn repository_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn shipped_scenarios() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(repository_root().join("scenarios"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.is_dir())
        .collect();
    dirs.sort();
    dirs
}

#[test]
fn docker_every_shipped_scenario_validates() {
    let Some(_daemon) = docker_daemon() else {
        return;
    };
    let dirs = shipped_scenarios();
    assert!(dirs.len() >= 5, "{dirs:?}");
    let mut args = vec!["validate".to_string()];
    args.extend(dirs.iter().map(|d| d.display().to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let output = stagebench(repository_root(), &args);
    assert!(output.status.success(), "{}", stderr(&output));
    for dir in &dirs {
        let name = dir.file_name().unwrap().to_string_lossy();
        let readme = dir.join("README.md");
        assert!(readme.is_file(), "{name} has no README.md");
        let manifest = std::fs::read_to_string(dir.join("scenario.toml")).unwrap();
        for key in [
            "description",
            "baseline",
            "[incremental]",
            "[profile.quick]",
        ] {
            assert!(manifest.contains(key), "{name}/scenario.toml lacks {key}");
        }
    }
}

#[test]
fn docker_python_node_quick_profile_separates_hygiene_multi_stage_and_prebuilt_stages() {
    let Some(_daemon) = docker_daemon() else {
        return;
    };
    let _cleanup = RemoveOnDrop(vec![
        "stagebench/python-node".to_string(),
        "stagebench/python-node-prebuilt".to_string(),
    ]);
    let out = tempfile::tempdir().unwrap();
    let main_js = repository_root().join("scenarios/python-node/app/main.js");
    let main_js_before = std::fs::read(&main_js).unwrap();
    let out_arg = out.path().display().to_string();
    // Two runs per cell, the fewest that still give every comparison its interval, overriding
    // the profile's `runs = 3`: what is checked below (sizes, waste, which variant compiles, the
    // report's sentences) does not depend on the count, and each further run is three more cold
    // builds that install a toolchain from the package mirror.
    let output = stagebench(
        repository_root(),
        &[
            "run",
            "scenarios/python-node",
            "--profile",
            "quick",
            "--runs",
            "2",
            "--out",
            &out_arg,
        ],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    // Before building, the run says what it will build: the count is the plan's, with --runs
    // taking the place of the profile's count.
    assert!(
        stderr(&output).contains(
            "python-node (quick): 4 variants x 3 modes x 2 runs = 24 timed builds, plus 2 prebuilds; "
        ),
        "{}",
        stderr(&output)
    );
    assert_eq!(
        std::fs::read(&main_js).unwrap(),
        main_js_before,
        "the incremental edit is undone"
    );

    // multi's python and node stages are the prebuilds, whose images the run keeps with their
    // build-cache records, and prebuilt's layers are multi's, held by multi's kept image: both
    // build cold with the cache ignored from the start, so no cold attempt is served from cache
    // and thrown away.
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        stderr(&output)
    );
    assert!(!printed.contains("building it again"), "{printed}");
    let meta = std::fs::read_to_string(out.path().join("meta.json")).unwrap();
    assert!(!meta.contains("discarded_cold_builds"), "{meta}");

    let rows = results(out.path());
    assert_eq!(rows.len(), 4 * 3 * 2, "4 variants x 3 cache modes x 2 runs");
    assert!(rows.iter().all(|r| r.status == BuildStatus::Ok), "{rows:?}");
    let size = |variant: &str| {
        rows.iter()
            .find(|r| r.variant == variant)
            .and_then(|r| r.image_bytes)
            .unwrap()
    };
    let (single, tidy, multi, prebuilt) = (
        size("single"),
        size("single-tidy"),
        size("multi"),
        size("prebuilt"),
    );
    // The three effects, each one step: hygiene, then multi-stage, then prebuilt stages.
    assert!(
        tidy * 3 < single * 2,
        "single-tidy {tidy} B vs single {single} B"
    );
    assert!(
        multi * 3 < tidy * 2,
        "multi {multi} B vs single-tidy {tidy} B"
    );
    assert!(multi * 2 < single, "multi {multi} B vs single {single} B");
    assert!(
        prebuilt * 2 < single,
        "prebuilt {prebuilt} B vs single {single} B"
    );
    // prebuilt copies the same stages as multi, so both final images hold the same files.
    assert!(
        multi.abs_diff(prebuilt) * 100 < multi,
        "multi {multi} B vs prebuilt {prebuilt} B"
    );
    let cold_median = |variant: &str| crate::support::median_seconds(&rows, variant, "cold");
    assert!(
        cold_median("prebuilt") * 4.0 < cold_median("multi"),
        "prebuilt only assembles; multi compiles"
    );

    // What single carries that single-tidy does not is what its later RUNs delete.
    let set = stagebench::results::ResultSet::load(out.path()).unwrap();
    let wasted = |variant: &str| -> u64 {
        set.layers
            .iter()
            .filter(|l| l.variant == variant)
            .map(|l| l.wasted_bytes)
            .sum()
    };
    let (single_waste, tidy_waste) = (wasted("single"), wasted("single-tidy"));
    assert!(
        single_waste > 100_000_000 && tidy_waste * 20 < single_waste,
        "single wastes {single_waste} B, single-tidy {tidy_waste} B"
    );
    assert!(
        (single - tidy).abs_diff(single_waste) * 10 < single_waste,
        "single's extra {} B are its wasted {single_waste} B",
        single - tidy
    );

    let report = std::fs::read_to_string(out.path().join("report.md")).unwrap();
    for expected in [
        "multi vs single, cold:",
        "prebuilt vs single, cold:",
        "single-tidy vs single, cold:",
        "smaller than single",
        "in files that a later layer deletes or overwrites",
    ] {
        assert!(report.contains(expected), "report.md lacks {expected:?}");
    }
}
