//! A client of the registry HTTP API v2 (distribution's), with the two ways registries ask for
//! credentials: Basic, and the Bearer token flow (`WWW-Authenticate: Bearer realm=..,
//! service=.., scope=..`) that hosted registries use.
//!
//! It is built on hyper, hyper-util and hyper-rustls, which stagebench already compiles for the
//! Docker engine: an HTTP client crate would add a second TLS and connection stack for six
//! small requests. The `WWW-Authenticate` and `Link` headers are parsed here by hand: the
//! crates for them are tied to old hyper versions, and only their simple forms occur.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, Method, Request, StatusCode, header};
use http_body_util::{BodyExt, Full};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use serde::Deserialize;

use super::reference::{is_path_component, is_tag};
use super::{Registry, RegistryAccess, RegistryCredentials, RegistryError};

/// How long one request (connecting, and the whole answer) may take.
pub const REQUEST_TIMEOUT_SECONDS: u64 = 10;

/// The largest answer read: manifests are limited to 4 MiB by distribution itself.
const MAX_BODY_BYTES: usize = 8 * 1024 * 1024;

/// Nested manifest lists deeper than this are refused rather than followed.
const MAX_INDEX_DEPTH: usize = 2;

/// How many pages of a tag list or catalog are followed at most.
const MAX_PAGES: usize = 1000;

const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
const DOCKER_MANIFEST_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";

/// Every manifest form stagebench reads: a single image's and a list of them.
const MANIFEST_ACCEPT: &str = "application/vnd.docker.distribution.manifest.v2+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json";

/// What [`RegistryClient::delete_tag`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Deleted {
    /// The manifest the tag pointed at is deleted, and with it every tag of the repository that
    /// pointed at the same digest.
    Removed {
        /// The manifest's digest.
        digest: String,
    },
    /// The registry refuses deletes (distribution answers 405 unless deletes are enabled in its
    /// configuration; many hosted registries refuse them too).
    Refused,
    /// The repository has no such tag (already deleted, or never pushed).
    Absent,
}

/// A client of one registry, with the credentials the docker config had for it.
#[derive(Debug)]
pub struct RegistryClient {
    registry: Registry,
    credentials: Option<RegistryCredentials>,
    docker_config: std::path::PathBuf,
    http: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
    /// `Authorization` values that worked, by scope (`""` for `GET /v2/`), so that a run's many
    /// requests fetch a token once per repository rather than once per request.
    authorizations: Arc<Mutex<BTreeMap<String, String>>>,
}

/// An answer, read whole.
struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

/// One manifest, any form: a single image's has `config` and `layers`, a list `manifests`.
#[derive(Deserialize)]
struct Manifest {
    #[serde(rename = "mediaType")]
    media_type: Option<String>,
    config: Option<Descriptor>,
    #[serde(default)]
    layers: Vec<Descriptor>,
    #[serde(default)]
    manifests: Vec<Descriptor>,
}

/// A blob or manifest a manifest points at.
#[derive(Deserialize)]
struct Descriptor {
    digest: String,
    size: u64,
}

/// What a registry's token service answers.
#[derive(Deserialize)]
struct TokenAnswer {
    token: Option<String>,
    access_token: Option<String>,
}

/// `GET /v2/<name>/tags/list`.
#[derive(Deserialize)]
struct TagList {
    tags: Option<Vec<String>>,
}

/// `GET /v2/_catalog`.
#[derive(Deserialize)]
struct Catalog {
    repositories: Option<Vec<String>>,
}

/// The registry's error document.
#[derive(Deserialize)]
struct ErrorDocument {
    #[serde(default)]
    errors: Vec<ErrorEntry>,
}

#[derive(Deserialize)]
struct ErrorEntry {
    #[serde(default)]
    code: String,
    #[serde(default)]
    message: String,
}

/// A parsed `WWW-Authenticate` challenge.
#[derive(Debug, PartialEq, Eq)]
enum Challenge {
    Basic,
    Bearer {
        realm: String,
        service: Option<String>,
        scope: Option<String>,
    },
    Other(String),
}

impl RegistryClient {
    /// A client for `access`'s registry: plain http for a loopback registry, https (with the
    /// machine's root certificates) for every other.
    pub fn new(access: &RegistryAccess) -> Result<RegistryClient, RegistryError> {
        let registry = access.registry.clone();
        let mut roots = rustls::RootCertStore::empty();
        if !registry.is_loopback() {
            // Certificates the machine cannot parse are skipped, as every TLS client does; an
            // empty store fails the handshake with a sentence naming the registry.
            let found = rustls_native_certs::load_native_certs();
            roots.add_parsable_certificates(found.certs);
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| RegistryError::TlsSetup {
                registry: registry.server(),
                reason: e.to_string(),
            })?
            .with_root_certificates(roots)
            .with_no_client_auth();
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_connect_timeout(Some(Duration::from_secs(REQUEST_TIMEOUT_SECONDS)));
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(config)
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        Ok(RegistryClient {
            registry,
            credentials: access.credentials.clone(),
            docker_config: access.docker_config.clone(),
            http: Client::builder(TokioExecutor::new()).build(connector),
            authorizations: Arc::default(),
        })
    }

    /// The registry this client talks to.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// `GET /v2/`: whether the registry answers and takes the credentials, as one sentence
    /// naming it when not. `run` and `validate` ask this before any build.
    pub async fn check(&self) -> Result<(), RegistryError> {
        let answer = self.authorized(Method::GET, "/v2/", None, "").await?;
        match answer.status {
            StatusCode::OK => Ok(()),
            _ => Err(self.status_error("GET /v2/", &answer)),
        }
    }

    /// The bytes the image tagged `tag` in `repository` (a path as the API names it, without
    /// the host) occupies as its manifest lists them: its config blob's size plus every
    /// layer's. For a manifest list or OCI index, the sum of each listed manifest's.
    ///
    /// Blobs shared between the images of a list, or between tags, are counted once per image
    /// here; sum [`RegistryClient::blob_sizes`] over a set of tags to count each blob once.
    pub async fn manifest_bytes(&self, repository: &str, tag: &str) -> Result<u64, RegistryError> {
        let mut total_bytes = 0u64;
        self.walk_manifest(repository, tag, 0, &mut |descriptor| {
            total_bytes = total_bytes.saturating_add(descriptor.size);
        })
        .await?;
        Ok(total_bytes)
    }

    /// Every blob (config and layers) the image tagged `tag` in `repository` lists, by digest,
    /// with its listed size; for a manifest list or index, those of every listed image.
    pub async fn blob_sizes(
        &self,
        repository: &str,
        tag: &str,
    ) -> Result<BTreeMap<String, u64>, RegistryError> {
        let mut sizes = BTreeMap::new();
        self.walk_manifest(repository, tag, 0, &mut |descriptor| {
            sizes.insert(descriptor.digest.clone(), descriptor.size);
        })
        .await?;
        Ok(sizes)
    }

    /// Calls `each` for the config and every layer of the manifest `reference` (a tag or
    /// digest) of `repository`, descending into a list's manifests.
    fn walk_manifest<'a>(
        &'a self,
        repository: &'a str,
        reference: &'a str,
        depth: usize,
        each: &'a mut (dyn FnMut(&Descriptor) + Send),
    ) -> std::pin::Pin<Box<dyn Future<Output = Result<(), RegistryError>> + Send + 'a>> {
        Box::pin(async move {
            check_repository(repository)?;
            check_reference(reference)?;
            let endpoint = format!("/v2/{repository}/manifests/{reference}");
            let answer = self
                .authorized(
                    Method::GET,
                    &endpoint,
                    Some(MANIFEST_ACCEPT),
                    &pull_scope(repository),
                )
                .await?;
            if answer.status != StatusCode::OK {
                return Err(self.status_error(&format!("GET {endpoint}"), &answer));
            }
            let malformed = |reason: String| RegistryError::Malformed {
                registry: self.registry.server(),
                endpoint: format!("GET {endpoint}"),
                reason,
            };
            let manifest: Manifest = serde_json::from_slice(&answer.body)
                .map_err(|e| malformed(format!("its manifest is not JSON of a known form: {e}")))?;
            let content_type = answer
                .headers
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default();
            let media_type = manifest.media_type.as_deref().unwrap_or(content_type);
            let is_list = media_type.starts_with(DOCKER_MANIFEST_LIST)
                || media_type.starts_with(OCI_INDEX)
                || (manifest.config.is_none() && !manifest.manifests.is_empty());
            if is_list {
                if depth >= MAX_INDEX_DEPTH {
                    return Err(malformed(format!(
                        "manifest lists nest deeper than {MAX_INDEX_DEPTH} levels"
                    )));
                }
                for child in &manifest.manifests {
                    self.walk_manifest(repository, &child.digest, depth + 1, each)
                        .await?;
                }
                return Ok(());
            }
            let Some(config) = &manifest.config else {
                return Err(malformed(format!(
                    "the manifest ({}) has no config, so it is not a {DOCKER_MANIFEST} or {OCI_MANIFEST}",
                    if media_type.is_empty() {
                        "no media type"
                    } else {
                        media_type
                    }
                )));
            };
            each(config);
            for layer in &manifest.layers {
                each(layer);
            }
            Ok(())
        })
    }

    /// Every tag of `repository` (a path without the host), in the registry's order; empty for
    /// a repository that has none left.
    pub async fn tags(&self, repository: &str) -> Result<Vec<String>, RegistryError> {
        check_repository(repository)?;
        let scope = pull_scope(repository);
        let mut tags = Vec::new();
        self.paged(&format!("/v2/{repository}/tags/list"), &scope, |body| {
            let page: TagList = serde_json::from_slice(body).map_err(|e| e.to_string())?;
            tags.extend(page.tags.unwrap_or_default());
            Ok(())
        })
        .await?;
        Ok(tags)
    }

    /// Every repository path the registry lists (`GET /v2/_catalog`, all pages). Hosted
    /// registries often refuse the catalog; this is for tests and for listing what a clean-up
    /// would consider.
    pub async fn catalog(&self) -> Result<Vec<String>, RegistryError> {
        let mut repositories = Vec::new();
        self.paged("/v2/_catalog", "registry:catalog:*", |body| {
            let page: Catalog = serde_json::from_slice(body).map_err(|e| e.to_string())?;
            repositories.extend(page.repositories.unwrap_or_default());
            Ok(())
        })
        .await?;
        Ok(repositories)
    }

    /// Deletes the manifest `tag` points at in `repository` (a path without the host), which
    /// must lie under `PREFIX/stagebench/` ([`Registry::owns`]); anything else is refused with
    /// an error before any request. Deleting a manifest removes every tag of the repository that
    /// points at the same digest. The blobs stay until the registry's garbage collection.
    pub async fn delete_tag(&self, repository: &str, tag: &str) -> Result<Deleted, RegistryError> {
        check_repository(repository)?;
        if !self.registry.owns(repository) {
            return Err(RegistryError::NotOurs {
                registry: self.registry.server(),
                repository: repository.to_string(),
                namespace: self.registry.namespace_path(),
            });
        }
        if !is_tag(tag) {
            return Err(RegistryError::InvalidName {
                name: tag.to_string(),
                what: "tag",
            });
        }
        let scope = format!("repository:{repository}:pull,delete");
        let endpoint = format!("/v2/{repository}/manifests/{tag}");
        let head = self
            .authorized(Method::HEAD, &endpoint, Some(MANIFEST_ACCEPT), &scope)
            .await?;
        match head.status {
            StatusCode::OK => {}
            StatusCode::NOT_FOUND => return Ok(Deleted::Absent),
            _ => return Err(self.status_error(&format!("HEAD {endpoint}"), &head)),
        }
        let digest = head
            .headers
            .get("docker-content-digest")
            .and_then(|v| v.to_str().ok())
            .filter(|d| is_digest(d))
            .ok_or_else(|| RegistryError::Malformed {
                registry: self.registry.server(),
                endpoint: format!("HEAD {endpoint}"),
                reason: "it has no Docker-Content-Digest header with a digest".to_string(),
            })?
            .to_string();
        let by_digest = format!("/v2/{repository}/manifests/{digest}");
        let answer = self
            .authorized(Method::DELETE, &by_digest, None, &scope)
            .await?;
        match answer.status {
            StatusCode::ACCEPTED | StatusCode::OK | StatusCode::NO_CONTENT => {
                Ok(Deleted::Removed { digest })
            }
            StatusCode::NOT_FOUND => Ok(Deleted::Absent),
            StatusCode::METHOD_NOT_ALLOWED => Ok(Deleted::Refused),
            _ if error_codes(&answer.body).iter().any(|c| c == "UNSUPPORTED") => {
                Ok(Deleted::Refused)
            }
            _ => Err(self.status_error(&format!("DELETE {by_digest}"), &answer)),
        }
    }

    /// GETs `path` and each next page its `Link` header names, giving each body to `page`.
    async fn paged(
        &self,
        path: &str,
        scope: &str,
        mut page: impl FnMut(&[u8]) -> Result<(), String>,
    ) -> Result<(), RegistryError> {
        let mut next = Some(path.to_string());
        let mut pages = 0;
        while let Some(path) = next.take() {
            pages += 1;
            let endpoint = format!("GET {}", path_only(&path));
            if pages > MAX_PAGES {
                return Err(RegistryError::Malformed {
                    registry: self.registry.server(),
                    endpoint,
                    reason: format!("it has more than {MAX_PAGES} pages"),
                });
            }
            let answer = self.authorized(Method::GET, &path, None, scope).await?;
            if answer.status != StatusCode::OK {
                return Err(self.status_error(&endpoint, &answer));
            }
            page(&answer.body).map_err(|reason| RegistryError::Malformed {
                registry: self.registry.server(),
                endpoint: endpoint.clone(),
                reason,
            })?;
            next = answer
                .headers
                .get(header::LINK)
                .and_then(|v| v.to_str().ok())
                .and_then(next_link)
                .filter(|link| link.starts_with("/v2/"));
        }
        Ok(())
    }

    /// Sends `method path`, answering the registry's challenge once if it asks for
    /// credentials: a 401 after that is [`RegistryError::CredentialsRefused`] (or
    /// [`RegistryError::NeedsCredentials`] with none in the docker config).
    async fn authorized(
        &self,
        method: Method,
        path: &str,
        accept: Option<&str>,
        scope: &str,
    ) -> Result<Answer, RegistryError> {
        let known = self.known_authorization(scope);
        let url = format!("{}{path}", self.registry.base_url());
        let first = self
            .send(method.clone(), &url, accept, known.as_deref(), None)
            .await?;
        if first.status != StatusCode::UNAUTHORIZED {
            return Ok(first);
        }
        let challenge = first
            .headers
            .get(header::WWW_AUTHENTICATE)
            .and_then(|v| v.to_str().ok())
            .map(parse_challenge);
        let authorization = match challenge {
            Some(Challenge::Bearer {
                realm,
                service,
                scope: asked,
            }) => {
                let scope = asked.unwrap_or_else(|| scope.to_string());
                self.bearer_token(&realm, service.as_deref(), &scope)
                    .await?
            }
            Some(Challenge::Basic) | None => match &self.credentials {
                Some(credentials) => credentials
                    .basic_authorization()
                    .ok_or_else(|| self.refused())?,
                None => return Err(self.needs_credentials()),
            },
            Some(Challenge::Other(scheme)) => {
                return Err(RegistryError::Malformed {
                    registry: self.registry.server(),
                    endpoint: format!("{method} {}", path_only(path)),
                    reason: format!(
                        "it asks for {scheme} authentication, which stagebench does not speak (only Basic and Bearer)"
                    ),
                });
            }
        };
        let second = self
            .send(method, &url, accept, Some(&authorization), None)
            .await?;
        if second.status == StatusCode::UNAUTHORIZED {
            return Err(match self.credentials {
                Some(_) => self.refused(),
                None => self.needs_credentials(),
            });
        }
        if let Ok(mut known) = self.authorizations.lock() {
            known.insert(scope.to_string(), authorization);
        }
        Ok(second)
    }

    fn known_authorization(&self, scope: &str) -> Option<String> {
        self.authorizations
            .lock()
            .ok()
            .and_then(|known| known.get(scope).cloned())
    }

    /// `Bearer <token>` from the token service at `realm`: with the identity token as a
    /// refresh token (OAuth2 POST), with the password as Basic credentials, or anonymously.
    async fn bearer_token(
        &self,
        realm: &str,
        service: Option<&str>,
        scope: &str,
    ) -> Result<String, RegistryError> {
        if !(realm.starts_with("https://") || realm.starts_with("http://")) {
            return Err(RegistryError::Malformed {
                registry: self.registry.server(),
                endpoint: "GET /v2/".to_string(),
                reason: "its token realm is not an http or https URL".to_string(),
            });
        }
        let encode = |v: &str| utf8_percent_encode(v, NON_ALPHANUMERIC).to_string();
        let mut query = Vec::new();
        if let Some(service) = service {
            query.push(format!("service={}", encode(service)));
        }
        if !scope.is_empty() {
            query.push(format!("scope={}", encode(scope)));
        }
        let answer = match &self.credentials {
            Some(RegistryCredentials::IdentityToken(token)) => {
                query.push("grant_type=refresh_token".to_string());
                query.push("client_id=stagebench".to_string());
                query.push(format!("refresh_token={}", encode(token)));
                self.send(
                    Method::POST,
                    realm,
                    None,
                    None,
                    Some(Bytes::from(query.join("&"))),
                )
                .await?
            }
            credentials => {
                let url = if query.is_empty() {
                    realm.to_string()
                } else {
                    let joiner = if realm.contains('?') { '&' } else { '?' };
                    format!("{realm}{joiner}{}", query.join("&"))
                };
                let basic = credentials
                    .as_ref()
                    .and_then(RegistryCredentials::basic_authorization);
                self.send(Method::GET, &url, None, basic.as_deref(), None)
                    .await?
            }
        };
        let endpoint = format!("token service {}", path_only(realm));
        match answer.status {
            StatusCode::OK => {}
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
                return Err(match self.credentials {
                    Some(_) => self.refused(),
                    None => self.needs_credentials(),
                });
            }
            _ => return Err(self.status_error(&endpoint, &answer)),
        }
        let token: TokenAnswer =
            serde_json::from_slice(&answer.body).map_err(|e| RegistryError::Malformed {
                registry: self.registry.server(),
                endpoint: endpoint.clone(),
                reason: format!("its answer is not token JSON: {e}"),
            })?;
        token
            .token
            .or(token.access_token)
            .filter(|t| !t.is_empty())
            .map(|t| format!("Bearer {t}"))
            .ok_or_else(|| RegistryError::Malformed {
                registry: self.registry.server(),
                endpoint,
                reason: "its answer holds no token".to_string(),
            })
    }

    /// One request, read whole within [`REQUEST_TIMEOUT_SECONDS`].
    async fn send(
        &self,
        method: Method,
        url: &str,
        accept: Option<&str>,
        authorization: Option<&str>,
        form: Option<Bytes>,
    ) -> Result<Answer, RegistryError> {
        let endpoint = format!("{method} {}", path_only(url));
        let mut request = Request::builder()
            .method(method)
            .uri(url)
            .header(header::USER_AGENT, "stagebench");
        if let Some(accept) = accept {
            request = request.header(header::ACCEPT, accept);
        }
        if let Some(authorization) = authorization {
            request = request.header(header::AUTHORIZATION, authorization);
        }
        if form.is_some() {
            request = request.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        }
        // The message of a refused request names the URL, never a header.
        let request = request
            .body(Full::new(form.unwrap_or_default()))
            .map_err(|e| RegistryError::Malformed {
                registry: self.registry.server(),
                endpoint: endpoint.clone(),
                reason: format!("the request cannot be made: {e}"),
            })?;
        let exchange = async {
            let response = self
                .http
                .request(request)
                .await
                .map_err(|e| self.unreachable(&e))?;
            let (parts, body) = response.into_parts();
            let body = http_body_util::Limited::new(body, MAX_BODY_BYTES)
                .collect()
                .await
                .map_err(|e| RegistryError::Unreachable {
                    registry: self.registry.server(),
                    reason: format!("the answer to {endpoint} broke off: {e}"),
                })?
                .to_bytes();
            Ok(Answer {
                status: parts.status,
                headers: parts.headers,
                body,
            })
        };
        match tokio::time::timeout(Duration::from_secs(REQUEST_TIMEOUT_SECONDS), exchange).await {
            Ok(answer) => answer,
            Err(_) => Err(RegistryError::TimedOut {
                registry: self.registry.server(),
                endpoint,
                seconds: REQUEST_TIMEOUT_SECONDS,
            }),
        }
    }

    /// A failed connection as one reason: refused, no such host, TLS, or the error chain.
    fn unreachable(&self, error: &hyper_util::client::legacy::Error) -> RegistryError {
        let mut chain: Vec<String> = Vec::new();
        let mut reason = None;
        let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
        while let Some(current) = source {
            if let Some(tls) = current.downcast_ref::<rustls::Error>() {
                reason = Some(format!("TLS failed: {tls}"));
                break;
            }
            if let Some(io) = current.downcast_ref::<std::io::Error>() {
                if let Some(tls) = io
                    .get_ref()
                    .and_then(|inner| inner.downcast_ref::<rustls::Error>())
                {
                    reason = Some(format!("TLS failed: {tls}"));
                    break;
                }
                if io.kind() == std::io::ErrorKind::ConnectionRefused {
                    reason = Some(format!(
                        "connection refused (nothing listens at {})",
                        self.registry.server()
                    ));
                    break;
                }
            }
            chain.push(current.to_string());
            source = current.source();
        }
        let reason = reason.unwrap_or_else(|| {
            if chain.iter().any(|c| c.contains("dns error")) {
                format!(
                    "cannot resolve its host name ({})",
                    chain.last().map_or("no address", String::as_str)
                )
            } else {
                chain.join(": ")
            }
        });
        RegistryError::Unreachable {
            registry: self.registry.server(),
            reason,
        }
    }

    fn needs_credentials(&self) -> RegistryError {
        RegistryError::NeedsCredentials {
            registry: self.registry.server(),
            config: self.docker_config.clone(),
        }
    }

    fn refused(&self) -> RegistryError {
        RegistryError::CredentialsRefused {
            registry: self.registry.server(),
            config: self.docker_config.clone(),
        }
    }

    fn status_error(&self, endpoint: &str, answer: &Answer) -> RegistryError {
        let entries: Vec<String> = serde_json::from_slice::<ErrorDocument>(&answer.body)
            .map(|d| d.errors)
            .unwrap_or_default()
            .into_iter()
            .map(|e| format!("{} {}", e.code, e.message).trim().to_string())
            .filter(|e| !e.is_empty())
            .collect();
        RegistryError::Status {
            registry: self.registry.server(),
            endpoint: endpoint.to_string(),
            status: answer.status.as_u16(),
            detail: if entries.is_empty() {
                String::new()
            } else {
                format!(": {}", entries.join("; "))
            },
        }
    }
}

/// `repository:<path>:pull`.
fn pull_scope(repository: &str) -> String {
    format!("repository:{repository}:pull")
}

/// The error codes of a registry's error document.
fn error_codes(body: &[u8]) -> Vec<String> {
    serde_json::from_slice::<ErrorDocument>(body)
        .map(|d| d.errors.into_iter().map(|e| e.code).collect())
        .unwrap_or_default()
}

/// A repository path of well-formed components, so that no request can reach another endpoint.
fn check_repository(repository: &str) -> Result<(), RegistryError> {
    if repository.len() <= 255 && repository.split('/').all(is_path_component) {
        Ok(())
    } else {
        Err(RegistryError::InvalidName {
            name: repository.to_string(),
            what: "repository path",
        })
    }
}

/// A tag or a digest.
fn check_reference(reference: &str) -> Result<(), RegistryError> {
    if is_tag(reference) || is_digest(reference) {
        Ok(())
    } else {
        Err(RegistryError::InvalidName {
            name: reference.to_string(),
            what: "tag or digest",
        })
    }
}

/// `algorithm:hex`, as manifests and Docker-Content-Digest carry them.
fn is_digest(text: &str) -> bool {
    text.split_once(':').is_some_and(|(algorithm, hex)| {
        !algorithm.is_empty()
            && algorithm
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "+._-".contains(c))
            && hex.len() >= 32
            && hex.chars().all(|c| c.is_ascii_hexdigit())
    })
}

/// The path of `url` without scheme, host or query, for messages: a query may hold a token.
fn path_only(url: &str) -> &str {
    let without_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
    let path = if url.contains("://") {
        without_scheme
            .find('/')
            .map_or("/", |start| &without_scheme[start..])
    } else {
        without_scheme
    };
    path.split('?').next().unwrap_or(path)
}

/// The target of `rel="next"` in a `Link` header: `</v2/_catalog?last=a&n=100>; rel="next"`.
fn next_link(header: &str) -> Option<String> {
    header.split(',').find_map(|link| {
        let (target, params) = link.split_once(';')?;
        let target = target.trim().strip_prefix('<')?.strip_suffix('>')?;
        params
            .split(';')
            .any(|p| matches!(p.trim(), "rel=\"next\"" | "rel=next"))
            .then(|| target.to_string())
    })
}

/// `Basic realm=".."` or `Bearer realm="..",service="..",scope=".."`.
fn parse_challenge(header: &str) -> Challenge {
    let header = header.trim();
    let (scheme, rest) = header.split_once(' ').unwrap_or((header, ""));
    if scheme.eq_ignore_ascii_case("basic") {
        return Challenge::Basic;
    }
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Challenge::Other(scheme.to_string());
    }
    let params = challenge_params(rest);
    match params.get("realm") {
        Some(realm) => Challenge::Bearer {
            realm: realm.clone(),
            service: params.get("service").cloned(),
            scope: params.get("scope").cloned(),
        },
        None => Challenge::Other("Bearer without a realm".to_string()),
    }
}

/// `key="value",key=value` pairs; a quoted value may hold commas (`scope="a:b:pull,push"`).
fn challenge_params(text: &str) -> BTreeMap<String, String> {
    let mut params = BTreeMap::new();
    let mut rest = text.trim();
    while !rest.is_empty() {
        let Some((key, after)) = rest.split_once('=') else {
            break;
        };
        let key = key
            .trim()
            .trim_start_matches(',')
            .trim()
            .to_ascii_lowercase();
        let after = after.trim_start();
        let (value, remaining) = if let Some(quoted) = after.strip_prefix('"') {
            let mut value = String::new();
            let mut chars = quoted.char_indices();
            let mut end = quoted.len();
            while let Some((i, c)) = chars.next() {
                match c {
                    '\\' => {
                        if let Some((_, escaped)) = chars.next() {
                            value.push(escaped);
                        }
                    }
                    '"' => {
                        end = i + 1;
                        break;
                    }
                    c => value.push(c),
                }
            }
            (value, &quoted[end..])
        } else {
            let end = after.find(',').unwrap_or(after.len());
            (after[..end].trim().to_string(), &after[end..])
        };
        params.insert(key, value);
        rest = remaining.trim_start().trim_start_matches(',').trim_start();
    }
    params
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenge_bearer_keeps_commas_inside_quoted_scope() {
        assert_eq!(
            parse_challenge(
                r#"Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull,push""#
            ),
            Challenge::Bearer {
                realm: "https://auth.example/token".to_string(),
                service: Some("registry.example".to_string()),
                scope: Some("repository:a/b:pull,push".to_string()),
            }
        );
    }

    #[test]
    fn challenge_basic_and_unknown_schemes() {
        assert_eq!(parse_challenge(r#"Basic realm="x""#), Challenge::Basic);
        assert_eq!(
            parse_challenge("Negotiate"),
            Challenge::Other("Negotiate".to_string())
        );
    }

    #[test]
    fn next_link_reads_relative_target() {
        assert_eq!(
            next_link(r#"</v2/_catalog?last=b&n=2>; rel="next""#).as_deref(),
            Some("/v2/_catalog?last=b&n=2")
        );
        assert_eq!(next_link(r#"</v2/x>; rel="prev""#), None);
    }

    #[test]
    fn path_only_drops_host_and_query() {
        assert_eq!(
            path_only("https://auth.example/token?scope=x&refresh_token=secret"),
            "/token"
        );
        assert_eq!(path_only("/v2/_catalog?n=1"), "/v2/_catalog");
    }

    #[test]
    fn repository_and_reference_checks_refuse_other_endpoints() {
        assert!(check_repository("ci/stagebench/app/multi").is_ok());
        assert!(check_repository("../_catalog").is_err());
        assert!(check_repository("a//b").is_err());
        assert!(check_reference("latest").is_ok());
        assert!(check_reference(&format!("sha256:{}", "a".repeat(64))).is_ok());
        assert!(check_reference("a/b").is_err());
    }
}
