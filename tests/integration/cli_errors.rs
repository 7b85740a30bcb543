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
    assert_one_sentence_failure(
        &output,
        &[
            "scenario.toml:3",
            "tuoch",
            "(see docs/scenarios.md#scenariotoml)",
        ],
    );
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
    assert!(
        text.trim_end()
            .ends_with("(see docs/scenarios.md#scenariotoml)"),
        "{text}"
    );
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
    assert_one_sentence_failure(
        &output,
        &["[profile.quick]", "(see docs/scenarios.md#scenariotoml)"],
    );
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
            "(see docs/hosts-and-engines.md#several-docker-hosts)",
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
fn a_reader_that_closes_standard_output_early_ends_nothing_in_a_panic() {
    let dir = write_tree(&[
        ("scenarios/alpha/single.Dockerfile", "FROM busybox\n"),
        ("scenarios/alpha/multi.Dockerfile", "FROM busybox\n"),
    ]);
    // `stagebench list | head -0`: the pipe's only reader is gone before anything is written.
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_stagebench"))
        .arg("list")
        .current_dir(dir.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let output = child.wait_with_output().unwrap();
    let text = stderr(&output);
    assert!(output.status.success(), "{text}");
    assert!(!text.contains("panicked"), "{text}");
    assert!(
        text.is_empty(),
        "a closed pipe is not an error to report: {text}"
    );
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

fn fixture(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// A copy of a fixture folder whose run started at `started_at` instead.
fn fixture_copy(name: &str, into: &std::path::Path, started_at: &str) -> std::path::PathBuf {
    let dir = into.join(name);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(fixture(name).join("results.csv"), dir.join("results.csv")).unwrap();
    let meta = std::fs::read_to_string(fixture(name).join("meta.json")).unwrap();
    let meta = meta.replacen(
        "\"started_at\": \"2026-11-28T05:05:33.853519937Z\"",
        &format!("\"started_at\": \"{started_at}\""),
        1,
    );
    std::fs::write(dir.join("meta.json"), meta).unwrap();
    dir
}

#[test]
fn merge_combines_schema_1_folders_and_refuses_a_newer_schema_naming_both_folders() {
    let dir = tempfile::tempdir().unwrap();
    // Both fixtures were made from one meta.json; as they are, their rows share run ids.
    let same_run = stagebench(
        dir.path(),
        &[
            "merge",
            fixture("go-service").to_str().unwrap(),
            fixture("mixed").to_str().unwrap(),
            "--out",
            "same",
        ],
    );
    assert_one_sentence_failure(&same_run, &["go-service", "mixed", "would count twice"]);
    let mixed = fixture_copy("mixed", dir.path(), "2026-11-28T06:00:00Z");
    let merged = stagebench(
        dir.path(),
        &[
            "merge",
            fixture("go-service").to_str().unwrap(),
            mixed.to_str().unwrap(),
            "--out",
            "merged",
        ],
    );
    assert!(merged.status.success(), "{}", stderr(&merged));
    let summary = std::fs::read_to_string(dir.path().join("merged/summary.csv")).unwrap();
    assert!(summary.contains("go-service,single") && summary.contains("python-node,single"));
    let meta =
        stagebench::results::RunMeta::read(&dir.path().join("merged")).expect("merged meta.json");
    assert_eq!(meta.schema_version, 2);
    assert_eq!(meta.invocations.len(), 2);
    assert_eq!(meta.merged_from.len(), 2);

    let newer = dir.path().join("newer");
    std::fs::create_dir_all(&newer).unwrap();
    std::fs::copy(
        fixture("go-service").join("results.csv"),
        newer.join("results.csv"),
    )
    .unwrap();
    let text = std::fs::read_to_string(fixture("go-service").join("meta.json")).unwrap();
    std::fs::write(
        newer.join("meta.json"),
        text.replacen("\"schema_version\": 1", "\"schema_version\": 99", 1),
    )
    .unwrap();
    let refused = stagebench(
        dir.path(),
        &[
            "merge",
            fixture("mixed").to_str().unwrap(),
            "newer",
            "--out",
            "refused",
        ],
    );
    assert_one_sentence_failure(&refused, &["newer", "refused", "schema_version 99"]);
    assert!(!dir.path().join("refused").exists(), "nothing is written");

    let again = stagebench(
        dir.path(),
        &[
            "merge",
            fixture("mixed").to_str().unwrap(),
            "--out",
            "merged",
        ],
    );
    assert_one_sentence_failure(&again, &["merged already holds results"]);
}

#[test]
fn resume_refuses_a_folder_that_records_no_settings() {
    let dir = tempfile::tempdir().unwrap();
    let output = stagebench(
        dir.path(),
        &["run", "--resume", fixture("go-service").to_str().unwrap()],
    );
    assert_one_sentence_failure(&output, &["cannot resume", "schema 1"]);
    let output = stagebench(dir.path(), &["run", "--resume", "missing"]);
    assert_one_sentence_failure(&output, &["cannot resume missing"]);
}

#[test]
fn an_out_folder_holding_results_is_refused_naming_resume() {
    let dir = write_tree(PAIR);
    std::fs::create_dir_all(dir.path().join("out")).unwrap();
    std::fs::write(dir.path().join("out/results.csv"), "scenario\n").unwrap();
    let output = stagebench(dir.path(), &["run", ".", "--out", "out"]);
    assert_one_sentence_failure(&output, &["--out out already holds", "--resume out"]);
    assert_eq!(
        std::fs::read_to_string(dir.path().join("out/results.csv")).unwrap(),
        "scenario\n",
        "nothing measured is touched"
    );
}

/// `stagebench ARGS` with arguments that need not be UTF-8.
fn stagebench_os(cwd: &std::path::Path, args: &[std::ffi::OsString]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_stagebench"))
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("run stagebench")
}

#[test]
fn non_utf8_arguments_work_as_paths_and_get_one_sentence_where_text_is_needed() {
    use std::ffi::OsString;
    use std::os::unix::ffi::OsStringExt;
    let latin1 = |prefix: &str| {
        let mut bytes = prefix.as_bytes().to_vec();
        bytes.extend_from_slice(b"caf\xe9");
        OsString::from_vec(bytes)
    };
    let dir = tempfile::tempdir().unwrap();
    let scenario = dir.path().join(latin1(""));
    std::fs::create_dir_all(&scenario).unwrap();
    for (name, text) in PAIR {
        std::fs::write(scenario.join(name), text).unwrap();
    }
    // A path: listed, named after the directory with the undecodable byte made a `-`.
    let listed = stagebench_os(dir.path(), &["list".into(), latin1("")]);
    assert!(listed.status.success(), "{}", stderr(&listed));
    let stdout = String::from_utf8_lossy(&listed.stdout);
    assert!(stdout.contains("caf-  caf\u{fffd}"), "{stdout}");
    assert!(
        stdout.contains("variants: single (baseline), multi"),
        "{stdout}"
    );
    let missing = stagebench_os(dir.path(), &["run".into(), latin1("missing-")]);
    assert_one_sentence_failure(
        &missing,
        &["scenario directory missing-caf", "does not exist"],
    );
    assert_eq!(missing.status.code(), Some(1));
    // Text: refused naming the flag, before anything runs.
    for flag in ["--variant", "--profile", "--docker-host"] {
        let output = stagebench_os(
            dir.path(),
            &["run".into(), latin1(""), flag.into(), latin1("")],
        );
        assert_eq!(output.status.code(), Some(2), "{flag}");
        let text = stderr(&output);
        assert!(
            text.contains(&format!("invalid value 'caf\u{fffd}' for '{flag}"))
                && text.contains("is not UTF-8 text"),
            "{flag}: {text}"
        );
        assert!(!text.contains("panicked"), "{text}");
    }
}

#[test]
fn numbers_beyond_their_bound_are_refused_by_the_flag_not_a_crash() {
    let dir = write_tree(PAIR);
    for (flag, value, says) in [
        ("--runs", "4294967295", "outside 1 to 1000"),
        ("--warmup", "4294967295", "outside 0 to 100"),
        ("--timeout", "1e20", "more than 604800 seconds (a week)"),
        ("--size-floor", "99999999999999999999", "more than 1TB"),
        ("--noise-threshold", "1e308", "from 0 up to 100"),
        (
            "--seed",
            "18446744073709551616",
            "from 0 to 18446744073709551615",
        ),
    ] {
        let output = stagebench(dir.path(), &["run", ".", flag, value]);
        assert_eq!(output.status.code(), Some(2), "{flag} {value}");
        let text = stderr(&output);
        assert!(
            text.starts_with(&format!("error: invalid value '{value}' for '{flag}")),
            "{text}"
        );
        assert!(text.contains(says), "{flag}: {text}");
    }
}

#[test]
fn errors_with_a_docs_section_point_to_it_on_their_line() {
    let dir = write_tree(PAIR);
    let output = stagebench(dir.path(), &["run", ".", "--cache", "ci-cold"]);
    assert_one_sentence_failure(
        &output,
        &["--cache ci-cold", "(see docs/cache-modes.md#ci-modes)"],
    );
    let output = stagebench(dir.path(), &["run", ".", "--baseline", "nightly"]);
    assert_eq!(output.status.code(), Some(2));
    assert_one_sentence_failure(
        &output,
        &[
            "there is no baseline `nightly`",
            "(see docs/ci.md#baselines-and-the-gate)",
        ],
    );
    let output = stagebench(dir.path(), &["run", "missing"]);
    assert_one_sentence_failure(
        &output,
        &[
            "scenario directory missing",
            "(see docs/scenarios.md#scenario-folders)",
        ],
    );
    // A sentence no page explains gets no pointer.
    let output = stagebench(dir.path(), &["report", "missing"]);
    assert!(!output.status.success());
    assert!(
        !stderr(&output).contains("(see docs/"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn every_help_names_its_docs_page() {
    let dir = write_tree(PAIR);
    let top = stagebench(dir.path(), &["--help"]);
    let text = String::from_utf8_lossy(&top.stdout);
    assert!(
        text.contains("Docs: docs/cli.md for every command and flag"),
        "{text}"
    );
    for command in [
        "run", "list", "validate", "report", "merge", "compare", "history", "site",
    ] {
        let output = stagebench(dir.path(), &[command, "--help"]);
        assert!(output.status.success(), "{command}");
        let text = String::from_utf8_lossy(&output.stdout);
        let expected = format!(
            "Docs: docs/cli.md#{command} (online: https://github.com/stagebench/stagebench/blob/main/docs/cli.md#{command})"
        );
        assert!(text.trim_end().ends_with(&expected), "{command}: {text}");
    }
}

#[test]
fn runs_auto_settings_that_cannot_work_are_refused_before_anything_runs() {
    let dir = write_tree(PAIR);
    for (args, expected) in [
        (
            &["--min-runs", "4"][..],
            &["--min-runs and --max-runs apply only with --runs auto"][..],
        ),
        (
            &["--runs", "5", "--max-runs", "8"],
            &["apply only with --runs auto"],
        ),
        (
            &["--runs", "auto", "--min-runs", "6", "--max-runs", "5"],
            &["--max-runs 5 is below --min-runs 6"],
        ),
    ] {
        let mut all = vec!["run", ".", "--out", "out"];
        all.extend_from_slice(args);
        let output = stagebench(dir.path(), &all);
        assert_one_sentence_failure(&output, expected);
        // A wrong command line exits 2, as clap's own refusals do: with --baseline, 1 would
        // read as a regression.
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert!(!dir.path().join("out").exists(), "{args:?} wrote a folder");
    }
}
