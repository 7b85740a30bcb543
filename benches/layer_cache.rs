//! What keeping layers by diff ID saves in a run's image analyses, on the four images of a
//! python-node quick run (python-node's variants share their Debian base layer):
//!
//! - **export only**: `docker save` of each image, read and thrown away: what the daemon's export
//!   costs whatever stagebench does with it;
//! - **each image on its own**: every layer of every image compressed and listed, as a run did
//!   before layers were kept;
//! - **one run's cache**: the four analysed in turn with one cache and each image's diff IDs, as
//!   a run on an empty cache folder does.
//!
//! Needs a Docker daemon and the docker CLI: `scripts/with-docker cargo bench --bench
//! layer_cache`. The images come from the results folder `STAGEBENCH_BENCH_RESULTS` names, or
//! from a python-node quick run this benchmark makes once (under `target/bench-layer-cache`,
//! with its own cache folder) and reuses while its images exist; remove them with `docker rmi`.
//!
//! Not criterion: one round takes over a minute, and criterion measures one function after the
//! other, so a drift of the machine's speed over a quarter of an hour would land on one side
//! only. The three are interleaved round by round instead, and each round's ratio is printed.

// A benchmark that cannot set up measures nothing, so it stops at the first failure.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use stagebench::image_analysis::{
    ImageAnalysis, LayerCache, analyze_export, analyze_export_cached,
};

/// Rounds unless `STAGEBENCH_BENCH_ROUNDS` says otherwise.
const DEFAULT_ROUNDS: usize = 5;

fn main() {
    // `cargo bench` passes `--bench`; this benchmark takes no arguments of its own.
    let results = results_folder();
    let images = images_of(&results);
    let rounds = std::env::var("STAGEBENCH_BENCH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(DEFAULT_ROUNDS);
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let diff_ids: Vec<Vec<String>> = images.iter().map(|(_, image)| diff_ids_of(image)).collect();
    println!(
        "{} images of {}: {}",
        images.len(),
        results.display(),
        images
            .iter()
            .map(|(variant, _)| variant.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    );

    let mut export_seconds = Vec::new();
    let mut alone_seconds = Vec::new();
    let mut cached_seconds = Vec::new();
    for round in 0..rounds {
        // Each of the three goes first, second and third in turn.
        for which in (0..3).map(|k| (k + round) % 3) {
            let started = Instant::now();
            match which {
                0 => {
                    for (_, image) in &images {
                        let mut child = common::save(image);
                        let mut stdout = child.stdout.take().expect("piped");
                        std::io::copy(&mut stdout, &mut std::io::sink()).expect("the export reads");
                        assert!(child.wait().expect("docker save ends").success());
                    }
                    export_seconds.push(started.elapsed().as_secs_f64());
                }
                1 => {
                    let alone: Vec<ImageAnalysis> = images
                        .iter()
                        .map(|(_, image)| analyse(image, |export| analyze_export(export, threads)))
                        .collect();
                    alone_seconds.push(started.elapsed().as_secs_f64());
                    check_same(&images, &alone, threads, &diff_ids);
                }
                _ => {
                    let cache = LayerCache::in_memory();
                    for ((_, image), ids) in images.iter().zip(&diff_ids) {
                        analyse(image, |export| {
                            analyze_export_cached(export, threads, &cache, ids)
                        });
                    }
                    cached_seconds.push(started.elapsed().as_secs_f64());
                }
            }
        }
        println!(
            "round {}: export only {:.2} s, each image on its own {:.2} s, one run's cache {:.2} s ({:.0}% of on its own)",
            round + 1,
            export_seconds[round],
            alone_seconds[round],
            cached_seconds[round],
            100.0 * cached_seconds[round] / alone_seconds[round]
        );
    }
    let shares: Vec<f64> = alone_seconds
        .iter()
        .zip(&cached_seconds)
        .map(|(alone, cached)| cached / alone)
        .collect();
    println!(
        "medians over {rounds} rounds: export only {:.2} s, each image on its own {:.2} s, one run's cache {:.2} s, {:.0}% to {:.0}% of on its own a round",
        median(&export_seconds),
        median(&alone_seconds),
        median(&cached_seconds),
        100.0 * shares.iter().copied().fold(f64::INFINITY, f64::min),
        100.0 * shares.iter().copied().fold(f64::NEG_INFINITY, f64::max),
    );
}

/// The analyses with one run's cache equal those made image by image: the saving costs nothing
/// in the figures. Checked once per round, outside the timed part.
fn check_same(
    images: &[(String, String)],
    alone: &[ImageAnalysis],
    threads: usize,
    diff_ids: &[Vec<String>],
) {
    let cache = LayerCache::in_memory();
    for (((variant, image), ids), expected) in images.iter().zip(diff_ids).zip(alone) {
        let cached = analyse(image, |export| {
            analyze_export_cached(export, threads, &cache, ids)
        });
        assert_eq!(&cached, expected, "{variant}: the cached analysis differs");
    }
}

fn analyse<E: std::fmt::Debug>(
    image: &str,
    how: impl FnOnce(std::process::ChildStdout) -> Result<ImageAnalysis, E>,
) -> ImageAnalysis {
    let mut child = common::save(image);
    let stdout = child.stdout.take().expect("piped");
    let analysis = how(stdout).expect("the export reads as an image");
    assert!(child.wait().expect("docker save ends").success());
    analysis
}

fn median(values: &[f64]) -> f64 {
    stagebench::stats::median(values).expect("finite times")
}

/// The folder named by `STAGEBENCH_BENCH_RESULTS`, or this benchmark's own python-node quick
/// run, made when it is missing or its images are gone.
fn results_folder() -> PathBuf {
    if let Some(dir) = std::env::var_os("STAGEBENCH_BENCH_RESULTS") {
        return PathBuf::from(dir);
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let own = root.join("target/bench-layer-cache");
    let run = own.join("run");
    if run.join("layers.csv").is_file()
        && images_of(&run).iter().all(|(_, image)| image_exists(image))
    {
        return run;
    }
    let _ = std::fs::remove_dir_all(&run);
    println!("running python-node's quick profile once for its images (about 4 minutes)");
    let status = Command::new(env!("CARGO_BIN_EXE_stagebench"))
        .args(["run", "--profile", "quick", "--quiet", "--out"])
        .arg(&run)
        .arg(root.join("scenarios/python-node"))
        .env("STAGEBENCH_CACHE_DIR", own.join("cache"))
        .status()
        .expect("stagebench starts");
    assert!(status.success(), "the python-node run failed");
    run
}

/// Each variant's image as the run left it tagged (`stagebench/SCENARIO:VARIANT-RUN_ID`, its
/// last build: the image analysed, its first, is removed once replaced), from layers.csv.
fn images_of(results: &Path) -> Vec<(String, String)> {
    let mut reader = csv::Reader::from_path(results.join("layers.csv")).expect("layers.csv reads");
    let headers = reader.headers().expect("a header").clone();
    let column = |name: &str| {
        headers
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("layers.csv has no {name} column"))
    };
    let (scenario, variant, run_id) = (column("scenario"), column("variant"), column("run_id"));
    let mut images = BTreeMap::new();
    for row in reader.records() {
        let row = row.expect("a layers.csv row");
        let tag = format!(
            "stagebench/{}:{}-{}",
            &row[scenario], &row[variant], &row[run_id]
        );
        images.insert(row[variant].to_string(), tag);
    }
    assert!(!images.is_empty(), "{} has no layers", results.display());
    images.into_iter().collect()
}

fn image_exists(image: &str) -> bool {
    Command::new("docker")
        .args(["image", "inspect", image])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn diff_ids_of(image: &str) -> Vec<String> {
    let output = Command::new("docker")
        .args([
            "image",
            "inspect",
            "-f",
            "{{range .RootFS.Layers}}{{println .}}{{end}}",
            image,
        ])
        .output()
        .expect("the docker CLI runs");
    assert!(output.status.success(), "inspecting {image} failed");
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}
