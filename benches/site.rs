//! `stagebench site` on a year of nightly folders of the five shipped scenarios (1,825 folders,
//! each a copy of a committed report's results.csv, meta.json and report.md under a new date
//! and run id): made again with nothing new, and with one new night. The target is under one
//! second for both (`cargo bench --bench site`; figures recorded in docs/performance.md).

// A benchmark that cannot set up measures nothing, so it stops at the first failure.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use stagebench::site::make_site;

/// The committed folder each scenario's nights are copied from.
const TEMPLATES: [&str; 5] = [
    "reports/python-node/20261129T201838Z",
    "reports/go-service/20261129T200219Z",
    "reports/python-c-extension/20261129T200613Z",
    "reports/node-frontend/20261129T200953Z",
    "reports/cpp-cache-mounts/20261129T201138Z",
];
const NIGHTS_PER_SCENARIO: i64 = 365;

/// One template: its files and the run id and start time to replace in them.
struct Template {
    scenario: String,
    files: Vec<(&'static str, String)>,
    run_id: String,
    started_at: String,
}

fn template(folder: &str) -> Template {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(folder);
    let meta: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("meta.json")).unwrap()).unwrap();
    let invocation = &meta["invocations"][0];
    Template {
        scenario: meta["scenarios"][0]["name"].as_str().unwrap().to_string(),
        files: ["results.csv", "meta.json", "report.md"]
            .into_iter()
            .map(|name| (name, std::fs::read_to_string(dir.join(name)).unwrap()))
            .collect(),
        run_id: invocation["run_id"].as_str().unwrap().to_string(),
        started_at: invocation["started_at"].as_str().unwrap().to_string(),
    }
}

/// Writes night `day` (days after 2025-12-01) of `template` under `root`; returns its folder.
fn write_night(root: &Path, template: &Template, day: i64, tag: &str) -> PathBuf {
    let date = time::macros::datetime!(2025-12-01 02:00 UTC) + time::Duration::days(day);
    let stamp = format!(
        "{:04}{:02}{:02}T020000Z",
        date.year(),
        u8::from(date.month()),
        date.day()
    );
    let started_at = format!(
        "{:04}-{:02}-{:02}T02:00:00Z",
        date.year(),
        u8::from(date.month()),
        date.day()
    );
    let run_id = format!("{stamp}-{tag}");
    let folder = root.join(&template.scenario).join(format!("{stamp}{tag}"));
    std::fs::create_dir_all(&folder).unwrap();
    for (name, text) in &template.files {
        let text = text
            .replace(&template.run_id, &run_id)
            .replace(&template.started_at, &started_at);
        std::fs::write(folder.join(name), text).unwrap();
    }
    folder
}

fn site(c: &mut Criterion) {
    let work = tempfile::tempdir().unwrap();
    let nights = work.path().join("nights");
    let out = work.path().join("site");
    let templates: Vec<Template> = TEMPLATES.iter().map(|t| template(t)).collect();
    for template in &templates {
        for day in 0..NIGHTS_PER_SCENARIO {
            write_night(&nights, template, day, "");
        }
    }
    let started = Instant::now();
    let first = make_site(&nights, &out, 5.0).unwrap();
    eprintln!(
        "first make: {} nights, {} files, in {:.1} s",
        first.nights,
        first.files.written,
        started.elapsed().as_secs_f64()
    );

    let mut group = c.benchmark_group("site");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(20));
    group.bench_function("year_of_5_scenarios_nothing_new", |b| {
        b.iter(|| make_site(&nights, &out, 5.0).unwrap());
    });
    let mut count = 0u32;
    let mut extra: Option<PathBuf> = None;
    group.bench_function("year_of_5_scenarios_one_new_night", |b| {
        b.iter_batched(
            || {
                // The previous iteration's new night goes, and a night not seen before comes.
                if let Some(folder) = extra.take() {
                    std::fs::remove_dir_all(folder).unwrap();
                }
                count += 1;
                extra = Some(write_night(
                    &nights,
                    &templates[1],
                    NIGHTS_PER_SCENARIO,
                    &format!("n{count}"),
                ));
            },
            |()| {
                let summary = make_site(&nights, &out, 5.0).unwrap();
                assert_eq!(summary.nights_made, 1);
            },
            BatchSize::PerIteration,
        );
    });
    group.finish();
}

criterion_group!(benches, site);
criterion_main!(benches);
