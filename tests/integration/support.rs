//! Helpers shared by the integration tests.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use stagebench::results::{BuildRecord, ResultSet};

/// Docker tests share one daemon, and a cold BuildKit run prunes its whole build cache, so they
/// run one at a time.
static DAEMON: Mutex<()> = Mutex::new(());

/// Holds the daemon for one test; `None` means no daemon and the test is skipped (allowed only
/// without `STAGEBENCH_REQUIRE_DOCKER=1`).
pub fn docker_daemon() -> Option<MutexGuard<'static, ()>> {
    let guard = DAEMON
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if daemon_answers() {
        return Some(guard);
    }
    if std::env::var("STAGEBENCH_REQUIRE_DOCKER").as_deref() == Ok("1") {
        panic!(
            "this test needs a Docker daemon and STAGEBENCH_REQUIRE_DOCKER=1 forbids skipping it; \
             run it through scripts/test, which starts one"
        );
    }
    eprintln!(
        "skipped: no Docker daemon answers (set STAGEBENCH_REQUIRE_DOCKER=1 to make this a failure)"
    );
    None
}

fn daemon_answers() -> bool {
    let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
    runtime.block_on(async {
        match stagebench::engine::Endpoint::from_environment() {
            Ok(endpoint) => stagebench::engine::Engine::connect(&endpoint).await.is_ok(),
            Err(_) => false,
        }
    })
}

/// Runs the `stagebench` binary with `args` in `cwd`.
pub fn stagebench(cwd: &Path, args: &[&str]) -> Output {
    stagebench_with_env(cwd, args, &[])
}

/// Runs the `stagebench` binary with `args` in `cwd` and extra environment variables.
pub fn stagebench_with_env(cwd: &Path, args: &[&str], envs: &[(&str, &str)]) -> Output {
    // scripts/test exports STAGEBENCH_REGISTRY for the tests that use a registry; the others
    // run as they always did, and a test that wants it passes it in `envs`. A `COLUMNS` the
    // shell exports would lay the headline table out for its width: tests read the full table.
    let output = Command::new(env!("CARGO_BIN_EXE_stagebench"))
        .args(args)
        .env_remove("STAGEBENCH_REGISTRY")
        .env_remove("COLUMNS")
        .envs(envs.iter().copied())
        .current_dir(cwd)
        .output()
        .expect("run stagebench");
    eprintln!(
        "stagebench {}\n--- stdout\n{}--- stderr\n{}",
        args.join(" "),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// Starts the `stagebench` binary with `args` in `cwd` and returns at once: its output is
/// discarded and its errors kept for `wait_with_output`, for tests that act while it runs.
pub fn spawn_stagebench(cwd: &Path, args: &[&str]) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_stagebench"))
        .args(args)
        .env_remove("STAGEBENCH_REGISTRY")
        .current_dir(cwd)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start stagebench")
}

/// Rows in `<out>/results.csv` so far; 0 before the file exists.
pub fn rows_written(out: &Path) -> usize {
    std::fs::read_to_string(out.join("results.csv"))
        .map(|text| text.lines().count().saturating_sub(1))
        .unwrap_or(0)
}

/// Waits until `<out>/results.csv` has `rows` rows, failing if `child` ends first or 90 s pass.
pub fn wait_for_rows(out: &Path, rows: usize, child: &mut std::process::Child) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(90);
    while rows_written(out) < rows {
        assert!(
            std::time::Instant::now() < deadline,
            "{rows} rows never came"
        );
        assert!(
            child.try_wait().expect("poll stagebench").is_none(),
            "stagebench ended early"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// Writes `files` (path, content) under a fresh temporary directory.
pub fn write_tree(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    for (name, text) in files {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, text).expect("write");
    }
    dir
}

/// Rows of `<out>/results.csv`.
pub fn results(out: &Path) -> Vec<BuildRecord> {
    ResultSet::load(out)
        .expect("results folder readable")
        .records
}

/// Median of the build times of `rows` matching `variant` and `cache`.
pub fn median_seconds(rows: &[BuildRecord], variant: &str, cache: &str) -> f64 {
    let mut times: Vec<f64> = rows
        .iter()
        .filter(|r| r.variant == variant && r.cache.as_str() == cache && !r.warmup)
        .map(|r| r.build_seconds)
        .collect();
    assert!(!times.is_empty(), "no {variant} {cache} rows");
    times.sort_by(f64::total_cmp);
    let mid = times.len() / 2;
    if times.len().is_multiple_of(2) {
        (times[mid - 1] + times[mid]) / 2.0
    } else {
        times[mid]
    }
}

/// Runs the docker CLI (test-side only: the product never shells out to it).
pub fn docker_cli(args: &[&str], envs: &BTreeMap<&str, &str>) -> Output {
    Command::new("docker")
        .args(args)
        .envs(envs)
        .output()
        .expect("run the docker CLI")
}

/// Size and ID of an image as the docker CLI reports them.
pub fn cli_image_bytes(image: &str) -> u64 {
    let output = docker_cli(
        &["image", "inspect", "--format", "{{.Size}}", image],
        &BTreeMap::new(),
    );
    assert!(
        output.status.success(),
        "docker image inspect {image}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .trim()
        .parse()
        .expect("size")
}

/// IDs of all containers, running or not.
pub fn container_ids() -> Vec<String> {
    sorted_ids(&["ps", "-aq", "--no-trunc"])
}

/// IDs of dangling images.
pub fn dangling_images() -> Vec<String> {
    sorted_ids(&["images", "-q", "--no-trunc", "--filter", "dangling=true"])
}

/// The lines a docker CLI listing prints, sorted and without repeats.
fn sorted_ids(args: &[&str]) -> Vec<String> {
    let output = docker_cli(args, &BTreeMap::new());
    assert!(output.status.success(), "docker {}", args.join(" "));
    let mut ids: Vec<String> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(String::from)
        .collect();
    ids.sort();
    ids.dedup();
    ids
}

/// Removes a repository's images when dropped, so a failing test leaves nothing behind either.
pub struct RemoveOnDrop(pub Vec<String>);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        for repository in &self.0 {
            remove_repository(repository);
        }
    }
}

/// Removes every image of a test scenario's repository, so reruns start clean.
pub fn remove_repository(repository: &str) {
    let output = docker_cli(&["images", "-q", repository], &BTreeMap::new());
    for id in String::from_utf8_lossy(&output.stdout).lines() {
        let _ = docker_cli(&["rmi", "-f", id], &BTreeMap::new());
    }
}

/// The stderr of an output as text.
pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// `docker build -f DOCKERFILE -t TAG .` in `dir` with BuildKit, as a user would type it: with
/// the first client on PATH, or Debian's (which builds with BuildKit without the buildx plugin).
pub fn docker_build_in(dir: &Path, dockerfile: &str, tag: &str) {
    let mut errors = String::new();
    for cli in ["docker", "/usr/bin/docker"] {
        let output = std::process::Command::new(cli)
            .args(["build", "-q", "-f", dockerfile, "-t", tag, "."])
            .env("DOCKER_BUILDKIT", "1")
            .current_dir(dir)
            .output();
        match output {
            Ok(output) if output.status.success() => return,
            Ok(output) => errors.push_str(&format!("{cli}: {}\n", stderr(&output))),
            Err(error) => errors.push_str(&format!("{cli}: {error}\n")),
        }
    }
    panic!("docker build -f {dockerfile} . failed:\n{errors}");
}

/// The tag the run whose results are in `out` gave `variant`'s final image
/// (`stagebench/<scenario>:<variant>-<run_id>`), as its meta.json records it.
pub fn final_image_tag(out: &Path, variant: &str) -> String {
    stagebench::results::RunMeta::read(out)
        .expect("meta.json readable")
        .scenarios
        .iter()
        .flat_map(|s| &s.variants)
        .find(|v| v.name == variant)
        .unwrap_or_else(|| panic!("{} has no variant {variant}", out.display()))
        .image_tag
        .clone()
}

/// Whether a process whose command line is exactly `command` runs on this machine (a build's
/// RUN step runs as a process of the host, inside the daemon's container).
pub fn process_runs(command: &str) -> bool {
    Command::new("pgrep")
        .args(["-f", &format!("^{command}$")])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Waits until a build's `RUN` step runs `command`, failing the test after `within`.
pub fn wait_for_process(command: &str, within: Duration) {
    let deadline = Instant::now() + within;
    while !process_runs(command) {
        assert!(
            Instant::now() < deadline,
            "the RUN step `{command}` never started"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Every file under `dir`, in path order.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}
