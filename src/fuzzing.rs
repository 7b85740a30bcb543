//! The bodies of the fuzz targets (`fuzz/fuzz_targets/`), here so that the stable test suite
//! runs every committed seed input through exactly the code the fuzzer drives
//! (`tests/integration/fuzz_corpus.rs`). Each takes arbitrary bytes and must return, never
//! panic or hang.

use std::collections::BTreeMap;
use std::path::Path;

use crate::context::DockerIgnore;
use crate::dockerfile::read_facts;
use crate::engine::classic_stream_steps;
use crate::results::{LAYERS_FILE, META_FILE, RESULTS_FILE, ResultSet, STEPS_FILE, WASTE_FILE};
use crate::scenario::Scenario;

/// `data` as the scenario.toml of `dir`, a scenario directory holding a Dockerfile and an app
/// file; loading must succeed or fail with an error.
pub fn scenario_toml(dir: &Path, data: &[u8]) {
    if std::fs::write(dir.join("scenario.toml"), data).is_ok() {
        let _ = Scenario::load(dir);
    }
}

/// Writes the files [`scenario_toml`] expects next to scenario.toml.
pub fn prepare_scenario_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir.join("app"))?;
    std::fs::write(
        dir.join("single.Dockerfile"),
        "FROM busybox:latest\nCOPY app /app\n",
    )?;
    std::fs::write(dir.join("app/main.py"), "print(\"stagebench-token\")\n")
}

/// The lines up to the last are `.dockerignore` patterns, the last line a path: parsing must
/// succeed or fail with an error, and matching must answer.
pub fn dockerignore(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let (patterns, path) = text.rsplit_once('\n').unwrap_or((&text, "a/b.txt"));
    if let Ok(rules) = DockerIgnore::parse(patterns, Path::new(".dockerignore")) {
        for candidate in [path, "a", "a/b", "a/b/c.txt", ".git/config", "Dockerfile"] {
            let _ = rules.is_excluded(candidate);
        }
    }
}

/// Any text as a Dockerfile must give facts.
pub fn dockerfile(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let args = BTreeMap::from([
        ("BASE".to_string(), "busybox".to_string()),
        ("TAG".to_string(), String::new()),
    ]);
    let _ = read_facts(&text, &args);
}

/// The input, cut into messages at each `\x1e`, as the classic builder's `stream` fields: any
/// `RUN` can print anything into them, so every input must give counts no larger than the
/// steps and timings that never start before the build.
pub fn classic_stream(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let chunks: Vec<&str> = text.split('\u{1e}').collect();
    let (counts, timings, _message) = classic_stream_steps(&chunks);
    assert!(counts.cached_steps <= counts.total_steps, "{counts:?}");
    assert!(
        timings
            .iter()
            .all(|t| t.seconds >= 0.0 && t.started_offset_s >= 0.0),
        "{timings:?}"
    );
}

/// The input, cut at each `\x1e`, as a results folder's meta.json, results.csv, steps.csv,
/// layers.csv and waste.csv (a file with no part is absent), written into `dir` and read back:
/// reading must succeed or fail with an error, and every name a folder that was read holds
/// must be a plain file name, since reports name files after them.
pub fn results_folder(dir: &Path, data: &[u8]) {
    let mut parts = data.split(|&b| b == 0x1e);
    for name in [META_FILE, RESULTS_FILE, STEPS_FILE, LAYERS_FILE, WASTE_FILE] {
        let path = dir.join(name);
        let written = match parts.next() {
            Some(bytes) => std::fs::write(&path, bytes),
            None => std::fs::remove_file(&path).or_else(|e| match e.kind() {
                std::io::ErrorKind::NotFound => Ok(()),
                _ => Err(e),
            }),
        };
        if written.is_err() {
            return;
        }
    }
    let Ok(set) = ResultSet::load(dir) else {
        return;
    };
    let plain = |name: &str| {
        let mut parts = Path::new(name).components();
        matches!(
            (parts.next(), parts.next()),
            (Some(std::path::Component::Normal(part)), None) if part == name
        ) && !name.starts_with('.')
    };
    let rows = set
        .records
        .iter()
        .map(|r| [&r.scenario, &r.variant, &r.host])
        .chain(set.steps.iter().map(|r| [&r.scenario, &r.variant, &r.host]))
        .chain(
            set.layers
                .iter()
                .map(|r| [&r.scenario, &r.variant, &r.host]),
        )
        .chain(set.waste.iter().map(|r| [&r.scenario, &r.variant, &r.host]));
    let meta = set
        .meta
        .scenarios
        .iter()
        .flat_map(|s| {
            [&s.name, &s.host]
                .into_iter()
                .chain(s.variants.iter().map(|v| &v.name))
        })
        .chain(set.meta.hosts.iter().map(|h| &h.name));
    for name in rows.flatten().chain(meta) {
        assert!(plain(name), "{name:?} was read as a name");
    }
}
