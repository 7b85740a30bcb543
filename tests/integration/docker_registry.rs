//! The engine against a real registry on loopback (Debian's `docker-registry`): a build's inline
//! cache pushed there serves a build elsewhere through `cache_from`, and registry logins reach
//! pushes, pulls and BuildKit's own pulls (through the session) without a password ever showing
//! in an error.

use std::collections::BTreeMap;
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use stagebench::builder::Builder;
use stagebench::context::BuildContext;
use stagebench::engine::{
    BuildEngine, BuildOutcome, BuildRequest, Endpoint, Engine, ImageRemoval, RegistryLogin,
    StepTiming, run_to_end,
};
use stagebench::secrets::Secrets;

use crate::support::{RemoveOnDrop, docker_daemon, write_tree};

/// A `docker-registry` serving on a free loopback port from a temporary folder; stopped when
/// dropped. Local to this file until the shared registry helper replaces it.
struct Registry {
    process: Child,
    /// `127.0.0.1:<port>`, as image references name it.
    address: String,
    _storage: tempfile::TempDir,
}

impl Registry {
    /// Starts one; with `htpasswd`, pushes and pulls need that file's login.
    fn start(htpasswd: Option<&str>) -> Registry {
        let storage = tempfile::tempdir().unwrap();
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let address = format!("127.0.0.1:{port}");
        let auth = match htpasswd {
            Some(line) => {
                let file = storage.path().join("htpasswd");
                std::fs::write(&file, line).unwrap();
                format!(
                    "auth:\n  htpasswd:\n    realm: r\n    path: {}\n",
                    file.display()
                )
            }
            None => String::new(),
        };
        let config = storage.path().join("config.yml");
        std::fs::write(
            &config,
            format!(
                "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: {address}\n{auth}",
                storage.path().join("data").display()
            ),
        )
        .unwrap();
        let process = Command::new("/usr/bin/docker-registry")
            .arg("serve")
            .arg(&config)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start /usr/bin/docker-registry");
        let registry = Registry {
            process,
            address,
            _storage: storage,
        };
        let deadline = Instant::now() + Duration::from_secs(15);
        while TcpStream::connect(&registry.address).is_err() {
            assert!(
                Instant::now() < deadline,
                "the registry never listened on {}",
                registry.address
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        registry
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

/// A token no earlier build used, so that no older build-cache record can match a step.
fn unique_token() -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{:x}-{nanos:x}", std::process::id())
}

fn now_s() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

async fn engine(logins: Vec<RegistryLogin>) -> Engine {
    Engine::connect(&Endpoint::from_environment().unwrap())
        .await
        .unwrap()
        .with_registry_logins(Arc::new(logins))
}

/// Builds `dir/Dockerfile` with BuildKit as `tag`; returns the outcome and when (on this
/// machine's clock, which is the daemon's) the build started.
async fn build(
    engine: &Engine,
    dir: &Path,
    tag: &str,
    cache_from: &[String],
    inline_cache: bool,
) -> (BuildOutcome, f64) {
    let context = BuildContext::new(dir, &dir.join("Dockerfile")).unwrap();
    let build_args = BTreeMap::new();
    let secrets = Secrets::default();
    let request = BuildRequest {
        context: &context,
        tag,
        build_args: &build_args,
        target: None,
        builder: Builder::BuildKit,
        no_cache: false,
        secrets: &secrets,
        cache_from,
        inline_cache,
        account: None,
    };
    let started_s = now_s();
    let outcome = engine
        .build(&request, &mut |_| {}, run_to_end())
        .await
        .unwrap();
    (outcome, started_s)
}

/// Prunes the build-cache records created since `started_s` (this machine's clock, which is
/// the daemon's), leaves first: the records of the test's last build, also those it commits as
/// it lets go after answering, so that a later build finds nothing of it locally. A record
/// another build on the daemon made meanwhile would go too; the builds here take a second or
/// two. A record still held is waited for a few seconds and then left to the assertions.
async fn prune_records_made_since(engine: &Engine, started_s: f64) {
    const SLACK_S: f64 = 0.1;
    let mut idle_rounds = 0;
    while idle_rounds < 15 {
        let records = engine.list_build_cache().await.unwrap();
        let ours: Vec<_> = records
            .iter()
            .filter(|r| r.created_s.is_some_and(|c| c >= started_s - SLACK_S))
            .collect();
        if ours.is_empty() {
            return;
        }
        let mut pruned = false;
        for record in &ours {
            let is_parent = records
                .iter()
                .any(|r| r.parent.as_deref() == Some(record.id.as_str()));
            if !is_parent && !record.in_use {
                pruned |= engine.prune_build_cache_record(&record.id).await.unwrap();
            }
        }
        if pruned {
            idle_rounds = 0;
        } else {
            idle_rounds += 1;
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

fn rows(timings: &[StepTiming]) -> String {
    timings
        .iter()
        .map(|t| format!("{t:?}"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn docker_inline_cache_pushed_to_a_registry_leaves_a_build_without_cache_from_uncached_and_makes_one_with_it_cached()
 {
    let Some(_daemon) = docker_daemon() else {
        return;
    };
    let registry = Registry::start(None);
    let token = unique_token();
    let dir = write_tree(&[(
        "Dockerfile",
        &format!("FROM busybox:latest\nRUN echo {token} > /a\nRUN cat /a > /b\n"),
    )]);
    let reference = format!("{}/cache/app-{token}:1", registry.address);
    let _cleanup = RemoveOnDrop(vec![reference.trim_end_matches(":1").to_string()]);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let engine = engine(Vec::new()).await;

        let (first, first_started_s) = build(&engine, dir.path(), &reference, &[], true).await;
        assert_eq!(first.result, Ok(()), "{first:?}");
        assert_eq!(first.steps.cached_steps, 0, "{first:?}");
        engine.push(&reference, &mut |_| {}).await.unwrap();
        assert!(
            engine
                .remove_image(ImageRemoval::Tag(&reference))
                .await
                .unwrap()
        );
        prune_records_made_since(&engine, first_started_s).await;

        // A fresh machine, as far as this Dockerfile goes: only the registry has its cache.
        // Without cache_from nothing serves the steps. (This build comes first: after a
        // build that imported the cache, pruning that build's records was seen to leave its
        // steps cached for the next build all the same.)
        let (without, without_started_s) = build(&engine, dir.path(), &reference, &[], false).await;
        assert_eq!(without.result, Ok(()), "{without:?}");
        assert_eq!(
            (without.steps.cached_steps, without.steps.total_steps),
            (0, 2),
            "without cache_from nothing is cached:\n{}",
            rows(&without.step_timings)
        );
        assert!(
            engine
                .remove_image(ImageRemoval::Tag(&reference))
                .await
                .unwrap()
        );
        prune_records_made_since(&engine, without_started_s).await;

        let (imported, imported_started_s) = build(
            &engine,
            dir.path(),
            &reference,
            std::slice::from_ref(&reference),
            false,
        )
        .await;
        assert_eq!(imported.result, Ok(()), "{imported:?}");
        assert_eq!(
            (imported.steps.cached_steps, imported.steps.total_steps),
            (2, 2),
            "every step comes from the pushed inline cache:\n{}",
            rows(&imported.step_timings)
        );
        assert!(
            engine
                .remove_image(ImageRemoval::Tag(&reference))
                .await
                .unwrap()
        );
        prune_records_made_since(&engine, imported_started_s).await;
    });
}

#[test]
fn docker_registry_logins_reach_pushes_pulls_and_buildkit_from_and_no_error_shows_a_password() {
    let Some(_daemon) = docker_daemon() else {
        return;
    };
    let token = unique_token();
    // `?`, `>` and `~` make the login headers' standard base64 hold `+` and `/`, which the
    // daemon's URL-safe decoding would refuse (and then drop the login).
    let password = format!("p?>~a?>~s?>~s-{token}");
    let wrong_password = format!("w?>~r?>~o?>~ng-{token}");
    // The registry reads bcrypt htpasswd lines; made here, so no Apache tool is needed.
    let hash = bcrypt::hash(&password, 4).expect("bcrypt hash");
    let registry = Registry::start(Some(&format!("user:{hash}\n")));
    let login = |password: &str| RegistryLogin {
        server: registry.address.clone(),
        username: "user".to_string(),
        password: password.to_string(),
    };
    let base = format!("{}/private/base:1", registry.address);
    let base_dir = write_tree(&[(
        "Dockerfile",
        &format!("FROM busybox:latest\nRUN echo {token} > /base-token\n"),
    )]);
    let derived = format!("stagebench-test/from-private-{token}:1");
    let derived_dir = write_tree(&[(
        "Dockerfile",
        &format!("FROM {base}\nRUN cat /base-token > /copy\n"),
    )]);
    let _cleanup = RemoveOnDrop(vec![
        base.trim_end_matches(":1").to_string(),
        derived.trim_end_matches(":1").to_string(),
    ]);
    let no_password = |text: &str| {
        assert!(
            !text.contains(&password) && !text.contains(&wrong_password),
            "{text}"
        );
    };
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let right = engine(vec![login(&password)]).await;
        let wrong = engine(vec![login(&wrong_password)]).await;
        let anonymous = engine(Vec::new()).await;

        let (made, _) = build(&right, base_dir.path(), &base, &[], false).await;
        assert_eq!(made.result, Ok(()), "{made:?}");
        for refused in [&wrong, &anonymous] {
            let error = refused.push(&base, &mut |_| {}).await.unwrap_err();
            let text = error.to_string();
            assert!(text.contains(&format!("push {base}")), "{text}");
            no_password(&text);
            no_password(&format!("{error:?}"));
        }
        right.push(&base, &mut |_| {}).await.unwrap();
        assert!(right.remove_image(ImageRemoval::Tag(&base)).await.unwrap());
        right.pull(&base, &mut |_| {}).await.unwrap();
        assert!(
            right.image(&base).await.unwrap().is_some(),
            "pulled with the login"
        );
        assert!(right.remove_image(ImageRemoval::Tag(&base)).await.unwrap());

        // BuildKit pulls the base itself and asks the session for the login.
        for refused in [&wrong, &anonymous] {
            let (outcome, _) = build(refused, derived_dir.path(), &derived, &[], false).await;
            let failure = format!("{:?}", outcome.result);
            assert!(outcome.result.is_err(), "{outcome:?}");
            no_password(&failure);
            no_password(&format!("{outcome:?}"));
        }
        let (pulled, _) = build(&right, derived_dir.path(), &derived, &[], false).await;
        assert_eq!(pulled.result, Ok(()), "{pulled:?}");
        no_password(&format!("{pulled:?}"));
        // The base's FROM is a timed step of stage 0, not counted; its time is the pull's.
        let from = pulled
            .step_timings
            .iter()
            .find(|t| t.instruction.starts_with(&format!("FROM {base}")))
            .unwrap_or_else(|| panic!("no FROM step:\n{}", rows(&pulled.step_timings)));
        eprintln!(
            "the FROM step: {from:?}\nall steps:\n{}",
            rows(&pulled.step_timings)
        );
        assert_eq!((from.stage.as_str(), from.step), ("0", 1), "{from:?}");
        assert!(from.seconds > 0.0, "{from:?}");
        assert_eq!(pulled.steps.total_steps, 1, "{pulled:?}");
        assert!(
            right
                .remove_image(ImageRemoval::Tag(&derived))
                .await
                .unwrap()
        );
    });
}
