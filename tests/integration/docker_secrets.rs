//! Secret build arguments and BuildKit secrets: used by the build, never written to any output
//! file or printed.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Output;

use sha2::{Digest, Sha256};
use stagebench::results::BuildStatus;

use crate::support::{
    RemoveOnDrop, docker_cli, docker_daemon, results, stagebench, stagebench_with_env, stderr,
    write_tree,
};

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

/// Fails when any of `secrets` is in what the run printed or in any file under `out`.
fn assert_never_printed_or_written(secrets: &[&str], output: &Output, out: &Path) {
    let printed = [output.stdout.as_slice(), output.stderr.as_slice()].concat();
    let files = all_files(out);
    for secret in secrets {
        assert!(
            !contains(&printed, secret),
            "{secret} printed:\n{}",
            stderr(output)
        );
        for (path, bytes) in &files {
            assert!(
                !contains(bytes, secret),
                "{secret} written to {}",
                path.display()
            );
        }
    }
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

    assert_never_printed_or_written(&[token, other], &output, &out);
    // A run with a secret --build-arg cannot be resumed: its value was never recorded.
    let resumed = stagebench(tree.path(), &["run", "--resume", &out_arg]);
    assert!(!resumed.status.success());
    assert!(
        stderr(&resumed).contains("never recorded"),
        "{}",
        stderr(&resumed)
    );
}

#[test]
fn docker_buildkit_secrets_reach_run_mount_but_no_output_and_no_image() {
    let Some(_daemon) = docker_daemon() else {
        return;
    };
    let token = "tok-3b8e05d1c94a7f26\nsecond-line-6d0e2a91\n";
    let from_env = "env-51c7a0e9d3b24f86";
    let tree = write_tree(&[
        ("secret-mount/token", token),
        // Each secret's digest is kept in the image: proof that it arrived whole, without the
        // value itself ever reaching a layer.
        (
            "secret-mount/single.Dockerfile",
            "FROM busybox:latest\n\
             RUN --mount=type=secret,id=token,required=true --mount=type=secret,id=api,required=true \\\n\
             \x20   sha256sum /run/secrets/token /run/secrets/api | cut -d' ' -f1 > /digests \\\n\
             \x20   && cat /run/secrets/token /run/secrets/api\n",
        ),
        (
            "secret-mount/leaky.Dockerfile",
            "FROM busybox:latest\n\
             RUN --mount=type=secret,id=token --mount=type=secret,id=api \\\n\
             \x20   cat /run/secrets/token; echo \"api is $(cat /run/secrets/api)\" >&2; exit 3\n",
        ),
    ]);
    let _cleanup = RemoveOnDrop(vec!["stagebench/secret-mount".to_string()]);
    let out = tree.path().join("out");
    let out_arg = out.display().to_string();
    let dir = tree.path().join("secret-mount").display().to_string();
    let output = stagebench_with_env(
        tree.path(),
        &[
            "run",
            &dir,
            "--runs",
            "1",
            "--cache",
            "cold,warm",
            "--secret",
            "id=token,src=secret-mount/token",
            "--secret",
            "id=api,env=STAGEBENCH_TEST_API_SECRET",
            "--out",
            &out_arg,
            "--export-json",
            "-",
            "--export-markdown",
            "-",
        ],
        &[("STAGEBENCH_TEST_API_SECRET", from_env)],
    );
    let rows = results(&out);
    let single: Vec<_> = rows.iter().filter(|r| r.variant == "single").collect();
    assert!(
        single.len() == 2 && single.iter().all(|r| r.status == BuildStatus::Ok),
        "both required secrets were mounted: {rows:?}\n{}",
        stderr(&output)
    );
    let digests = docker_cli(
        &[
            "run",
            "--rm",
            "stagebench/secret-mount:single",
            "cat",
            "/digests",
        ],
        &BTreeMap::new(),
    );
    let expected: String = [token, from_env]
        .iter()
        .map(|value| {
            let digest = Sha256::digest(value.as_bytes());
            let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
            hex + "\n"
        })
        .collect();
    assert_eq!(String::from_utf8_lossy(&digests.stdout), expected);
    let leaky = rows.iter().find(|r| r.variant == "leaky").unwrap();
    assert_eq!(leaky.status, BuildStatus::Failed);
    assert!(leaky.error.contains("api is <secret>"), "{}", leaky.error);

    let saved = docker_cli(
        &["save", "stagebench/secret-mount:single"],
        &BTreeMap::new(),
    );
    assert!(saved.status.success() && saved.stdout.len() > 1_000_000);
    let secrets = ["tok-3b8e05d1c94a7f26", "second-line-6d0e2a91", from_env];
    for secret in secrets {
        assert!(!contains(&saved.stdout, secret), "{secret} is in the image");
    }
    assert_never_printed_or_written(&secrets, &output, &out);
    let meta: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("meta.json")).unwrap()).unwrap();
    // Relative to the working directory the run started in, as every path meta.json holds.
    assert_eq!(
        meta["settings"]["build_secrets"],
        serde_json::json!([
            {"id": "token", "src": "secret-mount/token"},
            {"id": "api", "env": "STAGEBENCH_TEST_API_SECRET"},
        ]),
        "meta.json records where each secret came from, and nothing more"
    );

    // --resume reads the secret again from where meta.json says it came from.
    let resumed = stagebench_with_env(
        tree.path(),
        &["run", "--resume", &out_arg],
        &[("STAGEBENCH_TEST_API_SECRET", from_env)],
    );
    assert!(
        stderr(&resumed).contains("nothing to resume"),
        "{}",
        stderr(&resumed)
    );
    let unset = stagebench(tree.path(), &["run", "--resume", &out_arg]);
    assert!(!unset.status.success());
    assert!(
        stderr(&unset).contains(
            "--secret id=api: the environment variable STAGEBENCH_TEST_API_SECRET is not set"
        ),
        "{}",
        stderr(&unset)
    );

    // A secret that cannot be read stops the run before any build, naming the flag.
    let missing = stagebench(
        tree.path(),
        &["run", &dir, "--secret", "id=token,src=no-such-file"],
    );
    assert!(!missing.status.success());
    assert!(
        stderr(&missing).contains("--secret id=token: cannot read "),
        "{}",
        stderr(&missing)
    );
}
