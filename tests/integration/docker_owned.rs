//! A run removes only what it made: containers and images confirmed by the daemon, never ones a
//! build's text names, never another user's or another run's, and a prebuild never takes a tag
//! from someone's image.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use stagebench::results::BuildStatus;

use crate::support::{
    RemoveOnDrop, container_ids, dangling_images, docker_cli, docker_daemon, final_image_tag,
    results, spawn_stagebench, stagebench, stderr, wait_for_process, write_tree,
};

/// Runs the docker CLI and returns its trimmed standard output, failing the test on an error.
fn docker(args: &[&str]) -> String {
    let output = docker_cli(args, &BTreeMap::new());
    assert!(
        output.status.success(),
        "docker {}: {}",
        args.join(" "),
        stderr(&output)
    );
    String::from_utf8_lossy(&output.stdout).trim().to_string()
}

/// The full ID of an image, or `None` when the daemon does not have it.
fn image_id(name: &str) -> Option<String> {
    let output = docker_cli(
        &["image", "inspect", "--format", "{{.Id}}", name],
        &BTreeMap::new(),
    );
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).trim().to_string())
}

/// Whether the daemon has a container of this ID.
fn container_exists(id: &str) -> bool {
    docker_cli(&["container", "inspect", id], &BTreeMap::new())
        .status
        .success()
}

/// The volumes a container mounts, by name.
fn volumes_of(id: &str) -> Vec<String> {
    docker(&[
        "container",
        "inspect",
        "--format",
        "{{range .Mounts}}{{.Name}} {{end}}",
        id,
    ])
    .split_whitespace()
    .map(String::from)
    .collect()
}

/// One classic cold build of each variant with a 6-second --timeout, into `out`.
const CLASSIC_CUT_SHORT: [&str; 12] = [
    "run",
    ".",
    "--builder",
    "classic",
    "--runs",
    "1",
    "--cache",
    "cold",
    "--timeout",
    "6",
    "--out",
    "out",
];

/// Removes containers (with their anonymous volumes) when dropped.
struct RemoveContainersOnDrop(Vec<String>);

impl Drop for RemoveContainersOnDrop {
    fn drop(&mut self) {
        for id in &self.0 {
            let _ = docker_cli(&["rm", "-f", "-v", id], &BTreeMap::new());
        }
    }
}

#[test]
fn docker_a_container_someone_starts_during_a_cut_short_classic_build_survives_with_its_volume() {
    let Some(_daemon) = docker_daemon() else {
        return;
    };
    let _cleanup = RemoveOnDrop(vec!["stagebench/sbtest-cutshort".to_string()]);
    let dir = write_tree(&[
        ("scenario.toml", "name = \"sbtest-cutshort\"\n"),
        (
            "single.Dockerfile",
            "FROM busybox:latest\nRUN echo prepared > /prepared\nRUN sleep 53\n",
        ),
    ]);
    let containers_before = container_ids();
    let dangling_before = dangling_images();
    let child = spawn_stagebench(dir.path(), &CLASSIC_CUT_SHORT);
    wait_for_process("sleep 53", Duration::from_secs(60));
    // Someone else's container, with an anonymous volume, created while the build runs.
    let theirs = docker(&["run", "-d", "-v", "/data", "busybox:latest", "sleep", "300"]);
    let _theirs = RemoveContainersOnDrop(vec![theirs.clone()]);
    let their_volumes = volumes_of(&theirs);
    assert_eq!(their_volumes.len(), 1);

    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let rows = results(&dir.path().join("out"));
    assert_eq!(rows[0].status, BuildStatus::TimedOut, "{:?}", rows[0]);

    assert!(container_exists(&theirs), "their container survives");
    assert_eq!(volumes_of(&theirs), their_volumes, "with its volume");
    let volumes = docker(&["volume", "ls", "-q"]);
    assert!(volumes.contains(&their_volumes[0]), "{volumes}");
    // The build's own container is gone, and so is the image of the step it committed.
    let mut expected = containers_before;
    expected.push(theirs.clone());
    expected.sort();
    assert_eq!(container_ids(), expected, "no container of the run remains");
    assert_eq!(
        dangling_images(),
        dangling_before,
        "no image of the run remains"
    );
}

#[test]
fn docker_a_build_printing_fake_image_and_container_lines_removes_nothing_of_anyone_else() {
    let Some(_daemon) = docker_daemon() else {
        return;
    };
    let _cleanup = RemoveOnDrop(vec![
        "stagebench/sbtest-fakelines".to_string(),
        "sbtest-someone/image".to_string(),
    ]);
    // Someone's image (tagged once: removing it by ID would delete it) and container.
    let context = write_tree(&[("Dockerfile", "FROM busybox:latest\nRUN echo mine > /mine\n")]);
    let built = Command::new("docker")
        .args(["build", "-q", "-t", "sbtest-someone/image:1", "."])
        .env("DOCKER_BUILDKIT", "0")
        .current_dir(context.path())
        .output()
        .unwrap();
    assert!(built.status.success(), "{}", stderr(&built));
    let their_image = image_id("sbtest-someone/image:1").unwrap();
    let their_parent = docker(&[
        "image",
        "inspect",
        "--format",
        "{{.Parent}}",
        "sbtest-someone/image:1",
    ]);
    let their_container = docker(&["create", "busybox:latest", "true"]);
    let _theirs = RemoveContainersOnDrop(vec![their_container.clone()]);
    let short = |id: &str| id.trim_start_matches("sha256:")[..12].to_string();
    // Every line the daemon's protocol has, printed by the build's own RUN steps: the image
    // lines name their image and its intermediate parent, the container lines their container
    // (once where the daemon would name a step's container, after a fake `Step` line).
    let fake_lines = format!(
        "echo ' ---> {image}'; echo ' ---> {parent}'; echo 'Step 9/9 : RUN x'; \
         echo ' ---> Running in {container}'; echo ' ---> Running in {container}'; \
         echo 'Successfully built {image}'",
        image = short(&their_image),
        parent = short(&their_parent),
        container = short(&their_container),
    );
    let dir = write_tree(&[
        ("scenario.toml", "name = \"sbtest-fakelines\"\n"),
        (
            "finished.Dockerfile",
            &format!("FROM busybox:latest\nRUN {fake_lines}\nRUN echo done > /done\n"),
        ),
        (
            "cut.Dockerfile",
            &format!("FROM busybox:latest\nRUN echo cut > /cut\nRUN {fake_lines}; sleep 59\n"),
        ),
    ]);
    let dangling_before = dangling_images();
    let containers_before = container_ids();
    let output = stagebench(dir.path(), &CLASSIC_CUT_SHORT);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let rows = results(&dir.path().join("out"));
    for row in &rows {
        let expected = match row.variant.as_str() {
            "finished" => BuildStatus::Ok,
            _ => BuildStatus::TimedOut,
        };
        assert_eq!(row.status, expected, "{row:?}");
    }

    assert_eq!(
        image_id("sbtest-someone/image:1").as_deref(),
        Some(their_image.as_str()),
        "their image keeps its tag"
    );
    assert!(image_id(&their_parent).is_some(), "and its parent stays");
    assert!(container_exists(&their_container), "their container stays");
    // What the run made itself is still found and removed: the finished variant keeps only
    // its final image, and the cut one leaves no step image or container behind.
    assert!(image_id(&final_image_tag(&dir.path().join("out"), "finished")).is_some());
    assert_eq!(dangling_images(), dangling_before);
    assert_eq!(container_ids(), containers_before);
}

#[test]
fn docker_a_prebuild_tag_naming_someone_s_image_is_refused_before_any_build() {
    let Some(_daemon) = docker_daemon() else {
        return;
    };
    let _cleanup = RemoveOnDrop(vec!["stagebench/sbtest-taken".to_string()]);
    docker(&["tag", "busybox:latest", "sbtest-user/python:3.11"]);
    struct Untag;
    impl Drop for Untag {
        fn drop(&mut self) {
            let _ = docker_cli(&["rmi", "sbtest-user/python:3.11"], &BTreeMap::new());
        }
    }
    let _untag = Untag;
    let theirs = image_id("sbtest-user/python:3.11").unwrap();
    let dir = write_tree(&[
        (
            "scenario.toml",
            "name = \"sbtest-taken\"\n[[prebuild]]\ntag = \"sbtest-user/python:3.11\"\ndockerfile = \"python.Dockerfile\"\n",
        ),
        (
            "python.Dockerfile",
            "FROM busybox:latest\nRUN echo built > /python\n",
        ),
        (
            "single.Dockerfile",
            "FROM sbtest-user/python:3.11\nRUN true\n",
        ),
    ]);
    // As a set: the daemon lists images of the same second in no fixed order.
    let image_ids = || {
        let mut ids: Vec<String> = docker(&["images", "-aq", "--no-trunc"])
            .lines()
            .map(str::to_string)
            .collect();
        ids.sort();
        ids.dedup();
        ids
    };
    let images_before = image_ids();
    let output = stagebench(
        dir.path(),
        &["run", ".", "--runs", "1", "--cache", "cold", "--out", "out"],
    );
    assert_ne!(output.status.code(), Some(0));
    let message = stderr(&output);
    let sentence = message
        .lines()
        .find(|l| l.contains("[[prebuild]]"))
        .unwrap_or_else(|| panic!("{message}"));
    assert!(
        sentence.contains("scenario.toml")
            && sentence.contains("tag = \"sbtest-user/python:3.11\"")
            && sentence.contains("stagebench/"),
        "{sentence}"
    );
    assert_eq!(
        image_id("sbtest-user/python:3.11").as_deref(),
        Some(theirs.as_str()),
        "their tag still names their image"
    );
    assert_eq!(image_ids(), images_before, "nothing was built");
    assert!(!dir.path().join("out/results.csv").exists());
}

/// Starts `stagebench run` on `scenario` into `out` (relative to `cwd`).
fn spawn_run(cwd: &Path, scenario: &str, out: &str, builder: &str) -> std::process::Child {
    spawn_stagebench(
        cwd,
        &[
            "run",
            scenario,
            "--builder",
            builder,
            "--runs",
            "2",
            "--cache",
            "cold",
            "--out",
            out,
        ],
    )
}

/// Runs both children to their end, each successfully.
fn wait_both(first: std::process::Child, second: std::process::Child) {
    for child in [first, second] {
        let output = child.wait_with_output().unwrap();
        assert!(output.status.success(), "{}", stderr(&output));
    }
}

/// Each run's final image is tagged under its own tag and is the one it measured last.
fn assert_final_image_kept(out: &Path) -> String {
    let tag = final_image_tag(out, "single");
    let last = results(out)
        .into_iter()
        .rfind(|r| r.status == BuildStatus::Ok)
        .unwrap();
    assert_eq!(
        image_id(&tag).as_deref(),
        Some(last.image_id.as_str()),
        "{tag}"
    );
    tag
}

#[test]
fn docker_concurrent_runs_of_same_named_scenarios_keep_each_other_s_images() {
    let Some(_daemon) = docker_daemon() else {
        return;
    };
    // The two scenarios differ in their last step: two identical BuildKit builds at once can
    // come out as one image, which each run then rightly leaves to the other's tag.
    let dockerfile = |last: &str| {
        format!(
            "FROM busybox:latest\nRUN sleep 1 && date +%s%N > /stamp\nRUN echo {last} > /last\n"
        )
    };
    let root = write_tree(&[
        ("upper/scenario.toml", "name = \"Go_Service\"\n"),
        ("upper/single.Dockerfile", &dockerfile("upper")),
        ("lower/scenario.toml", "name = \"go-service\"\n"),
        ("lower/single.Dockerfile", &dockerfile("lower")),
    ]);
    let _cleanup = RemoveOnDrop(vec![
        stagebench::scenario::image_repository_for("Go_Service"),
        stagebench::scenario::image_repository_for("go-service"),
    ]);
    let dangling_before = dangling_images();

    // Two scenario names Docker would lower to one repository, at the same time (BuildKit).
    let upper = spawn_run(root.path(), "upper", "out-upper", "buildkit");
    let lower = spawn_run(root.path(), "lower", "out-lower", "buildkit");
    wait_both(upper, lower);
    let upper_tag = assert_final_image_kept(&root.path().join("out-upper"));
    let lower_tag = assert_final_image_kept(&root.path().join("out-lower"));
    assert_ne!(
        upper_tag.split(':').next(),
        lower_tag.split(':').next(),
        "the two names have repositories of their own"
    );

    // The very same scenario twice at once, into two folders (classic: chains of step images).
    let first = spawn_run(root.path(), "lower", "out-first", "classic");
    let second = spawn_run(root.path(), "lower", "out-second", "classic");
    wait_both(first, second);
    let first_tag = assert_final_image_kept(&root.path().join("out-first"));
    let second_tag = assert_final_image_kept(&root.path().join("out-second"));
    assert_ne!(first_tag, second_tag);
    // The earlier runs' images are untouched by the later ones.
    assert_final_image_kept(&root.path().join("out-upper"));
    assert_final_image_kept(&root.path().join("out-lower"));
    // And each run removed its own other images.
    assert_eq!(dangling_images(), dangling_before);
}
