//! Hostile scenario files (huge, binary, special, absurd) get one clear sentence naming the
//! file, not a hang or a crash. Every command here runs under a time limit.

use std::path::Path;
use std::process::{Command, Output};

use crate::support::{stderr, write_tree};

/// `stagebench ARGS` in `cwd`, killed after 60 s (a hang fails the test instead of blocking it).
fn bounded(cwd: &Path, args: &[&str]) -> Output {
    let output = Command::new("timeout")
        .arg("60")
        .arg(env!("CARGO_BIN_EXE_stagebench"))
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("run stagebench under timeout");
    assert_ne!(output.status.code(), Some(124), "stagebench {args:?} hung");
    // 101 is a Rust panic; a signal (no code) is a crash such as a stack overflow.
    assert!(
        output.status.code().is_some() && output.status.code() != Some(101),
        "stagebench {args:?} crashed: {:?}\n{}",
        output.status,
        stderr(&output)
    );
    output
}

/// A failure with exactly one line (on either stream: `validate` lists problems on stdout)
/// naming the file, holding every expected part.
fn refused(output: &Output, expected: &[&str]) {
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        stderr(output)
    );
    assert!(!output.status.success(), "{text}");
    let lines: Vec<&str> = text.lines().filter(|l| l.contains(expected[0])).collect();
    assert_eq!(
        lines.len(),
        1,
        "one line naming {} expected: {text}",
        expected[0]
    );
    for part in expected {
        assert!(lines[0].contains(part), "`{part}` missing from: {text}");
    }
}

const DOCKERFILE: &str = "FROM busybox:latest\nRUN true\n";

#[test]
fn huge_binary_and_special_scenario_files_are_refused_naming_the_file() {
    let big = "# padding\n".repeat(110_000);
    for (name, files, expected) in [
        (
            "huge scenario.toml",
            vec![
                ("single.Dockerfile", DOCKERFILE.to_string()),
                ("scenario.toml", big.clone()),
            ],
            vec!["scenario.toml", "more than the 1048576 bytes"],
        ),
        (
            "huge Dockerfile",
            vec![("single.Dockerfile", format!("{DOCKERFILE}{big}"))],
            vec!["single.Dockerfile", "more than the 1048576 bytes"],
        ),
        (
            "binary Dockerfile",
            vec![(
                "single.Dockerfile",
                "FROM busybox\n\0\u{1}\u{2}".to_string(),
            )],
            vec!["single.Dockerfile", "binary"],
        ),
        (
            "binary scenario.toml",
            vec![
                ("single.Dockerfile", DOCKERFILE.to_string()),
                ("scenario.toml", "name = \"x\"\0".to_string()),
            ],
            vec!["scenario.toml", "binary"],
        ),
        (
            "binary .dockerignore",
            vec![
                ("single.Dockerfile", DOCKERFILE.to_string()),
                (".dockerignore", "a\0b".to_string()),
            ],
            vec![".dockerignore", "binary"],
        ),
        (
            "deeply nested scenario.toml",
            vec![
                ("single.Dockerfile", DOCKERFILE.to_string()),
                (
                    "scenario.toml",
                    format!("x = {}{}", "[".repeat(200_000), "]".repeat(200_000)),
                ),
            ],
            vec!["scenario.toml"],
        ),
    ] {
        let files: Vec<(&str, &str)> = files.iter().map(|(n, t)| (*n, t.as_str())).collect();
        let dir = write_tree(&files);
        eprintln!("{name}");
        refused(&bounded(dir.path(), &["validate", "."]), &expected);
        let run = bounded(
            dir.path(),
            &[
                "run",
                ".",
                "--out",
                "out",
                "--docker-host",
                "unix:///nonexistent.sock",
            ],
        );
        refused(&run, &expected);
    }
}

#[test]
fn a_fifo_or_device_never_blocks_the_reader() {
    let dir = write_tree(&[("single.Dockerfile", DOCKERFILE)]);
    let fifo = dir.path().join("scenario.toml");
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    refused(
        &bounded(dir.path(), &["validate", "."]),
        &["scenario.toml", "not a regular file"],
    );
    std::fs::remove_file(&fifo).unwrap();
    // A `<variant>.Dockerfile` that is a device is no variant (as a directory of that name).
    std::os::unix::fs::symlink("/dev/zero", dir.path().join("multi.Dockerfile")).unwrap();
    let output = bounded(dir.path(), &["list", "."]);
    let listed = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && !listed.contains("multi"),
        "{listed}"
    );
    // Named in scenario.toml, it is refused.
    std::fs::write(
        dir.path().join("scenario.toml"),
        "[[variant]]\nname = \"multi\"\n",
    )
    .unwrap();
    refused(
        &bounded(dir.path(), &["validate", "."]),
        &["multi.Dockerfile"],
    );
}

#[test]
fn absurd_but_small_dockerfiles_finish_without_crashing() {
    let long_line = format!("FROM busybox:latest\nRUN echo {}\n", "x".repeat(900_000));
    let continuations = format!("FROM busybox:latest\nRUN true {}\n", "\\\n".repeat(200_000));
    let expansions = format!("ARG A=x\nFROM busybox:${{A:-{}}}\n", "${A:-".repeat(50_000));
    let many_stages: String = (0..20_000)
        .map(|i| format!("FROM busybox:latest AS s{i}\n"))
        .collect();
    for text in [long_line, continuations, expansions, many_stages] {
        let dir = write_tree(&[("single.Dockerfile", text.as_str())]);
        bounded(dir.path(), &["validate", "."]);
        bounded(dir.path(), &["list", "."]);
    }
}
