//! The BuildKit session each engine serves to its daemon, which hands BuildKit secrets to
//! `RUN --mount=type=secret` and registry logins to its pulls.
//!
//! A BuildKit build names a session: a gRPC server that the client runs over a connection the
//! daemon upgraded (`POST /session`, `Upgrade: h2c`), and that the daemon calls back for what
//! only the client has. bollard opens such sessions itself, but serves only registry logins and
//! exported files from them and keeps its upgrade private, so no bollard session can carry a
//! secret. This module opens its own, the way the docker CLI does: it dials the daemon as the
//! endpoint says (socket, TCP, TLS, or `ssh ... docker system dial-stdio`), upgrades the
//! connection with hyper, and serves the services bollard-buildkit-proto generates with tonic.
//!
//! It also serves registry logins (`moby.filesync.v1.Auth`): BuildKit, pulling a `FROM` image
//! or importing a `--cache-from` image's inline cache, asks the session for the credentials of
//! the registry host and logs in itself. Only `Credentials` is answered (an empty answer for a
//! host with no login, which BuildKit takes as anonymous). The token methods answer
//! `Unimplemented`, as a client without token signing keys does: on that answer to
//! `GetTokenAuthority` BuildKit fetches any bearer token from the registry itself, with the
//! user name and password `Credentials` gave, and never calls `FetchToken` or
//! `VerifyTokenAuthority`.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bollard::Docker;
use bollard_buildkit_proto::health::health_server::{Health, HealthServer};
use bollard_buildkit_proto::health::{
    HealthCheckRequest, HealthCheckResponse, HealthListRequest, HealthListResponse,
    health_check_response::ServingStatus,
};
use bollard_buildkit_proto::moby::buildkit::secrets::v1::secrets_server::{Secrets, SecretsServer};
use bollard_buildkit_proto::moby::buildkit::secrets::v1::{GetSecretRequest, GetSecretResponse};
use bollard_buildkit_proto::moby::filesync::v1::auth_server::{Auth, AuthServer};
use bollard_buildkit_proto::moby::filesync::v1::{
    CredentialsRequest, CredentialsResponse, FetchTokenRequest, FetchTokenResponse,
    GetTokenAuthorityRequest, GetTokenAuthorityResponse, VerifyTokenAuthorityRequest,
    VerifyTokenAuthorityResponse,
};
use bytes::Bytes;
use http_body_util::{BodyExt, Empty, Limited};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::task::JoinHandle;
use tonic::{Request, Response, Status};

use super::endpoint::{Endpoint, Scheme, split_host_port};
use super::login::{RegistryLogin, login_for, url_safe_login_headers};
use super::tls;
use crate::secrets::BuildSecretValues;

/// How long opening a session may take before the build is given up.
const OPEN_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// The gRPC methods the session serves, announced to the daemon when it is opened.
const METHODS: [&str; 8] = [
    "/grpc.health.v1.Health/Check",
    "/grpc.health.v1.Health/List",
    "/grpc.health.v1.Health/Watch",
    "/moby.buildkit.secrets.v1.Secrets/GetSecret",
    "/moby.filesync.v1.Auth/Credentials",
    "/moby.filesync.v1.Auth/FetchToken",
    "/moby.filesync.v1.Auth/GetTokenAuthority",
    "/moby.filesync.v1.Auth/VerifyTokenAuthority",
];

/// An open session; closed when dropped.
pub(super) struct Session {
    id: String,
    serving: JoinHandle<()>,
}

impl Session {
    /// The id builds name to use it.
    pub(super) fn id(&self) -> &str {
        &self.id
    }

    /// Whether the daemon still holds the connection (it hangs up when it restarts).
    pub(super) fn is_open(&self) -> bool {
        !self.serving.is_finished()
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        self.serving.abort();
    }
}

/// Opens a session with `endpoint`'s daemon that serves `secrets` and `logins`. Fails with the
/// reason.
pub(super) async fn open(
    endpoint: &Endpoint,
    secrets: Arc<BuildSecretValues>,
    logins: Arc<Vec<RegistryLogin>>,
) -> Result<Session, String> {
    tokio::time::timeout(OPEN_TIMEOUT, open_now(endpoint, secrets, logins))
        .await
        .map_err(|_| format!("no answer within {} s", OPEN_TIMEOUT.as_secs()))?
}

async fn open_now(
    endpoint: &Endpoint,
    secrets: Arc<BuildSecretValues>,
    logins: Arc<Vec<RegistryLogin>>,
) -> Result<Session, String> {
    let id = format!("stagebench-{}", uuid::Uuid::new_v4());
    let connection = dial(endpoint).await?;
    let (mut sender, handshake) = hyper::client::conn::http1::handshake(TokioIo::new(connection))
        .await
        .map_err(|e| format!("HTTP handshake failed: {e}"))?;
    // Drives the connection until the daemon switches protocols, then hands it over.
    let upgrading = tokio::spawn(handshake.with_upgrades());
    let mut request = http::Request::post("/session")
        // Go's HTTP server refuses an HTTP/1.1 request without a Host.
        .header(http::header::HOST, "docker")
        .header(http::header::CONNECTION, "Upgrade")
        .header(http::header::UPGRADE, "h2c")
        .header("X-Docker-Expose-Session-Uuid", &id)
        .header("X-Docker-Expose-Session-Name", "stagebench");
    for method in METHODS {
        request = request.header("X-Docker-Expose-Session-Grpc-Method", method);
    }
    let request = request
        .body(Empty::<Bytes>::new())
        .map_err(|e| format!("cannot form the session request: {e}"))?;
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| format!("the session request failed: {e}"))?;
    if response.status() != http::StatusCode::SWITCHING_PROTOCOLS {
        let status = response.status();
        let said = Limited::new(response.into_body(), 4096)
            .collect()
            .await
            .map(|body| String::from_utf8_lossy(&body.to_bytes()).trim().to_string())
            .unwrap_or_default();
        upgrading.abort();
        return Err(format!(
            "the daemon refused a BuildKit session ({status}): {said}"
        ));
    }
    let upgraded = hyper::upgrade::on(response)
        .await
        .map_err(|e| format!("the session connection was not upgraded: {e}"))?;
    let routes = tonic::service::Routes::new(HealthServer::new(Serving))
        .add_service(SecretsServer::new(SecretStore(secrets)))
        .add_service(AuthServer::new(Logins(logins)));
    // The connection is served here rather than by tonic's server loop, which hands each
    // connection to a task of its own that nothing could end: the session must close when the
    // engine is dropped.
    let connection = hyper::server::conn::http2::Builder::new(TokioExecutor::new())
        .serve_connection(upgraded, TowerToHyperService::new(routes));
    let serving = tokio::spawn(async move {
        // The daemon is the gRPC client here; the connection ends when it hangs up.
        let _ended = connection.await;
    });
    Ok(Session { id, serving })
}

/// A clone of `docker` whose `/build` requests ask for BuildKit, served by the session `id`.
///
/// Why rewritten: asked for BuildKit with a session, bollard also tries to open that session
/// itself for every build (a control connection and a `/session` request, which the daemon
/// refuses since ours holds the id), alongside the very build being timed. Asked for the
/// classic builder, it sends the build request alone; this client's request modifier (bollard's
/// hook for such adjustments) then turns its `version=1` into `version=2&session=ID`.
pub(super) fn buildkit_client(docker: &Docker, id: &str) -> Docker {
    let id = id.to_string();
    docker.clone().with_request_modifier(move |mut request| {
        let uri = request.uri().clone();
        let rewritten = uri
            .path_and_query()
            .filter(|p| p.path().ends_with("/build"))
            .map(|p| {
                format!(
                    "{}?{}",
                    p.path(),
                    buildkit_query(p.query().unwrap_or(""), &id)
                )
            });
        if let Some(rewritten) = rewritten {
            let mut parts = uri.into_parts();
            if let Ok(path_and_query) = rewritten.parse() {
                parts.path_and_query = Some(path_and_query);
                if let Ok(uri) = http::Uri::from_parts(parts) {
                    *request.uri_mut() = uri;
                }
            }
        }
        url_safe_login_headers(request)
    })
}

/// A `/build` query asking for BuildKit with the session `id`, whatever builder it asked for.
fn buildkit_query(query: &str, id: &str) -> String {
    query
        .split('&')
        .filter(|p| !p.is_empty() && !p.starts_with("version=") && !p.starts_with("session="))
        .map(str::to_string)
        .chain(["version=2".to_string(), format!("session={id}")])
        .collect::<Vec<_>>()
        .join("&")
}

/// Something bytes go both ways through.
pub(super) trait Duplex: AsyncRead + AsyncWrite + Send + Unpin {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin> Duplex for T {}

/// A new connection to the daemon of `endpoint`, as bollard makes for its requests.
pub(super) async fn dial(endpoint: &Endpoint) -> Result<Box<dyn Duplex>, String> {
    let (address, _) = endpoint.address();
    match endpoint.scheme() {
        Scheme::Unix => tokio::net::UnixStream::connect(address)
            .await
            .map(|stream| Box::new(stream) as Box<dyn Duplex>)
            .map_err(|e| format!("cannot connect to {address}: {e}")),
        Scheme::Tcp => {
            let (host, port) = split_host_port(address);
            let default_port = if endpoint.tls.is_some() { 2376 } else { 2375 };
            let port = port.unwrap_or(default_port);
            let stream = tokio::net::TcpStream::connect((host, port))
                .await
                .map_err(|e| format!("cannot connect to {address}: {e}"))?;
            let Some(files) = &endpoint.tls else {
                return Ok(Box::new(stream));
            };
            let config = tls::client_config(files)?;
            let name = rustls_pki_types::ServerName::try_from(host.to_string())
                .map_err(|e| format!("{host} is not a name TLS can verify: {e}"))?;
            tokio_rustls::TlsConnector::from(Arc::new(config))
                .connect(name, stream)
                .await
                .map(|stream| Box::new(stream) as Box<dyn Duplex>)
                .map_err(|e| format!("TLS with {address} failed: {e}"))
        }
        Scheme::Ssh => {
            let mut child = super::ssh::command(endpoint, &["docker", "system", "dial-stdio"])
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::null())
                .kill_on_drop(true)
                .spawn()
                .map_err(|e| format!("cannot run ssh: {e}"))?;
            let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
                return Err("ssh gave no pipes".to_string());
            };
            Ok(Box::new(SshPipes {
                _child: child,
                pipes: tokio::io::join(stdout, stdin),
            }))
        }
    }
}

/// `ssh`'s standard input and output as one connection; the process ends with it.
struct SshPipes {
    _child: tokio::process::Child,
    pipes: tokio::io::Join<tokio::process::ChildStdout, tokio::process::ChildStdin>,
}

impl AsyncRead for SshPipes {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().pipes).poll_read(cx, buf)
    }
}

impl AsyncWrite for SshPipes {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().pipes).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().pipes).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().pipes).poll_shutdown(cx)
    }
}

/// The daemon checks the session's health every few seconds and drops it when unanswered.
struct Serving;

#[tonic::async_trait]
impl Health for Serving {
    async fn check(
        &self,
        _request: Request<HealthCheckRequest>,
    ) -> Result<Response<HealthCheckResponse>, Status> {
        Ok(Response::new(HealthCheckResponse {
            status: ServingStatus::Serving as i32,
        }))
    }

    async fn list(
        &self,
        _request: Request<HealthListRequest>,
    ) -> Result<Response<HealthListResponse>, Status> {
        Err(Status::unimplemented("not served"))
    }

    type WatchStream = futures_util::stream::Empty<Result<HealthCheckResponse, Status>>;

    async fn watch(
        &self,
        _request: Request<HealthCheckRequest>,
    ) -> Result<Response<Self::WatchStream>, Status> {
        Err(Status::unimplemented("not served"))
    }
}

/// Hands out `--secret` values by id.
struct SecretStore(Arc<BuildSecretValues>);

#[tonic::async_trait]
impl Secrets for SecretStore {
    async fn get_secret(
        &self,
        request: Request<GetSecretRequest>,
    ) -> Result<Response<GetSecretResponse>, Status> {
        let id = &request.get_ref().id;
        match self.0.get(id) {
            Some(data) => Ok(Response::new(GetSecretResponse {
                data: data.to_vec(),
            })),
            // BuildKit turns NotFound into "secret ID not found", and skips the mount when the
            // Dockerfile says `required=false`.
            None => Err(Status::not_found(format!(
                "no --secret id={id} was given to stagebench"
            ))),
        }
    }
}

/// Hands out registry logins by host.
struct Logins(Arc<Vec<RegistryLogin>>);

#[tonic::async_trait]
impl Auth for Logins {
    async fn credentials(
        &self,
        request: Request<CredentialsRequest>,
    ) -> Result<Response<CredentialsResponse>, Status> {
        // BuildKit asks with the host as the image reference names it (`127.0.0.1:5000`).
        let answer = match login_for(&self.0, &request.get_ref().host) {
            Some(login) => CredentialsResponse {
                username: login.username.clone(),
                secret: login.password.clone(),
            },
            None => CredentialsResponse::default(),
        };
        Ok(Response::new(answer))
    }

    async fn fetch_token(
        &self,
        _request: Request<FetchTokenRequest>,
    ) -> Result<Response<FetchTokenResponse>, Status> {
        Err(Status::unimplemented("not served"))
    }

    async fn get_token_authority(
        &self,
        _request: Request<GetTokenAuthorityRequest>,
    ) -> Result<Response<GetTokenAuthorityResponse>, Status> {
        Err(Status::unimplemented("not served"))
    }

    async fn verify_token_authority(
        &self,
        _request: Request<VerifyTokenAuthorityRequest>,
    ) -> Result<Response<VerifyTokenAuthorityResponse>, Status> {
        Err(Status::unimplemented("not served"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_build_query_asks_for_buildkit_with_the_session() {
        assert_eq!(
            buildkit_query(
                "dockerfile=a.Dockerfile&t=x%3Ay&version=1&rm=true",
                "stagebench-1"
            ),
            "dockerfile=a.Dockerfile&t=x%3Ay&rm=true&version=2&session=stagebench-1"
        );
        assert_eq!(
            buildkit_query("session=other&version=2", "s"),
            "version=2&session=s"
        );
        assert_eq!(buildkit_query("", "s"), "version=2&session=s");
    }
}
