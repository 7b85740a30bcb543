//! The runner's loop and bookkeeping against a fake engine: order, shuffling, priming, resume,
//! timeouts, interruption, several hosts and image cleanup. Time is paused, so a "ten-second
//! build" takes no time. Nothing here is a claim about building, sizes or caching.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::{EventSink, FinishedBuild, Host, PlannedBuildId, RunEvent, RunNote, RunOutcome, run};
use crate::cache_mode::CacheMode;
use crate::config::RunSettings;
use crate::engine::Endpoint;
use crate::engine::fake::{Call, FakeEngine, Script};
use crate::error::EngineError;
use crate::keys::BuildKey;
use crate::plan::{self, Plan, Purpose};
use crate::results::{BuildRecord, BuildStatus, OfBuild, ResultSet, RunMeta};
use crate::run_options::RunOptions;
use crate::scenario::Scenario;

/// Collects events.
#[derive(Default)]
struct Events(Mutex<Vec<RunEvent>>);

impl EventSink for Events {
    fn emit(&self, event: RunEvent) {
        self.0.lock().unwrap().push(event);
    }
}

impl Events {
    fn priming_builds(&self) -> usize {
        self.0
            .lock()
            .unwrap()
            .iter()
            .filter(|e| {
                matches!(
                    e,
                    RunEvent::BuildFinished {
                        build: FinishedBuild::Planned {
                            build: PlannedBuildId {
                                purpose: Purpose::Prime,
                                ..
                            },
                            ..
                        },
                        ..
                    }
                )
            })
            .count()
    }
}

/// A scenario named `name` with `variants` Dockerfiles and one touched file.
fn scenario(root: &Path, name: &str, variants: &[&str]) -> std::path::PathBuf {
    let dir = root.join(name);
    std::fs::create_dir_all(dir.join("app")).unwrap();
    std::fs::write(dir.join("app/main.py"), "print(1)\n").unwrap();
    std::fs::write(
        dir.join("scenario.toml"),
        format!("name = \"{name}\"\n[incremental]\ntouch = [\"app/main.py\"]\n"),
    )
    .unwrap();
    for variant in variants {
        std::fs::write(
            dir.join(format!("{variant}.Dockerfile")),
            "FROM busybox:latest\nCOPY app /app\n",
        )
        .unwrap();
    }
    dir
}

/// A run of the scenarios in `dirs` on `hosts` (`NAME=URL`) into `out`, measured as
/// `options`: made as any caller without a command line makes one.
fn run_of(dirs: &[&Path], hosts: &[&str], out: &Path, options: RunOptions) -> RunSettings {
    let scenarios = dirs.iter().map(|d| Scenario::load(d).unwrap()).collect();
    let endpoints = hosts
        .iter()
        .map(|h| Endpoint::parse_flag(h).unwrap())
        .collect();
    RunSettings::new(scenarios, options, endpoints, out.to_path_buf()).unwrap()
}

/// A run of `dir` into `out` on the one host `box`, measured as `options`.
fn on_box(dir: &Path, out: &Path, options: RunOptions) -> RunSettings {
    run_of(&[dir], &["box=unix:///x/box.sock"], out, options)
}

fn plan_of(settings: &RunSettings) -> Plan {
    plan::plan(
        settings.scenarios(),
        &settings.host_names(),
        &settings.plan_settings(&std::collections::BTreeMap::new()),
        &settings.already_done(),
        &settings.pinned_hosts(),
    )
}

fn host(endpoint: &Endpoint, fake: &FakeEngine) -> Host {
    fake.add_tagged_image("busybox:latest");
    Host {
        endpoint: endpoint.clone(),
        connection: Ok((Arc::new(fake.clone()), fake.facts())),
    }
}

async fn run_with(
    settings: RunSettings,
    fakes: &[&FakeEngine],
    cancel: CancellationToken,
) -> (RunOutcome, Arc<Events>) {
    let plan = plan_of(&settings);
    let hosts = settings
        .endpoints()
        .iter()
        .zip(fakes)
        .map(|(endpoint, fake)| host(endpoint, fake))
        .collect();
    let events = Arc::new(Events::default());
    let outcome = run(
        plan,
        settings.policy(),
        settings.results_layout(),
        hosts,
        Arc::clone(&events) as Arc<dyn EventSink>,
        cancel,
    )
    .await
    .unwrap();
    (outcome, events)
}

fn rows(dir: &Path) -> Vec<BuildRecord> {
    ResultSet::load(dir).unwrap().records
}

fn describe(rows: &[BuildRecord]) -> Vec<String> {
    rows.iter()
        .map(|r| format!("{} {} {}", r.variant, r.cache, r.run))
        .collect()
}

#[tokio::test(start_paused = true)]
async fn builds_run_in_plan_order_with_no_priming_and_rows_carry_their_identity() {
    let root = tempfile::tempdir().unwrap();
    let dir = scenario(root.path(), "s", &["single", "multi"]);
    let out = root.path().join("out");
    let settings = run_of(
        &[&dir],
        &["box=unix:///nonexistent/box.sock"],
        &out,
        RunOptions::new(2, &CacheMode::LOCAL, 7),
    );
    let expected_order: Vec<String> = plan_of(&settings).hosts[0].scenarios[0]
        .builds
        .iter()
        .map(|b| format!("{} {} {}", b.key.variant, b.key.cache, b.key.run))
        .collect();
    let run_id = settings.run_id().to_string();
    let fake = FakeEngine::new("box", Script::default());
    let (outcome, events) = run_with(settings, &[&fake], CancellationToken::new()).await;
    assert!(!outcome.interrupted && !outcome.unfinished && outcome.problems.is_empty());

    let rows = rows(&out);
    assert_eq!(describe(&rows), expected_order);
    assert_eq!(rows.len(), 2 * 3 * 2);
    assert_eq!(
        events.priming_builds(),
        0,
        "cold is measured, so nothing is primed"
    );
    assert_eq!(
        fake.built_tags().len(),
        rows.len(),
        "every build made a row"
    );
    for (index, row) in rows.iter().enumerate() {
        assert_eq!(
            (row.host.as_str(), row.run_id.as_str()),
            ("box", run_id.as_str())
        );
        assert_eq!(row.seq as usize, index + 1);
        assert_eq!(row.status, BuildStatus::Ok);
    }
    // Every measured build's steps are in steps.csv under its identity; priming builds have none.
    let set = ResultSet::load(&out).unwrap();
    let steps = set.steps;
    assert_eq!(steps.len(), rows.len());
    for row in &rows {
        let own: Vec<_> = steps.iter().filter(|s| s.belongs_to(row)).collect();
        assert_eq!(own.len(), 1, "{row:?}");
        assert_eq!(
            (own[0].variant.as_str(), own[0].cache, own[0].run),
            (row.variant.as_str(), row.cache, row.run)
        );
    }
    // Each cold build comes after this run's cache records are pruned (BuildKit) and ignores the
    // cache, so none is cached and every warm one is; the whole cache is never pruned by
    // default, and the run leaves no record of its own behind. Only incremental builds send
    // edits.
    let calls = fake.calls();
    let builds: Vec<&Call> = calls
        .iter()
        .filter(|c| matches!(c, Call::Build { .. }))
        .collect();
    for (row, call) in rows.iter().zip(&builds) {
        let Call::Build {
            edited, no_cache, ..
        } = call
        else {
            unreachable!()
        };
        assert_eq!(*edited, row.cache == CacheMode::Incremental, "{row:?}");
        assert_eq!(*no_cache, row.cache == CacheMode::Cold, "{row:?}");
    }
    assert!(!calls.contains(&Call::Prune), "{calls:?}");
    assert!(calls.iter().any(|c| matches!(c, Call::PruneRecord(_))));
    for row in &rows {
        let expected = u32::from(row.cache == CacheMode::Warm);
        assert_eq!(row.cached_steps, expected, "{row:?}");
    }
    assert!(
        fake.cache_records().is_empty(),
        "{:?}",
        fake.cache_records()
    );
    // One image per variant is analysed: the first successful measured build's. Its layers and
    // pull size are recorded under that build; later builds carry no pull size.
    let exports: Vec<&Call> = calls
        .iter()
        .filter(|c| matches!(c, Call::Export(_)))
        .collect();
    assert_eq!(exports.len(), 2, "{exports:?}");
    for variant in ["single", "multi"] {
        let first = rows.iter().find(|r| r.variant == variant).unwrap();
        assert!(exports.contains(&&Call::Export(first.image_id.clone())));
        let layers: Vec<_> = set.layers.iter().filter(|l| l.belongs_to(first)).collect();
        assert_eq!(layers.len(), 1, "the fake image has one layer");
        assert_eq!((layers[0].bytes, layers[0].files), (1000, 1));
        assert_eq!(first.compressed_bytes, Some(layers[0].compressed_bytes));
        let later = rows.iter().filter(|r| r.variant == variant).skip(1);
        for row in later {
            assert_eq!(row.compressed_bytes, None, "{row:?}");
            assert!(!set.layers.iter().any(|l| l.belongs_to(row)));
        }
    }
    assert_eq!(set.layers.len(), 2);
    assert!(set.waste.is_empty(), "nothing in the fake image is deleted");
    assert_eq!(
        std::fs::read_to_string(dir.join("app/main.py")).unwrap(),
        "print(1)\n",
        "the edit never touches the file"
    );
    let meta = RunMeta::read(&out).unwrap();
    assert!(meta.completed());
    assert_eq!(meta.settings.options.seed, 7);
    assert_eq!(meta.hosts[0].daemon.daemon_id, "FAKE:box");
    let cost = meta.scenarios[0].cost.unwrap();
    assert_eq!(cost.priming_builds, 0);
    assert!(
        !out.join(crate::results::STATE_DIR).exists(),
        "the image ledger is gone after a clean run"
    );
}

#[tokio::test(start_paused = true)]
async fn the_seed_fixes_the_variant_order() {
    let orders = |seed: &'static str| async move {
        let root = tempfile::tempdir().unwrap();
        let dir = scenario(root.path(), "s", &["a", "b", "c"]);
        let out = root.path().join("out");
        let settings = on_box(
            &dir,
            &out,
            RunOptions::new(4, &[CacheMode::Cold], seed.parse().unwrap()),
        );
        let fake = FakeEngine::new("box", Script::default());
        run_with(settings, &[&fake], CancellationToken::new()).await;
        fake.built_tags()
    };
    let first = orders("7").await;
    assert_eq!(
        first,
        orders("7").await,
        "the same seed gives the same order"
    );
    assert_ne!(first, orders("8").await, "another seed, another order");
    let rounds: Vec<&[String]> = first.chunks(3).collect();
    assert!(
        rounds.iter().any(|r| r[0] != rounds[0][0]),
        "the first variant changes between rounds: {first:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn without_cold_each_variant_is_primed_once_and_a_failure_is_primed_again() {
    let root = tempfile::tempdir().unwrap();
    let dir = scenario(root.path(), "s", &["good", "bad"]);
    let out = root.path().join("out");
    let settings = on_box(&dir, &out, RunOptions::new(3, &[CacheMode::Warm], 0));
    let fake = FakeEngine::new(
        "box",
        Script {
            failing_tags: HashSet::from(["stagebench/s:bad".to_string()]),
            ..Script::default()
        },
    );
    let (outcome, events) = run_with(settings, &[&fake], CancellationToken::new()).await;
    let rows = rows(&out);
    assert_eq!(rows.len(), 6);
    assert_eq!(outcome.count(BuildStatus::Failed), 3);
    // `good`: one priming build; `bad`: one planned, then one before each later run, since a
    // failed build leaves no cache to measure a warm build against.
    assert_eq!(events.priming_builds(), 1 + 3);
    let good_builds = fake
        .built_tags()
        .iter()
        .filter(|t| t.ends_with(":good"))
        .count();
    assert_eq!(good_builds, 4);
}

#[tokio::test(start_paused = true)]
async fn timeouts_are_recorded_as_timed_out_and_the_run_goes_on() {
    let root = tempfile::tempdir().unwrap();
    let dir = scenario(root.path(), "s", &["slow"]);
    let out = root.path().join("out");
    let settings = on_box(
        &dir,
        &out,
        RunOptions {
            timeout_seconds: Some(1.0),
            ..RunOptions::new(2, &[CacheMode::Cold], 0)
        },
    );
    let fake = FakeEngine::new(
        "box",
        Script {
            build_time: Duration::from_secs(10),
            ..Script::default()
        },
    );
    let (outcome, _) = run_with(settings, &[&fake], CancellationToken::new()).await;
    let rows = rows(&out);
    assert_eq!(rows.len(), 2, "the run went on after the first timeout");
    for row in &rows {
        assert_eq!(row.status, BuildStatus::TimedOut);
        assert!(row.error.contains("--timeout 1 s"), "{row:?}");
        assert!((row.build_seconds - 1.0).abs() < 0.01, "{row:?}");
    }
    assert!(!outcome.interrupted && !outcome.unfinished);
}

#[tokio::test(start_paused = true)]
async fn an_interrupted_run_resumes_to_the_full_set_of_rows() {
    let root = tempfile::tempdir().unwrap();
    let dir = scenario(root.path(), "s", &["single", "multi"]);
    let out = root.path().join("out");
    let options = RunOptions::new(2, &CacheMode::LOCAL, 3);
    let full: BTreeSet<BuildKey> = plan_of(&on_box(&dir, &out, options.clone())).hosts[0].scenarios
        [0]
    .builds
    .iter()
    .map(|b| b.key.clone())
    .collect();

    let cancel = CancellationToken::new();
    let fake = FakeEngine::new(
        "box",
        Script {
            build_time: Duration::from_secs(5),
            cancel_at_build: Some((5, cancel.clone())),
            ..Script::default()
        },
    );
    let first_settings = on_box(&dir, &out, options);
    let first_run = first_settings.run_id().to_string();
    let (outcome, _) = run_with(first_settings, &[&fake], cancel).await;
    assert!(outcome.interrupted && outcome.unfinished);
    let first_rows = rows(&out);
    assert_eq!(first_rows.len(), 5);
    assert_eq!(first_rows[4].status, BuildStatus::Interrupted);
    assert!(first_rows[..4].iter().all(|r| r.status == BuildStatus::Ok));
    let meta = RunMeta::read(&out).unwrap();
    assert!(meta.invocations[0].interrupted);
    assert!(
        out.join(crate::results::STATE_DIR).exists(),
        "the ledger stays for the resume"
    );

    let resumed = RunSettings::for_resume(&out, vec!["stagebench".to_string()]).unwrap();
    assert_eq!(resumed.plan_settings(&BTreeMap::new()).seed, 3);
    let resumed_plan = plan_of(&resumed);
    assert_eq!(resumed_plan.hosts[0].scenarios[0].already_done, 4);
    let fake_after = FakeEngine::new("box", Script::default());
    let (outcome, events) = run_with(resumed, &[&fake_after], CancellationToken::new()).await;
    assert!(
        !outcome.interrupted && !outcome.unfinished,
        "{:?}",
        outcome.problems
    );

    let all = rows(&out);
    let finished: Vec<BuildKey> = all
        .iter()
        .filter(|r| r.status == BuildStatus::Ok)
        .map(BuildRecord::build_key)
        .collect();
    let unique: BTreeSet<BuildKey> = finished.iter().cloned().collect();
    assert_eq!(unique.len(), finished.len(), "no build is measured twice");
    assert_eq!(unique, full, "none is lost");
    assert!(
        all.iter().any(|r| r.status == BuildStatus::Interrupted),
        "the interrupted row is kept"
    );
    // A build cut short has no steps; every finished one has its own, in both invocations.
    let steps = ResultSet::load(&out).unwrap().steps;
    for row in &all {
        let count = steps.iter().filter(|s| s.belongs_to(row)).count();
        match row.status {
            BuildStatus::Ok | BuildStatus::CacheMismatch => assert_eq!(count, 1, "{row:?}"),
            BuildStatus::Interrupted | BuildStatus::Failed | BuildStatus::TimedOut => {
                assert_eq!(count, 0, "{row:?}");
            }
        }
    }
    let seqs: Vec<u32> = all.iter().map(|r| r.seq).collect();
    assert_eq!(
        seqs,
        (1..=all.len() as u32).collect::<Vec<_>>(),
        "seq goes on"
    );
    assert!(all[5..].iter().all(|r| r.run_id != first_run));
    // The interrupted build was a warm or incremental one that needs its cache filled again,
    // unless it was a cold build.
    let interrupted = &first_rows[4];
    let primes = events.priming_builds();
    match interrupted.cache {
        CacheMode::Cold => assert_eq!(primes, 0),
        CacheMode::Warm | CacheMode::Incremental => assert_eq!(primes, 1),
        CacheMode::CiCold | CacheMode::CiInline | CacheMode::CiStages => {
            panic!("this run measures no CI mode: {:?}", interrupted.cache)
        }
    }
    let meta = RunMeta::read(&out).unwrap();
    assert_eq!(meta.invocations.len(), 2);
    assert!(meta.completed());
}

#[tokio::test(start_paused = true)]
async fn a_resumed_run_moves_its_own_tags_and_removes_what_its_first_invocation_built() {
    let root = tempfile::tempdir().unwrap();
    let dir = scenario(root.path(), "s", &["single", "multi"]);
    let out = root.path().join("out");
    let cancel = CancellationToken::new();
    let fake = FakeEngine::new(
        "box",
        Script {
            build_time: Duration::from_secs(5),
            cancel_at_build: Some((4, cancel.clone())),
            ..Script::default()
        },
    );
    let first = on_box(&dir, &out, RunOptions::new(2, &[CacheMode::Warm], 0));
    let first_run = first.run_id().to_string();
    let (outcome, _) = run_with(first, &[&fake], cancel).await;
    assert!(outcome.interrupted);
    let first_finals: Vec<String> = RunMeta::read(&out).unwrap().scenarios[0]
        .variants
        .iter()
        .filter_map(|v| fake.tagged(&v.image_tag))
        .collect();
    assert_eq!(
        first_finals.len(),
        2,
        "the first invocation tagged both variants"
    );

    let resumed = RunSettings::for_resume(&out, Vec::new()).unwrap();
    assert_eq!(resumed.policy().first_run_id, first_run);
    let (outcome, _) = run_with(resumed, &[&fake], CancellationToken::new()).await;
    assert!(!outcome.unfinished, "{:?}", outcome.problems);
    let meta = RunMeta::read(&out).unwrap();
    let mut finals = HashSet::new();
    for variant in &meta.scenarios[0].variants {
        assert!(
            variant
                .image_tag
                .ends_with(&format!(":{}-{first_run}", variant.name)),
            "{}",
            variant.image_tag
        );
        let last = rows(&out)
            .into_iter()
            .rfind(|r| r.variant == variant.name && r.status == BuildStatus::Ok)
            .unwrap();
        assert_eq!(fake.tagged(&variant.image_tag), Some(last.image_id.clone()));
        finals.insert(last.image_id);
    }
    for id in &first_finals {
        assert!(!finals.contains(id), "every variant was built again");
    }
    // Besides the final images only the busybox each connection added remains.
    let mut left = fake.existing_images();
    left.retain(|id| !finals.contains(id));
    assert!(
        left.iter().all(|id| id.contains("eeee")),
        "both invocations' other images are gone: the run's own tags moved, and it removed what it built: {left:?}"
    );
    assert!(finals.iter().all(|id| fake.existing_images().contains(id)));
}

#[tokio::test(start_paused = true)]
async fn resume_refuses_a_scenario_whose_files_changed() {
    let root = tempfile::tempdir().unwrap();
    let dir = scenario(root.path(), "s", &["single"]);
    let out = root.path().join("out");
    let cancel = CancellationToken::new();
    let fake = FakeEngine::new(
        "box",
        Script {
            cancel_at_build: Some((1, cancel.clone())),
            ..Script::default()
        },
    );
    let settings = on_box(&dir, &out, RunOptions::new(3, &CacheMode::LOCAL, 0));
    run_with(settings, &[&fake], cancel).await;
    std::fs::write(dir.join("app/main.py"), "print(2)\n").unwrap();
    let error = RunSettings::for_resume(&out, Vec::new())
        .unwrap_err()
        .to_string();
    assert!(error.contains("app/main.py changed"), "{error}");
    assert!(error.contains(&out.display().to_string()), "{error}");
}

#[tokio::test(start_paused = true)]
async fn cleanup_keeps_each_variant_s_final_image_and_never_another_run_s() {
    let root = tempfile::tempdir().unwrap();
    let dir = scenario(root.path(), "s", &["single", "multi"]);
    let out = root.path().join("out");
    let settings = on_box(&dir, &out, RunOptions::new(3, &CacheMode::LOCAL, 0));
    let fake = FakeEngine::new("box", Script::default());
    let earlier = fake.add_tagged_image("stagebench/s:single");
    let unrelated = fake.add_tagged_image("someone/else:1");
    run_with(settings, &[&fake], CancellationToken::new()).await;
    let existing = fake.existing_images();
    // Each variant's last row holds the image its tag names at the end.
    let mut last_of_variant: BTreeMap<String, String> = BTreeMap::new();
    for row in rows(&out) {
        last_of_variant.insert(row.variant, row.image_id);
    }
    let finals: HashSet<String> = last_of_variant.into_values().collect();
    assert_eq!(finals.len(), 2);
    for id in &finals {
        assert!(existing.contains(id), "a variant's final image is kept");
    }
    assert!(
        existing.contains(&earlier),
        "an earlier run's final image has a tag of its own and stays"
    );
    assert!(
        existing.contains(&unrelated),
        "what the run did not make is never removed"
    );
    assert_eq!(
        existing.len(),
        finals.len() + 3,
        "busybox, the unrelated and the earlier image remain, with the final images"
    );
}

#[tokio::test(start_paused = true)]
async fn scenarios_spread_over_hosts_that_work_in_parallel() {
    let root = tempfile::tempdir().unwrap();
    let first = scenario(root.path(), "first", &["single", "multi"]);
    let second = scenario(root.path(), "second", &["single", "multi"]);
    let out = root.path().join("out");
    let settings = run_of(
        &[&first, &second],
        &["a=unix:///x/a.sock", "b=unix:///x/b.sock"],
        &out,
        RunOptions::new(2, &CacheMode::LOCAL, 0),
    );
    let script = Script {
        build_time: Duration::from_secs(10),
        ..Script::default()
    };
    let (a, b) = (
        FakeEngine::new("a", script.clone()),
        FakeEngine::new("b", script),
    );
    let started = tokio::time::Instant::now();
    run_with(settings, &[&a, &b], CancellationToken::new()).await;
    let elapsed = started.elapsed();
    let rows = rows(&out);
    let on = |host: &str| -> Vec<&BuildRecord> { rows.iter().filter(|r| r.host == host).collect() };
    assert!(on("a").iter().all(|r| r.scenario == "first"));
    assert!(on("b").iter().all(|r| r.scenario == "second"));
    for host in ["a", "b"] {
        let seqs: Vec<u32> = on(host).iter().map(|r| r.seq).collect();
        assert_eq!(
            seqs,
            (1..=12).collect::<Vec<_>>(),
            "{host} counts its own builds"
        );
    }
    // Each host builds 12 times for 10 s; in parallel that is 120 s, one after the other 240 s.
    assert!(elapsed < Duration::from_secs(130), "{elapsed:?}");
    let meta = RunMeta::read(&out).unwrap();
    let hosts: Vec<&str> = meta.hosts.iter().map(|h| h.name.as_str()).collect();
    assert_eq!(hosts, ["a", "b"]);
    assert_ne!(meta.hosts[0].fingerprint(), meta.hosts[1].fingerprint());
}

#[tokio::test(start_paused = true)]
async fn an_unreachable_host_is_reported_and_the_others_go_on() {
    let root = tempfile::tempdir().unwrap();
    let first = scenario(root.path(), "first", &["single"]);
    let second = scenario(root.path(), "second", &["single"]);
    let out = root.path().join("out");
    let settings = run_of(
        &[&first, &second],
        &["up=unix:///x/up.sock", "down=unix:///x/down.sock"],
        &out,
        RunOptions::new(3, &[CacheMode::Cold], 0),
    );
    let plan = plan_of(&settings);
    let up = FakeEngine::new("up", Script::default());
    let hosts = vec![
        host(&settings.endpoints()[0], &up),
        Host {
            endpoint: settings.endpoints()[1].clone(),
            connection: Err(EngineError::Unreachable {
                endpoint: "unix:///x/down.sock".to_string(),
                reason: "no socket".to_string(),
            }),
        },
    ];
    let outcome = run(
        plan,
        settings.policy(),
        settings.results_layout(),
        hosts,
        Arc::new(Events::default()),
        CancellationToken::new(),
    )
    .await
    .unwrap();
    assert!(outcome.unfinished);
    assert!(
        outcome
            .problems
            .iter()
            .any(|p| p.contains("host down was not reached")),
        "{:?}",
        outcome.problems
    );
    assert!(rows(&out).iter().all(|r| r.scenario == "first"));
    let meta = RunMeta::read(&out).unwrap();
    let second = meta.scenario("second", "down").unwrap();
    assert!(second.not_run.as_deref().unwrap().contains("not reached"));
    assert!(meta.scenario("first", "up").unwrap().not_run.is_none());
}

#[tokio::test(start_paused = true)]
async fn a_lost_connection_stops_the_host_and_its_build_is_redone_on_resume() {
    let root = tempfile::tempdir().unwrap();
    let dir = scenario(root.path(), "s", &["single"]);
    let out = root.path().join("out");
    let settings = on_box(&dir, &out, RunOptions::new(3, &[CacheMode::Cold], 0));
    let fake = FakeEngine::new(
        "box",
        Script {
            lose_connection_after: Some(1),
            ..Script::default()
        },
    );
    let (outcome, _) = run_with(settings, &[&fake], CancellationToken::new()).await;
    assert!(outcome.unfinished && !outcome.interrupted);
    assert!(
        outcome
            .problems
            .iter()
            .any(|p| p.contains("connection to host box was lost"))
    );
    let statuses: Vec<BuildStatus> = rows(&out).iter().map(|r| r.status).collect();
    assert_eq!(statuses, [BuildStatus::Ok, BuildStatus::Interrupted]);
    let resumed = RunSettings::for_resume(&out, Vec::new()).unwrap();
    assert_eq!(plan_of(&resumed).hosts[0].scenarios[0].builds.len(), 2);
}

#[tokio::test(start_paused = true)]
async fn a_cold_build_ignores_an_older_record_from_the_start_and_warm_misses_are_marked() {
    let root = tempfile::tempdir().unwrap();
    let dir = scenario(root.path(), "s", &["single", "multi"]);
    let out = root.path().join("out");
    let settings = on_box(
        &dir,
        &out,
        RunOptions::new(2, &[CacheMode::Cold, CacheMode::Warm], 0),
    );
    let fake = FakeEngine::new(
        "box",
        Script {
            cached_before: vec!["stagebench/s:single".to_string()],
            never_cached: HashSet::from(["stagebench/s:multi".to_string()]),
            ..Script::default()
        },
    );
    let (outcome, events) = run_with(settings, &[&fake], CancellationToken::new()).await;
    assert!(outcome.problems.is_empty(), "{:?}", outcome.problems);
    let rows = rows(&out);
    assert_eq!(rows.len(), 8);
    for row in &rows {
        let expected = match (row.variant.as_str(), row.cache) {
            ("multi", CacheMode::Warm) => BuildStatus::CacheMismatch,
            _ => BuildStatus::Ok,
        };
        assert_eq!(row.status, expected, "{row:?}");
        if row.cache == CacheMode::Cold {
            assert_eq!(row.cached_steps, 0, "{row:?}");
        }
    }
    let mismatch = rows
        .iter()
        .find(|r| r.status == BuildStatus::CacheMismatch)
        .unwrap();
    assert!(mismatch.error.contains("ran 1 of 1 steps"), "{mismatch:?}");
    // Only a mode that expects cache names its first miss; a cold build's misses are no news.
    for row in &rows {
        let expected = match (row.variant.as_str(), row.cache) {
            ("multi", CacheMode::Warm) => "0: RUN fake",
            _ => "",
        };
        assert_eq!(row.first_miss, expected, "{row:?}");
    }
    // Each cold single build ignored the cache from the start, so the older record never served
    // it and no attempt was thrown away: two cold builds ignoring the cache, two warm ones using
    // it. The older record was never pruned and is still there at the end, alone.
    let calls = fake.calls();
    let single_builds = |ignoring_cache: bool| {
        calls
            .iter()
            .filter(|c| matches!(c, Call::Build { tag, no_cache, .. } if tag == "stagebench/s:single" && *no_cache == ignoring_cache))
            .count()
    };
    assert_eq!(
        (single_builds(true), single_builds(false)),
        (2, 2),
        "{calls:?}"
    );
    assert!(!calls.contains(&Call::PruneRecord("cache-stagebench/s:single".to_string())));
    assert!(!calls.contains(&Call::Prune));
    assert_eq!(fake.cache_records(), ["cache-stagebench/s:single"]);
    let redone: Vec<(String, CacheMode, u32, u32)> = events
        .0
        .lock()
        .unwrap()
        .iter()
        .filter_map(|e| match e {
            RunEvent::Note {
                host: Some(host),
                note:
                    RunNote::ColdBuildRedone {
                        build,
                        cached_steps,
                        total_steps,
                    },
            } if host == "box" && build.purpose == Purpose::Measure => Some((
                build.key.variant.clone(),
                build.key.cache,
                *cached_steps,
                *total_steps,
            )),
            _ => None,
        })
        .collect();
    assert!(redone.is_empty(), "{redone:?}");
    // The summary counts the marked rows apart instead of sampling them.
    let set = ResultSet::load(&out).unwrap();
    let analysis = crate::stats::analyze(&set.records, &BTreeMap::new(), 0.05);
    let multi_warm = analysis
        .groups
        .iter()
        .find(|g| g.key.variant == "multi" && g.key.cache == CacheMode::Warm)
        .unwrap();
    assert_eq!((multi_warm.runs_ok, multi_warm.runs_cache_mismatch), (0, 2));
    // No attempt was thrown away.
    let cost = set.meta.scenarios[0].cost.unwrap();
    assert_eq!(cost.discarded_cold_builds, 0, "{cost:?}");
}

#[tokio::test(start_paused = true)]
async fn a_record_someone_else_makes_between_the_run_s_builds_is_never_pruned() {
    let root = tempfile::tempdir().unwrap();
    let dir = scenario(root.path(), "s", &["single", "multi"]);
    let out = root.path().join("out");
    let settings = on_box(
        &dir,
        &out,
        RunOptions::new(2, &[CacheMode::Cold, CacheMode::Warm], 0),
    );
    let fake = FakeEngine::new(
        "box",
        Script {
            someone_else_builds_after: Some(1),
            ..Script::default()
        },
    );
    let (outcome, _) = run_with(settings, &[&fake], CancellationToken::new()).await;
    assert!(outcome.problems.is_empty(), "{:?}", outcome.problems);
    assert_eq!(rows(&out).len(), 8);
    let calls = fake.calls();
    assert!(
        calls.iter().any(|c| matches!(c, Call::PruneRecord(_))),
        "the run pruned its own records: {calls:?}"
    );
    assert!(!calls.contains(&Call::PruneRecord("theirs".to_string())));
    // Everything the run made went at its end; the other build's record is all that is left.
    assert_eq!(fake.cache_records(), ["theirs"]);
}

#[test]
fn a_results_write_error_names_the_folder_once() {
    let dir = std::path::PathBuf::from("/r/out");
    let named = super::RunError::Output {
        dir: dir.clone(),
        source: std::io::Error::other("/r/out/results.csv: No space left on device"),
    };
    assert_eq!(
        named.to_string(),
        "cannot write results: /r/out/results.csv: No space left on device"
    );
    let unnamed = super::RunError::Output {
        dir,
        source: std::io::Error::other("No space left on device"),
    };
    assert_eq!(
        unnamed.to_string(),
        "cannot write results in /r/out: No space left on device"
    );
}

#[tokio::test(start_paused = true)]
async fn every_text_an_event_carries_is_redacted_before_the_sink_sees_it() {
    let root = tempfile::tempdir().unwrap();
    // The scenario's name is the secret value, so every event about its builds names it; the
    // fake engine's failure message, "RUN false: exit code: 1", holds the other one.
    let dir = scenario(root.path(), "hunter2-app", &["bad"]);
    let out = root.path().join("out");
    let settings = on_box(
        &dir,
        &out,
        RunOptions {
            secret_build_arg_names: vec!["TOKEN".to_string(), "OTHER".to_string()],
            ..RunOptions::new(1, &[CacheMode::Cold], 0)
        },
    )
    .with_secrets(
        [("TOKEN", "hunter2-app"), ("OTHER", "exit code")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    )
    .unwrap();
    let fake = FakeEngine::new(
        "box",
        Script {
            failing_tags: HashSet::from(["stagebench/hunter2-app:bad".to_string()]),
            ..Script::default()
        },
    );
    let (_, events) = run_with(settings, &[&fake], CancellationToken::new()).await;
    let events = events.0.lock().unwrap();
    let finished: Vec<(&str, BuildStatus, &str)> = events
        .iter()
        .filter_map(|e| match e {
            RunEvent::BuildFinished {
                build:
                    FinishedBuild::Planned {
                        build,
                        status,
                        reason,
                        ..
                    },
                ..
            } => Some((build.key.scenario.as_str(), *status, reason.as_str())),
            _ => None,
        })
        .collect();
    let hidden = crate::secrets::REDACTED;
    let reason = format!("RUN false: {hidden}: 1");
    assert_eq!(finished, [(hidden, BuildStatus::Failed, reason.as_str())]);
    let everything = format!("{events:?}");
    assert!(!everything.contains("hunter2-app"), "{everything}");
    assert!(!everything.contains("exit code"), "{everything}");
}

/// A judge that answers from a script, never from the times: after `after` rounds it stops
/// `stops`, and finishes everything when `finish` is set; `refuse` makes it unable to judge.
struct ScriptedJudge {
    after: u32,
    stops: Vec<(String, CacheMode)>,
    finish: bool,
    refuse: bool,
    asked: Mutex<Vec<u32>>,
}

impl crate::run_policy::RoundJudge for ScriptedJudge {
    fn after_round(
        &self,
        _dir: &Path,
        _scenario: &str,
        _host: &str,
        rounds: u32,
    ) -> Result<crate::run_policy::RoundDecision, String> {
        self.asked.lock().unwrap().push(rounds);
        if self.refuse {
            return Err("cannot read it".to_string());
        }
        let reached = rounds >= self.after;
        Ok(crate::run_policy::RoundDecision {
            stopped: if reached {
                self.stops.iter().cloned().collect()
            } else {
                BTreeSet::new()
            },
            finished: reached && self.finish,
            lines: vec![format!("looked after {rounds}")],
        })
    }
}

fn judge(
    after: u32,
    stops: &[(&str, CacheMode)],
    finish: bool,
    refuse: bool,
) -> Arc<ScriptedJudge> {
    Arc::new(ScriptedJudge {
        after,
        stops: stops.iter().map(|(v, c)| (v.to_string(), *c)).collect(),
        finish,
        refuse,
        asked: Mutex::new(Vec::new()),
    })
}

async fn run_judged(
    settings: RunSettings,
    fake: &FakeEngine,
    judge: Option<Arc<ScriptedJudge>>,
    time_budget: Option<Duration>,
) -> (RunOutcome, Arc<Events>) {
    let plan = plan_of(&settings);
    let hosts = vec![host(&settings.endpoints()[0], fake)];
    let events = Arc::new(Events::default());
    let mut policy = settings.policy();
    policy.round_judge = judge.map(|j| j as Arc<dyn crate::run_policy::RoundJudge>);
    policy.time_budget = time_budget;
    let outcome = run(
        plan,
        policy,
        settings.results_layout(),
        hosts,
        Arc::clone(&events) as Arc<dyn EventSink>,
        CancellationToken::new(),
    )
    .await
    .unwrap();
    (outcome, events)
}

fn notes(events: &Events) -> Vec<RunNote> {
    events
        .0
        .lock()
        .unwrap()
        .iter()
        .filter_map(|e| match e {
            RunEvent::Note { note, .. } => Some(note.clone()),
            _ => None,
        })
        .collect()
}

#[tokio::test(start_paused = true)]
async fn a_stopped_series_gets_no_more_builds_and_the_others_go_on_in_order() {
    let root = tempfile::tempdir().unwrap();
    let dir = scenario(root.path(), "s", &["single", "multi"]);
    let out = root.path().join("out");
    let options = RunOptions::new(5, &[CacheMode::Cold, CacheMode::Warm], 7);
    let settings = on_box(&dir, &out, options);
    let planned: Vec<String> = plan_of(&settings).hosts[0].scenarios[0]
        .builds
        .iter()
        .filter(|b| b.purpose == Purpose::Measure)
        .filter(|b| b.key.run <= 3 || b.key.variant != "multi" || b.key.cache != CacheMode::Cold)
        .map(|b| format!("{} {} {}", b.key.variant, b.key.cache, b.key.run))
        .collect();
    let fake = FakeEngine::new("box", Script::default());
    let judge = judge(3, &[("multi", CacheMode::Cold)], false, false);
    let (outcome, events) = run_judged(settings, &fake, Some(Arc::clone(&judge)), None).await;
    assert!(!outcome.unfinished);
    assert_eq!(
        describe(&rows(&out)),
        planned,
        "multi cold stops after round 3; every other build runs in the plan's order"
    );
    assert_eq!(*judge.asked.lock().unwrap(), [1, 2, 3, 4, 5]);
    let looked: Vec<u32> = notes(&events)
        .iter()
        .filter_map(|n| match n {
            RunNote::Looked { rounds, lines, .. } => {
                assert_eq!(lines, &[format!("looked after {rounds}")]);
                Some(*rounds)
            }
            _ => None,
        })
        .collect();
    assert_eq!(
        looked,
        [1, 2, 3, 4, 5],
        "each look is shown, the last after the last round"
    );
    let shrunk: u64 = events
        .0
        .lock()
        .unwrap()
        .iter()
        .filter_map(|e| match e {
            RunEvent::PlanShrank { builds } => Some(*builds),
            _ => None,
        })
        .sum();
    assert_eq!(
        shrunk, 2,
        "the progress bar loses multi cold's runs 4 and 5"
    );
}

#[tokio::test(start_paused = true)]
async fn a_finished_family_ends_the_scenario_and_a_judge_that_cannot_judge_changes_nothing() {
    let root = tempfile::tempdir().unwrap();
    let dir = scenario(root.path(), "s", &["single", "multi"]);
    let options = RunOptions::new(6, &[CacheMode::Cold], 7);

    let out = root.path().join("finished");
    let fake = FakeEngine::new("box", Script::default());
    let settings = on_box(&dir, &out, options.clone());
    let (_, _) = run_judged(settings, &fake, Some(judge(3, &[], true, false)), None).await;
    assert_eq!(rows(&out).len(), 6, "three rounds of two variants");
    assert!(rows(&out).iter().all(|r| r.run <= 3));

    let out = root.path().join("refused");
    let fake = FakeEngine::new("box", Script::default());
    let settings = on_box(&dir, &out, options);
    let (_, events) = run_judged(settings, &fake, Some(judge(1, &[], true, true)), None).await;
    assert_eq!(rows(&out).len(), 12, "every planned build runs");
    assert!(notes(&events).iter().any(|n| matches!(
        n,
        RunNote::NotLooked { reason, .. } if reason == "cannot read it"
    )));
}

/// A fake host whose every build takes 10 s.
fn ten_second_builds() -> FakeEngine {
    FakeEngine::new(
        "box",
        Script {
            build_time: Duration::from_secs(10),
            ..Script::default()
        },
    )
}

#[tokio::test(start_paused = true)]
async fn a_budget_spent_past_a_stopped_series_build_records_the_round_every_needed_series_finished()
{
    // Whatever the shuffle puts after round 2's last needed build, the rounds recorded are
    // those every series still running has finished.
    for seed in 0..6 {
        let root = tempfile::tempdir().unwrap();
        let dir = scenario(root.path(), "s", &["single", "multi", "third"]);
        let out = root.path().join("out");
        let options = RunOptions::new(5, &[CacheMode::Cold], seed);
        let fake = ten_second_builds();
        let settings = on_box(&dir, &out, options);
        // Round 1 builds at 0, 10 and 20 s; the look after it stops multi cold; round 2's two
        // needed builds start at 30 and 40 s; at 50 s the budget of 45 s is spent.
        let judge = judge(1, &[("multi", CacheMode::Cold)], false, false);
        let (_, events) =
            run_judged(settings, &fake, Some(judge), Some(Duration::from_secs(45))).await;
        let round_two: BTreeSet<String> = rows(&out)
            .iter()
            .filter(|r| r.run == 2)
            .map(|r| r.variant.clone())
            .collect();
        assert_eq!(round_two, BTreeSet::from(["single".into(), "third".into()]));
        let meta = RunMeta::read(&out).unwrap();
        assert_eq!(meta.scenarios[0].budget_spent_after, Some(2), "seed {seed}");
        let spent = notes(&events).into_iter().find_map(|n| match n {
            RunNote::BudgetSpent { rounds, builds, .. } => Some((rounds, builds)),
            _ => None,
        });
        // Rounds 3 to 5 of single and third; multi's were skipped by the looks, not the budget.
        assert_eq!(spent, Some((2, 6)), "seed {seed}");
    }
}

#[tokio::test(start_paused = true)]
async fn a_resumed_runs_auto_run_goes_on_past_the_round_an_earlier_budget_ended_after() {
    let root = tempfile::tempdir().unwrap();
    let dir = scenario(root.path(), "s", &["single", "multi"]);
    let out = root.path().join("out");
    let mut options = RunOptions::new(5, &[CacheMode::Cold], 7);
    options.stopping = Some(crate::run_options::Stopping {
        min_runs: 3,
        max_runs: 5,
        paired_by_round: true,
    });
    let looks = || {
        Some(
            Arc::new(crate::stats::stopping::RecordedLooks { gate: None })
                as Arc<dyn crate::run_policy::RoundJudge>,
        )
    };
    let run_looked = |settings: RunSettings, fake: FakeEngine, budget: Option<Duration>| async move {
        let plan = plan_of(&settings);
        let hosts = vec![host(&settings.endpoints()[0], &fake)];
        let mut policy = settings.policy();
        policy.round_judge = looks();
        policy.time_budget = budget;
        run(
            plan,
            policy,
            settings.results_layout(),
            hosts,
            Arc::new(Events::default()) as Arc<dyn EventSink>,
            CancellationToken::new(),
        )
        .await
        .unwrap()
    };
    // Builds start at 0, 10, 20 and 30 s; at 40 s the budget of 35 s is spent after 2 rounds.
    let settings = on_box(&dir, &out, options);
    run_looked(settings, ten_second_builds(), Some(Duration::from_secs(35))).await;
    assert_eq!(rows(&out).len(), 4);
    assert_eq!(
        RunMeta::read(&out).unwrap().scenarios[0].budget_spent_after,
        Some(2)
    );

    // The fake's builds all take the same time, so no comparison ever settles and the resumed
    // invocation, with no budget of its own, builds every planned run.
    let resumed = RunSettings::for_resume(&out, Vec::new()).unwrap();
    run_looked(resumed, ten_second_builds(), None).await;
    assert_eq!(rows(&out).len(), 10);
    assert_eq!(
        RunMeta::read(&out).unwrap().scenarios[0].budget_spent_after,
        None
    );
}

#[tokio::test(start_paused = true)]
async fn a_spent_time_budget_starts_no_build_and_records_the_rounds_complete() {
    let root = tempfile::tempdir().unwrap();
    let dir = scenario(root.path(), "s", &["single", "multi"]);
    let out = root.path().join("out");
    let options = RunOptions::new(10, &[CacheMode::Cold], 7);
    let fake = ten_second_builds();
    let settings = on_box(&dir, &out, options);
    // Builds start at 0, 10, 20, 30 and 40 s; at 50 s the budget of 45 s is spent, in round 3.
    let (outcome, events) = run_judged(settings, &fake, None, Some(Duration::from_secs(45))).await;
    assert!(
        !outcome.unfinished,
        "a spent budget is an end, not an interruption"
    );
    assert_eq!(rows(&out).len(), 5);
    let meta = RunMeta::read(&out).unwrap();
    assert_eq!(meta.scenarios[0].budget_spent_after, Some(2));
    assert!(notes(&events).iter().any(|n| matches!(
        n,
        RunNote::BudgetSpent {
            rounds: 2,
            builds: 15,
            ..
        }
    )));
}
