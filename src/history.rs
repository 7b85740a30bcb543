//! History: every results folder under a directory, one point per run and series, and the step
//! changes between consecutive runs that the [contrast](crate::stats::contrast) calls `faster` or
//! `slower`.
//!
//! A run is a results folder's first invocation (a resumed run is still one run). Folders that
//! hold the same rows (a saved baseline, a merged folder) add nothing twice: rows are told apart
//! by their run id, host and seq. All steps of a history form one family, whose intervals hold
//! together (see [`method`](crate::stats::method)), so a long history does not cry wolf more
//! often than a short one.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use crate::keys::SeriesKey;
use crate::results::{BuildStatus, ResultSet};
use crate::stats::{Contrast, NoContrast, Outcome, SampleSummary, contrast_family, summarize};

/// One series in one run.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryPoint {
    /// The series.
    pub key: SeriesKey,
    /// The run: its first invocation's id.
    pub run_id: String,
    /// When the run started (RFC 3339).
    pub started_at: String,
    /// The folder it was read from.
    pub folder: PathBuf,
    /// Build times of its successful timed runs.
    pub samples_seconds: Vec<f64>,
    /// Their summary; `None` when none succeeded.
    pub summary: Option<SampleSummary>,
    /// Median image size.
    pub image_bytes: Option<u64>,
    /// Against the previous run of the same series, or why there is no contrast; `None` for the
    /// first run of a series.
    pub change: Option<Result<Contrast, NoContrast>>,
}

impl HistoryPoint {
    /// The contrast with the previous run, when there is one.
    pub fn contrast(&self) -> Option<&Contrast> {
        self.change.as_ref().and_then(|change| change.as_ref().ok())
    }
}

/// A run whose scenario inputs (manifest, Dockerfiles, build contexts) differ from the scenario's
/// previous run on the same host: a step change there may be the change's doing, not the
/// machine's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputChange {
    /// The scenario.
    pub scenario: String,
    /// Its host.
    pub host: String,
    /// The run whose inputs differ.
    pub run_id: String,
    /// Files added, removed or changed since the previous run, relative to the scenario.
    pub files: Vec<String>,
}

/// Every point, grouped by series and in time order within each.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct History {
    /// Points, series after series, oldest first within a series.
    pub points: Vec<HistoryPoint>,
    /// The runs, oldest first: (run id, start time).
    pub runs: Vec<(String, String)>,
    /// Each scenario's variants in the order of its newest run's manifest (baseline first), so
    /// that a variant keeps the colour it has in reports.
    pub variant_order: BTreeMap<String, Vec<String>>,
    /// Runs whose scenario inputs changed, scenario by scenario, oldest first.
    pub input_changes: Vec<InputChange>,
}

impl History {
    /// The series, in the order of their points.
    pub fn series(&self) -> Vec<&SeriesKey> {
        let mut keys: Vec<&SeriesKey> = Vec::new();
        for point in &self.points {
            if keys.last() != Some(&&point.key) {
                keys.push(&point.key);
            }
        }
        keys
    }

    /// The files whose change `point`'s run brought to its scenario, if any.
    pub fn inputs_changed(&self, point: &HistoryPoint) -> Option<&[String]> {
        self.input_changes
            .iter()
            .find(|c| {
                c.run_id == point.run_id
                    && c.scenario == point.key.scenario
                    && c.host == point.key.host
            })
            .map(|c| c.files.as_slice())
    }

    /// Points whose change from the previous run is a finding (`faster` or `slower`).
    pub fn step_changes(&self) -> impl Iterator<Item = &HistoryPoint> {
        self.points.iter().filter(|p| {
            p.contrast().is_some_and(|c| match c.outcome {
                Outcome::Faster | Outcome::Slower => true,
                Outcome::Same | Outcome::Inconclusive => false,
            })
        })
    }
}

/// Builds the history of `sets` (each with the folder it came from).
pub fn history(sets: Vec<(PathBuf, ResultSet)>, noise_threshold: f64) -> History {
    struct Gathered {
        started_at: String,
        folder: PathBuf,
        samples: Vec<(u32, f64)>,
        image_bytes: Vec<u64>,
    }
    let mut seen_rows: BTreeSet<(String, String, u32)> = BTreeSet::new();
    let mut gathered: BTreeMap<(SeriesKey, String), Gathered> = BTreeMap::new();
    let mut runs: BTreeMap<String, String> = BTreeMap::new();
    let mut inputs: BTreeMap<(String, String), Vec<RunInputs>> = BTreeMap::new();
    // scenario -> (run start, variant names) of its newest run.
    let mut variant_order: BTreeMap<String, (String, Vec<String>)> = BTreeMap::new();
    for (folder, set) in sets {
        let merged = !set.meta.merged_from.is_empty();
        let folder_run = set.meta.first_invocation().map(|i| i.run_id.clone());
        let started = |run_id: &str| -> String {
            set.meta
                .invocations
                .iter()
                .find(|i| i.run_id == run_id)
                .map(|i| i.started_at.clone())
                .unwrap_or_default()
        };
        for record in &set.records {
            if !seen_rows.insert((record.run_id.clone(), record.host.clone(), record.seq)) {
                continue;
            }
            // A resumed run's rows carry the resuming invocation's id, but belong to the run.
            let run_id = match (&folder_run, merged) {
                (Some(run), false) => run.clone(),
                _ => record.run_id.clone(),
            };
            let started_at = started(&run_id);
            runs.entry(run_id.clone())
                .or_insert_with(|| started_at.clone());
            if let Some(scenario) = set.meta.scenario(&record.scenario, &record.host) {
                // Results written before inputs were hashed carry none: nothing to compare.
                if !scenario.inputs.sha256.is_empty() {
                    let runs = inputs
                        .entry((record.scenario.clone(), record.host.clone()))
                        .or_default();
                    if !runs.iter().any(|r| r.run_id == run_id) {
                        runs.push(RunInputs {
                            started_at: started_at.clone(),
                            run_id: run_id.clone(),
                            files: scenario.inputs.files.clone(),
                        });
                    }
                }
                let newest = variant_order
                    .entry(record.scenario.clone())
                    .or_insert_with(|| (String::new(), Vec::new()));
                if newest.0 < started_at {
                    *newest = (
                        started_at.clone(),
                        scenario.variants.iter().map(|v| v.name.clone()).collect(),
                    );
                }
            }
            let entry = gathered
                .entry((record.series_key(), run_id))
                .or_insert_with(|| Gathered {
                    started_at,
                    folder: folder.clone(),
                    samples: Vec::new(),
                    image_bytes: Vec::new(),
                });
            if record.warmup {
                continue;
            }
            match record.status {
                BuildStatus::Ok => {
                    entry.samples.push((record.run, record.build_seconds));
                    entry.image_bytes.extend(record.image_bytes);
                }
                BuildStatus::Failed
                | BuildStatus::TimedOut
                | BuildStatus::Interrupted
                | BuildStatus::CacheMismatch => {}
            }
        }
    }
    let mut points: Vec<HistoryPoint> = gathered
        .into_iter()
        .map(|((key, run_id), mut g)| {
            g.samples.sort_by_key(|(run, _)| *run);
            let samples_seconds: Vec<f64> = g.samples.iter().map(|(_, s)| *s).collect();
            g.image_bytes.sort_unstable();
            HistoryPoint {
                key,
                run_id,
                started_at: g.started_at,
                folder: g.folder,
                summary: summarize(&samples_seconds),
                image_bytes: g.image_bytes.get(g.image_bytes.len() / 2).copied(),
                samples_seconds,
                change: None,
            }
        })
        .collect();
    points.sort_by(|a, b| {
        a.key
            .cmp(&b.key)
            .then_with(|| a.started_at.cmp(&b.started_at))
    });
    let steps: Vec<usize> = (1..points.len())
        .filter(|&i| points[i].key == points[i - 1].key)
        .collect();
    let pairs: Vec<(&[f64], &[f64])> = steps
        .iter()
        .map(|&i| {
            (
                points[i - 1].samples_seconds.as_slice(),
                points[i].samples_seconds.as_slice(),
            )
        })
        .collect();
    let changes = contrast_family(&pairs, noise_threshold);
    for (index, change) in steps.into_iter().zip(changes) {
        points[index].change = Some(change);
    }
    let mut runs: Vec<(String, String)> = runs.into_iter().collect();
    runs.sort_by(|a, b| a.1.cmp(&b.1));
    History {
        points,
        runs,
        variant_order: variant_order
            .into_iter()
            .map(|(scenario, (_, names))| (scenario, names))
            .collect(),
        input_changes: input_changes(inputs),
    }
}

/// One run's view of a scenario's inputs.
#[derive(PartialEq, Eq, PartialOrd, Ord)]
struct RunInputs {
    started_at: String,
    run_id: String,
    /// Each file and its SHA-256.
    files: BTreeMap<String, String>,
}

/// Compares each scenario's inputs on a host run by run, oldest first.
fn input_changes(inputs: BTreeMap<(String, String), Vec<RunInputs>>) -> Vec<InputChange> {
    let mut changes = Vec::new();
    for ((scenario, host), mut runs) in inputs {
        runs.sort();
        for pair in runs.windows(2) {
            let (before, after) = (&pair[0].files, &pair[1].files);
            let files: BTreeSet<&String> = before
                .keys()
                .chain(after.keys())
                .filter(|file| before.get(*file) != after.get(*file))
                .collect();
            if !files.is_empty() {
                changes.push(InputChange {
                    scenario: scenario.clone(),
                    host: host.clone(),
                    run_id: pair[1].run_id.clone(),
                    files: files.into_iter().cloned().collect(),
                });
            }
        }
    }
    changes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::builder::Builder;
    use crate::cache_mode::CacheMode;
    use crate::results::{BuildRecord, RunMeta};

    fn run(started_at: &str, run_id: &str, seconds: &[f64]) -> (PathBuf, ResultSet) {
        let mut meta = RunMeta::read(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/go-service"),
        )
        .unwrap();
        meta.invocations[0].run_id = run_id.to_string();
        meta.invocations[0].started_at = started_at.to_string();
        let records = seconds
            .iter()
            .enumerate()
            .map(|(i, s)| BuildRecord {
                scenario: "go-service".to_string(),
                variant: "multi".to_string(),
                builder: Builder::BuildKit,
                cache: CacheMode::Cold,
                run: i as u32 + 1,
                warmup: false,
                status: BuildStatus::Ok,
                build_seconds: *s,
                image_id: String::new(),
                image_bytes: Some(4_472_832),
                layers: Some(1),
                cached_steps: 0,
                total_steps: 5,
                started_at: started_at.to_string(),
                error: String::new(),
                host: "local".to_string(),
                run_id: run_id.to_string(),
                seq: i as u32 + 1,
                compressed_bytes: None,
                pull_seconds: None,
                export_seconds: None,
                cache_bytes: None,
                first_miss: String::new(),
                engine: crate::builder::EngineKind::Docker,
            })
            .collect();
        (
            PathBuf::from(run_id),
            ResultSet::with_identity(meta, records),
        )
    }

    const NIGHT: [f64; 6] = [15.0, 15.1, 14.9, 15.05, 14.95, 15.0];

    #[test]
    fn a_step_change_in_the_middle_run_is_marked_there_alone() {
        let slower: Vec<f64> = NIGHT.iter().map(|s| s * 1.4).collect();
        // Given out of order: history sorts by start time.
        let history = history(
            vec![
                run("2026-11-30T02:00:00Z", "third", &slower),
                run("2026-11-28T02:00:00Z", "first", &NIGHT),
                run("2026-11-29T02:00:00Z", "second", &slower),
            ],
            0.05,
        );
        let runs: Vec<&str> = history.runs.iter().map(|(id, _)| id.as_str()).collect();
        assert_eq!(runs, ["first", "second", "third"]);
        assert_eq!(history.points.len(), 3);
        assert_eq!(
            history.points[0].change, None,
            "nothing before the first run"
        );
        let second = history.points[1].contrast().unwrap();
        assert_eq!(second.outcome, Outcome::Slower);
        assert!((second.time_ratio - 1.4).abs() < 1e-9);
        assert_eq!(second.family_size, 2);
        assert_eq!(history.points[2].contrast().unwrap().outcome, Outcome::Same);
        let marked: Vec<&str> = history.step_changes().map(|p| p.run_id.as_str()).collect();
        assert_eq!(marked, ["second"]);
    }

    #[test]
    fn copies_of_the_same_rows_count_once() {
        let (folder, set) = run("2026-11-28T02:00:00Z", "first", &NIGHT);
        let copy = (PathBuf::from("baselines/nightly"), set.clone());
        let history = history(vec![(folder, set), copy], 0.05);
        assert_eq!(history.points.len(), 1);
        assert_eq!(history.points[0].samples_seconds.len(), 6);
    }

    fn with_inputs(mut run: (PathBuf, ResultSet), files: &[(&str, &str)]) -> (PathBuf, ResultSet) {
        let scenario = &mut run.1.meta.scenarios[0];
        scenario.inputs.files = files
            .iter()
            .map(|(file, hash)| (file.to_string(), hash.to_string()))
            .collect();
        scenario.inputs.sha256 = files.iter().map(|(_, hash)| *hash).collect();
        run
    }

    #[test]
    fn a_run_that_changed_the_scenario_s_files_names_them() {
        let history = history(
            vec![
                with_inputs(
                    run("2026-11-28T02:00:00Z", "first", &NIGHT),
                    &[("single.Dockerfile", "a"), ("app/main.go", "b")],
                ),
                with_inputs(
                    run("2026-11-29T02:00:00Z", "second", &NIGHT),
                    &[("single.Dockerfile", "a"), ("app/main.go", "b")],
                ),
                with_inputs(
                    run("2026-11-30T02:00:00Z", "third", &NIGHT),
                    &[("single.Dockerfile", "c"), ("app/util.go", "d")],
                ),
                // Results from before inputs were hashed: unknown, so no change is claimed.
                run("2026-11-27T02:00:00Z", "zeroth", &NIGHT),
            ],
            0.05,
        );
        assert_eq!(
            history.input_changes,
            [InputChange {
                scenario: "go-service".to_string(),
                host: "local".to_string(),
                run_id: "third".to_string(),
                files: vec![
                    "app/main.go".to_string(),
                    "app/util.go".to_string(),
                    "single.Dockerfile".to_string()
                ],
            }]
        );
        let third = history.points.iter().find(|p| p.run_id == "third").unwrap();
        assert_eq!(history.inputs_changed(third).map(<[String]>::len), Some(3));
        assert_eq!(
            history.variant_order["go-service"],
            ["single", "multi"],
            "the manifest's order, baseline first"
        );
    }
}
