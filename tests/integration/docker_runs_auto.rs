//! `run --runs auto` on a real daemon: a plain twofold difference stops both series before
//! `--max-runs`, the report and summary.json say how, `report` makes the same verdicts again from
//! the files, and `--time-budget` stops starting builds.

use stagebench::results::{BuildRecord, ResultSet};
use stagebench::scenario::image_repository_for;

use crate::support::{RemoveOnDrop, docker_daemon, stagebench, stderr, write_tree};

/// `single` sleeps 3 s, `multi` 1 s: a difference no three runs can miss.
fn scenario() -> tempfile::TempDir {
    write_tree(&[
        (
            "single.Dockerfile",
            "FROM busybox:latest\nCOPY app.txt /app.txt\nRUN sleep 3 && cat /app.txt > /out\n",
        ),
        (
            "multi.Dockerfile",
            "FROM busybox:latest AS build\nCOPY app.txt /app.txt\nRUN sleep 1 && cat /app.txt > /out\n\
             FROM busybox:latest\nCOPY --from=build /out /out\n",
        ),
        ("app.txt", "hello\n"),
        ("scenario.toml", "name = \"auto\"\nbaseline = \"single\"\n"),
    ])
}

fn timed(records: &[BuildRecord], variant: &str) -> usize {
    records
        .iter()
        .filter(|r| r.variant == variant && !r.warmup)
        .count()
}

#[test]
fn docker_runs_auto_stops_a_settled_comparison_before_max_runs_and_the_report_says_how() {
    let Some(_daemon) = docker_daemon() else {
        return;
    };
    let dir = scenario();
    let _cleanup = RemoveOnDrop(vec![image_repository_for("auto")]);
    let output = stagebench(
        dir.path(),
        &[
            "run",
            ".",
            "--runs",
            "auto",
            "--max-runs",
            "6",
            "--cache",
            "cold",
            "--out",
            "out",
        ],
    );
    let err = stderr(&output);
    assert!(output.status.success(), "{err}");
    let out = dir.path().join("out");
    let set = ResultSet::load(&out).unwrap();
    let (single, multi) = (timed(&set.records, "single"), timed(&set.records, "multi"));
    assert!(
        (3..6).contains(&single) && single == multi,
        "both series stop together, after 3 to 5 runs: {single} and {multi}\n{err}"
    );
    assert!(
        err.contains(&format!("auto after {single} runs:\n  single cold (baseline): every comparison settled, after {single} runs\n  multi cold: faster: ")),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "--runs auto: {} of 12 timed builds",
            single + multi
        )),
        "{err}"
    );

    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(report.contains("## How the runs stopped"), "{report}");
    assert!(
        report.contains(&format!(
            "- single cold (baseline): every comparison settled, after {single} runs"
        )),
        "{report}"
    );
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    let section = &summary["stopping"][0];
    assert_eq!(section["comparisons_in_family"], 1);
    assert_eq!(section["rounds"], single);
    let states: Vec<&str> = section["series"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, ["settled", "settled"]);
    // The verdict is read at its look's level: 1 - 0.75 * 0.05 at the first look of a family of
    // one, 1 - 0.05/6 * ... between; never the fixed run's 95%.
    let contrast = &summary["comparisons"][0]["contrast"];
    assert_eq!(contrast["outcome"], "faster");
    let level = contrast["confidence"].as_f64().unwrap();
    let first_look = 1.0 - 0.75 * 0.05;
    assert!(
        if single == 3 {
            (level - first_look).abs() < 1e-12
        } else {
            level > first_look
        },
        "{level} after {single} runs"
    );

    // `report` takes the looks again from the files and says the same.
    let again = stagebench(dir.path(), &["report", "out"]);
    assert!(again.status.success(), "{}", stderr(&again));
    assert_eq!(
        std::fs::read_to_string(out.join("report.md")).unwrap(),
        report
    );
}

#[test]
fn docker_a_spent_time_budget_stops_the_run_and_names_what_it_left_unsettled() {
    let Some(_daemon) = docker_daemon() else {
        return;
    };
    let dir = scenario();
    let _cleanup = RemoveOnDrop(vec![image_repository_for("auto")]);
    // Each round of two cold builds takes over 4 s, so 10 s allows three rounds at most.
    let output = stagebench(
        dir.path(),
        &[
            "run",
            ".",
            "--runs",
            "auto",
            "--min-runs",
            "8",
            "--cache",
            "cold",
            "--time-budget",
            "10s",
            "--out",
            "out",
        ],
    );
    let err = stderr(&output);
    assert!(output.status.success(), "{err}");
    let set = ResultSet::load(&dir.path().join("out")).unwrap();
    assert!(set.records.len() <= 6, "{err}");
    let rounds = set.meta.scenarios[0].budget_spent_after.unwrap();
    assert!(rounds < 3, "{rounds}");
    assert!(
        err.contains(&format!(
            "auto: the time budget is spent after {rounds} complete rounds"
        )),
        "{err}"
    );
    let report = std::fs::read_to_string(dir.path().join("out/report.md")).unwrap();
    assert!(
        report.contains(&format!(
            "The time budget was spent after {rounds} complete rounds; left unsettled: multi cold ("
        )),
        "{report}"
    );
    // The budget ran out before the first look (after 8 rounds), so no series is "still to
    // come", and the terminal names what was left open, as the report does.
    assert!(
        report.contains(
            "- single cold (baseline): stopped before the first look\n- multi cold: stopped before the first look, unsettled (time budget spent)\n"
        ),
        "{report}"
    );
    assert!(
        err.contains("timed builds (") && err.contains("; left unsettled: auto multi cold ("),
        "{err}"
    );
}

/// A scenario whose one variant sleeps `seconds` in its cold build.
fn sleeper(seconds: u32) -> tempfile::TempDir {
    write_tree(&[
        (
            "single.Dockerfile",
            &format!(
                "FROM busybox:latest\nCOPY app.txt /app.txt\nRUN sleep {seconds} && cat /app.txt > /out\n"
            ),
        ),
        ("app.txt", "hello\n"),
        ("scenario.toml", "name = \"auto\"\n"),
    ])
}

#[test]
fn docker_a_gated_runs_auto_run_reads_the_gate_off_its_looks() {
    let Some(_daemon) = docker_daemon() else {
        return;
    };
    let _cleanup = RemoveOnDrop(vec![image_repository_for("auto")]);
    // The baseline: five runs of a 1 s build.
    let dir = sleeper(1);
    let saved = stagebench(
        dir.path(),
        &[
            "run",
            ".",
            "--runs",
            "5",
            "--cache",
            "cold",
            "--save-baseline",
            "b",
            "--out",
            "base",
        ],
    );
    assert!(saved.status.success(), "{}", stderr(&saved));

    // Three times as slow now: a regression the first look settles.
    std::fs::write(
        dir.path().join("single.Dockerfile"),
        "FROM busybox:latest\nCOPY app.txt /app.txt\nRUN sleep 3 && cat /app.txt > /out\n",
    )
    .unwrap();
    let slower = stagebench(
        dir.path(),
        &[
            "run",
            ".",
            "--runs",
            "auto",
            "--cache",
            "cold",
            "--baseline",
            "b",
            "--out",
            "slow",
        ],
    );
    let err = stderr(&slower);
    assert_eq!(slower.status.code(), Some(1), "{err}");
    let rows = ResultSet::load(&dir.path().join("slow")).unwrap().records;
    assert_eq!(
        rows.len(),
        3,
        "the regression settled at the first look\n{err}"
    );
    assert!(
        err.contains("single cold: compared with nothing, stopped after 3 runs; against the baseline: regression: ")
            || err.contains("single cold: every comparison settled, after 3 runs; against the baseline: regression: "),
        "{err}"
    );
    assert!(
        err.contains("wholly above 1 + time threshold, after 3 runs"),
        "{err}"
    );

    // `compare` of the same two folders reads the same looks again: the same verdict.
    let again = stagebench(dir.path(), &["compare", "reports/baselines/b", "slow"]);
    assert_eq!(again.status.code(), Some(1), "{}", stderr(&again));
    let table = String::from_utf8_lossy(&again.stdout);
    assert!(table.contains("regression"), "{table}");

    // The gate the looks were taken under is recorded, and a resume must take its looks under
    // the same: without it, a series the gate needed would stop early and no gate would judge.
    let set = ResultSet::load(&dir.path().join("slow")).unwrap();
    let looks = set.meta.settings.options.gated_looks.clone().unwrap();
    assert_eq!(
        (
            looks.baseline.as_str(),
            looks.time_threshold,
            looks.required_runs
        ),
        ("b", 0.10, 3)
    );
    let results_csv = dir.path().join("slow/results.csv");
    let text = std::fs::read_to_string(&results_csv).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    lines.pop();
    std::fs::write(&results_csv, lines.join("\n") + "\n").unwrap();
    for (flags, expected) in [
        (
            &[][..],
            "its looks were taken under the gate against baseline `b`; continue it with the same: stagebench run --resume slow --baseline b",
        ),
        (
            &["--baseline", "b", "--time-threshold", "20"][..],
            "its looks were gated with --time-threshold 10; continue it with the same: stagebench run --resume slow --baseline b",
        ),
    ] {
        let mut args = vec!["run", "--resume", "slow"];
        args.extend_from_slice(flags);
        let refused = stagebench(dir.path(), &args);
        assert_eq!(refused.status.code(), Some(2), "{}", stderr(&refused));
        assert!(stderr(&refused).contains(expected), "{}", stderr(&refused));
    }
    assert_eq!(
        ResultSet::load(&dir.path().join("slow"))
            .unwrap()
            .records
            .len(),
        2
    );
    let resumed = stagebench(dir.path(), &["run", "--resume", "slow", "--baseline", "b"]);
    assert_eq!(resumed.status.code(), Some(1), "{}", stderr(&resumed));
    assert_eq!(
        ResultSet::load(&dir.path().join("slow"))
            .unwrap()
            .records
            .len(),
        3
    );
}
