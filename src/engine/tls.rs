//! TCP with TLS, as the docker CLI does it with `DOCKER_TLS_VERIFY`: the daemon's certificate
//! must be signed by the CA in `ca.pem`, and by nothing else.
//!
//! bollard's own TLS client trusts the machine's public roots as well as `ca.pem`, so a daemon
//! holding any publicly signed certificate for the address would be accepted; the CLI uses the
//! CA file as its only root. This module builds that stricter client and hands it to bollard as
//! a custom transport.

use std::path::Path;
use std::sync::Arc;

use bollard::{API_DEFAULT_VERSION, BollardRequest, Docker};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use rustls::{ClientConfig, RootCertStore};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use super::endpoint::TlsFiles;

/// A bollard client for `url` (`tcp://host:port`) that speaks TLS with `files`. Fails, naming
/// the file, when one cannot be read.
pub(super) fn connect(url: &str, files: &TlsFiles, timeout_seconds: u64) -> Result<Docker, String> {
    let config = client_config(files)?;
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(config)
        .https_only()
        .enable_http1()
        .build();
    let client = Arc::new(Client::builder(TokioExecutor::new()).build(https));
    let address = url.replacen("tcp://", "https://", 1);
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
        Some(address),
        timeout_seconds,
        API_DEFAULT_VERSION,
    )
    .map_err(|e| e.to_string())
}

/// The TLS settings of the docker CLI for `files`: the CA as the only root, and the client
/// certificate when there is one. Fails, naming the file, when one cannot be read.
pub(super) fn client_config(files: &TlsFiles) -> Result<ClientConfig, String> {
    let mut roots = RootCertStore::empty();
    for certificate in certificates(&files.ca)? {
        roots.add(certificate).map_err(|e| {
            format!(
                "{} holds a CA certificate rustls refuses: {e}",
                files.ca.display()
            )
        })?;
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("cannot set up TLS: {e}"))?
        .with_root_certificates(roots);
    // The client certificate is optional: a daemon started with --tlsverify asks for it, one
    // started with --tls alone does not.
    if files.cert.is_file() && files.key.is_file() {
        let key = PrivateKeyDer::from_pem_file(&files.key)
            .map_err(|e| format!("cannot read the client key {}: {e}", files.key.display()))?;
        builder
            .with_client_auth_cert(certificates(&files.cert)?, key)
            .map_err(|e| {
                format!(
                    "the client certificate {} does not match its key {}: {e}",
                    files.cert.display(),
                    files.key.display()
                )
            })
    } else {
        Ok(builder.with_no_client_auth())
    }
}

fn certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let certificates = CertificateDer::pem_file_iter(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("{} is not a PEM certificate file: {e}", path.display()))?;
    if certificates.is_empty() {
        return Err(format!("{} holds no certificate", path.display()));
    }
    Ok(certificates)
}
