//! A real Debian `docker-registry` (distribution 2.8) for one test, and a small HTTP/1.0 client
//! to put content into it the way `docker push` does, so that registry tests need no daemon.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use sha2::{Digest, Sha256};

/// How a test registry is set up.
#[derive(Default)]
pub struct RegistrySetup<'a> {
    /// Basic authentication with this one user (an htpasswd file with a bcrypt hash).
    pub user: Option<(&'a str, &'a str)>,
    /// Refuse manifest deletes (distribution's default), instead of allowing them.
    pub deletes_disabled: bool,
}

/// A registry on a free 127.0.0.1 port with its own temporary storage; stopped on drop.
pub struct TestRegistry {
    /// `127.0.0.1:PORT`.
    pub address: String,
    /// `Basic ...` for the setup's user, if any.
    pub authorization: Option<String>,
    child: Child,
    /// Config, storage and log; removed after the registry stops (fields drop after `drop`).
    _dir: tempfile::TempDir,
}

impl Drop for TestRegistry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts a registry; `None` (the test is skipped) when `docker-registry` is not on PATH,
/// which `STAGEBENCH_REQUIRE_DOCKER=1` turns into a failure.
pub fn start_registry(setup: &RegistrySetup<'_>) -> Option<TestRegistry> {
    if Command::new("docker-registry")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_err()
    {
        if std::env::var("STAGEBENCH_REQUIRE_DOCKER").as_deref() == Ok("1") {
            panic!(
                "this test needs docker-registry on PATH (Debian's docker-registry package) and \
                 STAGEBENCH_REQUIRE_DOCKER=1 forbids skipping it; run it through scripts/test, \
                 which installs it"
            );
        }
        eprintln!(
            "skipped: docker-registry is not on PATH (set STAGEBENCH_REQUIRE_DOCKER=1 to make this a failure)"
        );
        return None;
    }
    // A port the kernel just handed out and released; another process may take it before the
    // registry binds it, so a start that fails is tried again on another.
    for _ in 0..5 {
        if let Some(registry) = try_start(setup, free_port()) {
            return Some(registry);
        }
    }
    panic!("docker-registry did not start on any of 5 ports");
}

/// A port nothing listens on now.
pub fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

fn try_start(setup: &RegistrySetup<'_>, port: u16) -> Option<TestRegistry> {
    let dir = tempfile::tempdir().unwrap();
    let storage = dir.path().join("storage");
    std::fs::create_dir(&storage).unwrap();
    let mut config = format!(
        "version: 0.1\nlog:\n  level: warn\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: {}\nhttp:\n  addr: 127.0.0.1:{port}\n  secret: {}\n",
        storage.display(),
        !setup.deletes_disabled,
        hex(&Sha256::digest(dir.path().to_string_lossy().as_bytes())),
    );
    let mut authorization = None;
    if let Some((user, password)) = setup.user {
        let hash = bcrypt::hash(password, 4).unwrap();
        let htpasswd = dir.path().join("htpasswd");
        std::fs::write(&htpasswd, format!("{user}:{hash}\n")).unwrap();
        config.push_str(&format!(
            "auth:\n  htpasswd:\n    realm: stagebench-test\n    path: {}\n",
            htpasswd.display()
        ));
        authorization = Some(basic(user, password));
    }
    let config_path = dir.path().join("config.yml");
    std::fs::write(&config_path, config).unwrap();
    let log = std::fs::File::create(dir.path().join("registry.log")).unwrap();
    let mut child = Command::new("docker-registry")
        .arg("serve")
        .arg(&config_path)
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .unwrap();
    let address = format!("127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(15);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            let log = std::fs::read_to_string(dir.path().join("registry.log")).unwrap_or_default();
            if log.contains("address already in use") {
                return None;
            }
            panic!("docker-registry exited at start:\n{log}");
        }
        if let Ok((status, _, _)) = request(&address, "GET", "/v2/", &[], &[]) {
            assert!(status == 200 || status == 401, "GET /v2/ answered {status}");
            return Some(TestRegistry {
                address,
                authorization,
                child,
                _dir: dir,
            });
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
    let log = std::fs::read_to_string(dir.path().join("registry.log")).unwrap_or_default();
    panic!("docker-registry did not answer on {address} within 15 s:\n{log}");
}

impl TestRegistry {
    /// Uploads `blob` to `repository`, returning its digest.
    pub fn upload_blob(&self, repository: &str, blob: &[u8]) -> String {
        let digest = format!("sha256:{}", hex(&Sha256::digest(blob)));
        let (status, headers, body) = self
            .call(
                "POST",
                &format!("/v2/{repository}/blobs/uploads/"),
                &[],
                &[],
            )
            .unwrap();
        assert_eq!(status, 202, "{}", String::from_utf8_lossy(&body));
        let location = header(&headers, "location").unwrap();
        let location = location
            .split_once("://")
            .map_or(location.as_str(), |(_, rest)| {
                &rest[rest.find('/').unwrap()..]
            })
            .to_string();
        let joiner = if location.contains('?') { '&' } else { '?' };
        let (status, _, body) = self
            .call(
                "PUT",
                &format!("{location}{joiner}digest={}", digest.replace(':', "%3A")),
                &[("Content-Type", "application/octet-stream")],
                blob,
            )
            .unwrap();
        assert_eq!(status, 201, "{}", String::from_utf8_lossy(&body));
        digest
    }

    /// Puts `manifest` (of `media_type`) as `reference` of `repository`, returning its digest.
    pub fn put_manifest(
        &self,
        repository: &str,
        reference: &str,
        media_type: &str,
        manifest: &str,
    ) -> String {
        let (status, _, body) = self
            .call(
                "PUT",
                &format!("/v2/{repository}/manifests/{reference}"),
                &[("Content-Type", media_type)],
                manifest.as_bytes(),
            )
            .unwrap();
        assert_eq!(status, 201, "{}", String::from_utf8_lossy(&body));
        format!("sha256:{}", hex(&Sha256::digest(manifest.as_bytes())))
    }

    /// Pushes an image of `config` and `layers` as `repository:tag` (a Docker v2 manifest),
    /// returning the manifest's digest and its JSON.
    pub fn push_image(
        &self,
        repository: &str,
        tag: &str,
        config: &[u8],
        layers: &[&[u8]],
    ) -> (String, String) {
        let config_digest = self.upload_blob(repository, config);
        let layers: Vec<String> = layers
            .iter()
            .map(|layer| {
                let digest = self.upload_blob(repository, layer);
                format!(
                    r#"{{"mediaType":"application/vnd.docker.image.rootfs.diff.tar.gzip","size":{},"digest":"{digest}"}}"#,
                    layer.len()
                )
            })
            .collect();
        let manifest = format!(
            r#"{{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","config":{{"mediaType":"application/vnd.docker.container.image.v1+json","size":{},"digest":"{config_digest}"}},"layers":[{}]}}"#,
            config.len(),
            layers.join(",")
        );
        let digest = self.put_manifest(
            repository,
            tag,
            "application/vnd.docker.distribution.manifest.v2+json",
            &manifest,
        );
        (digest, manifest)
    }

    /// One request with the setup's credentials, if any.
    pub fn call(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> std::io::Result<HttpAnswer> {
        let mut all: Vec<(&str, &str)> = headers.to_vec();
        if let Some(authorization) = &self.authorization {
            all.push(("Authorization", authorization));
        }
        request(&self.address, method, path, &all, body)
    }
}

/// Status, headers and body of an answer.
pub type HttpAnswer = (u16, Vec<(String, String)>, Vec<u8>);

/// `Basic base64(user:password)`.
pub fn basic(user: &str, password: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
    )
}

/// The value of the first header `name` (case-insensitive).
pub fn header(headers: &[(String, String)], name: &str) -> Option<String> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.clone())
}

/// One HTTP/1.0 request (so the server answers with a length or by closing, never chunked).
pub fn request(
    address: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> std::io::Result<HttpAnswer> {
    let mut stream = TcpStream::connect(address)?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut head = format!("{method} {path} HTTP/1.0\r\nHost: {address}\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    stream.write_all(head.as_bytes())?;
    stream.write_all(body)?;
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer)?;
    let end = answer
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| std::io::Error::other("no end of headers"))?;
    let text = String::from_utf8_lossy(&answer[..end]).into_owned();
    let mut lines = text.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other("no status line"))?;
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
        .collect();
    Ok((status, headers, answer[end + 4..].to_vec()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
