//! Failures during a run: a failing RUN, a missing base image, a timeout, Ctrl-C. Whatever was
//! measured stays on disk, the scenario directory is restored, and the exit code says so.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use stagebench::results::BuildStatus;

use crate::support::{
    RemoveOnDrop, container_ids, dangling_images, docker_daemon, results, stagebench, stderr,
    write_tree,
};

#[test]
fn docker_failing_run_is_recorded_and_the_other_variant_goes_on() {
    let Some(_daemon) = docker_daemon() else {
        return;
    };
    let _cleanup = RemoveOnDrop(vec!["stagebench/sbtest-failing".to_string()]);
    let dir = write_tree(&[
        ("scenario.toml", "name = \"sbtest-failing\"\n"),
        (
            "good.Dockerfile",
            "FROM busybox:latest\nRUN echo fine > /fine\n",
        ),
        (
            "bad.Dockerfile",
            // The reason is computed, so finding "reason: 42" in the error means the step's
            // output was kept, not merely the step's text.
            "FROM busybox:latest\nRUN echo \"reason: $((6*7))\" && exit 3\n",
        ),
    ]);
    let output = stagebench(
        dir.path(),
        &[
            "run",
            ".",
            "--runs",
            "2",
            "--cache",
            "cold,warm",
            "--out",
            "out",
        ],
    );
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("builds failed"));
    let rows = results(&dir.path().join("out"));
    assert_eq!(rows.len(), 8);
    for row in &rows {
        if row.variant == "good" {
            assert_eq!(row.status, BuildStatus::Ok, "{row:?}");
        } else {
            assert_eq!(row.status, BuildStatus::Failed, "{row:?}");
            assert!(
                row.error.contains("exit code: 3") || row.error.contains("non-zero code: 3"),
                "{row:?}"
            );
            assert!(row.error.contains("last output: reason: 42"), "{row:?}");
            assert!(row.image_id.is_empty() && row.image_bytes.is_none());
        }
    }

    let classic = stagebench(
        dir.path(),
        &[
            "run",
            ".",
            "--runs",
            "1",
            "--cache",
            "cold",
            "--builder",
            "classic",
            "--variant",
            "bad",
            "--out",
            "classic",
        ],
    );
    assert_eq!(classic.status.code(), Some(1));
    let rows = results(&dir.path().join("classic"));
    assert_eq!(rows.len(), 1);
    assert!(rows[0].error.contains("reason: 42"), "{:?}", rows[0]);
}

#[test]
fn docker_missing_base_image_fails_that_variant_with_its_name() {
    let Some(_daemon) = docker_daemon() else {
        return;
    };
    let _cleanup = RemoveOnDrop(vec!["stagebench/sbtest-missing".to_string()]);
    let dir = write_tree(&[
        ("scenario.toml", "name = \"sbtest-missing\"\n"),
        ("good.Dockerfile", "FROM busybox:latest\nRUN true\n"),
        (
            "orphan.Dockerfile",
            "FROM stagebench-test/no-such-image:1\nRUN true\n",
        ),
    ]);
    let output = stagebench(
        dir.path(),
        &["run", ".", "--runs", "1", "--cache", "cold", "--out", "out"],
    );
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("stagebench-test/no-such-image:1"),
        "the missing image is named"
    );
    let rows = results(&dir.path().join("out"));
    let good = rows.iter().find(|r| r.variant == "good").unwrap();
    let orphan = rows.iter().find(|r| r.variant == "orphan").unwrap();
    assert_eq!(good.status, BuildStatus::Ok);
    assert_eq!(orphan.status, BuildStatus::Failed);
    assert!(orphan.error.contains("no-such-image"), "{orphan:?}");

    let output = stagebench(dir.path(), &["validate", "."]);
    assert_eq!(output.status.code(), Some(1));
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        text.contains("orphan.Dockerfile:1") && text.contains("stagebench-test/no-such-image:1"),
        "{text}"
    );
}

#[test]
fn docker_validate_accepts_a_good_scenario() {
    let Some(_daemon) = docker_daemon() else {
        return;
    };
    let dir = write_tree(&[
        ("single.Dockerfile", "FROM debian:bookworm-slim\n"),
        ("multi.Dockerfile", "FROM busybox:latest\n"),
    ]);
    let output = stagebench(dir.path(), &["validate", "."]);
    assert!(output.status.success());
    assert!(String::from_utf8_lossy(&output.stdout).starts_with("ok: ."));
}

#[test]
fn docker_timeout_cancels_the_build_and_records_it() {
    let Some(_daemon) = docker_daemon() else {
        return;
    };
    let _cleanup = RemoveOnDrop(vec!["stagebench/sbtest-timeout".to_string()]);
    let dir = write_tree(&[
        ("scenario.toml", "name = \"sbtest-timeout\"\n"),
        ("slow.Dockerfile", "FROM busybox:latest\nRUN sleep 60\n"),
    ]);
    let before = container_ids();
    let started = Instant::now();
    let output = stagebench(
        dir.path(),
        &[
            "run",
            ".",
            "--runs",
            "1",
            "--cache",
            "cold",
            "--builder",
            "classic",
            "--timeout",
            "3",
            "--out",
            "out",
        ],
    );
    assert!(
        started.elapsed() < Duration::from_secs(40),
        "the build was not cut short"
    );
    assert_eq!(output.status.code(), Some(1));
    let rows = results(&dir.path().join("out"));
    assert_eq!(rows[0].status, BuildStatus::TimedOut);
    assert!(rows[0].error.contains("--timeout 3"), "{:?}", rows[0]);
    assert!(stderr(&output).contains("failed or timed out"));
    assert!(rows[0].build_seconds >= 3.0 && rows[0].build_seconds < 10.0);
    wait_for_containers(&before);
}

/// The classic builder removes a cancelled build's container itself, a moment later.
fn wait_for_containers(expected: &[String]) {
    let deadline = Instant::now() + Duration::from_secs(15);
    while container_ids() != expected && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(
        container_ids(),
        expected,
        "a build container was left behind"
    );
}

#[test]
fn docker_ctrl_c_keeps_results_leaves_files_alone_and_resumes() {
    let Some(_daemon) = docker_daemon() else {
        return;
    };
    let _cleanup = RemoveOnDrop(vec!["stagebench/sbtest-interrupt".to_string()]);
    let dir = write_tree(&[
        (
            "scenario.toml",
            "name = \"sbtest-interrupt\"\n[incremental]\ntouch = [\"app.txt\"]\n",
        ),
        ("app.txt", "original\n"),
        (
            "slow.Dockerfile",
            "FROM busybox:latest\nCOPY app.txt /app.txt\nRUN sleep 4\n",
        ),
    ]);
    let app = dir.path().join("app.txt");
    let modified_before = std::fs::metadata(&app).unwrap().modified().unwrap();
    let before = container_ids();
    let dangling_before = dangling_images();
    // The log lives outside the scenario: a file in its build context that changes during the
    // run is a changed input, which `--resume` refuses.
    let logs = tempfile::tempdir().unwrap();
    let log_path = logs.path().join("stderr.log");
    let log = std::fs::File::create(&log_path).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_stagebench"))
        .args([
            "run",
            ".",
            "--runs",
            "1",
            "--cache",
            "cold,incremental",
            "--builder",
            "classic",
            "--out",
            "out",
        ])
        .current_dir(dir.path())
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap();

    // Wait until the cold row is written, so the incremental run's RUN step is under way.
    let results_csv = dir.path().join("out/results.csv");
    let deadline = Instant::now() + Duration::from_secs(60);
    while std::fs::read_to_string(&results_csv)
        .map(|text| text.lines().count())
        .unwrap_or(0)
        < 2
    {
        assert!(Instant::now() < deadline, "the cold run never finished");
        assert!(
            child.try_wait().unwrap().is_none(),
            "stagebench ended early"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(2000));
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = child.wait().unwrap();
    let log = std::fs::read_to_string(&log_path).unwrap();
    eprintln!("{log}");

    assert_eq!(exit.code(), Some(130));
    assert_eq!(std::fs::read_to_string(&app).unwrap(), "original\n");
    assert_eq!(
        std::fs::metadata(&app).unwrap().modified().unwrap(),
        modified_before,
        "an incremental edit never touches the file on disk"
    );
    let rows = results(&dir.path().join("out"));
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!(
        (rows[0].cache.as_str(), rows[0].status),
        ("cold", BuildStatus::Ok)
    );
    assert_eq!(
        (rows[1].cache.as_str(), rows[1].status),
        ("incremental", BuildStatus::Interrupted)
    );
    assert!(rows[1].error.contains("interrupted"));
    let meta = stagebench::results::RunMeta::read(&dir.path().join("out")).unwrap();
    assert!(meta.invocations[0].interrupted && meta.invocations[0].ended_at.is_some());
    assert_eq!(container_ids(), before, "no build container is left behind");
    assert_eq!(
        dangling_images(),
        dangling_before,
        "no image of the interrupted build is left behind"
    );

    // The last line names the exact command that continues the run.
    let hint = log
        .lines()
        .find(|l| l.contains("continue with: "))
        .unwrap_or_else(|| panic!("no resume command in: {log}"));
    let command = hint.split("continue with: ").nth(1).unwrap();
    assert!(command.ends_with("run --resume out"), "{command}");
    let resumed = stagebench(dir.path(), &["run", "--resume", "out"]);
    assert!(resumed.status.success(), "{}", stderr(&resumed));
    let rows = results(&dir.path().join("out"));
    let statuses: Vec<(&str, BuildStatus)> =
        rows.iter().map(|r| (r.cache.as_str(), r.status)).collect();
    assert_eq!(
        statuses,
        [
            ("cold", BuildStatus::Ok),
            ("incremental", BuildStatus::Interrupted),
            ("incremental", BuildStatus::Ok)
        ]
    );
    assert_ne!(rows[2].run_id, rows[0].run_id);
    assert_eq!(rows[2].seq, 3);
    assert_eq!(
        dangling_images(),
        dangling_before,
        "the resumed run cleaned up after both invocations"
    );
}
