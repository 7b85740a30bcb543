//! Mistakes a user makes before any build: one clear sentence, a non-zero exit, nothing written.

use crate::support::{stagebench, stderr, write_tree};

const PAIR: &[(&str, &str)] = &[
    ("single.Dockerfile", "FROM busybox:latest\nRUN true\n"),
    (
        "multi.Dockerfile",
        "FROM busybox:latest AS b\nRUN true\nFROM busybox:latest\n",
    ),
];

fn assert_one_sentence_failure(output: &std::process::Output, expected: &[&str]) {
    assert!(!output.status.success());
    let text = stderr(output);
    assert_eq!(text.trim().lines().count(), 1, "one line expected: {text}");
    for part in expected {
        assert!(text.contains(part), "`{part}` missing from: {text}");
    }
}

#[test]
fn malformed_scenario_toml_names_file_line_and_key() {
    let mut files = PAIR.to_vec();
    files.push((
        "scenario.toml",
        "name = \"s\"\n[incremental]\ntuoch = [\"x\"]\n",
    ));
    let dir = write_tree(&files);
    let output = stagebench(dir.path(), &["run", ".", "--out", "out"]);
    assert_one_sentence_failure(&output, &["scenario.toml:3", "tuoch"]);
    assert!(
        !dir.path().join("out").exists(),
        "nothing is written for a bad manifest"
    );
}

#[test]
fn invalid_toml_syntax_names_the_line() {
    let mut files = PAIR.to_vec();
    files.push(("scenario.toml", "name = \"s\"\nbaseline = \n"));
    let dir = write_tree(&files);
    let output = stagebench(dir.path(), &["validate", "."]);
    assert!(!output.status.success());
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.contains("scenario.toml:2"), "{text}");
}

#[test]
fn unknown_variant_is_refused_before_building() {
    let dir = write_tree(PAIR);
    let output = stagebench(
        dir.path(),
        &["run", ".", "--variant", "mutli", "--out", "out"],
    );
    assert_one_sentence_failure(&output, &["mutli", "single, multi"]);
    assert!(!dir.path().join("out").exists());
}

#[test]
fn unknown_profile_is_refused_before_building() {
    let dir = write_tree(PAIR);
    let output = stagebench(
        dir.path(),
        &["run", ".", "--profile", "quick", "--out", "out"],
    );
    assert_one_sentence_failure(&output, &["[profile.quick]"]);
}

#[test]
fn unreachable_daemon_names_the_endpoint() {
    let dir = write_tree(PAIR);
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_stagebench"))
        .args(["run", ".", "--out", "out"])
        .current_dir(dir.path())
        .env("DOCKER_HOST", "unix:///nonexistent/stagebench.sock")
        .output()
        .expect("run");
    assert_one_sentence_failure(
        &output,
        &[
            "unix:///nonexistent/stagebench.sock",
            "cannot reach the Docker daemon",
        ],
    );
    assert!(!dir.path().join("out").exists());
}

#[test]
fn list_shows_scenarios_variants_and_baseline() {
    let dir = write_tree(&[
        ("scenarios/alpha/single.Dockerfile", "FROM busybox\n"),
        ("scenarios/alpha/multi.Dockerfile", "FROM busybox\n"),
        (
            "scenarios/beta/scenario.toml",
            "description = \"Second one.\"\n",
        ),
        ("scenarios/beta/a.Dockerfile", "FROM busybox\n"),
        ("scenarios/notes/readme.txt", "not a scenario"),
    ]);
    let output = stagebench(dir.path(), &["list"]);
    assert!(output.status.success());
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        text.contains("alpha") && text.contains("single (baseline), multi"),
        "{text}"
    );
    assert!(
        text.contains("beta") && text.contains("Second one."),
        "{text}"
    );
    assert!(!text.contains("notes"), "{text}");
}

#[test]
fn bad_flags_are_refused_by_the_parser() {
    let dir = write_tree(PAIR);
    for args in [
        &["run", ".", "--runs", "0"][..],
        &["run", ".", "--cache", "hot"][..],
        &["run", ".", "--builder", "kaniko"][..],
        &["run", ".", "--timeout", "-3"][..],
        &["run", ".", "--build-arg", "NOEQUALS"][..],
    ] {
        let output = stagebench(dir.path(), args);
        assert_eq!(output.status.code(), Some(2), "{args:?}");
    }
}
