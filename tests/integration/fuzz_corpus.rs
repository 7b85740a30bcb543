//! Every committed seed input of the fuzz targets (`fuzz/corpus/<target>/`), run through the
//! same code the fuzzer drives, on the stable toolchain: a past crash stays fixed even where
//! `scripts/fuzz` (nightly) does not run.

use std::path::{Path, PathBuf};

use stagebench::fuzzing;

fn seeds(target: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no seeds in {}", dir.display());
    files
}

#[test]
fn every_fuzz_seed_passes_its_target() {
    let scenario = tempfile::tempdir().unwrap();
    fuzzing::prepare_scenario_dir(scenario.path()).unwrap();
    for seed in seeds("scenario_toml") {
        fuzzing::scenario_toml(scenario.path(), &std::fs::read(&seed).unwrap());
    }
    for seed in seeds("dockerignore") {
        fuzzing::dockerignore(&std::fs::read(&seed).unwrap());
    }
    for seed in seeds("dockerfile") {
        fuzzing::dockerfile(&std::fs::read(&seed).unwrap());
    }
    for seed in seeds("classic_stream") {
        fuzzing::classic_stream(&std::fs::read(&seed).unwrap());
    }
    let results = tempfile::tempdir().unwrap();
    for seed in seeds("results_folder") {
        fuzzing::results_folder(results.path(), &std::fs::read(&seed).unwrap());
    }
}
