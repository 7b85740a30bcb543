//! `stagebench compare` on constructed results folders: exit codes 0 (clean), 1 (regression) and
//! 2 (input error), Markdown for a job summary, summary.json as a side, and the CI exports.

use std::path::{Path, PathBuf};

use crate::support::{stagebench, stderr};

fn fixture_meta() -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/go-service/meta.json"),
    )
    .unwrap()
}

/// A results folder `name` under `root` holding go-service's meta.json and cold rows of `single`
/// and `multi` with the given build times and image sizes.
fn folder(root: &Path, name: &str, single: &[f64], multi: &[f64], multi_bytes: u64) -> PathBuf {
    let dir = root.join(name);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("meta.json"), fixture_meta()).unwrap();
    let mut csv = String::from(
        "scenario,variant,builder,cache,run,warmup,status,build_seconds,image_id,image_bytes,layers,cached_steps,total_steps,started_at,error\n",
    );
    for (variant, times, bytes) in [
        ("single", single, 741_649_525),
        ("multi", multi, multi_bytes),
    ] {
        for (run, seconds) in times.iter().enumerate() {
            csv.push_str(&format!(
                "go-service,{variant},buildkit,cold,{},false,ok,{seconds},sha256:x,{bytes},3,0,4,2026-11-28T05:05:33Z,\n",
                run + 1
            ));
        }
    }
    std::fs::write(dir.join("results.csv"), csv).unwrap();
    dir
}

const STEADY: [f64; 6] = [14.3, 14.4, 14.2, 14.35, 14.25, 14.3];

#[test]
fn compare_exits_0_when_clean_1_on_a_regression_and_writes_markdown() {
    let root = tempfile::tempdir().unwrap();
    let base = folder(root.path(), "base", &STEADY, &STEADY, 4_472_832);
    let same = folder(root.path(), "same", &STEADY, &STEADY, 4_472_832);
    let output = stagebench(root.path(), &["compare", "base", "same"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let table = String::from_utf8_lossy(&output.stdout);
    assert!(table.contains("No regression in 2 series"), "{table}");

    let doubled: Vec<f64> = STEADY.iter().map(|s| s * 2.0).collect();
    let slower = folder(root.path(), "slower", &STEADY, &doubled, 4_472_832);
    let output = stagebench(
        root.path(),
        &[
            "compare",
            "base",
            "slower",
            "--export-markdown",
            "summary.md",
        ],
    );
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let table = String::from_utf8_lossy(&output.stdout);
    assert!(
        table.contains("REGRESSION") && table.contains("2.00× slower"),
        "{table}"
    );
    let markdown = std::fs::read_to_string(root.path().join("summary.md")).unwrap();
    assert!(markdown.starts_with("## stagebench compare"), "{markdown}");
    assert!(
        markdown.contains("**1 regression** in 2 series."),
        "{markdown}"
    );
    assert!(markdown.contains("| go-service multi cold |"), "{markdown}");

    // A summary.json made by `stagebench report` serves as a side too.
    let report = stagebench(&base, &["report", "."]);
    assert!(report.status.success(), "{}", stderr(&report));
    let output = stagebench(root.path(), &["compare", "base/summary.json", "slower"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let _ = (same, slower);
}

#[test]
fn image_growth_above_the_floor_is_a_regression() {
    let root = tempfile::tempdir().unwrap();
    folder(root.path(), "base", &STEADY, &STEADY, 4_472_832);
    folder(root.path(), "grown", &STEADY, &STEADY, 6_000_000);
    let output = stagebench(root.path(), &["compare", "base", "grown"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let output = stagebench(
        root.path(),
        &["compare", "base", "grown", "--size-floor", "2MB"],
    );
    assert_eq!(
        output.status.code(),
        Some(0),
        "1.5 MB is under a 2 MB floor"
    );
}

#[test]
fn different_hosts_and_bad_input_exit_2_with_one_sentence() {
    let root = tempfile::tempdir().unwrap();
    folder(root.path(), "base", &STEADY, &STEADY, 4_472_832);
    let other = folder(root.path(), "other", &STEADY, &STEADY, 4_472_832);
    let meta = fixture_meta().replace("6.18.44-fc-v669", "6.1.0-other");
    std::fs::write(other.join("meta.json"), meta).unwrap();
    let output = stagebench(root.path(), &["compare", "base", "other"]);
    assert_eq!(output.status.code(), Some(2));
    let message = stderr(&output);
    assert_eq!(message.trim().lines().count(), 1, "{message}");
    assert!(
        message.contains("kernel") && message.contains("--allow-different-hosts"),
        "{message}"
    );
    let allowed = stagebench(
        root.path(),
        &["compare", "base", "other", "--allow-different-hosts"],
    );
    assert_eq!(allowed.status.code(), Some(0), "{}", stderr(&allowed));

    let missing = stagebench(root.path(), &["compare", "base", "nowhere"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(
        stderr(&missing).contains("cannot compare nowhere"),
        "{}",
        stderr(&missing)
    );
    let usage = stagebench(root.path(), &["compare", "base"]);
    assert_eq!(usage.status.code(), Some(2));
}

#[test]
fn ci_exports_carry_every_series_under_its_own_name() {
    let root = tempfile::tempdir().unwrap();
    folder(root.path(), "base", &STEADY, &STEADY, 4_472_832);
    let output = stagebench(
        root.path(),
        &[
            "report",
            "base",
            "--export-benchmark-action",
            "action.json",
            "--export-bmf",
            "bmf.json",
        ],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let action: serde_json::Value =
        serde_json::from_slice(&std::fs::read(root.path().join("action.json")).unwrap()).unwrap();
    let entries = action.as_array().unwrap();
    assert_eq!(entries.len(), 4, "build time and image size of two series");
    for entry in entries {
        let keys: Vec<&str> = entry
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(keys, ["extra", "name", "range", "unit", "value"]);
        assert!(entry["range"].is_string() && entry["extra"].is_string());
        assert!(entry["value"].is_number() && entry["unit"].is_string());
    }
    assert_eq!(
        entries[0]["name"],
        "go-service/single/cold/buildkit@local build time"
    );
    let bmf: serde_json::Value =
        serde_json::from_slice(&std::fs::read(root.path().join("bmf.json")).unwrap()).unwrap();
    let benchmark = &bmf["go-service/multi/cold/buildkit@local"];
    let build_time: Vec<&str> = benchmark["build-time"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(build_time, ["lower_value", "upper_value", "value"]);
    assert_eq!(benchmark["file-size"]["value"], 4_472_832.0);
}

#[test]
fn docker_a_run_saves_a_baseline_and_the_next_run_is_gated_against_it() {
    let Some(_daemon) = crate::support::docker_daemon() else {
        return;
    };
    let _cleanup = crate::support::RemoveOnDrop(vec!["stagebench/sbtest-gate".to_string()]);
    let dir = crate::support::write_tree(&[
        ("scenario.toml", "name = \"sbtest-gate\"\n"),
        (
            "single.Dockerfile",
            "FROM busybox:latest\nRUN echo single && sleep 1\n",
        ),
        (
            "multi.Dockerfile",
            "FROM busybox:latest\nRUN echo multi && sleep 1\n",
        ),
    ]);
    // Four timed runs after an untimed one, so that a slow first build after the daemon starts,
    // or a busy machine, cannot widen the interval past the effect.
    let args = [
        "run", ".", "--cache", "cold", "--runs", "4", "--warmup", "1", "--quiet",
    ];
    let first = stagebench(
        dir.path(),
        &[&args[..], &["--out", "first", "--save-baseline", "nightly"]].concat(),
    );
    assert!(first.status.success(), "{}", stderr(&first));
    assert!(stderr(&first).contains("saved baseline `nightly`"));
    let saved = dir.path().join("reports/baselines/nightly");
    assert!(saved.join("results.csv").is_file() && saved.join("report.md").is_file());

    // The next night, multi sleeps five seconds instead of one.
    std::fs::write(
        dir.path().join("multi.Dockerfile"),
        "FROM busybox:latest\nRUN echo multi && sleep 5\n",
    )
    .unwrap();
    let second = stagebench(
        dir.path(),
        &[&args[..], &["--out", "second", "--baseline", "nightly"]].concat(),
    );
    assert_eq!(
        second.status.code(),
        Some(1),
        "{}{}",
        String::from_utf8_lossy(&second.stdout),
        stderr(&second)
    );
    let table = String::from_utf8_lossy(&second.stdout);
    assert!(
        table.contains("sbtest-gate multi cold") && table.contains("REGRESSION"),
        "{table}"
    );
    let missing = stagebench(
        dir.path(),
        &["compare", "reports/baselines/nowhere", "second"],
    );
    assert_eq!(missing.status.code(), Some(2));
}
