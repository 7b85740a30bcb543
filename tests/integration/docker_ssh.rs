//! An `ssh://` host for real: Debian's OpenSSH server started by the test on 127.0.0.1 with
//! keys made for it, and a run whose builds reach the daemon through `ssh ... docker system
//! dial-stdio` as the docker CLI's do. The client side is the machine's `ssh`, told about the
//! test's key and host key by a config file: a wrapper named `ssh` first on the run's PATH adds
//! `-F` to every call, so that nothing in the user's `~/.ssh` is read or written.

use std::io::Read;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use stagebench::results::{BuildStatus, RunMeta};

use crate::extra_daemons::require_root;
use crate::support::{docker_daemon, results, stagebench_with_env, stderr, write_tree};

const SSHD: &str = "/usr/sbin/sshd";

/// An OpenSSH server on a free port of 127.0.0.1 that lets in root with the test's key only,
/// stopped when dropped.
struct SshServer {
    dir: tempfile::TempDir,
    port: u16,
    child: Child,
    /// `/run/sshd` (sshd's compiled-in privilege-separation folder) when this test made it.
    made_privsep_dir: bool,
}

impl SshServer {
    fn start() -> SshServer {
        assert!(
            Path::new(SSHD).is_file(),
            "{SSHD} is missing: scripts/docker-up installs Debian's openssh-server for this test (as root)"
        );
        let dir = tempfile::tempdir().unwrap();
        let path = |name: &str| dir.path().join(name);
        for key in ["host_key", "client_key"] {
            let made = Command::new("ssh-keygen")
                .args(["-q", "-t", "ed25519", "-N", "", "-f"])
                .arg(path(key))
                .status()
                .unwrap();
            assert!(made.success(), "ssh-keygen failed for {key}");
        }
        std::fs::copy(path("client_key.pub"), path("authorized_keys")).unwrap();
        let port = free_port();
        std::fs::write(
            path("sshd_config"),
            format!(
                "Port {port}\nListenAddress 127.0.0.1\nHostKey {}\nAuthorizedKeysFile {}\n\
                 PasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\n\
                 PermitRootLogin prohibit-password\nStrictModes no\nPidFile {}\nLogLevel VERBOSE\n",
                path("host_key").display(),
                path("authorized_keys").display(),
                path("sshd.pid").display(),
            ),
        )
        .unwrap();
        let privsep = Path::new("/run/sshd");
        let made_privsep_dir = !privsep.exists();
        if made_privsep_dir {
            std::fs::create_dir_all(privsep).unwrap();
        }
        let log = std::fs::File::create(path("sshd.log")).unwrap();
        let child = Command::new(SSHD)
            .arg("-D")
            .arg("-e")
            .arg("-f")
            .arg(path("sshd_config"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        let server = SshServer {
            dir,
            port,
            child,
            made_privsep_dir,
        };
        server.write_client_side();
        server.wait_until_it_listens();
        server
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// The client's config (the test's key, its host key as the only known one, checked
    /// strictly) and the `ssh` wrapper that passes it.
    fn write_client_side(&self) {
        let host_key = std::fs::read_to_string(self.path("host_key.pub")).unwrap();
        std::fs::write(
            self.path("known_hosts"),
            format!("[127.0.0.1]:{} {host_key}", self.port),
        )
        .unwrap();
        std::fs::write(
            self.path("ssh_config"),
            format!(
                "Host 127.0.0.1\n  IdentityFile {}\n  IdentitiesOnly yes\n  UserKnownHostsFile {}\n  \
                 StrictHostKeyChecking yes\n  GlobalKnownHostsFile /dev/null\n",
                self.path("client_key").display(),
                self.path("known_hosts").display(),
            ),
        )
        .unwrap();
        let bin = self.path("bin");
        std::fs::create_dir_all(&bin).unwrap();
        let ssh = which("ssh");
        let wrapper = bin.join("ssh");
        std::fs::write(
            &wrapper,
            format!(
                "#!/bin/sh\nexec {} -F {} \"$@\"\n",
                ssh.display(),
                self.path("ssh_config").display()
            ),
        )
        .unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755)).unwrap();
    }

    fn wait_until_it_listens(&self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "sshd did not listen on 127.0.0.1:{} within 20 s:\n{}",
                self.port,
                self.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// PATH with the wrapper first.
    fn path_variable(&self) -> String {
        format!(
            "{}:{}",
            self.path("bin").display(),
            std::env::var("PATH").unwrap_or_default()
        )
    }

    fn url(&self) -> String {
        format!("ssh://root@127.0.0.1:{}", self.port)
    }

    fn log(&self) -> String {
        let mut text = String::new();
        if let Ok(mut file) = std::fs::File::open(self.path("sshd.log")) {
            let _ = file.read_to_string(&mut text);
        }
        text
    }
}

impl Drop for SshServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if self.made_privsep_dir {
            let _ = std::fs::remove_dir("/run/sshd");
        }
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn which(program: &str) -> PathBuf {
    let output = Command::new("sh")
        .args(["-c", &format!("command -v {program}")])
        .output()
        .unwrap();
    let found = String::from_utf8_lossy(&output.stdout).trim().to_string();
    assert!(!found.is_empty(), "{program} is not on PATH");
    PathBuf::from(found)
}

#[test]
fn docker_an_ssh_host_builds_through_the_test_s_sshd() {
    let Some(_daemon) = docker_daemon() else {
        return;
    };
    require_root();
    let server = SshServer::start();
    let root = write_tree(&[
        (
            "sbtest-ssh/scenario.toml",
            "name = \"sbtest-ssh\"\n[incremental]\ntouch = [\"app.txt\"]\n",
        ),
        ("sbtest-ssh/app.txt", "hello\n"),
        (
            "sbtest-ssh/single.Dockerfile",
            "FROM busybox:latest\nRUN echo single > /made\nCOPY app.txt /app.txt\n",
        ),
        (
            "sbtest-ssh/multi.Dockerfile",
            "FROM busybox:latest AS build\nRUN echo multi > /made\n\
             FROM busybox:latest\nCOPY --from=build /made /made\nCOPY app.txt /app.txt\n",
        ),
    ]);
    let url = server.url();
    let host = format!("remote={url}");
    let path = server.path_variable();
    let run = stagebench_with_env(
        root.path(),
        &[
            "run",
            "sbtest-ssh",
            "--cache",
            "cold,warm",
            "--runs",
            "1",
            "--docker-host",
            &host,
            "--out",
            "out",
            "--rm",
        ],
        &[("PATH", &path)],
    );
    let log = server.log();
    assert!(run.status.success(), "{}\nsshd:\n{log}", stderr(&run));
    let rows = results(&root.path().join("out"));
    assert_eq!(rows.len(), 4, "two variants, two modes, one run each");
    for row in &rows {
        assert_eq!(row.host, "remote");
        assert_eq!(row.status, BuildStatus::Ok, "{row:?}");
        assert!(row.image_bytes.is_some_and(|b| b > 0), "{row:?}");
    }
    // Warm reached warm through the tunnel: every Dockerfile step after FROM cached.
    for row in rows.iter().filter(|r| r.cache.as_str() == "warm") {
        assert_eq!(row.cached_steps, row.total_steps, "{row:?}");
    }
    let meta = RunMeta::read(&root.path().join("out")).unwrap();
    assert_eq!(meta.hosts[0].endpoint, url);
    // The connections went through this sshd, with the test's key.
    assert!(
        log.contains("Accepted publickey for root from 127.0.0.1"),
        "sshd saw no login:\n{log}"
    );

    // Without the test's config, ssh knows neither the host key nor the key to log in with: the
    // run stops before any build with ssh's own reason, not a closed pipe.
    let refused = stagebench_with_env(
        root.path(),
        &[
            "run",
            "sbtest-ssh",
            "--cache",
            "cold",
            "--runs",
            "1",
            "--docker-host",
            &host,
            "--out",
            "refused",
        ],
        &[],
    );
    assert_eq!(refused.status.code(), Some(1), "{}", stderr(&refused));
    let said = stderr(&refused);
    assert_eq!(said.trim().lines().count(), 1, "{said}");
    assert!(said.contains(&url), "{said}");
    assert!(
        said.contains("Host key verification failed") || said.contains("Permission denied"),
        "{said}"
    );
    assert!(!root.path().join("refused/results.csv").exists());
}
