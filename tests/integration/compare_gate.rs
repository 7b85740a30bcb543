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
    for runs in ["0", "1", "1001", "three"] {
        let output = stagebench(
            root.path(),
            &["compare", "base", "base", "--require-runs", runs],
        );
        assert_eq!(output.status.code(), Some(2));
        assert!(
            stderr(&output).contains(&format!(
                "`{runs}` is not a whole number from 2 (the fewest runs an interval can be formed from) to 1000"
            )),
            "{}",
            stderr(&output)
        );
    }
    for runs in ["2", "1000"] {
        let output = stagebench(
            root.path(),
            &["compare", "base", "base", "--require-runs", runs],
        );
        let expected = if runs == "2" { 0 } else { 2 };
        assert_eq!(output.status.code(), Some(expected), "{}", stderr(&output));
    }
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

#[test]
fn every_command_that_reads_results_refuses_a_bad_time_or_size_naming_file_and_line() {
    let root = tempfile::tempdir().unwrap();
    folder(root.path(), "good", &STEADY, &STEADY, 4_472_832);
    let cases = [
        (
            "zero",
            "14.3",
            "0",
            "build_seconds is 0, but a successful build takes a positive time",
        ),
        (
            "negative",
            "14.3",
            "-14.3",
            "build_seconds is -14.3, but a successful build takes a positive time",
        ),
        (
            "nan",
            "14.3",
            "NaN",
            "build_seconds is NaN, but a successful build takes a finite time",
        ),
        (
            "fractional",
            "4472832",
            "4472832.5",
            "image_bytes is `4472832.5`, but a size is a whole number of bytes, 0 or more",
        ),
    ];
    for (name, find, replace, words) in cases {
        let dir = folder(root.path(), name, &STEADY, &STEADY, 4_472_832);
        let text = std::fs::read_to_string(dir.join("results.csv")).unwrap();
        // The first multi row is line 8: the header, six single rows, then multi.
        let mut lines: Vec<String> = text.lines().map(String::from).collect();
        lines[7] = lines[7].replacen(&format!(",{find},"), &format!(",{replace},"), 1);
        std::fs::write(dir.join("results.csv"), lines.join("\n") + "\n").unwrap();
        let sentence = format!("{name}/results.csv:8: {words}");
        let commands: [(&[&str], i32); 6] = [
            (&["compare", "good", name], 2),
            (&["compare", name, "good"], 2),
            (&["report", name], 1),
            (&["merge", "good", name, "--out", "merged"], 1),
            (&["history", name], 1),
            (&["run", "--resume", name], 1),
        ];
        for (args, code) in commands {
            let output = stagebench(root.path(), args);
            let message = stderr(&output);
            assert_eq!(output.status.code(), Some(code), "{args:?}: {message}");
            assert!(message.contains(&sentence), "{args:?}: {message}");
            assert_eq!(message.trim().lines().count(), 1, "{args:?}: {message}");
        }
        assert!(!root.path().join("merged").exists());
    }

    // A summary.json standing in for a side is held to the same rows.
    let report = stagebench(&root.path().join("good"), &["report", "."]);
    assert!(report.status.success(), "{}", stderr(&report));
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(root.path().join("good/summary.json")).unwrap())
            .unwrap();
    for (field, value, words) in [
        (
            "build_seconds",
            serde_json::json!(0.0),
            "build_seconds is 0, but a successful build takes a positive time",
        ),
        (
            "image_bytes",
            serde_json::json!(4.5),
            "image_bytes is 4.5, but a size is a whole number of bytes, 0 or more",
        ),
    ] {
        let mut edited = summary.clone();
        edited["runs"][2][field] = value;
        std::fs::write(
            root.path().join("edited.json"),
            serde_json::to_vec(&edited).unwrap(),
        )
        .unwrap();
        let output = stagebench(root.path(), &["compare", "good", "edited.json"]);
        assert_eq!(output.status.code(), Some(2));
        assert_eq!(
            stderr(&output).trim(),
            format!("stagebench: cannot compare edited.json: edited.json (runs[2]): {words}")
        );
    }
}

/// `results.csv` of `dir` as its header and rows of cells (no cell of a successful build's row
/// holds a comma).
fn read_results(dir: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let text = std::fs::read_to_string(dir.join("results.csv")).unwrap();
    let mut lines = text.lines();
    let header: Vec<String> = lines.next().unwrap().split(',').map(String::from).collect();
    let rows = lines
        .map(|line| line.split(',').map(String::from).collect())
        .collect();
    (header, rows)
}

/// A copy of the results folder `from` as `to` (both under `root`), with its rows passed
/// through `edit`; returns the copy.
fn edited_copy(
    root: &Path,
    from: &str,
    to: &str,
    edit: impl FnOnce(&[String], &mut Vec<Vec<String>>),
) -> PathBuf {
    let (source, copy) = (root.join(from), root.join(to));
    std::fs::create_dir_all(&copy).unwrap();
    for file in ["meta.json", "steps.csv", "layers.csv", "waste.csv"] {
        if source.join(file).is_file() {
            std::fs::copy(source.join(file), copy.join(file)).unwrap();
        }
    }
    let (header, mut rows) = read_results(&source);
    edit(&header, &mut rows);
    let mut text = header.join(",");
    text.push('\n');
    for row in rows {
        text.push_str(&row.join(","));
        text.push('\n');
    }
    std::fs::write(copy.join("results.csv"), text).unwrap();
    copy
}

fn column(header: &[String], name: &str) -> usize {
    header.iter().position(|h| h == name).unwrap()
}

/// Sets `name` of the `index`-th timed row of `variant` to `value`; returns the row's line in
/// results.csv.
fn set_cell(
    header: &[String],
    rows: &mut [Vec<String>],
    variant: &str,
    index: usize,
    name: &str,
    value: &str,
) -> usize {
    let (variant_at, warmup_at) = (column(header, "variant"), column(header, "warmup"));
    let position = rows
        .iter()
        .enumerate()
        .filter(|(_, row)| row[variant_at] == variant && row[warmup_at] == "false")
        .nth(index)
        .map(|(position, _)| position)
        .unwrap();
    rows[position][column(header, name)] = value.to_string();
    position + 2
}

fn output_text(output: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        stderr(output)
    )
}

/// Every case the gate once let pass, on real builds: a variant whose builds all fail, a variant
/// missing, one run a series (three times slower), and copies of a real results.csv with a time
/// of 0, below 0 or NaN and with a fractional size. Each exits 1 or 2 with its sentence, while
/// the same scenario run again, nothing changed, passes.
#[test]
fn docker_broken_nights_fail_the_gate_and_an_honest_night_passes() {
    let Some(_daemon) = crate::support::docker_daemon() else {
        return;
    };
    let _cleanup = crate::support::RemoveOnDrop(vec!["stagebench/sbtest-gate-closed".to_string()]);
    // Each build sleeps, so that its time is mostly the sleep and three runs a side are steady.
    let dockerfile = |name: &str, seconds: &str| {
        format!("FROM busybox:latest\nRUN echo {name} && sleep {seconds}\n")
    };
    let dir = crate::support::write_tree(&[
        ("scenario.toml", "name = \"sbtest-gate-closed\"\n"),
        ("single.Dockerfile", &dockerfile("single", "0.5")),
        ("multi.Dockerfile", &dockerfile("multi", "0.5")),
    ]);
    let root = dir.path();
    let run = |extra: &[&str]| {
        let args = [
            &[
                "run", ".", "--cache", "cold", "--runs", "3", "--warmup", "1", "--quiet",
            ][..],
            extra,
        ]
        .concat();
        stagebench(root, &args)
    };
    let compare = |current: &str| stagebench(root, &["compare", "base", current]);

    let base = run(&["--out", "base", "--save-baseline", "nightly"]);
    assert!(base.status.success(), "{}", output_text(&base));

    // The honest night: the same scenario again, through `run --baseline` and `compare`.
    let honest = run(&["--out", "honest", "--baseline", "nightly"]);
    assert_eq!(honest.status.code(), Some(0), "{}", output_text(&honest));
    let output = compare("honest");
    assert_eq!(output.status.code(), Some(0), "{}", output_text(&output));
    assert!(
        String::from_utf8_lossy(&output.stdout).contains("No regression in 2 series."),
        "{}",
        output_text(&output)
    );

    // Every build of multi fails now.
    std::fs::write(
        root.join("multi.Dockerfile"),
        "FROM busybox:latest\nRUN echo multi && exit 3\n",
    )
    .unwrap();
    let failing = run(&["--out", "failing", "--baseline", "nightly"]);
    assert_eq!(failing.status.code(), Some(1), "{}", output_text(&failing));
    let sentence = "sbtest-gate-closed multi cold: all 3 builds failed, so nothing was measured";
    assert!(
        stderr(&failing).contains(sentence),
        "{}",
        output_text(&failing)
    );
    let output = compare("failing");
    assert_eq!(output.status.code(), Some(1), "{}", output_text(&output));
    assert!(
        stderr(&output).contains(sentence),
        "{}",
        output_text(&output)
    );
    assert!(
        String::from_utf8_lossy(&output.stdout).contains("all 3 builds failed"),
        "the table says it too: {}",
        output_text(&output)
    );

    // multi is left out of the night.
    std::fs::write(root.join("multi.Dockerfile"), dockerfile("multi", "0.5")).unwrap();
    let missing = run(&[
        "--out",
        "missing",
        "--variant",
        "single",
        "--baseline",
        "nightly",
    ]);
    assert_eq!(missing.status.code(), Some(1), "{}", output_text(&missing));
    let sentence = "sbtest-gate-closed multi cold is missing from the current results, though the baseline measured it (3 successful runs)";
    assert!(
        stderr(&missing).contains(sentence),
        "{}",
        output_text(&missing)
    );
    let output = compare("missing");
    assert_eq!(output.status.code(), Some(1), "{}", output_text(&output));
    assert!(
        stderr(&output).contains(sentence),
        "{}",
        output_text(&output)
    );

    // A baseline that is not there, or that went bad, is refused before anything is built; a
    // bad one is named as such, not taken for a missing one.
    let nowhere = run(&["--out", "never", "--baseline", "nowhere"]);
    assert_eq!(nowhere.status.code(), Some(2), "{}", output_text(&nowhere));
    assert!(
        stderr(&nowhere).contains(
            "stagebench: there is no baseline `nowhere` (reports/baselines/nowhere holds no results); save one with --save-baseline nowhere alone"
        ),
        "{}",
        output_text(&nowhere)
    );
    let saved = root.join("reports/baselines/nightly");
    let mut line = 0;
    let bad = edited_copy(
        root,
        "reports/baselines/nightly",
        "bad-baseline",
        |header, rows| {
            line = set_cell(header, rows, "single", 0, "build_seconds", "0");
        },
    );
    std::fs::copy(saved.join("results.csv"), root.join("good-baseline.csv")).unwrap();
    std::fs::copy(bad.join("results.csv"), saved.join("results.csv")).unwrap();
    let against_bad = run(&["--out", "never", "--baseline", "nightly"]);
    assert_eq!(
        against_bad.status.code(),
        Some(2),
        "{}",
        output_text(&against_bad)
    );
    assert_eq!(
        stderr(&against_bad).trim(),
        format!(
            "stagebench: cannot compare with baseline `nightly`: reports/baselines/nightly/results.csv:{line}: build_seconds is 0, but a successful build takes a positive time (see docs/ci.md#baselines-and-the-gate)"
        ),
    );
    assert!(!root.join("never").exists(), "nothing was built");
    std::fs::copy(root.join("good-baseline.csv"), saved.join("results.csv")).unwrap();

    // One run a series, multi three times slower.
    std::fs::write(root.join("multi.Dockerfile"), dockerfile("multi", "1.5")).unwrap();
    let refused = stagebench(
        root,
        &[
            "run",
            ".",
            "--runs",
            "1",
            "--out",
            "refused",
            "--baseline",
            "nightly",
        ],
    );
    assert_eq!(refused.status.code(), Some(2), "{}", output_text(&refused));
    assert!(
        stderr(&refused).contains("--runs 1 cannot be gated against baseline `nightly`"),
        "refused before building: {}",
        output_text(&refused)
    );
    assert!(!root.join("refused").exists());
    // With --runs auto the fewest runs a series may get are --min-runs, and the refusal says so.
    let refused_auto = stagebench(
        root,
        &[
            "run",
            ".",
            "--runs",
            "auto",
            "--require-runs",
            "5",
            "--out",
            "refused",
            "--baseline",
            "nightly",
        ],
    );
    assert_eq!(refused_auto.status.code(), Some(2));
    assert!(
        stderr(&refused_auto).contains(
            "--runs auto with --min-runs 3 (a series may stop after it) cannot be gated against baseline `nightly`, which needs 5 successful runs of each series (--require-runs); give --min-runs 5 or more"
        ),
        "{}",
        output_text(&refused_auto)
    );
    assert!(!root.join("refused").exists());
    let one = stagebench(
        root,
        &[
            "run", ".", "--cache", "cold", "--runs", "1", "--quiet", "--out", "one",
        ],
    );
    assert!(one.status.success(), "{}", output_text(&one));
    let output = stagebench(
        root,
        &[
            "compare",
            "base",
            "one",
            "--export-markdown",
            "one.md",
            "--export-benchmark-action",
            "one.json",
        ],
    );
    assert_eq!(output.status.code(), Some(2), "{}", output_text(&output));
    for variant in ["single", "multi"] {
        assert!(
            stderr(&output).contains(&format!(
                "sbtest-gate-closed {variant} cold is not gated: it has 3 successful runs in the baseline and 1 now, and the gate needs 3 on each side (--require-runs 3)"
            )),
            "{}",
            output_text(&output)
        );
    }
    let table = String::from_utf8_lossy(&output.stdout);
    assert!(
        table.contains("not gated") && !table.contains("No regression"),
        "{table}"
    );
    let markdown = std::fs::read_to_string(root.join("one.md")).unwrap();
    assert!(
        markdown.contains("**2 of 2 series not gated**")
            && markdown.contains("| **not gated** |")
            && markdown.contains("multi cold is not gated: it has 3 successful runs"),
        "{markdown}"
    );
    let action: serde_json::Value =
        serde_json::from_slice(&std::fs::read(root.join("one.json")).unwrap()).unwrap();
    for entry in action.as_array().unwrap() {
        assert!(
            entry["extra"].as_str().unwrap().contains("is not gated"),
            "{entry}"
        );
    }
    // Two runs are enough when asked for, and then the slow-down is judged.
    let output = stagebench(root, &["compare", "base", "one", "--require-runs", "2"]);
    assert_eq!(output.status.code(), Some(2), "one run is still too few");
    assert!(stderr(&output).contains("the gate needs 2 on each side"));

    // Copies of the honest night whose results.csv the gate must not trust. A time of 0 once
    // made its series' comparison vanish, so that multi 1.5 times slower plus one 0-second row
    // per series passed.
    let slower_with_zero = edited_copy(root, "honest", "zero", |header, rows| {
        let (variant, seconds) = (column(header, "variant"), column(header, "build_seconds"));
        for row in rows.iter_mut().filter(|row| row[variant] == "multi") {
            let slower = row[seconds].parse::<f64>().unwrap() * 1.5;
            row[seconds] = slower.to_string();
        }
        let mut extra: Vec<Vec<String>> = ["single", "multi"]
            .iter()
            .map(|name| {
                let mut row = rows
                    .iter()
                    .find(|row| row[variant] == *name)
                    .unwrap()
                    .clone();
                row[column(header, "run")] = "4".to_string();
                row[column(header, "seq")] = format!("{}", 90 + row[variant].len());
                row[seconds] = "0".to_string();
                row
            })
            .collect();
        rows.append(&mut extra);
    });
    let output = compare("zero");
    assert_eq!(output.status.code(), Some(2), "{}", output_text(&output));
    let (_, rows) = read_results(&slower_with_zero);
    let message = stderr(&output);
    assert_eq!(
        message.trim(),
        format!(
            "stagebench: cannot compare zero: zero/results.csv:{}: build_seconds is 0, but a successful build takes a positive time",
            rows.len()
        ),
        "one sentence naming file and line"
    );
    for (value, words) in [
        (
            "-1.5",
            "build_seconds is -1.5, but a successful build takes a positive time",
        ),
        (
            "NaN",
            "build_seconds is NaN, but a successful build takes a finite time",
        ),
    ] {
        let mut line = 0;
        edited_copy(root, "honest", "bad", |header, rows| {
            line = set_cell(header, rows, "multi", 1, "build_seconds", value);
        });
        let output = compare("bad");
        assert_eq!(output.status.code(), Some(2), "{}", output_text(&output));
        assert_eq!(
            stderr(&output).trim(),
            format!("stagebench: cannot compare bad: bad/results.csv:{line}: {words}")
        );
        std::fs::remove_dir_all(root.join("bad")).unwrap();
    }
    let mut line = 0;
    let fractional = edited_copy(root, "honest", "fractional", |header, rows| {
        line = set_cell(header, rows, "single", 2, "image_bytes", "2155872.5");
    });
    let output = compare("fractional");
    assert_eq!(output.status.code(), Some(2), "{}", output_text(&output));
    assert_eq!(
        stderr(&output).trim(),
        format!(
            "stagebench: cannot compare fractional: fractional/results.csv:{line}: image_bytes is `2155872.5`, but a size is a whole number of bytes, 0 or more"
        )
    );
    let _ = fractional;
}
