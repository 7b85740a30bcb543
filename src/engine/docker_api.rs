//! [`Engine`]: the Docker API through bollard, for Docker's daemon and for Podman's
//! Docker-compatible service alike. Where the two differ, the rows of `crate::builder` say how
//! (`EngineKind::row`, `Builder::capabilities`), so that the differences stay in the table.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bollard::errors::Error as BollardError;
use bollard::query_parameters::{
    BuildImageOptions, CreateImageOptions, PruneBuildOptions, PushImageOptions, RemoveImageOptions,
    TagImageOptions,
};
use bollard::{API_DEFAULT_VERSION, Docker};
use futures_util::StreamExt;

use super::removal::{self, ImageStore};
use super::run_cache::{CacheRecords, RunCache};
use super::steps::{BuildEvent, StepTracker};
use super::trail::BuildTrail;
use super::{
    BuildEngine, BuildFailure, BuildOutcome, BuildRequest, BuildStop, CacheLeft, CacheRecord,
    DaemonFacts, Endpoint, ImageFacts, ImageRemoval, RegistryLogin, Scheme, build_cache, login,
    session, ssh, tls,
};
use crate::builder::EngineKind;
use crate::cache_mode::PruneMode;
use crate::error::EngineError;
use crate::secrets::BuildSecretValues;

/// The request timeout bollard applies to waiting for response headers. Builds are bounded by
/// `--timeout` instead, so this only has to outlast the slowest context upload.
const CLIENT_TIMEOUT_SECONDS: u64 = 24 * 60 * 60;

/// How long connecting and negotiating the API version may take before a host counts as
/// unreachable; a firewalled TCP port would otherwise hang for the whole client timeout.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

/// A connection to one daemon.
pub struct Engine {
    pub(super) docker: Docker,
    /// The same client, rewriting one request into `/system/df` (see `build_cache`).
    pub(super) df_docker: Docker,
    /// The BuildKit session every build of this engine uses, opened by the first (see
    /// `session`).
    session: tokio::sync::Mutex<Option<session::Session>>,
    /// What that session hands to `RUN --mount=type=secret`.
    build_secrets: Arc<BuildSecretValues>,
    /// Registry logins for pushes, pulls and builds (that session hands them to BuildKit).
    registry_logins: Arc<Vec<RegistryLogin>>,
    pub(super) endpoint: Endpoint,
    /// Which program serves the API there, asked once when connecting.
    kind: EngineKind,
    /// The times this engine's builds ran, which tell the run's build-cache records apart.
    run_cache: RunCache,
}

impl Engine {
    /// Connects to `endpoint` and negotiates the API version.
    pub async fn connect(endpoint: &Endpoint) -> Result<Engine, EngineError> {
        let unreachable = |reason: String| EngineError::Unreachable {
            endpoint: endpoint.display_url(),
            reason,
        };
        let docker = match (endpoint.scheme(), &endpoint.tls) {
            (Scheme::Unix, _) => Docker::connect_with_unix(
                &endpoint.url,
                CLIENT_TIMEOUT_SECONDS,
                API_DEFAULT_VERSION,
            )
            .map_err(|e| unreachable(short_reason(&e)))?,
            (Scheme::Tcp, Some(tls)) => {
                tls::connect(&endpoint.url, tls, CLIENT_TIMEOUT_SECONDS).map_err(unreachable)?
            }
            (Scheme::Tcp, None) => Docker::connect_with_http(
                &endpoint.url,
                CLIENT_TIMEOUT_SECONDS,
                API_DEFAULT_VERSION,
            )
            .map_err(|e| unreachable(short_reason(&e)))?,
            (Scheme::Ssh, _) => {
                ssh::connect(endpoint, CLIENT_TIMEOUT_SECONDS).map_err(unreachable)?
            }
        };
        let negotiated = tokio::time::timeout(CONNECT_TIMEOUT, docker.negotiate_version())
            .await
            .map_err(|_| format!("no answer within {} s", CONNECT_TIMEOUT.as_secs()))
            .and_then(|answer| answer.map_err(|e| connect_reason(&e, endpoint)));
        let docker = match negotiated {
            Ok(docker) => docker,
            // The ssh connection's pipes say only that it closed; ssh itself says why.
            Err(reason) if endpoint.scheme() == Scheme::Ssh => {
                return Err(unreachable(
                    ssh::why_unreachable(endpoint).await.unwrap_or(reason),
                ));
            }
            Err(reason) => return Err(unreachable(reason)),
        };
        // Every request passes the login headers through the encoding the daemon reads.
        let docker = docker.with_request_modifier(login::url_safe_login_headers);
        let version = docker
            .version()
            .await
            .map_err(|e| unreachable(connect_reason(&e, endpoint)))?;
        Ok(Engine {
            kind: engine_kind(&version),
            df_docker: build_cache::df_client(&docker),
            run_cache: RunCache::default(),
            session: tokio::sync::Mutex::new(None),
            build_secrets: Arc::default(),
            registry_logins: Arc::default(),
            docker,
            endpoint: endpoint.clone(),
        })
    }

    /// This engine, whose BuildKit builds are given `values` for `RUN --mount=type=secret`.
    pub fn with_build_secrets(mut self, values: Arc<BuildSecretValues>) -> Engine {
        self.build_secrets = values;
        self
    }

    /// This engine, which logs in to registries with `logins`: for pushes and pulls, and for
    /// every build (the classic builder reads them from the request, BuildKit from the session).
    pub fn with_registry_logins(mut self, logins: Arc<Vec<RegistryLogin>>) -> Engine {
        self.registry_logins = logins;
        self
    }

    /// The id of the open BuildKit session, opened now if there is none or the daemon hung up
    /// on the last one (as it does when it restarts).
    async fn session_id(&self) -> Result<String, String> {
        let mut session = self.session.lock().await;
        if let Some(open) = session.as_ref().filter(|s| s.is_open()) {
            return Ok(open.id().to_string());
        }
        let opened = session::open(
            &self.endpoint,
            Arc::clone(&self.build_secrets),
            Arc::clone(&self.registry_logins),
        )
        .await
        .map_err(|reason| format!("cannot open a BuildKit session: {reason}"))?;
        let id = opened.id().to_string();
        *session = Some(opened);
        Ok(id)
    }

    /// The endpoint this engine talks to.
    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    pub(super) fn request_error(
        &self,
        action: impl Into<String>,
        error: &BollardError,
    ) -> EngineError {
        self.daemon_error(action, &short_reason(error))
    }

    /// The daemon's `reason` for failing `action`, with no login's password in it.
    fn daemon_error(&self, action: impl Into<String>, reason: &str) -> EngineError {
        EngineError::Request {
            endpoint: self.endpoint.display_url(),
            action: action.into(),
            reason: login::without_passwords(&self.registry_logins, reason),
        }
    }

    /// Asks the image's registry whether it could be pulled, without pulling it.
    pub async fn check_pullable(&self, name: &str) -> Result<(), EngineError> {
        self.docker
            .inspect_registry_image(name, None)
            .await
            .map(|_| ())
            .map_err(|e| self.request_error(format!("find {name} in its registry"), &e))
    }
}

impl Engine {
    /// Whether any image's parent is the image `name` names.
    async fn has_children(&self, name: &str) -> Result<bool, EngineError> {
        let Some(image) = self.inspect_image(name).await? else {
            return Ok(false);
        };
        let id = full_id(image.id);
        Ok(self
            .image_parents()
            .await?
            .values()
            .any(|parent| *parent == id))
    }
}

impl Engine {
    /// Facts about a local image, or `None` when the daemon does not have it.
    pub(super) async fn inspect_image(
        &self,
        name: &str,
    ) -> Result<Option<ImageFacts>, EngineError> {
        match self.docker.inspect_image(name).await {
            Ok(image) => {
                let layer_ids = image.root_fs.and_then(|fs| fs.layers).unwrap_or_default();
                Ok(Some(ImageFacts {
                    id: image.id.unwrap_or_default(),
                    image_bytes: image.size.unwrap_or_default().max(0) as u64,
                    layers: layer_ids.len() as u32,
                    layer_ids,
                    repo_digests: image.repo_digests.unwrap_or_default(),
                    // Podman names every tag in full (`docker.io/stagebench/...`); Docker in the
                    // short form a tag was given in, which the run's own tags are told by.
                    repo_tags: image
                        .repo_tags
                        .unwrap_or_default()
                        .into_iter()
                        .map(|tag| familiar_name(&tag).to_string())
                        .collect(),
                }))
            }
            Err(BollardError::DockerResponseServerError {
                status_code: 404, ..
            }) => Ok(None),
            Err(e) => Err(self.request_error(format!("inspect image {name}"), &e)),
        }
    }

    /// Sends the build request and reads its stream to the end, reporting what it says through
    /// `on_event`.
    async fn run_build(
        &self,
        request: &BuildRequest<'_>,
        on_event: &mut (dyn FnMut(BuildEvent<'_>) + Send),
    ) -> BuildOutcome {
        let options = BuildImageOptions {
            dockerfile: request.context.dockerfile_name().to_string(),
            t: Some(request.tag.to_string()),
            nocache: request.no_cache,
            rm: true,
            // Without forcerm the container of a failed classic step stays behind.
            forcerm: true,
            buildargs: Some(request_build_args(request)),
            cachefrom: Some(request.cache_from.to_vec()).filter(|refs| !refs.is_empty()),
            target: request.target.unwrap_or_default().to_string(),
            ..Default::default()
        };
        let logins = Some(login::config_header(&self.registry_logins)).filter(|l| !l.is_empty());
        // The daemon refuses a BuildKit build without a session to serve it. bollard would open
        // one per build and serve it from a task that lives until the daemon hangs up, which it
        // never does (one socket and its buffers per build, for ever), and could not serve
        // secrets from it. The engine's own session serves every build instead; the request
        // itself goes out as a classic one and is rewritten (see `session::buildkit_client`).
        let docker = if request.builder.capabilities().buildkit_session {
            match self.session_id().await {
                Ok(id) => session::buildkit_client(&self.docker, &id),
                Err(reason) => {
                    let result = if self.docker.ping().await.is_err() {
                        Err(BuildFailure::ConnectionLost(reason))
                    } else {
                        Err(BuildFailure::Daemon(reason))
                    };
                    return BuildOutcome::without_steps(0.0, result);
                }
            }
        } else {
            self.docker.clone()
        };
        let mut tracker =
            StepTracker::new(request.secrets, request.builder.capabilities().step_lines);
        let started = Instant::now();
        let body = bollard::body_try_stream(request.context.stream());
        let mut stream = docker.build_image(options, logins, Some(body));
        let mut stream_error = None;
        let mut transport_error = None;
        while let Some(item) = stream.next().await {
            match item {
                Ok(info) => tracker.observe(&info, started.elapsed().as_secs_f64(), on_event),
                Err(error) => {
                    let daemon_said_so = matches!(
                        error,
                        BollardError::DockerStreamError { .. }
                            | BollardError::DockerResponseServerError { .. }
                    );
                    // Redacted before its whitespace is joined, which could cut a value apart.
                    let reason = one_line(&request.secrets.redact(&full_reason(&error)));
                    if !daemon_said_so {
                        transport_error = Some(reason.clone());
                    }
                    stream_error = Some(reason);
                    break;
                }
            }
        }
        tracker.finish(started.elapsed().as_secs_f64(), on_event);
        let mut result = match stream_error {
            Some(reason) => Err(BuildFailure::Daemon(tracker.failure_message(&reason))),
            None => Ok(()),
        };
        let build_seconds = started.elapsed().as_secs_f64();
        // Now and then the response ends with a cut-off line after the daemon's last word
        // ("bytes remaining on stream"): a build it reported tagged is finished all the same.
        if transport_error.is_some() && tracker.finished_tagging(request.tag) {
            transport_error = None;
            result = Ok(());
        }
        // A transport error is a lost daemon only if the daemon no longer answers; otherwise it
        // is, for example, a context file that could not be read, and the build failed.
        if let Some(reason) = transport_error
            && self.docker.ping().await.is_err()
        {
            result = Err(BuildFailure::ConnectionLost(reason));
        }
        // A registry's refusal is relayed as the daemon's message; no password may ride along.
        let result = result.map_err(|failure| match failure {
            BuildFailure::Daemon(reason) => {
                BuildFailure::Daemon(login::without_passwords(&self.registry_logins, &reason))
            }
            BuildFailure::ConnectionLost(reason) => BuildFailure::ConnectionLost(
                login::without_passwords(&self.registry_logins, &reason),
            ),
            BuildFailure::CutShort(cut) => BuildFailure::CutShort(cut),
        });
        BuildOutcome {
            steps: tracker.counts(),
            step_timings: tracker.timings(build_seconds),
            ..BuildOutcome::without_steps(build_seconds, result)
        }
    }

    /// Empties the BuildKit build cache; returns the bytes reclaimed.
    async fn prune_build_cache(&self) -> Result<u64, EngineError> {
        // The newer prune fields are left unset: API 1.41 daemons reject them.
        let options = PruneBuildOptions {
            all: Some(true),
            ..Default::default()
        };
        let response = self
            .docker
            .prune_build(Some(options))
            .await
            .map_err(|e| self.request_error("prune the build cache", &e))?;
        Ok(response.space_reclaimed.unwrap_or_default().max(0) as u64)
    }

    /// Removes an image or tag (and the untagged parents it leaves). Returns `false` when it
    /// was already gone or is still used by another image or container.
    async fn remove_name(&self, name: &str) -> Result<bool, EngineError> {
        // Docker refuses to remove an image that others are built on (409); Podman removes it,
        // and their history with it. Asked first there, so that the answer is Docker's.
        if !self.kind.row().refuses_removing_a_parent && self.has_children(name).await? {
            return Ok(false);
        }
        let options = RemoveImageOptions {
            force: false,
            noprune: false,
            ..Default::default()
        };
        match self.docker.remove_image(name, Some(options), None).await {
            Ok(_) => Ok(true),
            Err(BollardError::DockerResponseServerError {
                status_code: 404 | 409,
                ..
            }) => Ok(false),
            Err(e) => Err(self.request_error(format!("remove image {name}"), &e)),
        }
    }
}

#[async_trait::async_trait]
impl BuildEngine for Engine {
    async fn facts(&self) -> Result<DaemonFacts, EngineError> {
        let version = self
            .docker
            .version()
            .await
            .map_err(|e| self.request_error("report its version", &e))?;
        let info = self
            .docker
            .info()
            .await
            .map_err(|e| self.request_error("report its system information", &e))?;
        Ok(DaemonFacts {
            engine: engine_kind(&version),
            version: version.version.unwrap_or_default(),
            api_version: version.api_version.unwrap_or_default(),
            negotiated_api_version: self.docker.client_version().to_string(),
            operating_system: info.operating_system.unwrap_or_default(),
            kernel_version: info.kernel_version.unwrap_or_default(),
            architecture: info.architecture.unwrap_or_default(),
            storage_driver: info.driver.unwrap_or_default(),
            cpus: info.ncpu.unwrap_or_default(),
            memory_bytes: info.mem_total.unwrap_or_default(),
            cgroup_version: info
                .cgroup_version
                .map(|v| v.to_string())
                .unwrap_or_default(),
            daemon_id: info.id.unwrap_or_default(),
            daemon_name: info.name.unwrap_or_default(),
        })
    }

    async fn image(&self, name: &str) -> Result<Option<ImageFacts>, EngineError> {
        self.inspect_image(name).await
    }

    async fn build(
        &self,
        request: &BuildRequest<'_>,
        on_step: &mut (dyn for<'s> FnMut(&'s str) + Send),
        stop: BuildStop<'_>,
    ) -> Result<BuildOutcome, EngineError> {
        let before = match request.account {
            Some(_) => Some(self.before_build(request).await?),
            None => None,
        };
        let mut trail = BuildTrail::starting_now();
        let mut outcome = {
            let mut on_event = |event: BuildEvent<'_>| {
                if let BuildEvent::Step(step) = event {
                    on_step(step);
                }
                trail.observe(&event);
            };
            let started = Instant::now();
            tokio::select! {
                outcome = self.run_build(request, &mut on_event) => outcome,
                cut = stop => BuildOutcome::without_steps(
                    started.elapsed().as_secs_f64(),
                    Err(BuildFailure::CutShort(cut)),
                ),
            }
        };
        trail.end_now();
        self.run_cache.note_build(trail.running_window());
        // A daemon that no longer answers cannot be asked what the build made.
        if let Err(BuildFailure::ConnectionLost(_)) = outcome.result {
            return Ok(outcome);
        }
        if outcome.result.is_ok() {
            outcome.image = self.inspect_image(request.tag).await?;
        }
        if let (Some(earlier), Some(before)) = (request.account, &before) {
            let made = self
                .confirm_made(request, earlier, &trail, outcome.image.as_ref(), before)
                .await?;
            // The daemon removes a cut-short build's container itself once it notices, but not
            // always before the run exits; only those it confirmed are removed here.
            if let Err(BuildFailure::CutShort(_)) = outcome.result {
                for id in &made.containers {
                    if let Err(error) = self.remove_container(id).await {
                        outcome.cleanup_problems.push(error.to_string());
                    }
                }
            }
            outcome.made_images = made.images;
        }
        Ok(outcome)
    }

    async fn reset_run_cache(&self, scope: PruneMode) -> Result<CacheLeft, EngineError> {
        self.run_cache.reset(scope, self).await
    }

    async fn remove_image(&self, removal: ImageRemoval<'_>) -> Result<bool, EngineError> {
        removal::remove(self, removal).await
    }

    async fn tag_image(&self, image: &str, repository: &str, tag: &str) -> Result<(), EngineError> {
        let options = TagImageOptions {
            repo: Some(repository.to_string()),
            tag: Some(tag.to_string()),
        };
        self.docker
            .tag_image(image, Some(options))
            .await
            .map_err(|e| self.request_error(format!("tag {image} as {repository}:{tag}"), &e))
    }

    async fn pull(
        &self,
        name: &str,
        on_status: &mut (dyn for<'s> FnMut(&'s str) + Send),
    ) -> Result<(), EngineError> {
        let (repository, tag) = split_tag(name);
        let options = CreateImageOptions {
            from_image: Some(repository.to_string()),
            tag: Some(tag.to_string()),
            ..Default::default()
        };
        let login = login::auth_header(&self.registry_logins, name);
        let mut stream = self.docker.create_image(Some(options), None, Some(login));
        while let Some(item) = stream.next().await {
            let info = item.map_err(|e| self.request_error(format!("pull {name}"), &e))?;
            if let Some(message) = info.error_detail.and_then(|d| d.message) {
                return Err(self.daemon_error(format!("pull {name}"), &message));
            }
            if let Some(status) = info.status {
                on_status(&status);
            }
        }
        Ok(())
    }

    async fn push(
        &self,
        name: &str,
        on_status: &mut (dyn for<'s> FnMut(&'s str) + Send),
    ) -> Result<(), EngineError> {
        let (repository, tag) = split_tag(name);
        let options = PushImageOptions {
            tag: Some(tag.to_string()).filter(|t| !t.is_empty()),
            ..Default::default()
        };
        let login = login::auth_header(&self.registry_logins, name);
        let mut stream = self
            .docker
            .push_image(repository, Some(options), Some(login));
        while let Some(item) = stream.next().await {
            let info = item.map_err(|e| self.request_error(format!("push {name}"), &e))?;
            if let Some(message) = info.error_detail.and_then(|d| d.message) {
                return Err(self.daemon_error(format!("push {name}"), &message));
            }
            if let Some(status) = info.status {
                on_status(&status);
            }
        }
        Ok(())
    }

    async fn export_image(
        &self,
        id: &str,
        chunks: tokio::sync::mpsc::Sender<bytes::Bytes>,
    ) -> Result<(), EngineError> {
        let mut stream = self.docker.export_image(id);
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| self.request_error(format!("export image {id}"), &e))?;
            if chunks.send(chunk).await.is_err() {
                break;
            }
        }
        Ok(())
    }
}

#[async_trait::async_trait]
impl ImageStore for Engine {
    async fn look_up(&self, name: &str) -> Result<Option<ImageFacts>, EngineError> {
        self.inspect_image(name).await
    }

    async fn remove_unforced(&self, name: &str) -> Result<bool, EngineError> {
        self.remove_name(name).await
    }
}

#[async_trait::async_trait]
impl CacheRecords for Engine {
    async fn records(&self) -> Result<Vec<CacheRecord>, EngineError> {
        self.list_build_cache().await
    }

    async fn prune_record(&self, id: &str) -> Result<bool, EngineError> {
        self.prune_build_cache_record(id).await
    }

    async fn prune_all(&self) -> Result<(), EngineError> {
        self.prune_build_cache().await.map(|_| ())
    }
}

/// The build arguments sent with `request`: the caller's, and BuildKit's switch for inline cache
/// when the request asks for it.
fn request_build_args(request: &BuildRequest<'_>) -> HashMap<String, String> {
    let mut args: HashMap<String, String> = request
        .build_args
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if request.inline_cache {
        args.insert("BUILDKIT_INLINE_CACHE".to_string(), "1".to_string());
    }
    args
}

/// Why a connection failed, in words a user can act on: TLS failures name the CA file.
fn connect_reason(error: &BollardError, endpoint: &Endpoint) -> String {
    let reason = short_reason(error);
    match &endpoint.tls {
        Some(tls) if reason.contains("UnknownIssuer") || reason.contains("certificate") => format!(
            "TLS: the daemon's certificate is not signed by the CA in {} ({reason})",
            tls.ca.display()
        ),
        _ => reason,
    }
}

/// Splits `name[:tag]` (a registry port is not a tag); a digest reference keeps its `@`.
fn split_tag(name: &str) -> (&str, &str) {
    if name.contains('@') {
        return (name, "");
    }
    match name.rfind(':') {
        Some(colon) if !name[colon..].contains('/') => (&name[..colon], &name[colon + 1..]),
        _ => (name, "latest"),
    }
}

/// `name` as Docker shows a Docker Hub name: without `docker.io/` and `docker.io/library/`.
fn familiar_name(name: &str) -> &str {
    name.strip_prefix("docker.io/library/")
        .or_else(|| name.strip_prefix("docker.io/"))
        .unwrap_or(name)
}

/// `id` with the `sha256:` prefix, unless empty.
pub(super) fn full_id(id: String) -> String {
    if id.is_empty() || id.starts_with("sha256:") {
        id
    } else {
        format!("sha256:{id}")
    }
}

/// Which program answered `/version`: Podman names itself among the components (its
/// `Platform` is the distribution's name, so that says nothing).
fn engine_kind(version: &bollard::models::SystemVersion) -> EngineKind {
    EngineKind::from_components(
        version
            .components
            .iter()
            .flatten()
            .map(|component| component.name.as_str()),
    )
}

/// The daemon's own message where there is one, without bollard's wrapping, on one line.
fn short_reason(error: &BollardError) -> String {
    one_line(&full_reason(error))
}

/// The daemon's own message where there is one, without bollard's wrapping.
fn full_reason(error: &BollardError) -> String {
    match error {
        BollardError::DockerStreamError { error } => error.clone(),
        BollardError::DockerResponseServerError { message, .. } => message.clone(),
        BollardError::SocketNotFoundError(path) => format!("no socket at {path}"),
        other => {
            // Transport errors nest their cause; the innermost one is what a user can act on.
            let mut source: &dyn std::error::Error = other;
            while let Some(next) = source.source() {
                source = next;
            }
            source.to_string()
        }
    }
}

/// `text` with every run of whitespace made one space.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::{familiar_name, split_tag};

    #[test]
    fn docker_hub_names_are_shown_as_docker_shows_them() {
        assert_eq!(
            familiar_name("docker.io/stagebench/s:v-1"),
            "stagebench/s:v-1"
        );
        assert_eq!(
            familiar_name("docker.io/library/busybox:latest"),
            "busybox:latest"
        );
        assert_eq!(
            familiar_name("localhost/stagebench/s:v"),
            "localhost/stagebench/s:v"
        );
        assert_eq!(familiar_name("127.0.0.1:5000/x:y"), "127.0.0.1:5000/x:y");
    }

    #[test]
    fn tags_are_split_from_names_but_ports_are_not() {
        assert_eq!(
            split_tag("debian:bookworm-slim"),
            ("debian", "bookworm-slim")
        );
        assert_eq!(split_tag("busybox"), ("busybox", "latest"));
        assert_eq!(
            split_tag("localhost:5000/app"),
            ("localhost:5000/app", "latest")
        );
        assert_eq!(
            split_tag("localhost:5000/app:v1"),
            ("localhost:5000/app", "v1")
        );
    }
}
