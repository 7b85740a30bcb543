//! Paths on a real run: a build context above the scenario directory is sent only from inside
//! its repository or with --allow-context-above, and says what it sends; meta.json and the
//! reports hold no path of the machine that ran; --resume says where to run it from.

use crate::support::{RemoveOnDrop, docker_daemon, files_under, stagebench, stderr, write_tree};

/// Every string in `value` that is an absolute path, with the key it is under, except the
/// Docker endpoints (a socket's address names the daemon, not a file of the run).
fn absolute_paths(value: &serde_json::Value, key: &str, found: &mut Vec<String>) {
    match value {
        serde_json::Value::String(text) if text.starts_with('/') && key != "endpoint" => {
            found.push(format!("{key}: {text}"));
        }
        serde_json::Value::Array(items) => {
            for item in items {
                absolute_paths(item, key, found);
            }
        }
        serde_json::Value::Object(map) => {
            for (k, v) in map {
                // Input names are keys: a path there would be one too.
                if k.starts_with('/') {
                    found.push(format!("{key} has key {k}"));
                }
                absolute_paths(v, k, found);
            }
        }
        _ => {}
    }
}

#[test]
fn docker_a_context_above_needs_its_repository_and_meta_json_holds_no_machine_path() {
    let Some(_daemon) = docker_daemon() else {
        return;
    };
    let _images = RemoveOnDrop(vec!["stagebench/sbtest-paths".to_string()]);
    let tree = write_tree(&[
        ("repo/.git/HEAD", "ref: refs/heads/main\n"),
        ("repo/app.txt", "hello\n"),
        (
            "repo/scenarios/up/scenario.toml",
            "name = \"sbtest-paths\"\ncontext = \"../..\"\n",
        ),
        (
            "repo/scenarios/up/single.Dockerfile",
            "FROM busybox:latest\nCOPY app.txt /app.txt\n",
        ),
        ("token", "tok-2b7e151628aed2a6\n"),
        ("elsewhere/.keep", ""),
    ]);
    let root = std::fs::canonicalize(tree.path()).unwrap();
    let repo = root.join("repo");
    let elsewhere = root.join("elsewhere");
    let scenario = repo.join("scenarios/up");
    let out = elsewhere.join("out");
    let secret = format!("id=t,src={}", root.join("token").display());
    let args = [
        "run",
        scenario.to_str().unwrap(),
        "--runs",
        "1",
        "--cache",
        "cold",
        "--rm",
        "--out",
        out.to_str().unwrap(),
        "--secret",
        &secret,
    ];

    // From outside the repository the whole repository would go to the daemon: refused.
    let refused = stagebench(&elsewhere, &args);
    assert_eq!(refused.status.code(), Some(1));
    let message = stderr(&refused);
    assert_eq!(message.trim().lines().count(), 1, "{message}");
    assert!(
        message.contains(&format!(
            "scenario.toml:2: context `../..` reaches above the scenario directory to {}",
            repo.display()
        )) && message.contains("--allow-context-above"),
        "{message}"
    );
    assert!(!out.exists(), "nothing is written");

    let accepted = stagebench(
        &elsewhere,
        &[&args[..], &["--allow-context-above"]].concat(),
    );
    assert!(accepted.status.success(), "{}", stderr(&accepted));
    let printed = stderr(&accepted);
    // app.txt, HEAD, scenario.toml and the Dockerfile: 4 files, 106 bytes.
    assert!(
        printed.contains(&format!(
            "scenario sbtest-paths sends the build context {}, above its directory: 4 files, 0.1 kB",
            repo.display()
        )),
        "{printed}"
    );

    // No file the run wrote names a path of this machine.
    let tree_path = tree.path().display().to_string();
    let root_path = root.display().to_string();
    for file in files_under(&out) {
        let bytes = std::fs::read(&file).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        for machine in [&tree_path, &root_path] {
            assert!(
                !text.contains(machine.as_str()),
                "{} holds {machine}",
                file.display()
            );
        }
    }
    for document in ["meta.json", "summary.json"] {
        let value: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(out.join(document)).unwrap()).unwrap();
        let mut found = Vec::new();
        absolute_paths(&value, "", &mut found);
        assert!(found.is_empty(), "{document}: {found:?}");
    }
    let meta = stagebench::results::RunMeta::read(&out).unwrap();
    assert_eq!(meta.settings.scenario_dirs, ["../repo/scenarios/up"]);
    assert_eq!(meta.settings.results_dir.as_deref(), Some("out"));
    assert_eq!(meta.scenarios[0].dir, "../repo/scenarios/up");
    assert!(meta.settings.options.allow_context_above);
    assert!(
        meta.scenarios[0].inputs.files.contains_key("../../app.txt"),
        "{:?}",
        meta.scenarios[0].inputs.files.keys()
    );
    let command_line = &meta.invocations[0].command_line;
    assert_eq!(command_line[0], "stagebench");
    assert!(
        command_line.contains(&"id=t,src=../token".to_string()),
        "{command_line:?}"
    );

    // --resume continues from the directory the run started in, and from elsewhere says which.
    let from_root = stagebench(&root, &["run", "--resume", "elsewhere/out"]);
    assert_eq!(from_root.status.code(), Some(1));
    let message = stderr(&from_root);
    assert_eq!(message.trim().lines().count(), 1, "{message}");
    assert!(
        message.contains(&format!(
            "cannot resume elsewhere/out: its paths are relative to the directory the run started in, {}; run `stagebench run --resume out` from there",
            elsewhere.display()
        )),
        "{message}"
    );
    let from_start = stagebench(&elsewhere, &["run", "--resume", "out"]);
    assert!(from_start.status.success(), "{}", stderr(&from_start));
    assert!(
        stderr(&from_start).contains("nothing to resume: every planned build of out has finished"),
        "{}",
        stderr(&from_start)
    );
}
