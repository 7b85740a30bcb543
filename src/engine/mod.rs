//! The engine: the only code that talks to the Docker daemon (through bollard).
//!
//! Everything the runner needs from the daemon is a method here, returning plain data, so the
//! rest of the crate never sees bollard's types and the daemon can be reasoned about in one place.

mod steps;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::{Duration, Instant};

use bollard::Docker;
use bollard::errors::Error as BollardError;
use bollard::query_parameters::{
    BuildImageOptions, BuilderVersion, CreateImageOptions, ListContainersOptions,
    PruneBuildOptions, RemoveContainerOptions, RemoveImageOptions, TagImageOptions,
};
use futures_util::StreamExt;
use serde::Serialize;

use crate::builder::Builder;
use crate::context::BuildContext;
use crate::error::EngineError;
use steps::StepTracker;
pub use steps::{BuildEvent, StepCounts};

/// The request timeout bollard applies to waiting for response headers. Builds are bounded by
/// `--timeout` instead, so this only has to outlast the slowest context upload.
const CLIENT_TIMEOUT_SECONDS: u64 = 24 * 60 * 60;

/// Where bollard connects when `DOCKER_HOST` is unset (bollard does not export its constant).
const DEFAULT_ENDPOINT: &str = "unix:///var/run/docker.sock";

/// A connection to one daemon.
pub struct Engine {
    docker: Docker,
    endpoint: String,
}

/// What the daemon says about itself, recorded with every result set.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct DaemonInfo {
    /// `DOCKER_HOST` or the default socket.
    pub endpoint: String,
    /// Engine version, e.g. `20.10.24+dfsg1`.
    pub version: String,
    /// The daemon's own API version.
    pub api_version: String,
    /// The API version this client speaks after negotiation.
    pub negotiated_api_version: String,
    /// Operating system of the daemon's host.
    pub operating_system: String,
    /// Kernel of the daemon's host.
    pub kernel_version: String,
    /// CPU architecture of the daemon's host.
    pub architecture: String,
    /// Storage driver, e.g. `overlay2`.
    pub storage_driver: String,
    /// CPUs the daemon sees.
    pub cpus: i64,
    /// Memory the daemon sees.
    pub memory_bytes: i64,
    /// Cgroup version, which changes how builds are accounted.
    pub cgroup_version: String,
}

/// Facts about one local image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct ImageFacts {
    /// Content-addressed ID (`sha256:...`).
    pub id: String,
    /// Size the daemon reports for the image.
    pub image_bytes: u64,
    /// Number of filesystem layers.
    pub layers: u32,
    /// Registry digests, when the image came from a registry.
    pub repo_digests: Vec<String>,
    /// Every `repository:tag` naming the image.
    pub repo_tags: Vec<String>,
}

/// One build to run.
pub struct BuildRequest<'a> {
    /// The build context and Dockerfile.
    pub context: &'a BuildContext,
    /// Tag given to the result.
    pub tag: &'a str,
    /// `--build-arg` values.
    pub build_args: &'a BTreeMap<String, String>,
    /// Stage to stop at.
    pub target: Option<&'a str>,
    /// Which builder runs it.
    pub builder: Builder,
    /// Ignore every cache (the classic builder's cold mode).
    pub no_cache: bool,
}

/// How a build ended.
#[derive(Debug, Clone)]
pub struct BuildOutcome {
    /// Wall time of the build request, from sending the context to the end of the response.
    pub build_seconds: f64,
    /// `Err` holds the daemon's message when the build failed.
    pub result: Result<(), String>,
    /// Dockerfile steps run and taken from cache.
    pub steps: StepCounts,
}

impl Engine {
    /// Connects to `DOCKER_HOST` (or the default socket) and negotiates the API version.
    pub async fn connect() -> Result<Engine, EngineError> {
        let endpoint = std::env::var("DOCKER_HOST")
            .ok()
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| DEFAULT_ENDPOINT.to_string());
        let unreachable = |reason: String| EngineError::Unreachable {
            endpoint: endpoint.clone(),
            reason,
        };
        let docker = Docker::connect_with_local_defaults()
            .map_err(|e| unreachable(short_reason(&e)))?
            .with_timeout(Duration::from_secs(CLIENT_TIMEOUT_SECONDS));
        let docker = docker
            .negotiate_version()
            .await
            .map_err(|e| unreachable(short_reason(&e)))?;
        Ok(Engine { docker, endpoint })
    }

    /// The endpoint this engine talks to.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    fn request_error(&self, action: impl Into<String>, error: &BollardError) -> EngineError {
        EngineError::Request {
            endpoint: self.endpoint.clone(),
            action: action.into(),
            reason: short_reason(error),
        }
    }

    /// Version, resources and storage driver of the daemon.
    pub async fn daemon_info(&self) -> Result<DaemonInfo, EngineError> {
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
        Ok(DaemonInfo {
            endpoint: self.endpoint.clone(),
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
        })
    }

    /// Facts about a local image, or `None` when the daemon does not have it.
    pub async fn image(&self, name: &str) -> Result<Option<ImageFacts>, EngineError> {
        match self.docker.inspect_image(name).await {
            Ok(image) => Ok(Some(ImageFacts {
                id: image.id.unwrap_or_default(),
                image_bytes: image.size.unwrap_or_default().max(0) as u64,
                layers: image
                    .root_fs
                    .and_then(|fs| fs.layers)
                    .map(|l| l.len() as u32)
                    .unwrap_or_default(),
                repo_digests: image.repo_digests.unwrap_or_default(),
                repo_tags: image.repo_tags.unwrap_or_default(),
            })),
            Err(BollardError::DockerResponseServerError {
                status_code: 404, ..
            }) => Ok(None),
            Err(e) => Err(self.request_error(format!("inspect image {name}"), &e)),
        }
    }

    /// Pulls an image, calling `on_status` with each progress line the daemon sends.
    pub async fn pull(
        &self,
        name: &str,
        mut on_status: impl FnMut(&str),
    ) -> Result<(), EngineError> {
        let (repository, tag) = split_tag(name);
        let options = CreateImageOptions {
            from_image: Some(repository.to_string()),
            tag: Some(tag.to_string()),
            ..Default::default()
        };
        let mut stream = self.docker.create_image(Some(options), None, None);
        while let Some(item) = stream.next().await {
            let info = item.map_err(|e| self.request_error(format!("pull {name}"), &e))?;
            if let Some(message) = info.error_detail.and_then(|d| d.message) {
                return Err(EngineError::Request {
                    endpoint: self.endpoint.clone(),
                    action: format!("pull {name}"),
                    reason: message,
                });
            }
            if let Some(status) = info.status {
                on_status(&status);
            }
        }
        Ok(())
    }

    /// Asks the image's registry whether it could be pulled, without pulling it.
    pub async fn check_pullable(&self, name: &str) -> Result<(), EngineError> {
        self.docker
            .inspect_registry_image(name, None)
            .await
            .map(|_| ())
            .map_err(|e| self.request_error(format!("find {name} in its registry"), &e))
    }

    /// Runs one build to its end, reporting steps and created images through `on_event`.
    ///
    /// Dropping the returned future cancels the build: the daemon ends a build whose connection
    /// closes, which is how timeouts and Ctrl-C stop it.
    pub async fn build(
        &self,
        request: &BuildRequest<'_>,
        mut on_event: impl FnMut(BuildEvent<'_>),
    ) -> BuildOutcome {
        let mut options = BuildImageOptions {
            dockerfile: request.context.dockerfile_name().to_string(),
            t: Some(request.tag.to_string()),
            nocache: request.no_cache,
            rm: true,
            // Without forcerm the container of a failed classic step stays behind.
            forcerm: true,
            buildargs: Some(
                request
                    .build_args
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect::<HashMap<_, _>>(),
            ),
            target: request.target.unwrap_or_default().to_string(),
            ..Default::default()
        };
        if request.builder == Builder::BuildKit {
            options.version = BuilderVersion::BuilderBuildKit;
            // The daemon refuses a BuildKit build without a session to serve it.
            options.session = Some(format!("stagebench-{}", uuid::Uuid::new_v4()));
        }
        let mut tracker = StepTracker::default();
        let started = Instant::now();
        let body = bollard::body_try_stream(request.context.stream());
        let mut stream = self.docker.build_image(options, None, Some(body));
        let mut result = Ok(());
        while let Some(item) = stream.next().await {
            match item {
                Ok(info) => tracker.observe(&info, &mut on_event),
                Err(error) => {
                    result = Err(tracker.failure_message(&short_reason(&error)));
                    break;
                }
            }
        }
        let build_seconds = started.elapsed().as_secs_f64();
        BuildOutcome {
            build_seconds,
            result,
            steps: tracker.counts(),
        }
    }

    /// Empties the BuildKit build cache; returns the bytes reclaimed.
    pub async fn prune_build_cache(&self) -> Result<u64, EngineError> {
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

    /// Whether `id` names an image that no `repository:tag` names any more: what a moved tag
    /// leaves behind. `false` when the image is gone.
    pub async fn is_untagged(&self, id: &str) -> Result<bool, EngineError> {
        Ok(self
            .image(id)
            .await?
            .is_some_and(|image| image.repo_tags.is_empty()))
    }

    /// Removes an image (and its untagged parents). Returns `false` when it was already gone or is
    /// still used by another image or container, which cleanup treats as nothing to do.
    pub async fn remove_image(&self, name: &str) -> Result<bool, EngineError> {
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

    /// Adds `repository:tag` to an image.
    pub async fn tag_image(
        &self,
        image: &str,
        repository: &str,
        tag: &str,
    ) -> Result<(), EngineError> {
        let options = TagImageOptions {
            repo: Some(repository.to_string()),
            tag: Some(tag.to_string()),
        };
        self.docker
            .tag_image(image, Some(options))
            .await
            .map_err(|e| self.request_error(format!("tag {image} as {repository}:{tag}"), &e))
    }

    /// IDs of every container, running or not.
    pub async fn container_ids(&self) -> Result<HashSet<String>, EngineError> {
        let options = ListContainersOptions {
            all: true,
            ..Default::default()
        };
        let containers = self
            .docker
            .list_containers(Some(options))
            .await
            .map_err(|e| self.request_error("list containers", &e))?;
        Ok(containers.into_iter().filter_map(|c| c.id).collect())
    }

    /// Removes a container, stopping it first if it runs.
    pub async fn remove_container(&self, id: &str) -> Result<(), EngineError> {
        let options = RemoveContainerOptions {
            force: true,
            v: true,
            ..Default::default()
        };
        match self.docker.remove_container(id, Some(options)).await {
            Ok(()) => Ok(()),
            Err(BollardError::DockerResponseServerError {
                status_code: 404, ..
            }) => Ok(()),
            Err(e) => Err(self.request_error(format!("remove container {id}"), &e)),
        }
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

/// The daemon's own message where there is one, without bollard's wrapping.
fn short_reason(error: &BollardError) -> String {
    let text = match error {
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
    };
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::split_tag;

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
