//! Benchmarking a project in place: a scenario kept in a repository's subfolder (context at the
//! repository root), and Dockerfiles compared ad hoc with no scenario folder at all.

use std::collections::BTreeMap;
use std::path::Path;

use stagebench::results::BuildStatus;

use crate::support::{
    RemoveOnDrop, docker_build_in, docker_cli, docker_daemon, results, stagebench, stderr,
    write_tree,
};

/// `docker image inspect` of `image` as (ID, layer diff IDs).
fn image_identity(image: &str) -> (String, String) {
    let output = docker_cli(
        &[
            "image",
            "inspect",
            "--format",
            "{{.Id}} {{.RootFS.Layers}}",
            image,
        ],
        &BTreeMap::new(),
    );
    assert!(
        output.status.success(),
        "docker image inspect {image}: {}",
        stderr(&output)
    );
    let text = String::from_utf8_lossy(&output.stdout).trim().to_string();
    let (id, layers) = text.split_once(' ').unwrap_or((&text, ""));
    (id.to_string(), layers.to_string())
}

const APP_DOCKERFILE: &str = "FROM busybox:latest\n\
COPY src/ /app/src/\n\
COPY README /app/\n\
ENV APP=/app\n\
CMD [\"cat\", \"/app/README\"]\n";

#[test]
fn docker_a_scenario_in_a_repository_subfolder_builds_the_repository_like_docker_build_f() {
    let Some(_daemon) = docker_daemon() else {
        return;
    };
    let repo = write_tree(&[
        ("README", "the project\n"),
        ("src/main.c", "int main(void) { return 0; }\n"),
        ("bench/x.Dockerfile", APP_DOCKERFILE),
        (
            "bench/scenario.toml",
            "name = \"inrepo-test\"\ncontext = \"..\"\n[incremental]\ntouch = [\"../src/main.c\"]\n",
        ),
    ]);
    std::fs::create_dir(repo.path().join(".git")).unwrap();
    let _cleanup = RemoveOnDrop(vec![
        "stagebench/inrepo-test".to_string(),
        "stagebench-test/inrepo-cli".to_string(),
    ]);
    let results_dir = tempfile::tempdir().unwrap();
    let run = |cache: &str, out: &str| {
        let out = results_dir.path().join(out);
        let out_arg = out.display().to_string();
        let output = stagebench(
            repo.path(),
            &[
                "run", "bench", "--runs", "1", "--cache", cache, "--out", &out_arg, "-q",
            ],
        );
        assert!(output.status.success(), "{}", stderr(&output));
        let rows = results(&out);
        assert!(
            !rows.is_empty() && rows.iter().all(|r| r.status == BuildStatus::Ok),
            "{rows:?}"
        );
    };
    run("incremental", "edit");
    assert_eq!(
        std::fs::read_to_string(repo.path().join("src/main.c")).unwrap(),
        "int main(void) { return 0; }\n",
        "the touched file outside the scenario folder is restored"
    );
    // The kept image is the last build's; an incremental one holds the edit, so compare a warm one.
    run("cold,warm", "plain");

    docker_build_in(
        repo.path(),
        "bench/x.Dockerfile",
        "stagebench-test/inrepo-cli:latest",
    );
    let ours = image_identity(&crate::support::final_image_tag(
        &results_dir.path().join("plain"),
        "x",
    ));
    let cli = image_identity("stagebench-test/inrepo-cli:latest");
    assert_eq!(
        ours.1, cli.1,
        "the same layers as docker build -f bench/x.Dockerfile ."
    );
    assert_eq!(
        ours.0, cli.0,
        "the same image as docker build -f bench/x.Dockerfile ."
    );
}

/// A project with a Dockerfile at its root and a candidate rewrite outside the context.
fn ad_hoc_project() -> tempfile::TempDir {
    write_tree(&[
        (
            "adhoc-app/Dockerfile",
            "FROM busybox:latest\nCOPY . /app/\nRUN cat /app/src/a.txt > /copy\n",
        ),
        ("adhoc-app/src/a.txt", "a\n"),
        ("adhoc-app/.dockerignore", "Dockerfile\n"),
        (
            "slim.Dockerfile",
            "FROM busybox:latest\nCOPY src/ /app/src/\n",
        ),
    ])
}

#[test]
fn docker_ad_hoc_dockerfiles_are_benchmarked_with_no_scenario_folder() {
    let Some(_daemon) = docker_daemon() else {
        return;
    };
    let _cleanup = RemoveOnDrop(vec!["stagebench/adhoc-app".to_string()]);
    let project = ad_hoc_project();
    let output = stagebench(
        project.path(),
        &[
            "run",
            "--dockerfile",
            "today=adhoc-app/Dockerfile",
            "--dockerfile",
            "slim=slim.Dockerfile",
            "--touch",
            "adhoc-app/src/a.txt",
            "adhoc-app",
            "--runs",
            "1",
            "--out",
            "out",
        ],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let out = project.path().join("out");
    let rows = results(&out);
    assert_eq!(rows.len(), 6, "two variants, three cache modes: {rows:?}");
    assert!(
        rows.iter()
            .all(|r| r.scenario == "adhoc-app" && r.status == BuildStatus::Ok),
        "{rows:?}"
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("adhoc-app"), "{stdout}");
    let summary = std::fs::read_to_string(out.join("summary.csv")).unwrap();
    let first_variant = summary.lines().nth(1).and_then(|l| l.split(',').nth(1));
    assert_eq!(
        first_variant,
        Some("today"),
        "the first --dockerfile is the baseline:\n{summary}"
    );
    assert_eq!(
        std::fs::read_to_string(project.path().join("adhoc-app/src/a.txt")).unwrap(),
        "a\n"
    );
    let incremental = rows
        .iter()
        .find(|r| r.variant == "slim" && r.cache.as_str() == "incremental")
        .unwrap();
    assert!(incremental.status == BuildStatus::Ok);

    // meta.json records the flags relative to the directory the run started in: the run is
    // resumed from there, and from elsewhere the sentence names that directory.
    let elsewhere = stagebench(
        Path::new("/"),
        &["run", "--resume", &out.display().to_string()],
    );
    assert!(!elsewhere.status.success());
    let started_in = std::fs::canonicalize(project.path()).unwrap();
    assert!(
        stderr(&elsewhere).contains(&format!(
            "its paths are relative to the directory the run started in, {}; run `stagebench run --resume out` from there",
            started_in.display()
        )),
        "{}",
        stderr(&elsewhere)
    );
    let meta = stagebench::results::RunMeta::read(&out).unwrap();
    let ad_hoc = meta.settings.ad_hoc.unwrap();
    assert_eq!(ad_hoc.context, Path::new("adhoc-app"));
    assert_eq!(ad_hoc.dockerfiles[1].1, Path::new("slim.Dockerfile"));
    assert_eq!(ad_hoc.touch, [Path::new("adhoc-app/src/a.txt")]);
    let resumed = stagebench(project.path(), &["run", "--resume", "out"]);
    assert!(resumed.status.success(), "{}", stderr(&resumed));
    assert_eq!(results(&out).len(), 6, "nothing is left to do");

    let refused = stagebench(
        project.path(),
        &[
            "run",
            "--dockerfile",
            "today=adhoc-app/Dockerfile",
            "adhoc-app",
            "slim.Dockerfile",
        ],
    );
    assert!(!refused.status.success());
    assert!(
        stderr(&refused).contains("exactly one build context directory"),
        "{}",
        stderr(&refused)
    );
}

#[test]
fn docker_a_docker_group_user_runs_the_scripts_and_stagebench_without_root() {
    let Some(_daemon) = docker_daemon() else {
        return;
    };
    crate::extra_daemons::require_root();
    let group = std::process::Command::new("getent")
        .args(["group", "docker"])
        .output()
        .unwrap();
    let group = String::from_utf8_lossy(&group.stdout);
    let gid = group
        .split(':')
        .nth(2)
        .expect("a docker group (made by the docker.io package)");
    let _cleanup = RemoveOnDrop(vec!["stagebench/adhoc-app".to_string()]);
    let project = ad_hoc_project();
    // nobody must be able to enter, read and write the project (tempdirs are private).
    let chmod = std::process::Command::new("chmod")
        .args(["-R", "a+rwX", &project.path().display().to_string()])
        .status()
        .unwrap();
    assert!(chmod.success());
    let home = project.path().join("home");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/with-docker");
    // `nobody` in the docker group, with a home of its own, running `env VARS... COMMAND`.
    let as_docker_user = || {
        let mut command = std::process::Command::new("setpriv");
        command
            .args([
                "--reuid=65534",
                "--regid=65534",
                &format!("--groups={gid}"),
                "env",
            ])
            .arg(format!("HOME={}", home.display()));
        command
    };
    let output = as_docker_user()
        .arg(&script)
        .arg(env!("CARGO_BIN_EXE_stagebench"))
        .args([
            "run",
            "--dockerfile",
            "today=adhoc-app/Dockerfile",
            "--dockerfile",
            "slim=slim.Dockerfile",
            "adhoc-app",
            "--runs",
            "1",
            "--cache",
            "cold,warm",
            "--out",
            "out",
        ])
        .current_dir(project.path())
        .output()
        .unwrap();
    let err = stderr(&output);
    assert!(output.status.success(), "{err}");
    assert!(
        !err.contains("must run as root") && !err.contains("needs root"),
        "{err}"
    );
    assert_eq!(results(&project.path().join("out")).len(), 4);

    // Root is named only when a daemon would have to be started.
    let refused = as_docker_user()
        .arg(format!(
            "DOCKER_HOST=unix://{}/none.sock",
            project.path().display()
        ))
        .arg(&script)
        .arg("true")
        .output()
        .unwrap();
    assert!(!refused.status.success());
    assert!(
        stderr(&refused).contains("starting one needs root"),
        "{}",
        stderr(&refused)
    );
}
