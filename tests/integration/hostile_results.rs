//! Results folders arrive as CI artifacts and from forks: one whose scenario, variant or host
//! names would make file names outside it is refused by `report`, `merge`, `history` and
//! `compare` with one sentence naming the file and the line or key, and nothing is written
//! anywhere.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::support::{stagebench, stderr};

/// What a file looked like: its kind, size and modification time.
type Snapshot = BTreeMap<PathBuf, (&'static str, u64, Option<SystemTime>)>;

/// Every entry under `root`, links not followed.
fn snapshot(root: &Path) -> Snapshot {
    let mut entries = Snapshot::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let meta = std::fs::symlink_metadata(&path).unwrap();
            let kind = if meta.is_symlink() {
                "link"
            } else if meta.is_dir() {
                stack.push(path.clone());
                "dir"
            } else {
                "file"
            };
            entries.insert(path, (kind, meta.len(), meta.modified().ok()));
        }
    }
    entries
}

/// A copy of tests/fixtures/go-service at `dir`, with `edit` applied to meta.json's and
/// results.csv's text.
fn hostile_copy(dir: &Path, edit_meta: fn(&str) -> String, edit_results: fn(&str) -> String) {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/go-service");
    std::fs::create_dir_all(dir).unwrap();
    let read = |name: &str| std::fs::read_to_string(fixture.join(name)).unwrap();
    std::fs::write(dir.join("meta.json"), edit_meta(&read("meta.json"))).unwrap();
    std::fs::write(dir.join("results.csv"), edit_results(&read("results.csv"))).unwrap();
}

/// The field made hostile, the edits of meta.json and results.csv, and what the refusal says.
type Case = (&'static str, Edit, Edit, [&'static str; 3]);
type Edit = fn(&str) -> String;

#[test]
fn hostile_names_in_a_results_folder_are_refused_and_nothing_is_written_anywhere() {
    let root = tempfile::tempdir().unwrap();
    // Three levels down, so that `../../../escape` would land inside the snapshot.
    let deep = root.path().join("a/b/c");
    let cases: [Case; 3] = [
        (
            "scenario",
            |meta| meta.replace("\"name\": \"go-service\"", "\"name\": \"../../../escape\""),
            |rows| rows.replace("\ngo-service,", "\n../../../escape,"),
            [
                "meta.json, key `scenarios[0].name`",
                "scenario name `../../../escape`",
                "must start with a letter or digit",
            ],
        ),
        (
            "variant",
            str::to_string,
            |rows| rows.replace(",single,", ",../../../escape,"),
            [
                "results.csv:2: variant name",
                "variant name `../../../escape`",
                "must start with a letter or digit",
            ],
        ),
        (
            "host",
            str::to_string,
            |rows| {
                rows.replacen("error\n", "error,host\n", 1)
                    .replace(",\n", ",,../../../escape\n")
            },
            [
                "results.csv:2: host name",
                "host name `../../../escape`",
                "must start with a letter or digit",
            ],
        ),
    ];
    for (field, edit_meta, edit_results, _) in &cases {
        hostile_copy(&deep.join(field), *edit_meta, *edit_results);
    }
    for (field, _, _, expected) in &cases {
        let folder = format!("a/b/c/{field}");
        let out = format!("a/b/c/merged-{field}");
        for args in [
            vec!["report", folder.as_str()],
            vec!["merge", folder.as_str(), "--out", out.as_str()],
            vec!["history", folder.as_str()],
            vec!["compare", folder.as_str(), folder.as_str()],
        ] {
            let before = snapshot(root.path());
            let output = stagebench(root.path(), &args);
            let after = snapshot(root.path());
            assert!(!output.status.success(), "{args:?} succeeded");
            let message = stderr(&output);
            assert_eq!(message.trim().lines().count(), 1, "{args:?}: {message}");
            assert!(message.contains(field), "{args:?}: {message}");
            for part in expected {
                assert!(
                    message.contains(part),
                    "{args:?}: `{part}` missing: {message}"
                );
            }
            assert_eq!(before, after, "{args:?} wrote something");
        }
    }
    // Found among other folders, the first hostile one (in path order) is named.
    let before = snapshot(root.path());
    let output = stagebench(root.path(), &["history", "a"]);
    assert!(!output.status.success());
    let message = stderr(&output);
    assert_eq!(message.trim().lines().count(), 1, "{message}");
    assert!(
        message.contains("a/b/c/host/results.csv:2: host name"),
        "{message}"
    );
    assert_eq!(before, snapshot(root.path()), "history a wrote something");
    assert!(!root.path().join("escape-build-time.svg").exists());
}

#[test]
fn a_results_file_that_is_a_link_is_refused_without_reading_it() {
    let root = tempfile::tempdir().unwrap();
    let private = root.path().join("private");
    std::fs::write(&private, "scenario,variant\nssh-rsa,AAAAB3Nza\n").unwrap();
    let folder = root.path().join("artifact");
    hostile_copy(&folder, str::to_string, str::to_string);
    std::fs::remove_file(folder.join("results.csv")).unwrap();
    std::os::unix::fs::symlink(&private, folder.join("results.csv")).unwrap();
    let before = snapshot(root.path());
    let output = stagebench(root.path(), &["report", "artifact"]);
    assert!(!output.status.success());
    let message = stderr(&output);
    assert_eq!(message.trim().lines().count(), 1, "{message}");
    assert!(
        message.contains("artifact/results.csv") && message.contains("symbolic link"),
        "{message}"
    );
    assert!(!message.contains("ssh-rsa"), "{message}");
    assert_eq!(before, snapshot(root.path()), "nothing is written");
}
