//! The pull-size pass against `docker save | gzip -6` on the same image of about 500 MB: both read
//! the daemon's export once and gzip it at the level a push uses; stagebench's pass also reads
//! every layer's files for the waste analysis and compresses layers on every core. The goal is at
//! least 2× faster (figures recorded in README.md).
//!
//! Needs a Docker daemon and the docker CLI (`scripts/with-docker cargo bench --bench pull_size`).
//! The image is built from `benches/pull_size.Dockerfile` on first use and kept, tagged
//! `stagebench-bench/pull-size:latest`; remove it with `docker rmi` when done.

// A benchmark that cannot set up measures nothing, so it stops at the first failure.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use stagebench::image_analysis::{PUSH_GZIP_LEVEL, analyze_export};

const IMAGE: &str = "stagebench-bench/pull-size:latest";

/// Builds the benchmark image unless it exists; panics with the CLI's message otherwise, since a
/// benchmark without its image measures nothing.
fn ensure_image() {
    let present = Command::new("docker")
        .args(["image", "inspect", IMAGE])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if present {
        return;
    }
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/benches");
    let output = Command::new("docker")
        .args(["build", "-q", "-t", IMAGE, "-f"])
        .arg(format!("{dir}/pull_size.Dockerfile"))
        .arg(dir)
        .output()
        .expect("the docker CLI runs");
    assert!(
        output.status.success(),
        "building {IMAGE} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

fn bench(c: &mut Criterion) {
    ensure_image();
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut group = c.benchmark_group("pull size of a 500 MB image");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(60));
    group.bench_function("stagebench analysis of docker save", |b| {
        b.iter(|| {
            let mut child = common::save(IMAGE);
            let stdout = child.stdout.take().expect("piped");
            let analysis = analyze_export(stdout, threads).expect("the export reads as an image");
            assert!(child.wait().expect("docker save ends").success());
            analysis.compressed_bytes()
        });
    });
    group.bench_function("docker save | gzip -6", |b| {
        b.iter(|| {
            let script = format!("docker save {IMAGE} | gzip -{PUSH_GZIP_LEVEL} | wc -c");
            let mut child = Command::new("sh")
                .args(["-c", &script])
                .stdout(Stdio::piped())
                .spawn()
                .expect("sh starts");
            let mut bytes = String::new();
            child
                .stdout
                .take()
                .expect("piped")
                .read_to_string(&mut bytes)
                .expect("wc prints a count");
            assert!(child.wait().expect("the pipeline ends").success());
            let compressed_bytes = bytes.trim().parse::<u64>().expect("a byte count");
            assert!(
                compressed_bytes > 50_000_000,
                "docker save produced {compressed_bytes} bytes"
            );
            compressed_bytes
        });
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
