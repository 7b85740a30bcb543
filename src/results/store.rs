//! Results folders as data: find them, load them into one in-memory result set, merge several
//! (one per machine or CI job) into one, and say which builds of a run are already done.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use super::csv::{AppendOnlyCsv, CsvRow, read_rows};
use super::layers::{LAYERS_FILE, LayerRecord, WASTE_FILE, WasteRecord};
use super::meta::{HostEnvironment, META_FILE, RunMeta};
use super::names;
use super::record::{BuildRecord, OfBuild, RESULTS_FILE};
use super::steps::{STEPS_FILE, StepRecord};
use crate::keys::BuildKey;
use crate::names::{MAX_HOST_NAME_CHARS, NameKind};

/// The newest summary.json layout this version reads (the one it writes).
const SUMMARY_SCHEMA_VERSION_READ: u32 = 3;

/// The rows and metadata of one results folder, or of several merged.
#[derive(Debug, Clone)]
pub struct ResultSet {
    /// `meta.json`.
    pub meta: RunMeta,
    /// Every row of `results.csv`, in file order.
    pub records: Vec<BuildRecord>,
    /// Every row of `steps.csv` whose build is in `records`, in file order; empty for folders
    /// written before steps were recorded.
    pub steps: Vec<StepRecord>,
    /// Every row of `layers.csv` whose build is in `records`: the layers of each analysed image.
    pub layers: Vec<LayerRecord>,
    /// Every row of `waste.csv` whose build is in `records`: the largest wasted files of each
    /// analysed image.
    pub waste: Vec<WasteRecord>,
}

/// A results folder that cannot be read or merged; the message names the folders.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A folder's file is missing or unreadable.
    #[error("{0}")]
    Input(String),
    /// Two folders cannot be combined.
    #[error("{0}")]
    Conflict(String),
    /// A file could not be written.
    #[error("cannot write {}: {source}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
}

impl ResultSet {
    /// Reads `results.csv` and `meta.json` from a results folder. Rows of a schema-1 folder get
    /// the identity that layout implied: its one host, its one invocation, and file order.
    pub fn load(dir: &Path) -> Result<ResultSet, StoreError> {
        if !is_results_folder(dir) {
            return Err(StoreError::Input(format!(
                "{} has no {RESULTS_FILE} and {META_FILE}: it is not a stagebench results folder",
                dir.display()
            )));
        }
        let meta = RunMeta::read(dir).map_err(StoreError::Input)?;
        names::check_meta(&meta, &dir.join(META_FILE).display().to_string())?;
        let records: Vec<BuildRecord> =
            read_rows(&dir.join(RESULTS_FILE)).map_err(StoreError::Input)?;
        let mut set = ResultSet::with_identity(meta, records);
        check_hosts_given(&set, &dir.join(RESULTS_FILE).display().to_string())?;
        let builds: BTreeSet<(&str, &str, u32)> = set
            .records
            .iter()
            .map(|r| (r.run_id.as_str(), r.host.as_str(), r.seq))
            .collect();
        let steps = read_details(&dir.join(STEPS_FILE), &builds)?;
        let layers = read_details(&dir.join(LAYERS_FILE), &builds)?;
        let waste = read_details(&dir.join(WASTE_FILE), &builds)?;
        set.steps = steps;
        set.layers = layers;
        set.waste = waste;
        Ok(set)
    }

    /// Reads a results folder, or the `meta` and `runs` of a `summary.json` (what a CI job may
    /// keep of a run).
    pub fn load_folder_or_summary(path: &Path) -> Result<ResultSet, StoreError> {
        if path.is_dir() {
            return ResultSet::load(path);
        }
        let input = |message: String| StoreError::Input(message);
        let text = std::fs::read_to_string(path)
            .map_err(|e| input(format!("cannot read {}: {e}", path.display())))?;
        let mut document: serde_json::Value = serde_json::from_str(&text)
            .map_err(|e| input(format!("{} is not JSON: {e}", path.display())))?;
        if document.get("schema").and_then(serde_json::Value::as_str) != Some("stagebench-summary")
        {
            return Err(input(format!(
                "{} is neither a results folder nor a stagebench summary.json",
                path.display()
            )));
        }
        let version = document
            .get("schema_version")
            .and_then(serde_json::Value::as_u64)
            .unwrap_or(0);
        if version > u64::from(SUMMARY_SCHEMA_VERSION_READ) {
            return Err(input(format!(
                "{} has schema_version {version}, newer than the {SUMMARY_SCHEMA_VERSION_READ} this stagebench {} reads; use a newer stagebench",
                path.display(),
                env!("CARGO_PKG_VERSION")
            )));
        }
        let origin = format!("{} (meta)", path.display());
        let meta = RunMeta::from_value(document["meta"].take(), &origin).map_err(input)?;
        names::check_meta(&meta, &origin)?;
        let serde_json::Value::Array(runs) = document["runs"].take() else {
            return Err(input(format!(
                "{} (runs): not a list of builds",
                path.display()
            )));
        };
        let mut records = Vec::with_capacity(runs.len());
        for (index, run) in runs.into_iter().enumerate() {
            let at = format!("{} (runs[{index}])", path.display());
            if let Some(problem) = fractional_size(&run) {
                return Err(input(format!("{at}: {problem}")));
            }
            let record: BuildRecord =
                serde_json::from_value(run).map_err(|e| input(format!("{at}: {e}")))?;
            // The same rows a results.csv would refuse.
            if let Some(problem) = record.refusal() {
                return Err(input(format!("{at}: {problem}")));
            }
            records.push(record);
        }
        let set = ResultSet::with_identity(meta, records);
        check_hosts_given(&set, &format!("{} (runs)", path.display()))?;
        Ok(set)
    }

    /// `meta` and its rows with no detail tables; rows of schema 1 get the identity that layout
    /// implied.
    pub fn with_identity(meta: RunMeta, mut records: Vec<BuildRecord>) -> ResultSet {
        let default_host = meta.hosts.first().map(|h| h.name.clone());
        let default_run = meta.first_invocation().map(|i| i.run_id.clone());
        for (index, record) in records.iter_mut().enumerate() {
            if record.host.is_empty() {
                record.host = default_host.clone().unwrap_or_default();
                record.run_id = default_run.clone().unwrap_or_default();
                record.seq = u32::try_from(index + 1).unwrap_or(u32::MAX);
            }
        }
        ResultSet {
            meta,
            records,
            steps: Vec::new(),
            layers: Vec::new(),
            waste: Vec::new(),
        }
    }

    /// Joins the folders one invocation wrote (one per scenario by default): their hosts and
    /// invocations are the same, so nothing needs reconciling. `None` when there is nothing.
    pub fn combine_one_run(parts: Vec<ResultSet>) -> Option<ResultSet> {
        let mut parts = parts.into_iter();
        let ResultSet {
            mut meta,
            mut records,
            mut steps,
            mut layers,
            mut waste,
        } = parts.next()?;
        for part in parts {
            for host in part.meta.hosts {
                if meta.host(&host.name).is_none() {
                    meta.hosts.push(host);
                }
            }
            for invocation in part.meta.invocations {
                if !meta
                    .invocations
                    .iter()
                    .any(|i| i.run_id == invocation.run_id)
                {
                    meta.invocations.push(invocation);
                }
            }
            meta.scenarios.extend(part.meta.scenarios);
            meta.settings
                .scenario_dirs
                .extend(part.meta.settings.scenario_dirs);
            records.extend(part.records);
            steps.extend(part.steps);
            layers.extend(part.layers);
            waste.extend(part.waste);
        }
        Some(ResultSet {
            meta,
            records,
            steps,
            layers,
            waste,
        })
    }

    /// Builds that need not run again: every row that finished (see
    /// [`super::BuildStatus::is_finished`]).
    pub fn finished_builds(&self) -> BTreeSet<BuildKey> {
        self.records
            .iter()
            .filter(|r| r.status.is_finished())
            .map(BuildRecord::build_key)
            .collect()
    }

    /// The highest `seq` of each host, so a resumed run continues the count.
    pub fn last_seq_by_host(&self) -> BTreeMap<String, u32> {
        let mut last = BTreeMap::new();
        for record in &self.records {
            let seq = last.entry(record.host.clone()).or_insert(0);
            *seq = (*seq).max(record.seq);
        }
        last
    }

    /// Writes `results.csv`, its detail tables (`steps.csv`, `layers.csv`, `waste.csv`) and
    /// `meta.json` into `dir`, which must not hold results yet.
    pub fn write(&self, dir: &Path) -> Result<(), StoreError> {
        std::fs::create_dir_all(dir).map_err(|source| StoreError::Write {
            path: dir.to_path_buf(),
            source,
        })?;
        write_rows(&dir.join(RESULTS_FILE), &self.records)?;
        write_rows(&dir.join(STEPS_FILE), &self.steps)?;
        write_rows(&dir.join(LAYERS_FILE), &self.layers)?;
        write_rows(&dir.join(WASTE_FILE), &self.waste)?;
        self.meta.write(dir).map_err(|source| StoreError::Write {
            path: dir.join(META_FILE),
            source,
        })
    }

    /// Combines result sets from different machines or CI jobs into one.
    ///
    /// - Hosts are the same host only when name and fingerprint both match. A host whose name is
    ///   taken by a different fingerprint is renamed (`name@daemon-hostname`, else `name#2`, ...)
    ///   in its rows and entries, so samples of two machines are never pooled.
    /// - A scenario present in two folders must have the same variants there.
    /// - The same row (run id, host and seq) in two folders is refused: it would count twice.
    ///   Folders of one invocation (one per scenario) hold different rows and merge.
    ///
    /// `parts` pairs each set with its folder, which error messages name.
    pub fn merge(parts: Vec<(PathBuf, ResultSet)>) -> Result<ResultSet, StoreError> {
        let mut parts = parts.into_iter();
        let Some((first_dir, first)) = parts.next() else {
            return Err(StoreError::Input("nothing to merge".to_string()));
        };
        let mut rows_seen: BTreeMap<(String, String, u32), PathBuf> = BTreeMap::new();
        note_rows(&mut rows_seen, &first_dir, &first.records)?;
        let mut origins: Vec<(PathBuf, RunMeta)> = vec![(first_dir.clone(), first.meta.clone())];
        let mut merged = first;
        merged.meta.merged_from = vec![first_dir.display().to_string()];
        for (dir, part) in parts {
            for (earlier_dir, earlier) in &origins {
                check_variants(earlier_dir, earlier, &dir, &part.meta)?;
            }
            note_rows(&mut rows_seen, &dir, &part.records)?;
            let own_meta = part.meta.clone();
            merged.absorb(part, &dir);
            origins.push((dir, own_meta));
        }
        Ok(merged)
    }

    fn absorb(&mut self, part: ResultSet, dir: &Path) {
        let mut renames: BTreeMap<String, String> = BTreeMap::new();
        for host in &part.meta.hosts {
            let name = self.place_host(host);
            renames.insert(host.name.clone(), name);
        }
        let renamed = |name: &str| {
            renames
                .get(name)
                .cloned()
                .unwrap_or_else(|| name.to_string())
        };
        self.records
            .extend(part.records.into_iter().map(|record| BuildRecord {
                host: renamed(&record.host),
                ..record
            }));
        extend_renamed(&mut self.steps, part.steps, &renamed);
        extend_renamed(&mut self.layers, part.layers, &renamed);
        extend_renamed(&mut self.waste, part.waste, &renamed);
        for scenario in part.meta.scenarios {
            let host = renamed(&scenario.host);
            if self.meta.scenario(&scenario.name, &host).is_none() {
                self.meta
                    .scenarios
                    .push(super::ScenarioMeta { host, ..scenario });
            }
        }
        for invocation in part.meta.invocations {
            if !self
                .meta
                .invocations
                .iter()
                .any(|i| i.run_id == invocation.run_id)
            {
                self.meta.invocations.push(invocation);
            }
        }
        self.meta
            .invocations
            .sort_by(|a, b| a.started_at.cmp(&b.started_at));
        self.meta.merged_from.push(dir.display().to_string());
    }

    /// Adds `host` to the merged hosts unless the same host is there; returns its name there.
    fn place_host(&mut self, host: &HostEnvironment) -> String {
        let same = |h: &&HostEnvironment| h.fingerprint() == host.fingerprint();
        if let Some(existing) = self
            .meta
            .hosts
            .iter()
            .filter(same)
            .find(|h| h.name == host.name)
        {
            return existing.name.clone();
        }
        let taken = |name: &str| self.meta.hosts.iter().any(|h| h.name == name);
        let name = if !taken(&host.name) {
            host.name.clone()
        } else {
            // The new name is read back under the rule every host name is read under.
            let by_machine = format!("{}@{}", host.name, host.daemon.daemon_name);
            if !host.daemon.daemon_name.is_empty()
                && NameKind::Host.accepts(&by_machine)
                && !taken(&by_machine)
            {
                by_machine
            } else {
                let stem: String = host.name.chars().take(MAX_HOST_NAME_CHARS - 8).collect();
                (2..)
                    .map(|n| format!("{stem}#{n}"))
                    .find(|candidate| !taken(candidate))
                    .unwrap_or_else(|| host.name.clone())
            }
        };
        self.meta.hosts.push(HostEnvironment {
            name: name.clone(),
            ..host.clone()
        });
        name
    }
}

/// A row without a host (schema 1) takes the first host of meta.json, whose name is checked
/// with the others; a meta.json that lists none leaves it without a name to be read under.
fn check_hosts_given(set: &ResultSet, table: &str) -> Result<(), StoreError> {
    if set.records.iter().any(|r| r.host.is_empty()) {
        return Err(StoreError::Input(format!(
            "{table}: a row names no host and {META_FILE} lists none, so the folder is not read"
        )));
    }
    Ok(())
}

/// A size (a `*_bytes` field) of a run in a summary.json that is not a whole number of bytes,
/// in words naming the field: serde's own message would not name it.
fn fractional_size(run: &serde_json::Value) -> Option<String> {
    run.as_object()?
        .iter()
        .find(|(key, value)| key.ends_with("bytes") && !value.is_null() && value.as_u64().is_none())
        .map(|(key, value)| {
            format!("{key} is {value}, but a size is a whole number of bytes, 0 or more")
        })
}

/// Refuses to merge `b` into a set holding `a` when a scenario's variants differ.
fn check_variants(a_dir: &Path, a: &RunMeta, b_dir: &Path, b: &RunMeta) -> Result<(), StoreError> {
    for scenario in &b.scenarios {
        let variants = |s: &super::ScenarioMeta| -> BTreeSet<String> {
            s.variants.iter().map(|v| v.name.clone()).collect()
        };
        if let Some(other) = a.scenarios.iter().find(|s| s.name == scenario.name)
            && !scenario.variants.is_empty()
            && !other.variants.is_empty()
            && variants(other) != variants(scenario)
        {
            return Err(StoreError::Conflict(format!(
                "cannot merge {} with {}: scenario `{}` has variants {} in the first and {} in the second",
                a_dir.display(),
                b_dir.display(),
                scenario.name,
                list(&variants(other)),
                list(&variants(scenario)),
            )));
        }
    }
    Ok(())
}

/// Records the identity of each row of `dir`, refusing one another folder already holds.
fn note_rows(
    seen: &mut BTreeMap<(String, String, u32), PathBuf>,
    dir: &Path,
    records: &[BuildRecord],
) -> Result<(), StoreError> {
    for record in records {
        let identity = (record.run_id.clone(), record.host.clone(), record.seq);
        if let Some(earlier) = seen.get(&identity) {
            return Err(StoreError::Conflict(format!(
                "cannot merge {} with {}: both hold build {} of host {} in run {}, which would count twice",
                earlier.display(),
                dir.display(),
                record.seq,
                record.host,
                record.run_id
            )));
        }
        seen.insert(identity, dir.to_path_buf());
    }
    Ok(())
}

fn list(names: &BTreeSet<String>) -> String {
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    format!("({})", names.join(", "))
}

/// Whether `dir` holds `results.csv` and `meta.json`.
pub fn is_results_folder(dir: &Path) -> bool {
    dir.join(RESULTS_FILE).is_file() && dir.join(META_FILE).is_file()
}

/// The results folders at or under `dir` (a CI job's artifact may hold one a few levels down),
/// in path order.
pub fn find_results_folders(dir: &Path) -> Vec<PathBuf> {
    if is_results_folder(dir) {
        return vec![dir.to_path_buf()];
    }
    let mut found = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        let mut children: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.is_dir() && !p.is_symlink())
            .collect();
        children.sort();
        for child in children {
            found.extend(find_results_folders(&child));
        }
    }
    found
}

/// The rows of a detail table (`steps.csv`, `layers.csv`, `waste.csv`) whose build is in
/// `builds`; none when the folder predates the table. Rows of a build whose row never made it
/// to results.csv (a run killed between the two writes) belong to no measurement. Every row is
/// checked as it is read (its names too), kept or not.
fn read_details<T: CsvRow + OfBuild>(
    path: &Path,
    builds: &BTreeSet<(&str, &str, u32)>,
) -> Result<Vec<T>, StoreError> {
    if !path.is_file() {
        return Ok(Vec::new());
    }
    let rows: Vec<T> = read_rows(path).map_err(StoreError::Input)?;
    Ok(rows
        .into_iter()
        .filter(|row| builds.contains(&row.build_identity()))
        .collect())
}

/// Creates `path` with `rows`.
fn write_rows<T: CsvRow>(path: &Path, rows: &[T]) -> Result<(), StoreError> {
    let write_error = |source| StoreError::Write {
        path: path.to_path_buf(),
        source,
    };
    let mut file = AppendOnlyCsv::<T>::create(path).map_err(write_error)?;
    for row in rows {
        file.append(row).map_err(write_error)?;
    }
    Ok(())
}

/// Appends `rows` to `into` with their hosts renamed.
fn extend_renamed<T: OfBuild>(into: &mut Vec<T>, rows: Vec<T>, renamed: &impl Fn(&str) -> String) {
    into.extend(rows.into_iter().map(|row| {
        let host = renamed(row.build_identity().1);
        row.on_host(host)
    }));
}
