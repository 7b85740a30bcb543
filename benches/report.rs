//! Summarising and rendering 10,000 runs: the target is under one second for every output
//! together on one core (`cargo bench --bench report`; figures recorded in README.md).

// A benchmark that cannot set up measures nothing, so it stops at the first failure.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use stagebench::report::{self, ReportData};
use stagebench::results::{BuildRecord, BuildStatus, ResultSet, RunMeta};

/// 10,000 runs: 5 scenarios x 4 variants x 3 cache modes x ~167 runs, with realistic spreads.
fn records(meta: &RunMeta) -> Vec<BuildRecord> {
    let mut rng = fastrand::Rng::with_seed(42);
    let mut rows = Vec::with_capacity(10_000);
    for scenario in &meta.scenarios {
        for (v, variant) in scenario.variants.iter().enumerate() {
            for (c, cache) in stagebench::cache_mode::CacheMode::ALL
                .into_iter()
                .enumerate()
            {
                let base_seconds = [600.0, 0.05, 40.0][c] / (v as f64 + 1.0);
                for run in 1..=167 {
                    rows.push(BuildRecord {
                        scenario: scenario.name.clone(),
                        variant: variant.name.clone(),
                        builder: meta.settings.options.builder,
                        cache,
                        run,
                        warmup: false,
                        status: BuildStatus::Ok,
                        build_seconds: base_seconds * (0.9 + 0.2 * rng.f64()),
                        image_id: format!("sha256:{run:064}"),
                        image_bytes: Some(1_000_000_000 / (v as u64 + 1)),
                        layers: Some(9),
                        cached_steps: 0,
                        total_steps: 7,
                        started_at: "2026-11-28T00:00:00Z".to_string(),
                        error: String::new(),
                        host: "local".to_string(),
                        run_id: "20261128T000000Z".to_string(),
                        seq: u32::try_from(rows.len() + 1).unwrap_or(u32::MAX),
                        compressed_bytes: None,
                        pull_seconds: None,
                        export_seconds: None,
                        cache_bytes: None,
                        first_miss: String::new(),
                        engine: stagebench::builder::EngineKind::Docker,
                    });
                }
            }
        }
    }
    rows
}

fn meta() -> RunMeta {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/mixed");
    let mut meta = match RunMeta::read(std::path::Path::new(path)) {
        Ok(meta) => meta,
        Err(error) => panic!("fixture meta.json: {error}"),
    };
    let template = meta.scenarios[0].clone();
    meta.scenarios = (0..5)
        .map(|i| {
            let mut scenario = template.clone();
            scenario.name = format!("scenario-{i}");
            scenario.variants.push(scenario.variants[0].clone());
            scenario.variants[3].name = "fourth".to_string();
            scenario
        })
        .collect();
    meta
}

fn set(meta: &RunMeta, records: &[BuildRecord]) -> ResultSet {
    ResultSet::with_identity(meta.clone(), records.to_vec())
}

fn bench(c: &mut Criterion) {
    let meta = meta();
    let records = records(&meta);
    assert!(records.len() >= 10_000);
    let out = tempfile::tempdir().expect("tempdir");
    let mut group = c.benchmark_group("10k runs");
    group.sample_size(10);
    group.bench_function("summarise", |b| {
        b.iter(|| ReportData::new(black_box(set(&meta, &records))))
    });
    let data = ReportData::new(set(&meta, &records));
    group.bench_function("render text formats", |b| {
        b.iter(|| {
            for exporter in report::exporters() {
                black_box(exporter.render(&data).expect("render"));
            }
            black_box(report::terminal_table(&data));
        })
    });
    group.bench_function("write every output of a summary", |b| {
        b.iter(|| report::write_all(black_box(&data), out.path()).expect("write"))
    });
    group.bench_function("summarise and write every output", |b| {
        b.iter(|| {
            let data = ReportData::new(set(&meta, &records));
            report::write_all(&data, out.path()).expect("write");
            black_box(report::terminal_table(&data));
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
