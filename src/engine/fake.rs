//! A fake engine for the runner's own tests: it builds nothing, and records what it was asked,
//! so that the loop's order, priming, resume, timeouts, cancellation and image bookkeeping can
//! be checked without Docker. It makes no claim about building, sizes or caching: those are
//! tested against a real daemon. Which build-cache records a reset prunes (`RunCache`) and when
//! an image is still the run's to remove (`removal`) it decides with the engine's own rules, so
//! the runner's tests exercise those rules too.

use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::removal::{self, ImageStore};
use super::run_cache::{CacheRecords, RunCache};
use super::{
    BuildEngine, BuildFailure, BuildOutcome, BuildRequest, BuildStop, CacheLeft, CacheRecord,
    ImageFacts, ImageRemoval, StepCounts,
};
use crate::cache_mode::PruneMode;
use crate::daemon_facts::DaemonFacts;
use crate::error::EngineError;
use crate::step_timing::StepTiming;

/// A request the fake received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Call {
    /// A build of `tag` (without the run's identity, see [`without_run_id`]).
    Build {
        tag: String,
        no_cache: bool,
        edited: bool,
        /// The images whose inline cache the build was given.
        cache_from: Vec<String>,
        /// Whether the build was asked to write inline cache.
        inline_cache: bool,
    },
    /// An image pushed to its registry.
    Push(String),
    /// A build-cache prune.
    Prune,
    /// One build-cache record pruned.
    PruneRecord(String),
    /// An image removal.
    Remove(String),
    /// A tag added.
    Tag(String),
    /// An image exported for analysis.
    Export(String),
}

/// How the fake behaves.
#[derive(Debug, Clone, Default)]
pub(crate) struct Script {
    /// How long each build takes (in the tests' paused time).
    pub build_time: Duration,
    /// Tags whose builds fail.
    pub failing_tags: HashSet<String>,
    /// Cancel this token when the n-th build (1-based) starts.
    pub cancel_at_build: Option<(usize, CancellationToken)>,
    /// Builds after this many (1-based) lose the connection.
    pub lose_connection_after: Option<usize>,
    /// Tags whose build-cache record exists before the run (someone else built the same).
    pub cached_before: Vec<String>,
    /// Tags whose builds are never taken from cache (as if the daemon evicted it).
    pub never_cached: HashSet<String>,
    /// Someone else's build leaves the record `theirs` between two of the run's builds: as
    /// this many (1-based) have ended.
    pub someone_else_builds_after: Option<usize>,
}

#[derive(Debug, Default)]
struct State {
    calls: Vec<Call>,
    /// tag -> image id
    tags: BTreeMap<String, String>,
    /// image ids that exist
    images: HashSet<String>,
    next_id: u64,
    builds: usize,
    /// Build-cache records: one per tag built from unedited sources, named `cache-<tag>`, with
    /// when each was made on the fake's clock.
    cache: BTreeMap<String, f64>,
    /// The fake engine's clock, in seconds: each build runs for 10 s of it, and 10 s pass
    /// between two builds.
    clock_s: f64,
}

/// The fake; clones share their state, so a test keeps one to inspect what the runner did.
#[derive(Debug, Clone)]
pub(crate) struct FakeEngine {
    name: String,
    script: Script,
    state: Arc<Mutex<State>>,
    /// The times its builds ran on its clock, which tell the run's records apart as a real
    /// engine's do.
    run_cache: Arc<RunCache>,
}

impl FakeEngine {
    pub(crate) fn new(name: &str, script: Script) -> FakeEngine {
        let state = State {
            cache: script
                .cached_before
                .iter()
                .map(|tag| (format!("cache-{tag}"), -1000.0))
                .collect(),
            ..State::default()
        };
        FakeEngine {
            name: name.to_string(),
            script,
            state: Arc::new(Mutex::new(state)),
            run_cache: Arc::default(),
        }
    }

    /// The build-cache records the fake holds now.
    pub(crate) fn cache_records(&self) -> Vec<String> {
        self.lock().cache.keys().cloned().collect()
    }

    pub(crate) fn facts(&self) -> DaemonFacts {
        DaemonFacts {
            version: "0.0.0-fake".to_string(),
            api_version: "1.41".to_string(),
            daemon_id: format!("FAKE:{}", self.name),
            daemon_name: self.name.clone(),
            cpus: 2,
            ..DaemonFacts::default()
        }
    }

    pub(crate) fn calls(&self) -> Vec<Call> {
        self.lock().calls.clone()
    }

    /// Tags of the builds, in order.
    pub(crate) fn built_tags(&self) -> Vec<String> {
        self.calls()
            .into_iter()
            .filter_map(|c| match c {
                Call::Build { tag, .. } => Some(tag),
                _ => None,
            })
            .collect()
    }

    /// Images that still exist.
    pub(crate) fn existing_images(&self) -> HashSet<String> {
        self.lock().images.clone()
    }

    /// The image `tag` names, if any.
    pub(crate) fn tagged(&self, tag: &str) -> Option<String> {
        self.lock().tags.get(tag).cloned()
    }

    /// Adds an image under `tag`, as an earlier run would have left it; returns its ID.
    pub(crate) fn add_tagged_image(&self, tag: &str) -> String {
        let mut state = self.lock();
        state.next_id += 1;
        let id = format!("sha256:{:064x}", 0xeeee_0000 + state.next_id);
        state.images.insert(id.clone());
        state.tags.insert(tag.to_string(), id.clone());
        id
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl FakeEngine {
    /// Facts about the image `name` names (a tag or an ID), as the daemon would answer.
    fn image_facts(&self, name: &str) -> Option<ImageFacts> {
        let state = self.lock();
        let id = match state.tags.get(name) {
            Some(id) => Some(id.clone()),
            None => state.images.contains(name).then(|| name.to_string()),
        };
        id.map(|id| ImageFacts {
            repo_tags: state
                .tags
                .iter()
                .filter(|(_, v)| **v == id)
                .map(|(k, _)| k.clone())
                .collect(),
            id,
            image_bytes: 1000,
            layers: 1,
            layer_ids: vec![fake_layer_id()],
            repo_digests: Vec::new(),
        })
    }

    /// After the `number`-th build: someone else's build leaves its record, between two of the
    /// run's, when the script says so.
    fn someone_else_builds(&self, number: usize) {
        if self.script.someone_else_builds_after == Some(number) {
            let mut state = self.lock();
            let between = state.clock_s + 5.0;
            state.cache.insert("theirs".to_string(), between);
        }
    }
}

#[async_trait::async_trait]
impl BuildEngine for FakeEngine {
    async fn facts(&self) -> Result<DaemonFacts, EngineError> {
        Ok(FakeEngine::facts(self))
    }

    async fn image(&self, name: &str) -> Result<Option<ImageFacts>, EngineError> {
        Ok(self.image_facts(name))
    }

    async fn build(
        &self,
        request: &BuildRequest<'_>,
        on_step: &mut (dyn for<'s> FnMut(&'s str) + Send),
        stop: BuildStop<'_>,
    ) -> Result<BuildOutcome, EngineError> {
        let (number, started_s) = {
            let mut state = self.lock();
            state.builds += 1;
            state.clock_s += 10.0;
            state.calls.push(Call::Build {
                tag: without_run_id(request.tag).to_string(),
                no_cache: request.no_cache,
                edited: request.context.is_edited(),
                cache_from: request.cache_from.to_vec(),
                inline_cache: request.inline_cache,
            });
            (state.builds, state.clock_s)
        };
        if let Some((at, token)) = &self.script.cancel_at_build
            && *at == number
        {
            token.cancel();
        }
        on_step("[1/1] RUN fake");
        // A real build always takes some time, and readers refuse a successful one that took
        // none.
        let build_time = self.script.build_time.max(Duration::from_millis(1));
        let started = tokio::time::Instant::now();
        let cut = tokio::select! {
            () = tokio::time::sleep(build_time) => None,
            cut = stop => Some(cut),
        };
        let outcome = match cut {
            Some(cut) => {
                self.run_cache.note_build(Some((started_s, started_s)));
                BuildOutcome::without_steps(
                    started.elapsed().as_secs_f64(),
                    Err(BuildFailure::CutShort(cut)),
                )
            }
            None => self.finish_build(request, number, started_s, build_time),
        };
        self.someone_else_builds(number);
        Ok(outcome)
    }

    async fn reset_run_cache(&self, scope: PruneMode) -> Result<CacheLeft, EngineError> {
        self.run_cache.reset(scope, self).await
    }

    async fn remove_image(&self, removal: ImageRemoval<'_>) -> Result<bool, EngineError> {
        removal::remove(self, removal).await
    }

    async fn tag_image(&self, image: &str, repository: &str, tag: &str) -> Result<(), EngineError> {
        let mut state = self.lock();
        let full = format!("{repository}:{tag}");
        state.calls.push(Call::Tag(full.clone()));
        state.tags.insert(full, image.to_string());
        Ok(())
    }

    async fn pull(
        &self,
        _name: &str,
        _on_status: &mut (dyn for<'s> FnMut(&'s str) + Send),
    ) -> Result<(), EngineError> {
        Ok(())
    }

    async fn push(
        &self,
        name: &str,
        _on_status: &mut (dyn for<'s> FnMut(&'s str) + Send),
    ) -> Result<(), EngineError> {
        self.lock().calls.push(Call::Push(name.to_string()));
        Ok(())
    }

    async fn export_image(
        &self,
        id: &str,
        chunks: tokio::sync::mpsc::Sender<bytes::Bytes>,
    ) -> Result<(), EngineError> {
        self.lock().calls.push(Call::Export(id.to_string()));
        let export = fake_export().map_err(|e| EngineError::Request {
            endpoint: self.name.clone(),
            action: format!("export image {id}"),
            reason: e.to_string(),
        })?;
        // Two chunks, so that a reader meets a boundary inside the archive.
        let middle = export.len() / 2;
        for part in [&export[..middle], &export[middle..]] {
            if chunks
                .send(bytes::Bytes::copy_from_slice(part))
                .await
                .is_err()
            {
                break;
            }
        }
        Ok(())
    }
}

impl FakeEngine {
    /// How the `number`-th build, started at `started_s` on the fake's clock and not cut short,
    /// ends as the script says.
    fn finish_build(
        &self,
        request: &BuildRequest<'_>,
        number: usize,
        started_s: f64,
        build_time: Duration,
    ) -> BuildOutcome {
        let seconds = build_time.as_secs_f64();
        if self
            .script
            .lose_connection_after
            .is_some_and(|after| number > after)
        {
            self.run_cache.note_build(Some((started_s, started_s)));
            return BuildOutcome::without_steps(
                seconds,
                Err(BuildFailure::ConnectionLost("connection reset".to_string())),
            );
        }
        let tag = without_run_id(request.tag);
        if self.script.failing_tags.contains(tag) {
            self.run_cache.note_build(Some((started_s, started_s)));
            return BuildOutcome::without_steps(
                seconds,
                Err(BuildFailure::Daemon("RUN false: exit code: 1".to_string())),
            );
        }
        let mut state = self.lock();
        state.next_id += 1;
        let id = format!("sha256:{:064x}", state.next_id);
        state.images.insert(id.clone());
        state.tags.insert(request.tag.to_string(), id.clone());
        // The one step is taken from cache when an unedited build of the tag left a record.
        let record = format!("cache-{tag}");
        let edited = request.context.is_edited();
        let cached = !request.no_cache
            && !edited
            && state.cache.contains_key(&record)
            && !self.script.never_cached.contains(tag);
        // One record per tag: a record already there (someone's older one) keeps its time.
        if !edited && !cached {
            state.cache.entry(record).or_insert(started_s + 1.0);
        }
        state.clock_s += 10.0;
        let completed_s = state.clock_s;
        drop(state);
        self.run_cache.note_build(Some((started_s, completed_s)));
        BuildOutcome {
            steps: StepCounts {
                total_steps: 1,
                cached_steps: u32::from(cached),
            },
            step_timings: vec![StepTiming {
                stage: "0".to_string(),
                step: 1,
                instruction: "RUN fake".to_string(),
                started_offset_s: 0.0,
                seconds,
                cached,
            }],
            image: self.image_facts(request.tag),
            // The fake's every image is new and made by the build that tagged it.
            made_images: if request.account.is_some() {
                vec![id]
            } else {
                Vec::new()
            },
            ..BuildOutcome::without_steps(seconds, Ok(()))
        }
    }
}

#[async_trait::async_trait]
impl ImageStore for FakeEngine {
    async fn look_up(&self, name: &str) -> Result<Option<ImageFacts>, EngineError> {
        Ok(self.image_facts(name))
    }

    async fn remove_unforced(&self, name: &str) -> Result<bool, EngineError> {
        let mut state = self.lock();
        state.calls.push(Call::Remove(name.to_string()));
        let removed = state.images.remove(name);
        state.tags.retain(|_, id| id != name);
        Ok(removed)
    }
}

#[async_trait::async_trait]
impl CacheRecords for FakeEngine {
    async fn records(&self) -> Result<Vec<CacheRecord>, EngineError> {
        Ok(self
            .lock()
            .cache
            .iter()
            .map(|(id, created_s)| CacheRecord {
                id: id.clone(),
                parent: None,
                in_use: false,
                created_s: Some(*created_s),
            })
            .collect())
    }

    async fn prune_record(&self, id: &str) -> Result<bool, EngineError> {
        let mut state = self.lock();
        state.calls.push(Call::PruneRecord(id.to_string()));
        Ok(state.cache.remove(id).is_some())
    }

    async fn prune_all(&self) -> Result<(), EngineError> {
        let mut state = self.lock();
        state.calls.push(Call::Prune);
        state.cache.clear();
        Ok(())
    }
}

/// `tag` without the `-<run_id>` a run's tags end with, so that tests name tags as
/// `stagebench/<scenario>:<variant>` whatever the run's identity.
fn without_run_id(tag: &str) -> &str {
    // `-20261128T043000Z-0a1b2c`
    let suffix_len = "-20261128T043000Z-0a1b2c".len();
    let Some(cut) = tag.len().checked_sub(suffix_len) else {
        return tag;
    };
    let suffix = tag.as_bytes().get(cut..).unwrap_or_default();
    let looks_like_run_id = suffix.first() == Some(&b'-')
        && suffix.get(9) == Some(&b'T')
        && suffix.get(16) == Some(&b'Z')
        && suffix.get(17) == Some(&b'-');
    if looks_like_run_id { &tag[..cut] } else { tag }
}

/// A saved image of one layer holding a 1000-byte file, as `docker save` lays it out: enough for
/// the runner's bookkeeping of image analyses, never a claim about real images.
/// Appends a file of `bytes` at `path` to a tar.
fn fake_entry(
    builder: &mut tar::Builder<Vec<u8>>,
    path: &str,
    bytes: &[u8],
) -> std::io::Result<()> {
    let mut header = tar::Header::new_ustar();
    header.set_size(bytes.len() as u64);
    header.set_mode(0o644);
    header.set_cksum();
    builder.append_data(&mut header, path, bytes)
}

/// The one layer of every fake image: a file of 1000 bytes.
fn fake_layer() -> std::io::Result<Vec<u8>> {
    let mut layer = tar::Builder::new(Vec::new());
    fake_entry(&mut layer, "app/fake", &[b'x'; 1000])?;
    layer.into_inner()
}

/// The diff ID of [`fake_layer`], as the image config and `RootFS.Layers` name it.
fn fake_layer_id() -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(fake_layer().unwrap_or_default());
    format!("sha256:{}", crate::image_analysis::hex(&digest))
}

fn fake_export() -> std::io::Result<Vec<u8>> {
    let entry = fake_entry;
    let layer = fake_layer()?;
    let config = format!(
        r#"{{"rootfs":{{"type":"layers","diff_ids":["{}"]}},"history":[{{"created_by":"RUN fake # buildkit"}}]}}"#,
        fake_layer_id()
    );
    let manifest = r#"[{"Config":"config.json","RepoTags":[],"Layers":["l1/layer.tar"]}]"#;
    let mut export = tar::Builder::new(Vec::new());
    entry(&mut export, "l1/layer.tar", &layer)?;
    entry(&mut export, "config.json", config.as_bytes())?;
    entry(&mut export, "manifest.json", manifest.as_bytes())?;
    export.into_inner()
}
