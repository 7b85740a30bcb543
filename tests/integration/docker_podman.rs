//! Podman for real: the service scripts/with-podman starts (`STAGEBENCH_PODMAN_HOST`), driven
//! through its Docker-compatible API, its builds Buildah's. Checked against the podman CLI
//! talking to the same service: sizes, steps, cache states, what is left behind; and one run
//! across that service and the Docker daemon.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;
use std::sync::{Mutex, MutexGuard};

use stagebench::builder::{Builder, EngineKind};
use stagebench::engine::{BuildEngine, Endpoint, Engine, ImageRemoval};
use stagebench::results::{BuildStatus, ResultSet};

use crate::support::{docker_daemon, stagebench_with_env, stderr, write_tree};

/// Podman tests share one service, and Buildah takes the oldest image that matches a step,
/// whoever built it: they run one at a time.
static PODMAN: Mutex<()> = Mutex::new(());

/// The service's URL, holding it for one test; `None` means no service and the test is
/// skipped (allowed only without `STAGEBENCH_REQUIRE_DOCKER=1`).
fn podman_service() -> Option<(String, MutexGuard<'static, ()>)> {
    let guard = PODMAN
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    match std::env::var("STAGEBENCH_PODMAN_HOST") {
        Ok(url) if !url.is_empty() => Some((url, guard)),
        _ if std::env::var("STAGEBENCH_REQUIRE_DOCKER").as_deref() == Ok("1") => panic!(
            "this test needs a Podman service (STAGEBENCH_PODMAN_HOST) and \
             STAGEBENCH_REQUIRE_DOCKER=1 forbids skipping it; run it through scripts/test, \
             which starts one with scripts/with-podman"
        ),
        _ => {
            eprintln!("skipped: STAGEBENCH_PODMAN_HOST is not set (scripts/with-podman sets it)");
            None
        }
    }
}

/// The podman CLI on the same service; panics with its error output when it fails.
fn podman(url: &str, args: &[&str]) -> String {
    let output = Command::new("podman")
        .args(["--remote", "--url", url])
        .args(args)
        .output()
        .expect("run podman");
    assert!(
        output.status.success(),
        "podman {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Every image ID the service holds, intermediate ones included.
fn all_images(url: &str) -> BTreeSet<String> {
    podman(url, &["images", "--all", "--no-trunc", "--quiet"])
        .lines()
        .map(str::to_string)
        .collect()
}

/// The tiny pair: one stage against a build stage copied into the final one.
fn tiny_pair(name: &str) -> tempfile::TempDir {
    write_tree(&[
        (
            &format!("{name}/scenario.toml"),
            &format!("name = \"{name}\"\n[incremental]\ntouch = [\"app.txt\"]\n"),
        ),
        (&format!("{name}/app.txt"), "hello\n"),
        (
            &format!("{name}/single.Dockerfile"),
            "FROM busybox:latest\nRUN echo single > /made\nCOPY app.txt /app.txt\n",
        ),
        (
            &format!("{name}/multi.Dockerfile"),
            "FROM busybox:latest AS build\nRUN echo multi > /made && sleep 1\n\
             FROM busybox:latest\nCOPY --from=build /made /made\nCOPY app.txt /app.txt\n",
        ),
    ])
}

#[test]
fn docker_podman_builds_the_tiny_pair_as_podman_build_does() {
    let Some((url, _podman)) = podman_service() else {
        return;
    };
    let root = tiny_pair("sbtest-podman");
    let before = all_images(&url);
    let host = format!("podman={url}");
    let run = stagebench_with_env(
        root.path(),
        &[
            "run",
            "sbtest-podman",
            "--cache",
            "cold,warm",
            "--runs",
            "2",
            "--docker-host",
            &host,
            "--out",
            "out",
        ],
        &[],
    );
    assert!(run.status.success(), "{}", stderr(&run));
    let set = ResultSet::load(&root.path().join("out")).unwrap();
    assert_eq!(set.records.len(), 8, "two variants, two modes, two runs");
    for row in &set.records {
        assert_eq!(row.status, BuildStatus::Ok, "{row:?}");
        assert_eq!(row.engine, EngineKind::Podman, "{row:?}");
        assert_eq!(row.builder, Builder::Buildah, "{row:?}");
        let steps = if row.variant == "single" { 2 } else { 3 };
        assert_eq!(row.total_steps, steps, "{row:?}");
        let cached = if row.cache.as_str() == "warm" {
            steps
        } else {
            0
        };
        assert_eq!(
            row.cached_steps, cached,
            "every warm step cached, no cold one: {row:?}"
        );
    }
    let daemon = &set.meta.hosts[0].daemon;
    assert_eq!(daemon.engine, EngineKind::Podman);
    assert!(
        daemon.version.starts_with(|c: char| c.is_ascii_digit()),
        "{daemon:?}"
    );

    // steps.csv: a row per step of every build, FROM included, each named by its stage, and
    // the final commit as the builder's own work.
    for build in &set.records {
        let rows: Vec<_> = set
            .steps
            .iter()
            .filter(|s| s.seq == build.seq && s.host == build.host)
            .collect();
        let named: Vec<(&str, u32)> = rows.iter().map(|s| (s.stage.as_str(), s.step)).collect();
        let mut named_sorted = named.clone();
        named_sorted.sort_unstable();
        let expected: Vec<(&str, u32)> = if build.variant == "single" {
            vec![("", 0), ("0", 1), ("0", 2), ("0", 3)]
        } else {
            vec![
                ("", 0),
                ("1", 1),
                ("1", 2),
                ("1", 3),
                ("build", 1),
                ("build", 2),
            ]
        };
        assert_eq!(named_sorted, expected, "{build:?}");
        for step in rows.iter().filter(|s| s.step > 1) {
            assert_eq!(step.cached, build.cache.as_str() == "warm", "{step:?}");
        }
        // Buildah runs the stages one after another: every step of the build stage ends
        // before the final stage starts.
        if build.variant == "multi" {
            let build_stage_end = rows
                .iter()
                .filter(|s| s.stage == "build")
                .map(|s| s.started_offset_s + s.seconds)
                .fold(0.0, f64::max);
            let final_stage_start = rows
                .iter()
                .filter(|s| s.stage == "1")
                .map(|s| s.started_offset_s)
                .fold(f64::INFINITY, f64::min);
            assert!(
                build_stage_end <= final_stage_start + 1e-9,
                "{build:?}: stage build ends at {build_stage_end}, stage 1 starts at {final_stage_start}"
            );
            let sleep = rows
                .iter()
                .find(|s| s.instruction.starts_with("RUN echo multi"))
                .unwrap();
            if build.cache.as_str() == "cold" {
                assert!(sleep.seconds >= 1.0, "the step sleeps 1 s: {sleep:?}");
            }
        }
    }

    // Each kept final image is, by `podman image inspect`, exactly the size its rows record. A
    // cold run removes every image the run built for the scenario (see `ColdBy`), so only the
    // variants built after the last cold run keep theirs.
    let scenario = root.path().join("sbtest-podman");
    let kept: Vec<String> = ["single", "multi"]
        .iter()
        .map(|variant| {
            format!(
                "stagebench/sbtest-podman:{variant}-{}",
                set.meta.invocations[0].run_id
            )
        })
        .filter(|tag| {
            Command::new("podman")
                .args(["--remote", "--url", &url, "image", "exists", tag])
                .status()
                .is_ok_and(|s| s.success())
        })
        .collect();
    assert!(
        !kept.is_empty(),
        "the last variant built keeps its final image"
    );
    for kept in &kept {
        let variant = kept;
        let id = podman(&url, &["image", "inspect", "--format", "{{.Id}}", kept]);
        let size: u64 = podman(&url, &["image", "inspect", "--format", "{{.Size}}", kept])
            .trim()
            .parse()
            .unwrap();
        let rows: Vec<_> = set
            .records
            .iter()
            .filter(|r| r.image_id.trim_start_matches("sha256:") == id.trim())
            .collect();
        assert!(!rows.is_empty(), "{variant}: no row built {id}");
        for row in rows {
            assert_eq!(row.image_bytes, Some(size), "{row:?}");
        }
    }

    // The same Dockerfiles built by `podman build` (in the Docker format the API builds in)
    // weigh the same, up to the length of the timestamps in their configuration: Buildah writes
    // each with its trailing zeros cut, so two builds of one Dockerfile can differ by a few bytes.
    const TIMESTAMP_BYTES: u64 = 64;
    let before_reference = all_images(&url);
    for variant in ["single", "multi"] {
        let tag = format!("sbtest-podman-reference/{variant}:1");
        podman(
            &url,
            &[
                "build",
                "--quiet",
                "--no-cache",
                "--format",
                "docker",
                "-t",
                &tag,
                "-f",
                &scenario
                    .join(format!("{variant}.Dockerfile"))
                    .display()
                    .to_string(),
                &scenario.display().to_string(),
            ],
        );
        let size: u64 = podman(&url, &["image", "inspect", "--format", "{{.Size}}", &tag])
            .trim()
            .parse()
            .unwrap();
        podman(&url, &["rmi", &tag]);
        for row in set.records.iter().filter(|r| r.variant == variant) {
            let bytes = row.image_bytes.unwrap();
            assert!(
                bytes.abs_diff(size) <= TIMESTAMP_BYTES,
                "{variant}: {bytes} bytes here, {size} from podman build"
            );
        }
    }

    // A reference build's other stages stay as images of their own: gone too, so that what
    // follows looks at the run alone.
    for image in all_images(&url).difference(&before_reference) {
        podman(&url, &["rmi", image]);
    }

    // The run left its final images and what they are made of, nothing else.
    for kept in &kept {
        podman(&url, &["rmi", kept]);
    }
    assert_eq!(
        all_images(&url),
        before,
        "images after removing the kept ones"
    );

    // --rm: nothing the run built is left.
    let again = stagebench_with_env(
        root.path(),
        &[
            "run",
            "sbtest-podman",
            "--cache",
            "cold,warm",
            "--runs",
            "1",
            "--docker-host",
            &host,
            "--out",
            "removed",
            "--rm",
        ],
        &[],
    );
    assert!(again.status.success(), "{}", stderr(&again));
    assert_eq!(
        all_images(&url),
        before,
        "images before and after a run with --rm"
    );
}

#[test]
fn docker_podman_refuses_a_build_secret_before_any_build() {
    let Some((url, _podman)) = podman_service() else {
        return;
    };
    let root = tiny_pair("sbtest-podman-secret");
    std::fs::write(root.path().join("token.txt"), "s3cr3t-value\n").unwrap();
    let host = format!("podman={url}");
    let run = stagebench_with_env(
        root.path(),
        &[
            "run",
            "sbtest-podman-secret",
            "--runs",
            "1",
            "--secret",
            "id=token,src=token.txt",
            "--docker-host",
            &host,
            "--out",
            "out",
        ],
        &[],
    );
    assert_eq!(run.status.code(), Some(1), "{}", stderr(&run));
    let said = stderr(&run);
    assert_eq!(said.trim().lines().count(), 1, "one sentence: {said}");
    for words in ["host podman", "Podman", "--secret", "Docker host"] {
        assert!(said.contains(words), "{words:?} in {said}");
    }
    assert!(
        !root.path().join("out/results.csv").exists(),
        "no results folder before any build"
    );
}

#[test]
fn docker_one_run_on_docker_and_podman_reports_both_engines_side_by_side() {
    let Some(_daemon) = docker_daemon() else {
        return;
    };
    let Some((url, _podman)) = podman_service() else {
        return;
    };
    let root = tiny_pair("sbtest-engines");
    let docker_url = std::env::var("DOCKER_HOST")
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "unix:///var/run/docker.sock".to_string());
    let docker_host = format!("docker={docker_url}");
    let podman_host = format!("podman={url}");
    let run = stagebench_with_env(
        root.path(),
        &[
            "run",
            "sbtest-engines",
            "--cache",
            "cold,warm",
            "--runs",
            "2",
            "--on-every-host",
            "--docker-host",
            &docker_host,
            "--docker-host",
            &podman_host,
            "--out",
            "out",
            "--rm",
        ],
        &[],
    );
    assert!(run.status.success(), "{}", stderr(&run));
    let out = root.path().join("out");
    let set = ResultSet::load(&out).unwrap();
    let engines: BTreeMap<&str, BTreeSet<(EngineKind, Builder)>> =
        set.records.iter().fold(BTreeMap::new(), |mut by_host, r| {
            by_host
                .entry(r.host.as_str())
                .or_default()
                .insert((r.engine, r.builder));
            by_host
        });
    assert_eq!(
        engines,
        BTreeMap::from([
            (
                "docker",
                BTreeSet::from([(EngineKind::Docker, Builder::BuildKit)])
            ),
            (
                "podman",
                BTreeSet::from([(EngineKind::Podman, Builder::Buildah)])
            ),
        ])
    );
    assert!(set.records.iter().all(|r| r.status == BuildStatus::Ok));
    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(report.contains("**docker**: Docker "), "{report}");
    assert!(report.contains("**podman**: Podman "), "{report}");
    assert!(report.contains("## sbtest-engines on docker"), "{report}");
    assert!(report.contains("## sbtest-engines on podman"), "{report}");
    let side_by_side = report
        .split("## sbtest-engines on every host")
        .nth(1)
        .expect("a section comparing the hosts");
    for words in ["docker", "podman", "single", "multi", "cold", "warm"] {
        assert!(side_by_side.contains(words), "{words:?} in {side_by_side}");
    }
    // Each engine's charts are its own.
    for host in ["docker", "podman"] {
        assert!(
            Path::new(&out.join(format!("sbtest-engines-{host}-build-time.png"))).is_file(),
            "{host}"
        );
    }
}

#[test]
fn docker_podman_an_image_that_others_are_built_on_is_never_removed() {
    let Some((url, _podman)) = podman_service() else {
        return;
    };
    // Podman removes such an image where Docker answers 409, taking the history of the image
    // built on it; the engine must answer as Docker does and leave it.
    let dir = write_tree(&[
        (
            "parent/Dockerfile",
            "FROM busybox:latest\nRUN echo parent > /p\n",
        ),
        (
            "child/Dockerfile",
            "FROM sbtest-podman-parent/p:1\nRUN echo child > /c\n",
        ),
    ]);
    let build = |name: &str, tag: &str| {
        let folder = dir.path().join(name).display().to_string();
        podman(
            &url,
            &["build", "--quiet", "--format", "docker", "-t", tag, &folder],
        );
    };
    build("parent", "sbtest-podman-parent/p:1");
    build("child", "sbtest-podman-child/c:1");
    let parent_id = podman(
        &url,
        &[
            "image",
            "inspect",
            "--format",
            "{{.Id}}",
            "sbtest-podman-parent/p:1",
        ],
    );

    let runtime = tokio::runtime::Runtime::new().unwrap();
    let endpoint = Endpoint::parse_flag(&format!("podman={url}")).unwrap();
    let engine = runtime.block_on(Engine::connect(&endpoint)).unwrap();
    let removed = runtime
        .block_on(engine.remove_image(ImageRemoval::Tag("sbtest-podman-parent/p:1")))
        .unwrap();
    assert!(!removed, "an image another is built on was removed");
    let still = podman(
        &url,
        &[
            "image",
            "inspect",
            "--format",
            "{{.Id}}",
            "sbtest-podman-parent/p:1",
        ],
    );
    assert_eq!(still, parent_id);

    // Once nothing is built on it, it goes.
    podman(&url, &["rmi", "sbtest-podman-child/c:1"]);
    let removed = runtime
        .block_on(engine.remove_image(ImageRemoval::Tag("sbtest-podman-parent/p:1")))
        .unwrap();
    assert!(
        removed,
        "the parent stayed after the image built on it went"
    );
    let exists = Command::new("podman")
        .args([
            "--remote",
            "--url",
            &url,
            "image",
            "exists",
            "sbtest-podman-parent/p:1",
        ])
        .status()
        .unwrap();
    assert!(!exists.success());
}
