//! Benchmarking a project in place: a scenario kept in a repository's subfolder (context at the
//! repository root), and Dockerfiles compared ad hoc with no scenario folder at all.

use std::collections::BTreeMap;
use std::path::Path;

use stagebench::results::BuildStatus;

use crate::support::{
    RemoveOnDrop, docker_cli, docker_daemon, results, stagebench, stderr, write_tree,
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

/// `docker build -f DOCKERFILE -t TAG .` in `dir` with BuildKit, as a user would type it: with
/// the first client on PATH, or Debian's (which builds with BuildKit without the buildx plugin).
fn docker_build_in(dir: &Path, dockerfile: &str, tag: &str) {
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
    let ours = image_identity("stagebench/inrepo-test:x");
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
