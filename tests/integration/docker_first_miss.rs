//! first_miss in results.csv and the cache-miss "Why" in report.md, from real builds: an
//! incremental run names the COPY of the edited file, a warm run names nothing.

use stagebench::results::BuildStatus;

use crate::support::{RemoveOnDrop, docker_daemon, results, stagebench, stderr, write_tree};

#[test]
fn docker_incremental_rows_name_the_edited_copy_as_first_miss_and_the_why_names_the_file() {
    let Some(_daemon) = docker_daemon() else {
        return;
    };
    let dir = write_tree(&[
        (
            "scenario.toml",
            "name = \"sbtest-first-miss\"\n[incremental]\ntouch = [\"app/main.py\"]\n",
        ),
        ("app/main.py", "print('hello')\n"),
        ("app/other.py", "print('other')\n"),
        (
            "single.Dockerfile",
            "FROM busybox:latest\nRUN echo tools > /tools\nCOPY app/ /app/\nRUN cat /app/main.py > /copy\n",
        ),
    ]);
    let _cleanup = RemoveOnDrop(vec!["stagebench/sbtest-first-miss".to_string()]);
    let output = stagebench(
        dir.path(),
        &[
            "run",
            ".",
            "--runs",
            "2",
            "--cache",
            "warm,incremental",
            "--out",
            "out",
        ],
    );
    assert!(output.status.success(), "{}", stderr(&output));

    let rows = results(&dir.path().join("out"));
    assert_eq!(rows.len(), 4, "{rows:?}");
    for row in &rows {
        assert_eq!(row.status, BuildStatus::Ok, "{row:?}");
        let expected = match row.cache.as_str() {
            "warm" => "",
            _ => "0: COPY app/ /app/",
        };
        assert_eq!(row.first_miss, expected, "{row:?}");
        assert_eq!(
            (row.pull_seconds, row.export_seconds, row.cache_bytes),
            (None, None, None),
            "no build pulls or imports an exported cache yet: {row:?}"
        );
    }

    let report = std::fs::read_to_string(dir.path().join("out/report.md")).unwrap();
    assert!(
        report.contains(
            "single, incremental: stage 0 rebuilt 2 of 3 steps from `COPY app/ /app/`: it copies app/main.py, which the edit changed."
        ),
        "{report}"
    );
    assert!(
        !report.contains("single, warm:"),
        "a warm run wholly from cache has no miss to explain: {report}"
    );
}
