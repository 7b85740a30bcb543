//! The scenario.toml loader: any bytes as scenario.toml, next to a Dockerfile and an app file.
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;

/// One scenario directory for the whole process: making one per input would measure the file
/// system instead of the loader.
fn scenario_dir() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("stagebench-fuzz-{}", std::process::id()));
        let _ = stagebench::fuzzing::prepare_scenario_dir(&dir);
        dir
    })
}

fuzz_target!(|data: &[u8]| stagebench::fuzzing::scenario_toml(scenario_dir(), data));
