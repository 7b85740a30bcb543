//! A fake daemon for the runner's own tests: it builds nothing, and records what it was asked,
//! so that the loop's order, priming, resume, timeouts, cancellation and image bookkeeping can
//! be checked without Docker. It makes no claim about building, sizes or caching: those are
//! tested against a real daemon.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::daemon_facts::DaemonFacts;
use crate::engine::{
    BuildEvent, BuildFailure, BuildOutcome, BuildRequest, CacheRecord, ContainerFacts, Daemon,
    ImageFacts, StepCounts,
};
use crate::error::EngineError;
use crate::step_timing::StepTiming;

/// A request the fake received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Call {
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
pub(super) struct Script {
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
    /// Someone else's build leaves the record `theirs` between two of the run's builds: once
    /// this many (1-based) have ended, when the runner next inspects an image.
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
    /// The fake daemon's clock, in seconds: each build runs for 10 s of it, and 10 s pass
    /// between two builds.
    clock_s: f64,
}

/// The fake; clones share their state, so a test keeps one to inspect what the runner did.
#[derive(Debug, Clone)]
pub(super) struct FakeDaemon {
    name: String,
    script: Script,
    state: Arc<Mutex<State>>,
}

impl FakeDaemon {
    pub(super) fn new(name: &str, script: Script) -> FakeDaemon {
        let state = State {
            cache: script
                .cached_before
                .iter()
                .map(|tag| (format!("cache-{tag}"), -1000.0))
                .collect(),
            ..State::default()
        };
        FakeDaemon {
            name: name.to_string(),
            script,
            state: Arc::new(Mutex::new(state)),
        }
    }

    /// The build-cache records the fake holds now.
    pub(super) fn cache_records(&self) -> Vec<String> {
        self.lock().cache.keys().cloned().collect()
    }

    pub(super) fn facts(&self) -> DaemonFacts {
        DaemonFacts {
            version: "0.0.0-fake".to_string(),
            api_version: "1.41".to_string(),
            daemon_id: format!("FAKE:{}", self.name),
            daemon_name: self.name.clone(),
            cpus: 2,
            ..DaemonFacts::default()
        }
    }

    pub(super) fn calls(&self) -> Vec<Call> {
        self.lock().calls.clone()
    }

    /// Tags of the builds, in order.
    pub(super) fn built_tags(&self) -> Vec<String> {
        self.calls()
            .into_iter()
            .filter_map(|c| match c {
                Call::Build { tag, .. } => Some(tag),
                _ => None,
            })
            .collect()
    }

    /// Images that still exist.
    pub(super) fn existing_images(&self) -> HashSet<String> {
        self.lock().images.clone()
    }

    /// The image `tag` names, if any.
    pub(super) fn tagged(&self, tag: &str) -> Option<String> {
        self.lock().tags.get(tag).cloned()
    }

    /// Adds an image under `tag`, as an earlier run would have left it; returns its ID.
    pub(super) fn add_tagged_image(&self, tag: &str) -> String {
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

impl Daemon for FakeDaemon {
    async fn facts(&self) -> Result<DaemonFacts, EngineError> {
        Ok(FakeDaemon::facts(self))
    }

    async fn image(&self, name: &str) -> Result<Option<ImageFacts>, EngineError> {
        let mut state = self.lock();
        if self.script.someone_else_builds_after == Some(state.builds) {
            // Between two of the run's builds on the fake's clock.
            let between = state.clock_s + 5.0;
            state.cache.insert("theirs".to_string(), between);
        }
        let id = match state.tags.get(name) {
            Some(id) => Some(id.clone()),
            None => state.images.contains(name).then(|| name.to_string()),
        };
        Ok(id.map(|id| ImageFacts {
            repo_tags: state
                .tags
                .iter()
                .filter(|(_, v)| **v == id)
                .map(|(k, _)| k.clone())
                .collect(),
            id,
            image_bytes: 1000,
            layers: 1,
            layer_ids: vec![format!("sha256:{:064x}", 1)],
            repo_digests: Vec::new(),
        }))
    }

    async fn pull(
        &self,
        _name: &str,
        _on_status: &mut (dyn FnMut(&str) + Send),
    ) -> Result<(), EngineError> {
        Ok(())
    }

    async fn push(
        &self,
        name: &str,
        _on_status: &mut (dyn FnMut(&str) + Send),
    ) -> Result<(), EngineError> {
        self.lock().calls.push(Call::Push(name.to_string()));
        Ok(())
    }

    async fn build(
        &self,
        request: &BuildRequest<'_>,
        on_event: &mut (dyn FnMut(BuildEvent<'_>) + Send),
    ) -> BuildOutcome {
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
        on_event(BuildEvent::Step("[1/1] RUN fake"));
        let mut vertex = |completed_s: Option<f64>, cached: bool| {
            on_event(BuildEvent::Vertex {
                digest: "sha256:fake",
                started_s: Some(started_s),
                completed_s,
                cached,
            });
        };
        vertex(None, false);
        // A real build always takes some time, and readers refuse a successful one that took
        // none.
        let build_time = self.script.build_time.max(Duration::from_millis(1));
        tokio::time::sleep(build_time).await;
        let seconds = build_time.as_secs_f64();
        if self
            .script
            .lose_connection_after
            .is_some_and(|after| number > after)
        {
            return BuildOutcome {
                build_seconds: seconds,
                result: Err(BuildFailure::ConnectionLost("connection reset".to_string())),
                steps: StepCounts::default(),
                step_timings: Vec::new(),
            };
        }
        let tag = without_run_id(request.tag);
        if self.script.failing_tags.contains(tag) {
            return BuildOutcome {
                build_seconds: seconds,
                result: Err(BuildFailure::Daemon("RUN false: exit code: 1".to_string())),
                steps: StepCounts::default(),
                step_timings: Vec::new(),
            };
        }
        let mut state = self.lock();
        state.next_id += 1;
        let id = format!("sha256:{:064x}", state.next_id);
        state.images.insert(id.clone());
        state.tags.insert(request.tag.to_string(), id);
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
        vertex(Some(completed_s), cached);
        BuildOutcome {
            build_seconds: seconds,
            result: Ok(()),
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
        }
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

    async fn prune_build_cache(&self) -> Result<u64, EngineError> {
        let mut state = self.lock();
        state.calls.push(Call::Prune);
        state.cache.clear();
        Ok(0)
    }

    async fn build_cache_records(&self) -> Result<Vec<CacheRecord>, EngineError> {
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

    async fn prune_build_cache_record(&self, id: &str) -> Result<bool, EngineError> {
        let mut state = self.lock();
        state.calls.push(Call::PruneRecord(id.to_string()));
        Ok(state.cache.remove(id).is_some())
    }

    async fn remove_image(&self, name: &str) -> Result<bool, EngineError> {
        let mut state = self.lock();
        state.calls.push(Call::Remove(name.to_string()));
        let removed = state.images.remove(name);
        state.tags.retain(|_, id| id != name);
        Ok(removed)
    }

    async fn tag_image(&self, image: &str, repository: &str, tag: &str) -> Result<(), EngineError> {
        let mut state = self.lock();
        let full = format!("{repository}:{tag}");
        state.calls.push(Call::Tag(full.clone()));
        state.tags.insert(full, image.to_string());
        Ok(())
    }

    async fn container_ids(&self) -> Result<HashSet<String>, EngineError> {
        Ok(HashSet::new())
    }

    async fn image_parents(&self) -> Result<HashMap<String, String>, EngineError> {
        Ok(self
            .lock()
            .images
            .iter()
            .map(|id| (id.clone(), String::new()))
            .collect())
    }

    async fn container(&self, _id: &str) -> Result<Option<ContainerFacts>, EngineError> {
        Ok(None)
    }

    async fn remove_container(&self, _id: &str) -> Result<(), EngineError> {
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
fn fake_export() -> std::io::Result<Vec<u8>> {
    let entry = |builder: &mut tar::Builder<Vec<u8>>, path: &str, bytes: &[u8]| {
        let mut header = tar::Header::new_ustar();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        builder.append_data(&mut header, path, bytes)
    };
    let mut layer = tar::Builder::new(Vec::new());
    entry(&mut layer, "app/fake", &[b'x'; 1000])?;
    let layer = layer.into_inner()?;
    let config = format!(
        r#"{{"rootfs":{{"type":"layers","diff_ids":["sha256:{:064x}"]}},"history":[{{"created_by":"RUN fake # buildkit"}}]}}"#,
        1
    );
    let manifest = r#"[{"Config":"config.json","RepoTags":[],"Layers":["l1/layer.tar"]}]"#;
    let mut export = tar::Builder::new(Vec::new());
    entry(&mut export, "l1/layer.tar", &layer)?;
    entry(&mut export, "config.json", config.as_bytes())?;
    entry(&mut export, "manifest.json", manifest.as_bytes())?;
    export.into_inner()
}
