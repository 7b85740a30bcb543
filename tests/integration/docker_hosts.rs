//! Several Docker hosts for real: two extra daemons started by the tests, scenarios spread over
//! them and built concurrently, every scenario on every host, results folders merged, a daemon
//! behind TLS, a docker CLI context, and a run killed with SIGKILL and resumed.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use stagebench::results::{BuildStatus, RunMeta};

use crate::extra_daemons::{Certificates, ExtraDaemon};
use crate::support::{
    RemoveOnDrop, dangling_images, docker_daemon, results, stagebench, stagebench_with_env, stderr,
};

/// A scenario whose builds take a few seconds of sleeping, so that overlap is measurable.
fn sleepy_scenario(root: &Path, name: &str, seconds: u32) {
    let dockerfile = |tag: &str| {
        format!("FROM busybox:latest\nRUN echo {tag} && sleep {seconds}\nCOPY app.txt /app.txt\n")
    };
    for (file, text) in [
        (
            "scenario.toml".to_string(),
            format!("name = \"{name}\"\n[incremental]\ntouch = [\"app.txt\"]\n"),
        ),
        ("app.txt".to_string(), "hello\n".to_string()),
        ("single.Dockerfile".to_string(), dockerfile("single")),
        (
            "multi.Dockerfile".to_string(),
            format!(
                "FROM busybox:latest AS build\nRUN echo multi && sleep {seconds} && echo built > /out\n\
             FROM busybox:latest\nCOPY --from=build /out /out\nCOPY app.txt /app.txt\n"
            ),
        ),
    ] {
        let path = root.join(name).join(file);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
}

/// `(scenario, variant, builder, cache, host)` of every row of a summary.csv.
fn summary_groups(dir: &Path) -> BTreeSet<(String, String, String, String, String)> {
    let mut reader = csv::Reader::from_path(dir.join("summary.csv")).unwrap();
    reader
        .deserialize::<BTreeMap<String, String>>()
        .map(|row| {
            let row = row.unwrap();
            (
                row["scenario"].clone(),
                row["variant"].clone(),
                row["builder"].clone(),
                row["cache"].clone(),
                row["host"].clone(),
            )
        })
        .collect()
}

#[test]
fn docker_two_hosts_build_one_scenario_each_concurrently() {
    let Some(_daemon) = docker_daemon() else {
        return;
    };
    let (sb1, sb2) = (ExtraDaemon::start(1, None), ExtraDaemon::start(2, None));
    let root = tempfile::tempdir().unwrap();
    sleepy_scenario(root.path(), "sbtest-east", 3);
    sleepy_scenario(root.path(), "sbtest-west", 3);
    let host1 = format!("sb1={}", sb1.unix_url());
    let host2 = format!("sb2={}", sb2.unix_url());
    let output = stagebench(
        root.path(),
        &[
            "run",
            "sbtest-east",
            "sbtest-west",
            "--cache",
            "cold",
            "--runs",
            "2",
            "--docker-host",
            &host1,
            "--docker-host",
            &host2,
            "--out",
            "out",
        ],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let out = root.path().join("out");
    let rows = results(&out);
    assert_eq!(rows.len(), 8);
    for row in &rows {
        let expected = if row.scenario == "sbtest-east" {
            "sb1"
        } else {
            "sb2"
        };
        assert_eq!(
            row.host, expected,
            "every row of a scenario stays on its host: {row:?}"
        );
        assert_eq!(row.status, BuildStatus::Ok);
    }
    let meta = RunMeta::read(&out).unwrap();
    let names: Vec<&str> = meta.hosts.iter().map(|h| h.name.as_str()).collect();
    assert_eq!(names, ["sb1", "sb2"]);
    for host in &meta.hosts {
        assert!(!host.daemon.daemon_id.is_empty() && !host.daemon.version.is_empty());
        assert!(
            host.endpoint.starts_with("unix:///tmp/sbd"),
            "{}",
            host.endpoint
        );
    }
    assert_ne!(
        meta.hosts[0].fingerprint(),
        meta.hosts[1].fingerprint(),
        "two daemons, two fingerprints"
    );
    // Each host's busy time is its scenario's wall time; in parallel the run takes about the
    // longer of the two, one after the other it would take their sum.
    let busy: f64 = meta
        .scenarios
        .iter()
        .map(|s| s.cost.unwrap().wall_seconds)
        .sum();
    let wall = meta.invocations[0].wall_seconds.unwrap();
    assert!(
        wall < 0.75 * busy,
        "the hosts did not work concurrently: wall {wall:.1} s, busy {busy:.1} s"
    );
    // Each daemon keeps its own final images; the main daemon got none of them.
    for (daemon, scenario) in [(&sb1, "sbtest-east"), (&sb2, "sbtest-west")] {
        let listing = daemon.docker(&["images", "--format", "{{.Repository}}:{{.Tag}}"]);
        let text = String::from_utf8_lossy(&listing.stdout);
        assert!(
            text.contains(&format!("stagebench/{scenario}:single")),
            "{text}"
        );
    }
}

#[test]
fn docker_on_every_host_groups_by_host_and_merging_single_host_folders_gives_the_same_groups() {
    let Some(_daemon) = docker_daemon() else {
        return;
    };
    let (sb1, sb2) = (ExtraDaemon::start(1, None), ExtraDaemon::start(2, None));
    let root = tempfile::tempdir().unwrap();
    sleepy_scenario(root.path(), "sbtest-every", 0);
    let host1 = format!("sb1={}", sb1.unix_url());
    let host2 = format!("sb2={}", sb2.unix_url());
    let base = ["run", "sbtest-every", "--cache", "cold,warm", "--runs", "2"];
    let both = stagebench(
        root.path(),
        &[
            &base[..],
            &[
                "--docker-host",
                &host1,
                "--docker-host",
                &host2,
                "--on-every-host",
                "--out",
                "both",
            ],
        ]
        .concat(),
    );
    assert!(both.status.success(), "{}", stderr(&both));
    let both_dir = root.path().join("both");
    let groups = summary_groups(&both_dir);
    assert_eq!(groups.len(), 2 * 2 * 2, "{groups:?}");
    for host in ["sb1", "sb2"] {
        assert_eq!(groups.iter().filter(|g| g.4 == host).count(), 4);
        assert!(
            both_dir
                .join(format!("sbtest-every-{host}-build-time.png"))
                .is_file()
        );
    }
    let report = std::fs::read_to_string(both_dir.join("report.md")).unwrap();
    assert!(
        report.contains("## sbtest-every on sb1") && report.contains("## sbtest-every on sb2"),
        "{report}"
    );
    let table = String::from_utf8_lossy(&both.stdout);
    assert!(table.contains("sbtest-every on sb1"), "{table}");

    for (host, out) in [(&host1, "one"), (&host2, "two")] {
        let output = stagebench(
            root.path(),
            &[&base[..], &["--docker-host", host, "--out", out]].concat(),
        );
        assert!(output.status.success(), "{}", stderr(&output));
    }
    let merged = stagebench(root.path(), &["merge", "one", "two", "--out", "merged"]);
    assert!(merged.status.success(), "{}", stderr(&merged));
    let merged_dir = root.path().join("merged");
    assert_eq!(
        summary_groups(&merged_dir),
        groups,
        "the same groups as one two-host run"
    );
    assert_eq!(results(&merged_dir).len(), results(&both_dir).len());
    let meta = RunMeta::read(&merged_dir).unwrap();
    assert_eq!(meta.merged_from.len(), 2);
    assert_eq!(meta.invocations.len(), 2);

    // The same folder twice would count its rows twice.
    let twice = stagebench(root.path(), &["merge", "one", "one", "--out", "twice"]);
    assert!(!twice.status.success());
    assert!(
        stderr(&twice).contains("would count twice"),
        "{}",
        stderr(&twice)
    );

    // Hosts that share a name but not a daemon are kept apart.
    let same_name = [
        format!("box={}", sb1.unix_url()),
        format!("box={}", sb2.unix_url()),
    ];
    for (host, out) in same_name.iter().zip(["box1", "box2"]) {
        let output = stagebench(
            root.path(),
            &[&base[..], &["--docker-host", host, "--out", out]].concat(),
        );
        assert!(output.status.success(), "{}", stderr(&output));
    }
    let apart = stagebench(root.path(), &["merge", "box1", "box2", "--out", "apart"]);
    assert!(apart.status.success(), "{}", stderr(&apart));
    let hosts: BTreeSet<String> = summary_groups(&root.path().join("apart"))
        .into_iter()
        .map(|g| g.4)
        .collect();
    assert_eq!(hosts.len(), 2, "{hosts:?}");
    assert!(hosts.contains("box"));

    // A scenario of the same name with other variants is a different experiment.
    let narrower = stagebench(
        root.path(),
        &[
            &base[..],
            &[
                "--docker-host",
                &host1,
                "--variant",
                "single",
                "--out",
                "narrow",
            ],
        ]
        .concat(),
    );
    assert!(narrower.status.success(), "{}", stderr(&narrower));
    let refused = stagebench(root.path(), &["merge", "one", "narrow", "--out", "refused"]);
    assert!(!refused.status.success());
    let message = stderr(&refused);
    assert_eq!(message.trim().lines().count(), 1, "{message}");
    assert!(
        message.contains("one") && message.contains("narrow") && message.contains("variants"),
        "{message}"
    );
}

#[test]
fn docker_tls_host_is_verified_against_its_ca_and_contexts_work() {
    let Some(_daemon) = docker_daemon() else {
        return;
    };
    let certificates = Certificates::make();
    let daemon = ExtraDaemon::start(3, Some(&certificates));
    let root = tempfile::tempdir().unwrap();
    sleepy_scenario(root.path(), "sbtest-tls", 0);
    let url = daemon.tcp_url();
    let client = certificates.client().display().to_string();
    let host = format!("secure={url}");
    let args = [
        "run",
        "sbtest-tls",
        "--cache",
        "cold",
        "--runs",
        "1",
        "--docker-host",
        &host,
    ];

    let trusted = stagebench_with_env(
        root.path(),
        &[&args[..], &["--out", "trusted"]].concat(),
        &[("DOCKER_TLS_VERIFY", "1"), ("DOCKER_CERT_PATH", &client)],
    );
    assert!(trusted.status.success(), "{}", stderr(&trusted));
    let rows = results(&root.path().join("trusted"));
    assert!(
        rows.iter()
            .all(|r| r.host == "secure" && r.status == BuildStatus::Ok)
    );
    let meta = RunMeta::read(&root.path().join("trusted")).unwrap();
    assert_eq!(meta.hosts[0].endpoint, url);

    let stranger = certificates.stranger().display().to_string();
    let refused = stagebench_with_env(
        root.path(),
        &[&args[..], &["--out", "refused"]].concat(),
        &[("DOCKER_TLS_VERIFY", "1"), ("DOCKER_CERT_PATH", &stranger)],
    );
    assert!(!refused.status.success());
    let message = stderr(&refused);
    assert_eq!(message.trim().lines().count(), 1, "one sentence: {message}");
    assert!(message.contains(&url), "{message}");
    assert!(
        message.contains(&format!("not signed by the CA in {stranger}/ca.pem")),
        "{message}"
    );
    assert!(!root.path().join("refused").exists(), "nothing is written");

    // A context made by the docker CLI itself, TLS files included.
    let config = tempfile::tempdir().unwrap();
    let config_dir = config.path().display().to_string();
    let docker_endpoint =
        format!("host={url},ca={client}/ca.pem,cert={client}/cert.pem,key={client}/key.pem");
    let created = Command::new("docker")
        .args(["context", "create", "sbctx", "--docker", &docker_endpoint])
        .env("DOCKER_CONFIG", &config_dir)
        .output()
        .unwrap();
    assert!(
        created.status.success(),
        "{}",
        String::from_utf8_lossy(&created.stderr)
    );
    let via_context = stagebench_with_env(
        root.path(),
        &[
            "run",
            "sbtest-tls",
            "--cache",
            "cold",
            "--runs",
            "1",
            "--context",
            "sbctx",
            "--out",
            "context",
        ],
        &[("DOCKER_CONFIG", &config_dir)],
    );
    assert!(via_context.status.success(), "{}", stderr(&via_context));
    let rows = results(&root.path().join("context"));
    assert!(
        rows.iter()
            .all(|r| r.host == "sbctx" && r.status == BuildStatus::Ok)
    );
    let meta = RunMeta::read(&root.path().join("context")).unwrap();
    assert_eq!(meta.settings.hosts[0].context.as_deref(), Some("sbctx"));
}

#[test]
fn docker_sigkill_halfway_then_resume_ends_with_every_row_once() {
    let Some(_daemon) = docker_daemon() else {
        return;
    };
    let _cleanup = RemoveOnDrop(vec!["stagebench/sbtest-killed".to_string()]);
    let root = tempfile::tempdir().unwrap();
    sleepy_scenario(root.path(), "sbtest-killed", 1);
    let dangling_before = dangling_images();
    let args = [
        "run",
        "sbtest-killed",
        "--runs",
        "2",
        "--seed",
        "11",
        "--quiet",
    ];

    let mut child = Command::new(env!("CARGO_BIN_EXE_stagebench"))
        .args([&args[..], &["--out", "killed"]].concat())
        .current_dir(root.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let results_csv = root.path().join("killed/results.csv");
    let deadline = Instant::now() + Duration::from_secs(120);
    // Halfway: 6 of the 12 rows written (the header is the first line).
    while std::fs::read_to_string(&results_csv)
        .map(|text| text.lines().count())
        .unwrap_or(0)
        < 7
    {
        assert!(Instant::now() < deadline, "the run never got halfway");
        assert!(
            child.try_wait().unwrap().is_none(),
            "stagebench ended early"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(300));
    let status = Command::new("kill")
        .args(["-KILL", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    child.wait().unwrap();
    let before_resume = results(&root.path().join("killed")).len();
    assert!((6..12).contains(&before_resume), "{before_resume} rows");

    let resumed = stagebench(root.path(), &["run", "--resume", "killed"]);
    assert!(resumed.status.success(), "{}", stderr(&resumed));
    let uninterrupted = stagebench(root.path(), &[&args[..], &["--out", "whole"]].concat());
    assert!(uninterrupted.status.success(), "{}", stderr(&uninterrupted));

    let keys = |dir: &str| -> Vec<(String, String, u32)> {
        let mut keys: Vec<(String, String, u32)> = results(&root.path().join(dir))
            .into_iter()
            .map(|r| (r.variant, r.cache.to_string(), r.run))
            .collect();
        keys.sort();
        keys
    };
    let resumed_keys = keys("killed");
    assert_eq!(
        resumed_keys,
        keys("whole"),
        "the same rows, none lost or duplicated"
    );
    assert_eq!(resumed_keys.len(), 12);
    let rows = results(&root.path().join("killed"));
    assert!(rows.iter().all(|r| r.status == BuildStatus::Ok), "{rows:?}");
    let run_ids: BTreeSet<&str> = rows.iter().map(|r| r.run_id.as_str()).collect();
    assert_eq!(run_ids.len(), 2, "two invocations wrote the rows");
    assert_eq!(
        dangling_images(),
        dangling_before,
        "the resumed run removed what the killed one left behind"
    );
}
