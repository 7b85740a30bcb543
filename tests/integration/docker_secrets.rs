//! Secret build arguments: used by the build, never written to any output file or printed.

use std::path::Path;

use stagebench::results::BuildStatus;

use crate::support::{RemoveOnDrop, docker_daemon, results, stagebench, stderr, write_tree};

/// Every file under `dir`, read as bytes.
fn all_files(dir: &Path) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                found.push((path.clone(), std::fs::read(&path).unwrap()));
            }
        }
    }
    found
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

#[test]
fn docker_secret_build_arguments_are_used_but_never_written_or_printed() {
    let Some(_daemon) = docker_daemon() else {
        return;
    };
    let token = "tok-7f3a9c2e51d8b406";
    let other = "oth-94c1e07a3b5d2f68";
    let tree = write_tree(&[
        (
            "secret-test/scenario.toml",
            "secret_build_args = [\"TOKEN\"]\n",
        ),
        // The lengths prove the values arrived without writing them into the Dockerfile.
        (
            "secret-test/single.Dockerfile",
            "FROM busybox:latest\nARG TOKEN\nARG OTHER\nRUN [ ${#TOKEN} -eq 20 ] && [ ${#OTHER} -eq 20 ] && echo ok > /ok\n",
        ),
        (
            "secret-test/leaky.Dockerfile",
            "FROM busybox:latest\nARG TOKEN\nARG OTHER\nRUN echo \"leaking $TOKEN and $OTHER\"; exit 3\n",
        ),
    ]);
    let _cleanup = RemoveOnDrop(vec!["stagebench/secret-test".to_string()]);
    let out = tree.path().join("out");
    let out_arg = out.display().to_string();
    let dir = tree.path().join("secret-test").display().to_string();
    let token_arg = format!("TOKEN={token}");
    let other_arg = format!("OTHER={other}");
    let output = stagebench(
        tree.path(),
        &[
            "run",
            &dir,
            "--runs",
            "1",
            "--cache",
            "cold,warm",
            "--build-arg",
            &token_arg,
            "--secret-build-arg",
            &other_arg,
            "--out",
            &out_arg,
            "--export-json",
            "-",
            "--export-markdown",
            "-",
        ],
    );
    let rows = results(&out);
    let single: Vec<_> = rows.iter().filter(|r| r.variant == "single").collect();
    assert!(
        !single.is_empty() && single.iter().all(|r| r.status == BuildStatus::Ok),
        "the secrets reached the build: {rows:?}"
    );
    let leaky = rows.iter().find(|r| r.variant == "leaky").unwrap();
    assert_eq!(leaky.status, BuildStatus::Failed);
    assert!(
        leaky.error.contains("leaking <secret> and <secret>"),
        "{}",
        leaky.error
    );

    let printed = [output.stdout.as_slice(), output.stderr.as_slice()].concat();
    for secret in [token, other] {
        assert!(
            !contains(&printed, secret),
            "{secret} printed:\n{}",
            stderr(&output)
        );
        for (path, bytes) in all_files(&out) {
            assert!(
                !contains(&bytes, secret),
                "{secret} written to {}",
                path.display()
            );
        }
    }
    // A run with a secret --build-arg cannot be resumed: its value was never recorded.
    let resumed = stagebench(tree.path(), &["run", "--resume", &out_arg]);
    assert!(!resumed.status.success());
    assert!(
        stderr(&resumed).contains("never recorded"),
        "{}",
        stderr(&resumed)
    );
}
