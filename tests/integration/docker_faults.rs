//! Faults during a run: a build past `--timeout` is cancelled on the daemon, SIGTERM stops the
//! run like Ctrl-C, a build's flood of binary output stays printable and bounded, and a daemon
//! killed during a build (one the test starts itself, so killing it disturbs nothing else)
//! stops the run cleanly, after which it resumes once the daemon is back.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use stagebench::results::BuildStatus;

use crate::extra_daemons::ExtraDaemon;
use crate::support::{
    RemoveOnDrop, docker_daemon, process_runs, results, spawn_stagebench, stagebench, stderr,
    wait_for_process, wait_for_rows, write_tree,
};

#[test]
fn docker_a_buildkit_build_past_the_timeout_is_cancelled_on_the_daemon() {
    let Some(_daemon) = docker_daemon() else {
        return;
    };
    let _cleanup = RemoveOnDrop(vec!["stagebench/sbtest-cancel".to_string()]);
    let dir = write_tree(&[
        ("scenario.toml", "name = \"sbtest-cancel\"\n"),
        ("slow.Dockerfile", "FROM busybox:latest\nRUN sleep 47\n"),
    ]);
    let child = spawn_stagebench(
        dir.path(),
        &[
            "run",
            ".",
            "--runs",
            "1",
            "--cache",
            "cold",
            "--timeout",
            "6",
            "--out",
            "out",
        ],
    );
    wait_for_process("sleep 47", Duration::from_secs(30));
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let rows = results(&dir.path().join("out"));
    assert_eq!(rows[0].status, BuildStatus::TimedOut);
    // Cancelled on the daemon, not just abandoned: the step's process goes too.
    let deadline = Instant::now() + Duration::from_secs(10);
    while process_runs("sleep 47") {
        assert!(
            Instant::now() < deadline,
            "the build still runs on the daemon"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn docker_sigterm_stops_the_run_keeps_its_rows_and_exits_143() {
    let Some(_daemon) = docker_daemon() else {
        return;
    };
    let _cleanup = RemoveOnDrop(vec!["stagebench/sbtest-term".to_string()]);
    let dir = write_tree(&[
        ("scenario.toml", "name = \"sbtest-term\"\n"),
        ("slow.Dockerfile", "FROM busybox:latest\nRUN sleep 3\n"),
    ]);
    let mut child = spawn_stagebench(
        dir.path(),
        &["run", ".", "--runs", "3", "--cache", "cold", "--out", "out"],
    );
    let out = dir.path().join("out");
    wait_for_rows(&out, 1, &mut child);
    std::thread::sleep(Duration::from_millis(1000));
    assert!(
        Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap()
            .success()
    );
    let output = child.wait_with_output().unwrap();
    let text = stderr(&output);
    assert_eq!(output.status.code(), Some(143), "{text}");
    assert!(
        text.contains("SIGTERM received") && text.contains("continue with: "),
        "{text}"
    );
    let rows = results(&out);
    assert_eq!(rows[0].status, BuildStatus::Ok);
    assert_eq!(
        rows.last().unwrap().status,
        BuildStatus::Interrupted,
        "{rows:?}"
    );
    assert!(!process_runs("sleep 3"), "the cancelled step still runs");
}

#[test]
fn docker_a_flood_of_binary_output_is_kept_printable_and_short() {
    let Some(_daemon) = docker_daemon() else {
        return;
    };
    let _cleanup = RemoveOnDrop(vec!["stagebench/sbtest-loud".to_string()]);
    let dir = write_tree(&[
        ("scenario.toml", "name = \"sbtest-loud\"\n"),
        (
            "loud.Dockerfile",
            "FROM busybox:latest\nRUN head -c 20000000 /dev/urandom; yes stagebench | head -n 1000000\nRUN head -c 100000 /dev/urandom; printf '\\033[2J'; exit 1\n",
        ),
    ]);
    let output = stagebench(
        dir.path(),
        &["run", ".", "--runs", "1", "--cache", "cold", "--out", "out"],
    );
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let rows = results(&dir.path().join("out"));
    assert_eq!(rows[0].status, BuildStatus::Failed);
    let error = &rows[0].error;
    assert!(
        error.contains("exit 1") || error.contains("exit code: 1"),
        "{error}"
    );
    assert!(
        error.chars().count() < 3000,
        "{} characters",
        error.chars().count()
    );
    assert!(!error.chars().any(char::is_control), "{error:?}");
    assert!(
        !stderr(&output).contains('\u{1b}'),
        "an escape sequence reached the terminal"
    );
}

#[test]
fn docker_a_daemon_killed_during_a_build_stops_the_run_cleanly_and_it_resumes_after() {
    let Some(_daemon) = docker_daemon() else {
        return;
    };
    let mut daemon = ExtraDaemon::start(4, None);
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("sbtest-crash");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("slow.Dockerfile"),
        "FROM busybox:latest\nRUN sleep 4\n",
    )
    .unwrap();
    let host = format!("crashbox={}", daemon.unix_url());
    let out = root.path().join("out");
    let out_arg = out.display().to_string();
    let mut child = spawn_stagebench(
        root.path(),
        &[
            "run",
            "sbtest-crash",
            "--runs",
            "3",
            "--cache",
            "cold",
            "--docker-host",
            &host,
            "--out",
            &out_arg,
        ],
    );
    wait_for_rows(&out, 1, &mut child);
    std::thread::sleep(Duration::from_millis(1500));
    daemon.kill_hard();
    let output = child.wait_with_output().unwrap();
    let text = stderr(&output);
    assert!(!output.status.success(), "{text}");
    assert!(text.contains("crashbox"), "the host is named: {text}");
    assert!(
        text.contains("continue with: "),
        "the way on is named: {text}"
    );
    let rows = results(&out);
    assert_eq!(rows[0].status, BuildStatus::Ok, "{rows:?}");
    assert_eq!(
        rows.last().unwrap().status,
        BuildStatus::Interrupted,
        "{rows:?}"
    );

    daemon.restart();
    let resumed = stagebench(
        root.path(),
        &["run", "--resume", &out.display().to_string()],
    );
    assert!(resumed.status.success(), "{}", stderr(&resumed));
    let ok = results(&out)
        .iter()
        .filter(|r| r.status == BuildStatus::Ok)
        .count();
    assert_eq!(ok, 3, "every planned build is measured once");
}

#[test]
fn docker_a_scenario_file_changed_during_the_run_stops_it_with_the_rows_kept() {
    let Some(_daemon) = docker_daemon() else {
        return;
    };
    let _cleanup = RemoveOnDrop(vec!["stagebench/sbtest-edited".to_string()]);
    let dir = write_tree(&[
        ("scenario.toml", "name = \"sbtest-edited\"\n"),
        ("app.txt", "first\n"),
        (
            "slow.Dockerfile",
            "FROM busybox:latest\nCOPY app.txt /app.txt\nRUN sleep 2\n",
        ),
    ]);
    let results_dir = tempfile::tempdir().unwrap();
    let out = results_dir.path().join("out");
    let out_arg = out.display().to_string();
    let mut child = spawn_stagebench(
        dir.path(),
        &[
            "run", ".", "--runs", "4", "--cache", "cold", "--out", &out_arg,
        ],
    );
    wait_for_rows(&out, 1, &mut child);
    // Someone else edits a file of the build context while the second build runs.
    std::fs::write(dir.path().join("app.txt"), "second\n").unwrap();
    let output = child.wait_with_output().unwrap();
    let text = stderr(&output);
    assert!(!output.status.success(), "{text}");
    assert!(
        text.contains("app.txt changed") && text.contains("start a new run"),
        "{text}"
    );
    let rows = results(&out);
    assert!(
        (1..4).contains(&rows.len()),
        "the run stopped early: {rows:?}"
    );
    assert!(rows.iter().all(|r| r.status == BuildStatus::Ok), "{rows:?}");
    let resumed = stagebench(dir.path(), &["run", "--resume", &out.display().to_string()]);
    assert!(!resumed.status.success());
    assert!(stderr(&resumed).contains("app.txt"), "{}", stderr(&resumed));
}

#[test]
fn docker_the_daemon_s_disk_full_fails_that_build_with_its_reason_and_the_run_goes_on() {
    let Some(_daemon) = docker_daemon() else {
        return;
    };
    let daemon = ExtraDaemon::start_with_disk(5, 160);
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("sbtest-full");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("big.Dockerfile"),
        "FROM busybox:latest\nRUN dd if=/dev/zero of=/big bs=1M count=400\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("small.Dockerfile"),
        "FROM busybox:latest\nRUN echo small > /small\n",
    )
    .unwrap();
    std::fs::write(dir.join("scenario.toml"), "baseline = \"small\"\n").unwrap();
    let host = format!("fullbox={}", daemon.unix_url());
    let out = root.path().join("out").display().to_string();
    let output = stagebench(
        root.path(),
        &[
            "run",
            "sbtest-full",
            "--runs",
            "1",
            "--cache",
            "cold",
            "--docker-host",
            &host,
            "--out",
            &out,
        ],
    );
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let rows = results(Path::new(&out));
    let big = rows.iter().find(|r| r.variant == "big").unwrap();
    let small = rows.iter().find(|r| r.variant == "small").unwrap();
    assert_eq!(big.status, BuildStatus::Failed, "{big:?}");
    assert!(
        big.error.to_lowercase().contains("no space left on device"),
        "{}",
        big.error
    );
    assert_eq!(
        small.status,
        BuildStatus::Ok,
        "the other variant goes on: {small:?}"
    );
    assert!(
        stderr(&output).contains("failed or timed out"),
        "{}",
        stderr(&output)
    );
}

/// Unmounts a test's tmpfs when dropped, also when the test fails.
struct Unmount(std::path::PathBuf);

impl Drop for Unmount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

#[test]
fn docker_a_results_folder_whose_disk_fills_stops_the_run_with_the_rows_kept() {
    let Some(_daemon) = docker_daemon() else {
        return;
    };
    crate::extra_daemons::require_root();
    let _cleanup = RemoveOnDrop(vec!["stagebench/sbtest-readonly".to_string()]);
    let dir = write_tree(&[
        ("scenario.toml", "name = \"sbtest-readonly\"\n"),
        ("slow.Dockerfile", "FROM busybox:latest\nRUN sleep 2\n"),
    ]);
    let results_dir = tempfile::tempdir().unwrap();
    let out = results_dir.path().join("out");
    std::fs::create_dir_all(&out).unwrap();
    let mounted = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=2m", "tmpfs"])
        .arg(&out)
        .status()
        .unwrap();
    assert!(mounted.success());
    let _unmount = Unmount(out.clone());
    let out_arg = out.display().to_string();
    let mut child = spawn_stagebench(
        dir.path(),
        &[
            "run", ".", "--runs", "4", "--cache", "cold", "--out", &out_arg,
        ],
    );
    wait_for_rows(&out, 1, &mut child);
    // Someone else fills the disk the results are on. (A read-only remount is refused while
    // the run holds its files open, so a full disk stands for every way writes start to fail.)
    let _ = std::fs::write(out.join("filler"), vec![0u8; 8 * 1024 * 1024]);
    let output = child.wait_with_output().unwrap();
    let text = stderr(&output);
    assert!(!output.status.success(), "{text}");
    assert!(
        text.contains("cannot write results") && text.contains("No space left on device"),
        "{text}"
    );
    assert!(
        !text.contains(&format!("{out_arg}: {out_arg}")),
        "the folder is named once: {text}"
    );
    let rows = results(&out);
    assert!(
        !rows.is_empty() && rows.iter().all(|r| r.status == BuildStatus::Ok),
        "{rows:?}"
    );
}
