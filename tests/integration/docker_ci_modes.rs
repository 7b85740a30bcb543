//! Builds as CI runs them, against a real daemon and a real registry: what each CI cache mode
//! takes from cache, that prebuilds are pulled, what the cache weighs in the registry, and that
//! the run touches nothing in the registry outside its own path.

use stagebench::cache_mode::CacheMode;
use stagebench::registry::{Registry, RegistryAccess};
use stagebench::results::{BuildStatus, ResultSet, StepRecord};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use crate::support::{
    RemoveOnDrop, docker_cli, docker_daemon, files_under, results, stagebench, stagebench_with_env,
    stderr, write_tree,
};
use crate::support_registry::{RegistrySetup, start_registry};

/// A two-stage and a one-stage Dockerfile over the same steps: a slow step, then the edited
/// file copied and used. `nonce` keeps older build cache from matching any step.
fn ci_scenario(nonce: &str) -> tempfile::TempDir {
    write_tree(&[
        ("ci-modes/app.txt", "v1\n"),
        (
            "ci-modes/single.Dockerfile",
            &format!(
                "FROM busybox:latest\nRUN echo deps-{nonce} > /deps && sleep 1\nCOPY app.txt /src/app.txt\nRUN cp /src/app.txt /built\n"
            ),
        ),
        (
            "ci-modes/multi.Dockerfile",
            &format!(
                "FROM busybox:latest AS builder\nRUN echo deps-{nonce} > /deps && sleep 1\nCOPY app.txt /src/app.txt\nRUN cp /src/app.txt /built\n\nFROM busybox:latest\nCOPY --from=builder /built /built\n"
            ),
        ),
        (
            "ci-modes/scenario.toml",
            "baseline = \"single\"\n\n[incremental]\ntouch = [\"app.txt\"]\n",
        ),
    ])
}

fn nonce() -> String {
    format!(
        "{:x}-{:x}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default()
    )
}

fn steps_of<'a>(steps: &'a [StepRecord], variant: &str, cache: CacheMode) -> Vec<&'a StepRecord> {
    steps
        .iter()
        .filter(|s| s.variant == variant && s.cache == cache && s.step > 1)
        .collect()
}

fn block_on<T>(future: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Runtime::new()
        .expect("tokio runtime")
        .block_on(future)
}

/// Every `repository:tag` the registry holds.
fn registry_tags(access: &RegistryAccess) -> BTreeSet<(String, String)> {
    let client = access.client().expect("registry client");
    block_on(async {
        let mut all = BTreeSet::new();
        for repository in client.catalog().await.expect("catalog") {
            // A repository whose every tag was deleted may answer with no tag list at all.
            for tag in client.tags(&repository).await.unwrap_or_default() {
                all.insert((repository.clone(), tag));
            }
        }
        all
    })
}

fn access(address: &str, prefix: &str) -> RegistryAccess {
    let value = if prefix.is_empty() {
        address.to_string()
    } else {
        format!("{address}/{prefix}")
    };
    let registry = Registry::parse(&value).expect("registry");
    RegistryAccess {
        registry,
        credentials: None,
        docker_config: std::path::PathBuf::from("/nonexistent/config.json"),
    }
}

#[test]
fn docker_ci_inline_rebuilds_a_builder_stage_that_ci_stages_takes_from_cache() {
    let Some(_daemon) = docker_daemon() else {
        return;
    };
    let Some(registry) = start_registry(&RegistrySetup::default()) else {
        return;
    };
    let nonce = nonce();
    let tree = ci_scenario(&nonce);
    let _cleanup = RemoveOnDrop(vec!["stagebench/ci-modes".to_string()]);
    // Someone else's image under another path of the same registry.
    let foreign = format!("{}/someone/else:keep", registry.address);
    let tagged = docker_cli(&["tag", "busybox:latest", &foreign], &BTreeMap::new());
    assert!(tagged.status.success(), "{}", stderr(&tagged));
    let pushed = docker_cli(&["push", &foreign], &BTreeMap::new());
    assert!(pushed.status.success(), "{}", stderr(&pushed));
    docker_cli(&["rmi", &foreign], &BTreeMap::new());

    let registry_arg = format!("{}/team", registry.address);
    let output = stagebench(
        tree.path(),
        &[
            "run",
            "ci-modes",
            "--cache",
            "ci-inline,ci-stages",
            "--runs",
            "1",
            "--registry",
            &registry_arg,
            "--out",
            "out",
        ],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let out = tree.path().join("out");
    let rows = results(&out);
    assert_eq!(rows.len(), 4, "{rows:?}");
    assert!(rows.iter().all(|r| r.status == BuildStatus::Ok), "{rows:?}");
    let steps = ResultSet::load(&out).expect("results").steps;

    // multi under ci-inline: the inline cache holds the final stage only, so every step of the
    // builder stage runs, the slow one before the edit included.
    let inline = steps_of(&steps, "multi", CacheMode::CiInline);
    let builder: Vec<_> = inline.iter().filter(|s| s.stage == "builder").collect();
    assert_eq!(builder.len(), 3, "{inline:?}");
    assert!(builder.iter().all(|s| !s.cached), "{builder:?}");
    // multi under ci-stages: the builder's own cache was imported, so its slow step before the
    // edited COPY comes from it.
    let stages = steps_of(&steps, "multi", CacheMode::CiStages);
    let slow = stages
        .iter()
        .find(|s| s.stage == "builder" && s.instruction.contains("sleep 1"))
        .expect("the builder's slow step");
    assert!(slow.cached, "{stages:?}");
    // single under ci-inline: its steps before the edited COPY come from the inline cache.
    let single = steps_of(&steps, "single", CacheMode::CiInline);
    let copy = single
        .iter()
        .position(|s| s.instruction.contains("COPY app.txt"))
        .expect("the edited COPY");
    assert!(
        copy > 0 && single[..copy].iter().all(|s| s.cached),
        "{single:?}"
    );
    assert!(!single[copy].cached, "the edited COPY runs: {single:?}");

    // export_seconds and cache_bytes are recorded on each row that imports a cache, and the
    // bytes are what the registry's manifests list for the tags it imported.
    let access = access(&registry.address, "team");
    let client = access.client().expect("client");
    for row in &rows {
        assert!(row.export_seconds.is_some_and(|s| s > 0.0), "{row:?}");
        let repository = access.registry.repository_path("ci-modes", &row.variant);
        let tags = block_on(client.tags(&repository)).expect("tags");
        let imported: Vec<&String> = tags
            .iter()
            .filter(|t| match row.cache {
                CacheMode::CiInline => t.ends_with("-inline"),
                _ => t.ends_with("-stages-final") || t.contains("-stage-"),
            })
            .collect();
        assert!(!imported.is_empty(), "{tags:?}");
        let mut blobs = BTreeMap::new();
        for tag in imported {
            blobs.extend(block_on(client.blob_sizes(&repository, tag)).expect("blobs"));
        }
        assert_eq!(
            row.cache_bytes,
            Some(blobs.values().sum::<u64>()),
            "{row:?}"
        );
    }

    // Everything the run pushed is under team/stagebench/ci-modes/; the other tag is untouched.
    let held = registry_tags(&access);
    assert!(held.contains(&("someone/else".to_string(), "keep".to_string())));
    for (repository, _) in &held {
        assert!(
            repository == "someone/else" || repository.starts_with("team/stagebench/ci-modes/"),
            "{held:?}"
        );
    }
}

#[test]
fn docker_ci_cold_pulls_the_prebuilds_and_rm_deletes_only_the_run_s_tags() {
    let Some(_daemon) = docker_daemon() else {
        return;
    };
    let Some(registry) = start_registry(&RegistrySetup::default()) else {
        return;
    };
    let nonce = nonce();
    let tree = write_tree(&[
        (
            "ci-prebuilt/pre.Dockerfile",
            &format!(
                "FROM busybox:latest AS base\nRUN head -c 3000000 /dev/urandom > /blob && echo {nonce} > /nonce\n"
            ),
        ),
        (
            "ci-prebuilt/prebuilt.Dockerfile",
            "FROM stagebench/ci-prebuilt-pre:base\nRUN cat /nonce > /used\n",
        ),
        (
            "ci-prebuilt/scenario.toml",
            "[[prebuild]]\ntag = \"stagebench/ci-prebuilt-pre:base\"\ndockerfile = \"pre.Dockerfile\"\n",
        ),
    ]);
    let _cleanup = RemoveOnDrop(vec![
        "stagebench/ci-prebuilt".to_string(),
        "stagebench/ci-prebuilt-pre".to_string(),
    ]);
    let other = format!("{}/stagebench-like/other:1", registry.address);
    assert!(
        docker_cli(&["tag", "busybox:latest", &other], &BTreeMap::new())
            .status
            .success()
    );
    assert!(
        docker_cli(&["push", &other], &BTreeMap::new())
            .status
            .success()
    );
    docker_cli(&["rmi", &other], &BTreeMap::new());
    let pulled_prefix = format!("{}/stagebench/ci-prebuilt/prebuilds:", registry.address);
    assert_eq!(
        pulled_from(&pulled_prefix),
        Vec::<String>::new(),
        "no build cache of the prebuilds' registry copy before the run"
    );

    // One run of the prebuilt variant against the registry, with `--rm`: the rows it wrote.
    let run = |modes: &str, extra: &[&str], out: &str| {
        let mut args = vec![
            "run",
            "ci-prebuilt",
            "--variant",
            "prebuilt",
            "--cache",
            modes,
            "--runs",
            "1",
            "--registry",
            &registry.address,
            "--rm",
            "--out",
            out,
        ];
        args.extend_from_slice(extra);
        let output = stagebench(tree.path(), &args);
        assert!(output.status.success(), "{}", stderr(&output));
        results(&tree.path().join(out))
    };
    // A run in the CI mode alone, with `--prune all`: its fresh machine empties the whole build
    // cache before the build, and no prune follows it (the end-of-run prune of the records a run
    // made is `--prune new`'s), so what the pull left is still there to see.
    let rows = run("ci-cold", &["--prune", "all"], "out-ci");
    let out = tree.path().join("out-ci");
    assert_eq!(rows.len(), 1, "{rows:?}");
    let ci = &rows[0];
    assert_eq!((ci.cache, ci.status), (CacheMode::CiCold, BuildStatus::Ok));
    assert!(ci.pull_seconds.is_some_and(|s| s > 0.0), "{ci:?}");
    assert_eq!(ci.export_seconds, None);
    assert_eq!(ci.cache_bytes, None);
    // The timed build named the prebuild by its registry copy, which no build cache of the daemon
    // held before the run (checked above), and BuildKit pulled it: its build cache holds it now.
    let steps = ResultSet::load(&out).expect("results").steps;
    let from = steps
        .iter()
        .find(|s| s.instruction.starts_with("FROM "))
        .expect("the FROM step");
    assert!(from.instruction.contains(&pulled_prefix), "{from:?}");
    let pulled = pulled_from(&pulled_prefix);
    assert!(
        !pulled.is_empty(),
        "the pulled prebuild is in the build cache"
    );

    // Both modes in one run: the local cold build finds its prebuild locally again.
    let rows = run("ci-cold,cold", &[], "out");
    assert!(rows.iter().all(|r| r.status == BuildStatus::Ok), "{rows:?}");
    // The cold row in the other mode found its prebuild locally again.
    let cold: Vec<_> = rows.iter().filter(|r| r.cache == CacheMode::Cold).collect();
    assert_eq!(cold.len(), 1);
    assert_eq!(cold[0].status, BuildStatus::Ok, "{rows:?}");
    assert_eq!(cold[0].pull_seconds, None);

    // --rm deleted the run's tags and nothing else.
    let access = access(&registry.address, "");
    let held = registry_tags(&access);
    assert_eq!(
        held,
        BTreeSet::from([("stagebench-like/other".to_string(), "1".to_string())]),
        "only the tag someone else pushed is left"
    );
}

/// The descriptions of the daemon's build-cache records that BuildKit made pulling an image whose
/// reference starts with `prefix`.
fn pulled_from(prefix: &str) -> Vec<String> {
    let listed = docker_cli(
        &[
            "system",
            "df",
            "-v",
            "--format",
            "{{range .BuildCache}}{{.Description}}\n{{end}}",
        ],
        &BTreeMap::new(),
    );
    assert!(listed.status.success(), "{}", stderr(&listed));
    String::from_utf8_lossy(&listed.stdout)
        .lines()
        .filter(|d| {
            d.strip_prefix("pulled from ")
                .is_some_and(|image| image.starts_with(prefix))
        })
        .map(str::to_string)
        .collect()
}

/// A prebuilt variant and the prebuild it starts from, named with `nonce`.
fn prebuilt_scenario(nonce: &str) -> tempfile::TempDir {
    write_tree(&[
        (
            "ci-auth/pre.Dockerfile",
            &format!("FROM busybox:latest\nRUN echo {nonce} > /nonce\n"),
        ),
        (
            "ci-auth/prebuilt.Dockerfile",
            "FROM stagebench/ci-auth-pre:base\nRUN cat /nonce > /used\n",
        ),
        (
            "ci-auth/scenario.toml",
            "[[prebuild]]\ntag = \"stagebench/ci-auth-pre:base\"\ndockerfile = \"pre.Dockerfile\"\n",
        ),
    ])
}

#[test]
fn docker_a_registry_with_htpasswd_takes_the_docker_config_s_login_and_a_wrong_one_stops_the_run_before_any_build()
 {
    let Some(_daemon) = docker_daemon() else {
        return;
    };
    // `+`, `/` and `?` make the standard and URL-safe base64 forms of the login differ.
    const PASSWORD: &str = "pa+ss/wo?rd>~-ci-auth-7";
    const WRONG: &str = "wrong+pa/ss?wd>~-ci-auth";
    let Some(registry) = start_registry(&RegistrySetup {
        user: Some(("ci-user", PASSWORD)),
        ..RegistrySetup::default()
    }) else {
        return;
    };
    let tree = prebuilt_scenario(&nonce());
    let _cleanup = RemoveOnDrop(vec![
        "stagebench/ci-auth".to_string(),
        "stagebench/ci-auth-pre".to_string(),
    ]);
    let config = |password: &str| {
        let dir = tempfile::tempdir().expect("temp dir");
        let auth = crate::support_registry::basic("ci-user", password);
        let auth = auth.trim_start_matches("Basic ");
        std::fs::write(
            dir.path().join("config.json"),
            format!(
                r#"{{"auths":{{"{}":{{"auth":"{auth}"}}}}}}"#,
                registry.address
            ),
        )
        .expect("config.json");
        dir
    };
    let run = |config: &Path, out: &str| {
        let config = config.display().to_string();
        stagebench_with_env(
            tree.path(),
            &[
                "run",
                "ci-auth",
                "--variant",
                "prebuilt",
                "--cache",
                "ci-cold",
                "--runs",
                "1",
                "--registry",
                &registry.address,
                "--out",
                out,
            ],
            &[("DOCKER_CONFIG", config.as_str())],
        )
    };

    let wrong = config(WRONG);
    let refused = run(wrong.path(), "refused");
    assert!(!refused.status.success());
    let message = stderr(&refused);
    assert!(message.contains(&registry.address), "{message}");
    assert!(message.contains("refused the credentials"), "{message}");
    assert_eq!(message.trim().lines().count(), 1, "one sentence: {message}");
    assert!(
        !message.contains(WRONG) && !message.contains(PASSWORD),
        "{message}"
    );
    assert!(
        !tree.path().join("refused/results.csv").exists(),
        "nothing was built"
    );

    let right = config(PASSWORD);
    let output = run(right.path(), "out");
    assert!(output.status.success(), "{}", stderr(&output));
    let rows = results(&tree.path().join("out"));
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0].status, BuildStatus::Ok, "{rows:?}");
    assert!(rows[0].pull_seconds.is_some(), "{rows:?}");
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        stderr(&output)
    );
    assert!(!printed.contains(PASSWORD), "{printed}");
    for file in files_under(&tree.path().join("out")) {
        let bytes = std::fs::read(&file).unwrap_or_default();
        let text = String::from_utf8_lossy(&bytes);
        assert!(!text.contains(PASSWORD), "{}", file.display());
    }
}
