//! A cold run on a daemon someone also uses for other work: it prunes only the build-cache
//! records this run made, so another project's cache survives, and a cold build ignores the
//! cache, so an older record that would serve it does not, and its row is truly cold the first
//! time.

use std::collections::BTreeSet;
use std::path::Path;

use stagebench::cache_mode::CacheMode;
use stagebench::engine::{Endpoint, Engine};
use stagebench::results::BuildStatus;

use crate::support::{
    RemoveOnDrop, docker_build_in, docker_daemon, results, stagebench, stderr, write_tree,
};

/// IDs of every build-cache record on the test daemon.
fn cache_record_ids() -> BTreeSet<String> {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let engine = Engine::connect(&Endpoint::from_environment().unwrap())
            .await
            .unwrap();
        engine
            .list_build_cache()
            .await
            .unwrap()
            .into_iter()
            .map(|r| r.id)
            .collect()
    })
}

#[test]
fn docker_a_cold_run_keeps_other_projects_build_cache_and_its_rows_stay_truly_cold() {
    let Some(_daemon) = docker_daemon() else {
        return;
    };
    let nonce = format!("{:016x}", std::process::id() as u64 * 7919 + 17);
    let tree = write_tree(&[
        (
            "other/Dockerfile",
            &format!("FROM busybox:latest\nRUN echo unrelated-{nonce} > /u\n"),
        ),
        ("keep-test/a.txt", &format!("{nonce}\n")),
        (
            "keep-test/single.Dockerfile",
            "FROM busybox:latest\nCOPY a.txt /a\nRUN cat /a > /b\n",
        ),
    ]);
    let _cleanup = RemoveOnDrop(vec![
        "stagebench/keep-test".to_string(),
        "stagebench-test/other".to_string(),
        "stagebench-test/keep-cli".to_string(),
    ]);
    // Another project's cache, and what is left of someone's own build of the scenario's
    // Dockerfile: a cold build pruning only its own records would take its steps from it.
    docker_build_in(
        &tree.path().join("other"),
        "Dockerfile",
        "stagebench-test/other:latest",
    );
    docker_build_in(
        &tree.path().join("keep-test"),
        "single.Dockerfile",
        "stagebench-test/keep-cli:latest",
    );
    // An image with the very layers a build makes pins that build's records, so the image goes
    // and its cache stays, as after someone's `docker build` and `docker rmi`.
    crate::support::remove_repository("stagebench-test/keep-cli");
    let before = cache_record_ids();
    assert!(!before.is_empty());

    let out = tree.path().join("out");
    let out_arg = out.display().to_string();
    let dir = tree.path().join("keep-test").display().to_string();
    let output = stagebench(
        Path::new("/"),
        &[
            "run",
            &dir,
            "--runs",
            "2",
            "--cache",
            "cold,warm",
            "--rm",
            "--out",
            &out_arg,
        ],
    );
    // With --rm no image is kept, so nothing holds the run's records and all of them go.
    assert!(output.status.success(), "{}", stderr(&output));
    let after = cache_record_ids();
    assert_eq!(after, before, "the run leaves exactly the records it found");
    let images = crate::support::docker_cli(
        &["images", "-q", "stagebench/keep-test"],
        &Default::default(),
    );
    assert!(
        String::from_utf8_lossy(&images.stdout).trim().is_empty(),
        "--rm keeps no image"
    );

    let rows = results(&out);
    assert_eq!(rows.len(), 4);
    for row in &rows {
        assert_eq!(row.status, BuildStatus::Ok, "{row:?}");
        match row.cache {
            CacheMode::Cold => assert_eq!(row.cached_steps, 0, "a cold row is truly cold: {row:?}"),
            CacheMode::Warm => assert_eq!(row.cached_steps, row.total_steps, "{row:?}"),
            CacheMode::Incremental
            | CacheMode::CiCold
            | CacheMode::CiInline
            | CacheMode::CiStages => panic!("this run measured only cold and warm: {row:?}"),
        }
    }
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        stderr(&output)
    );
    // No cold attempt was served by the older record and thrown away.
    assert!(!printed.contains("older than this run"), "{printed}");
    let meta: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("meta.json")).unwrap()).unwrap();
    let cost = &meta["scenarios"][0]["cost"];
    assert!(cost.is_object(), "{meta}");
    // meta.json leaves out a count of none.
    assert_eq!(
        cost["discarded_cold_builds"].as_u64().unwrap_or(0),
        0,
        "{cost}"
    );

    // By default the final image is kept, and with it the records of its layers; every record
    // that predates the run is still there.
    let kept_out = tree.path().join("kept").display().to_string();
    let output = stagebench(
        Path::new("/"),
        &[
            "run", &dir, "--runs", "1", "--cache", "cold", "--out", &kept_out,
        ],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let after = cache_record_ids();
    assert!(before.is_subset(&after), "{before:?} not all in {after:?}");

    // `--prune all` is the old behaviour for a dedicated daemon: the whole cache goes.
    let all_out = tree.path().join("all").display().to_string();
    let output = stagebench(
        Path::new("/"),
        &[
            "run", &dir, "--runs", "1", "--cache", "cold", "--prune", "all", "--out", &all_out,
        ],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let left = cache_record_ids();
    assert!(
        before.iter().all(|id| !left.contains(id)),
        "--prune all removed the records that predate the run"
    );
}
