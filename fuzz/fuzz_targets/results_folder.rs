//! The results-folder reader (`report`, `merge`, `history`, `compare`, `--resume`): any bytes as
//! a folder's meta.json, results.csv, steps.csv, layers.csv and waste.csv, cut at each `\x1e`.
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;

/// One folder for the whole process: making one per input would measure the file system
/// instead of the reader.
fn results_dir() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!(
            "stagebench-fuzz-results-{}",
            std::process::id()
        ));
        let _ = std::fs::create_dir_all(&dir);
        dir
    })
}

fuzz_target!(|data: &[u8]| stagebench::fuzzing::results_folder(results_dir(), data));
