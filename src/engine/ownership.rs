//! What a build made, as the daemon confirms it: the images and containers cleanup may remove.
//!
//! The rule, in full:
//!
//! - **An ID that existed before the build is never the build's.** The image IDs (all of them,
//!   intermediate ones included) and, for the classic builder, the container IDs are listed
//!   just before each build; whatever either list holds is left alone, whoever made it. This is
//!   what keeps the base images, a person's images, and an earlier run's images out of reach.
//! - **Images the daemon reports are the build's.** The stream's structured `aux` field names
//!   the image of each stage the classic builder finished and BuildKit's final image; after a
//!   successful build the run's own tag (which carries the run's identity) names the final
//!   image too. Each such image that is new, and every new image below it in its `Parent` chain (the daemon's
//!   own record, from `GET /images/json?all=1`, of which image a classic step was committed on),
//!   is the build's. The walk stops at the first image that existed before the build.
//! - **A printed image ID is only a candidate.** The classic builder names each step's image
//!   in a ` ---> <id>` line, but those lines share the text stream with whatever a `RUN`
//!   prints, so such a line proves nothing. It is needed only for a build that failed or was
//!   cut short, whose unfinished stage has no `aux` answer and leaves its committed step images
//!   behind. A candidate counts only when the daemon knows it, it is new, and its `Parent`
//!   chain, walked through new images, reaches an image this build may start from: an image
//!   named by the Dockerfile's `FROM` (or `COPY --from`), as the daemon resolves the name; an
//!   image this run built before; or one already confirmed for this build. A chain that ends
//!   without a parent counts only when the Dockerfile starts `FROM scratch`.
//! - **A container counts only where the daemon names it and confirms it.** The classic builder
//!   names a step's container in ` ---> Running in <id>` directly after the `Step` line, before
//!   the step runs anything (see `engine::steps`). Such a container counts only when the
//!   daemon knows it, it is new, and its `Config.Image` is exactly the full ID of an image the
//!   build could start a step from (the same set as above, plus the images confirmed for this
//!   build): the builder creates its containers from image IDs, while `docker run busybox`
//!   records `busybox`. Nothing is looked for beyond what the stream named: no container is
//!   listed after the build, and nothing is polled for newcomers.
//!
//! Why this is sound: a fake line names either an ID that existed before the build (refused
//! by the first rule), or one that appeared during it. For that to count, the daemon itself
//! must record it as committed on an image of this build's chain (an image), or as created
//! from such an image by its full ID (a container). What remains is another build on the same
//! daemon that, during ours, commits on the very image one of our steps started from (or
//! creates a container from its full ID), whose ID our own build's output prints; and an image
//! that another build of the very same steps committed during ours and that ours then took from
//! cache (or that BuildKit made once for both). Removal then still goes through two checks: an
//! image is removed only while no tag but the run's own names it (the ledger tries again when
//! the run ends) and without force, so one that has children or a container stays; a container
//! is removed without its volumes.
//!
//! The daemon's answers these rules read (every image with its parent, every container, one
//! container's `Config.Image`) are asked here too.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::time::Duration;

use bollard::errors::Error as BollardError;
use bollard::query_parameters::{ListContainersOptions, ListImagesOptions, RemoveContainerOptions};

use super::docker_api::{Engine, full_id};
use super::trail::BuildTrail;
use super::{BuildRequest, ImageFacts};
use crate::error::EngineError;

/// How long a `Parent` chain is followed before it counts as not the build's: no Dockerfile
/// has this many steps, and a loop in a daemon's answers must not hang the run.
const LONGEST_CHAIN: usize = 10_000;

/// What existed on the daemon just before a build.
#[derive(Debug, Default)]
pub(super) struct Before {
    /// Every image ID, intermediate ones included.
    pub images: HashSet<String>,
    /// Every container ID (classic builds only: BuildKit runs no containers of the daemon's).
    pub containers: HashSet<String>,
}

/// Images a build may start a step from without having made them.
#[derive(Debug, Default)]
pub(super) struct Anchors {
    /// Full IDs: the Dockerfile's external images as the daemon resolves them, and the images
    /// this run built before.
    pub images: BTreeSet<String>,
    /// Whether the Dockerfile starts a stage `FROM scratch`, whose first image has no parent.
    pub from_scratch: bool,
}

impl Anchors {
    /// Whether `id` is one of them; the run's own earlier IDs may be short (as a classic build
    /// printed them into the ledger of an older version).
    fn contains(&self, id: &str) -> bool {
        let bare = id.trim_start_matches("sha256:");
        self.images.iter().any(|a| {
            a == id || (a.len() >= 12 && bare.starts_with(a.trim_start_matches("sha256:")))
        })
    }
}

/// What the daemon confirms a build made.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct Confirmed {
    /// Full image IDs, each after the image it was committed on.
    pub images: Vec<String>,
    /// Full container IDs.
    pub containers: Vec<String>,
}

impl Engine {
    /// What the daemon holds just before the build of `request`, so that what the build makes
    /// can be told apart.
    pub(super) async fn before_build(
        &self,
        request: &BuildRequest<'_>,
    ) -> Result<Before, EngineError> {
        Ok(Before {
            images: self.image_parents().await?.into_keys().collect(),
            containers: if request.builder.capabilities().leaves_build_containers {
                self.container_ids().await?
            } else {
                HashSet::new()
            },
        })
    }

    /// What the daemon confirms the build of `request` made, from what its `trail` says (see
    /// the module's documentation). `final_image` is the image the request's tag names after a
    /// successful build; `earlier` are the images the run built before.
    pub(super) async fn confirm_made(
        &self,
        request: &BuildRequest<'_>,
        earlier: &[String],
        trail: &BuildTrail,
        final_image: Option<&ImageFacts>,
        before: &Before,
    ) -> Result<Confirmed, EngineError> {
        // What the build may start from is looked up only when there is a printed line to
        // check against it.
        let mut anchors = Anchors::default();
        if trail.printed_anything() {
            let path = request.context.dockerfile_path();
            let text = crate::text_file::read_string_no_follow(path).map_err(|source| {
                EngineError::Dockerfile {
                    path: path.to_path_buf(),
                    source,
                }
            })?;
            for reference in crate::dockerfile::read_facts(&text, request.build_args).images {
                if reference.name.eq_ignore_ascii_case("scratch") {
                    anchors.from_scratch = true;
                } else if let Some(image) = self.inspect_image(&reference.name).await? {
                    anchors.images.insert(image.id);
                }
            }
            anchors.images.extend(earlier.iter().cloned());
        }
        let images = self.image_parents().await?;
        confirm(
            self,
            trail,
            final_image.map(|i| i.id.as_str()),
            &images,
            before,
            &anchors,
        )
        .await
    }
}

/// Facts about one container.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ContainerFacts {
    /// Full ID.
    id: String,
    /// The image as its creator named it (`Config.Image`): the classic builder names the full
    /// ID of the image the step starts from, `docker run busybox` names `busybox`.
    config_image: String,
}

/// The daemon's answers about its images and containers that ownership is decided from.
impl Engine {
    /// IDs of every container, running or not.
    async fn container_ids(&self) -> Result<HashSet<String>, EngineError> {
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

    /// Every image, intermediate ones included (`docker images -a`), by full ID, with the full
    /// ID of the image it was committed on (empty when none): the daemon's own record of a
    /// classic build's chain of step images.
    pub(super) async fn image_parents(&self) -> Result<HashMap<String, String>, EngineError> {
        let options = ListImagesOptions {
            all: true,
            ..Default::default()
        };
        let images = self
            .docker
            .list_images(Some(options))
            .await
            .map_err(|e| self.request_error("list images", &e))?;
        // Podman writes a parent's ID without the `sha256:` its images' own IDs carry.
        Ok(images
            .into_iter()
            .map(|i| (full_id(i.id), full_id(i.parent_id)))
            .collect())
    }

    /// Facts about a container, or `None` when the daemon has no such container (or the ID
    /// prefix names more than one).
    async fn container(&self, id: &str) -> Result<Option<ContainerFacts>, EngineError> {
        match self.docker.inspect_container(id, None).await {
            Ok(container) => Ok(container.id.map(|full| ContainerFacts {
                id: full,
                config_image: container.config.and_then(|c| c.image).unwrap_or_default(),
            })),
            // 404: gone (or never was); 400 on some versions for an ambiguous prefix.
            Err(BollardError::DockerResponseServerError {
                status_code: 404 | 400,
                ..
            }) => Ok(None),
            Err(e) => Err(self.request_error(format!("inspect container {id}"), &e)),
        }
    }

    /// Removes a container, stopping it first if it runs, and leaves its volumes: a volume can
    /// be shared, and the run never made one.
    pub(super) async fn remove_container(&self, id: &str) -> Result<(), EngineError> {
        let options = RemoveContainerOptions {
            force: true,
            v: false,
            ..Default::default()
        };
        match self.docker.remove_container(id, Some(options)).await {
            Ok(()) => Ok(()),
            Err(BollardError::DockerResponseServerError {
                status_code: 404, ..
            }) => Ok(()),
            // The daemon is removing it already (it does so itself once it notices a classic
            // build was cut short): wait until it is gone, so that the images it used can be
            // removed after it, for at most 10 s.
            Err(
                error @ BollardError::DockerResponseServerError {
                    status_code: 409, ..
                },
            ) => {
                for _ in 0..100 {
                    if let Err(BollardError::DockerResponseServerError {
                        status_code: 404, ..
                    }) = self.docker.inspect_container(id, None).await
                    {
                        return Ok(());
                    }
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(self.request_error(format!("remove container {id}"), &error))
            }
            Err(e) => Err(self.request_error(format!("remove container {id}"), &e)),
        }
    }
}

/// Confirms what `trail` says the build made (see the module's documentation). `final_image`
/// is the image the run's own tag names after a successful build; `images` is every image now
/// with its parent, as the daemon lists them.
async fn confirm(
    engine: &Engine,
    trail: &BuildTrail,
    final_image: Option<&str>,
    images: &HashMap<String, String>,
    before: &Before,
    anchors: &Anchors,
) -> Result<Confirmed, EngineError> {
    let mut confirmed = Confirmed::default();
    let chains = Chains {
        images,
        before,
        anchors,
    };
    let reported = trail.reported_images.iter().map(String::as_str);
    for id in reported.chain(final_image) {
        chains.walk(id, true, &mut confirmed.images);
    }
    for id in &trail.printed_images {
        chains.walk(id, false, &mut confirmed.images);
    }
    for id in &trail.printed_containers {
        let Some(container) = engine.container(id).await? else {
            continue;
        };
        let image = container.config_image.as_str();
        let started_from_ours =
            confirmed.images.iter().any(|ours| ours == image) || anchors.contains(image);
        if !before.containers.contains(&container.id)
            && started_from_ours
            && !confirmed.containers.contains(&container.id)
        {
            confirmed.containers.push(container.id);
        }
    }
    Ok(confirmed)
}

/// The daemon's images and what the build may count among them.
struct Chains<'a> {
    images: &'a HashMap<String, String>,
    before: &'a Before,
    anchors: &'a Anchors,
}

impl Chains<'_> {
    /// The full ID `id` names: itself, with `sha256:` added, or the one image whose ID starts
    /// with it (the classic builder prints 12 digits); `None` when none or several do.
    fn resolve(&self, id: &str) -> Option<String> {
        let full = if id.starts_with("sha256:") {
            id.to_string()
        } else {
            format!("sha256:{id}")
        };
        if self.images.contains_key(&full) {
            return Some(full);
        }
        let mut matching = self.images.keys().filter(|k| k.starts_with(&full));
        match (matching.next(), matching.next()) {
            (Some(only), None) => Some(only.clone()),
            _ => None,
        }
    }

    /// Follows `id`'s parent chain through images that are new since the build started, and
    /// adds them to `ours` (parents first) when the chain may count: always for an image the
    /// daemon reported (`reported`), else only when it ends at an anchor or at an image
    /// already in `ours`.
    fn walk(&self, id: &str, reported: bool, ours: &mut Vec<String>) {
        let Some(mut current) = self.resolve(id) else {
            return;
        };
        let mut chain: Vec<String> = Vec::new();
        let counts = loop {
            if ours.contains(&current) {
                break true;
            }
            if self.before.images.contains(&current) {
                break reported || self.anchors.contains(&current);
            }
            if chain.contains(&current) || chain.len() >= LONGEST_CHAIN {
                break false;
            }
            let Some(parent) = self.images.get(&current) else {
                // Not listed (removed meanwhile): nothing below it to confirm.
                break reported && !chain.is_empty();
            };
            chain.push(current.clone());
            if parent.is_empty() {
                break reported || self.anchors.from_scratch;
            }
            current = parent.clone();
        };
        if counts {
            ours.extend(chain.into_iter().rev());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u8) -> String {
        format!("sha256:{}", format!("{n:02x}").repeat(32))
    }

    /// base <- ours1 <- ours2 (the build's, new); base <- theirs_old (before the build);
    /// theirs_old <- theirs_new (someone's, new); lone (new, no parent).
    fn daemon_images() -> HashMap<String, String> {
        HashMap::from([
            (id(1), String::new()),
            (id(2), id(1)),
            (id(3), id(2)),
            (id(4), id(1)),
            (id(5), id(4)),
            (id(6), String::new()),
        ])
    }

    #[test]
    fn a_printed_image_counts_only_when_new_and_its_chain_reaches_what_the_build_starts_from() {
        let images = daemon_images();
        let before = Before {
            images: HashSet::from([id(1), id(4)]),
            containers: HashSet::new(),
        };
        let anchors = Anchors {
            images: BTreeSet::from([id(1)]),
            from_scratch: false,
        };
        let chains = Chains {
            images: &images,
            before: &before,
            anchors: &anchors,
        };
        let short = |n: u8| id(n).trim_start_matches("sha256:")[..12].to_string();
        let mut ours = Vec::new();
        chains.walk(&short(3), false, &mut ours);
        assert_eq!(ours, [id(2), id(3)], "parents first");
        for foreign in [4, 5, 6, 1] {
            chains.walk(&short(foreign), false, &mut ours);
        }
        assert_eq!(
            ours,
            [id(2), id(3)],
            "existing, chained to someone's existing image, parentless, or the base: none counts"
        );
        chains.walk(&short(5), true, &mut ours);
        assert_eq!(
            ours,
            [id(2), id(3), id(5)],
            "a reported image counts down to the first image that existed"
        );
        let scratch = Anchors {
            from_scratch: true,
            ..Anchors::default()
        };
        let chains = Chains {
            anchors: &scratch,
            ..chains
        };
        let mut from_scratch = Vec::new();
        chains.walk(&short(6), false, &mut from_scratch);
        assert_eq!(from_scratch, [id(6)]);
        chains.walk("0000", false, &mut from_scratch);
        assert_eq!(from_scratch, [id(6)], "an ID the daemon does not know");
    }
}
