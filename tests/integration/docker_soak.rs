//! The soak test: 200 builds in a row leave the daemon as they found it (containers, images,
//! build-cache records) and stagebench's open files and memory do not grow with the number of
//! builds. It prints its figures; docs/security.md quotes them.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use stagebench::engine::{Endpoint, Engine};
use stagebench::results::BuildStatus;

use crate::support::{
    container_ids, docker_cli, docker_daemon, results, rows_written, spawn_stagebench, stderr,
    write_tree,
};

/// (containers, images, build-cache records) on the test daemon.
fn daemon_counts() -> (usize, usize, usize) {
    let images = docker_cli(&["images", "-aq"], &BTreeMap::new());
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let records = runtime.block_on(async {
        let engine = Engine::connect(&Endpoint::from_environment().unwrap())
            .await
            .unwrap();
        engine.list_build_cache().await.unwrap().len()
    });
    (
        container_ids().len(),
        String::from_utf8_lossy(&images.stdout).lines().count(),
        records,
    )
}

/// (resident KiB, open file descriptors) of process `pid`, if it still runs.
fn process_figures(pid: u32) -> Option<(u64, usize)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let rss_kib = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()?;
    let fds = std::fs::read_dir(format!("/proc/{pid}/fd")).ok()?.count();
    Some((rss_kib, fds))
}

#[test]
fn docker_soak_200_builds_leave_nothing_behind_and_do_not_grow() {
    let Some(_daemon) = docker_daemon() else {
        return;
    };
    let dir = write_tree(&[
        ("sbtest-soak/app.txt", "soak\n"),
        (
            "sbtest-soak/single.Dockerfile",
            "FROM busybox:latest\nCOPY app.txt /app.txt\nRUN cat /app.txt > /copy\n",
        ),
        (
            "sbtest-soak/multi.Dockerfile",
            "FROM busybox:latest AS b\nCOPY app.txt /app.txt\nRUN cat /app.txt > /copy\nFROM busybox:latest\nCOPY --from=b /copy /copy\n",
        ),
    ]);
    let before = daemon_counts();
    let out = dir.path().join("out");
    let started = Instant::now();
    let out_arg = out.display().to_string();
    let mut child = spawn_stagebench(
        dir.path(),
        &[
            "run",
            "sbtest-soak",
            "--runs",
            "50",
            "--cache",
            "cold,warm",
            "--rm",
            "-q",
            "--out",
            &out_arg,
        ],
    );
    let pid = child.id();
    // Figures once the run is under way (20 builds) and near its end (195 builds).
    let (mut early, mut late, mut peak_rss_kib) = (None, None, 0);
    while child.try_wait().unwrap().is_none() {
        if let Some((rss, fds)) = process_figures(pid) {
            peak_rss_kib = peak_rss_kib.max(rss);
            let rows = rows_written(&out);
            if rows >= 20 && early.is_none() {
                early = Some((rss, fds));
            }
            if rows >= 195 && late.is_none() {
                late = Some((rss, fds));
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let output = child.wait_with_output().unwrap();
    let seconds = started.elapsed().as_secs_f64();
    assert!(output.status.success(), "{}", stderr(&output));
    let rows = results(&out);
    assert_eq!(rows.len(), 200);
    assert!(rows.iter().all(|r| r.status == BuildStatus::Ok), "{rows:?}");
    let after = daemon_counts();
    let (early, late) = (early.unwrap(), late.unwrap());
    eprintln!(
        "soak: 200 builds in {seconds:.0} s; containers/images/build-cache records before {before:?}, after {after:?}; \
         stagebench after 20 builds: {} KiB resident, {} open files; after 195 builds: {} KiB, {} open files; peak {} KiB",
        early.0, early.1, late.0, late.1, peak_rss_kib
    );
    assert_eq!(after, before, "the daemon holds what it held before (--rm)");
    assert!(
        late.1 <= early.1 + 2,
        "open files grew: {early:?} -> {late:?}"
    );
    assert!(
        late.0 <= early.0 + 8 * 1024,
        "memory grew: {early:?} -> {late:?}"
    );
}
