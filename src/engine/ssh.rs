//! `ssh://` hosts: every connection to the daemon is `ssh ... docker system dial-stdio` on the
//! remote machine, as the docker CLI makes it, pooled by hyper like any other connection.
//!
//! Why not bollard's own ssh transport: it hands `user@host:port` to `ssh` as a host name, so
//! an `ssh://` URL with a port never connects, and it keeps a control socket under the user's
//! home. The BuildKit session already dials the same `ssh` command (`session::dial`); the API
//! requests now go the same way.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bollard::{API_DEFAULT_VERSION, BollardRequest, Docker};
use hyper::Uri;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::{Connected, Connection};
use hyper_util::rt::{TokioExecutor, TokioIo};

use super::endpoint::Endpoint;
use super::endpoint::split_host_port;
use super::session::{Duplex, dial};

/// How long the question put to `ssh` after a failed connection may take.
const DIAGNOSIS_SECONDS: u64 = 15;

/// `ssh` to `endpoint`'s machine running `remote` there: the docker CLI's options, with no
/// prompt (a prompt would wait on a terminal the progress display owns).
pub(super) fn command(endpoint: &Endpoint, remote: &[&str]) -> tokio::process::Command {
    let (address, user) = endpoint.address();
    let (host, port) = split_host_port(address);
    let mut command = tokio::process::Command::new("ssh");
    command.args(["-o", "BatchMode=yes"]);
    if let Some(port) = port {
        command.args(["-p", &port.to_string()]);
    }
    if let Some(user) = user {
        command.args(["-l", user]);
    }
    command.arg("--").arg(host).args(remote);
    command
}

/// Why `endpoint`'s daemon could not be reached, in `ssh`'s or the remote docker CLI's own
/// words (the connection's pipes carry none of them): the last line either prints when asked
/// for the daemon's version the same way. `None` when that works, or says nothing.
pub(super) async fn why_unreachable(endpoint: &Endpoint) -> Option<String> {
    let mut probe = command(
        endpoint,
        &["docker", "version", "--format", "{{.Server.Version}}"],
    );
    probe
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true);
    let output = tokio::time::timeout(
        std::time::Duration::from_secs(DIAGNOSIS_SECONDS),
        probe.output(),
    )
    .await;
    let output = match output {
        Err(_) => return Some(format!("ssh gave no answer within {DIAGNOSIS_SECONDS} s")),
        Ok(Err(error)) => return Some(format!("cannot run ssh: {error}")),
        Ok(Ok(output)) => output,
    };
    if output.status.success() {
        return None;
    }
    String::from_utf8_lossy(&output.stderr)
        .lines()
        .map(str::trim)
        .rfind(|line| !line.is_empty())
        .map(str::to_string)
}

/// A bollard client whose requests reach `endpoint`'s daemon through `ssh`.
pub(super) fn connect(endpoint: &Endpoint, timeout_seconds: u64) -> Result<Docker, String> {
    let connector = SshConnector {
        endpoint: Arc::new(endpoint.clone()),
    };
    let client = Arc::new(Client::builder(TokioExecutor::new()).build(connector));
    Docker::connect_with_custom_transport(
        move |request: BollardRequest| {
            let client = Arc::clone(&client);
            async move {
                client
                    .request(request)
                    .await
                    .map_err(bollard::errors::Error::from)
            }
        },
        // The connector ignores the address: the request's URL only has to be one hyper takes.
        Some("http://docker"),
        timeout_seconds,
        API_DEFAULT_VERSION,
    )
    .map_err(|e| e.to_string())
}

/// Opens a connection by running `ssh`, whatever the URI.
#[derive(Clone)]
struct SshConnector {
    endpoint: Arc<Endpoint>,
}

type Connecting = Pin<Box<dyn Future<Output = Result<SshConnection, io::Error>> + Send>>;

impl tower_service::Service<Uri> for SshConnector {
    type Response = SshConnection;
    type Error = io::Error;
    type Future = Connecting;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _: Uri) -> Self::Future {
        let endpoint = Arc::clone(&self.endpoint);
        Box::pin(async move {
            dial(&endpoint)
                .await
                .map(|pipes| SshConnection(TokioIo::new(pipes)))
                .map_err(io::Error::other)
        })
    }
}

/// `ssh`'s pipes as hyper reads and writes them.
struct SshConnection(TokioIo<Box<dyn Duplex>>);

impl Connection for SshConnection {
    fn connected(&self) -> Connected {
        Connected::new()
    }
}

impl hyper::rt::Read for SshConnection {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: hyper::rt::ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().0).poll_read(cx, buf)
    }
}

impl hyper::rt::Write for SshConnection {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().0).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().0).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().0).poll_shutdown(cx)
    }
}
