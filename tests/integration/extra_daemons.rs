//! Extra Docker daemons for the tests of several hosts: each with its own socket, data root,
//! exec root, pidfile and bridge, started by the test that needs it and stopped when that test
//! ends (also when it fails). Starting a daemon needs root; a test that needs one says so.
//!
//! Each daemon gets a bridge of its own (`--bridge=none` would delete the main daemon's
//! `docker0`), without iptables rules: its containers have no outbound network, which the
//! busybox-based test builds do not need. Base images are copied in from the main daemon.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// One extra daemon; dropping it stops the daemon and removes its bridge and directories.
pub struct ExtraDaemon {
    /// Its unix socket.
    pub socket: PathBuf,
    /// `127.0.0.1:PORT` when it also listens on TCP with TLS.
    pub tcp_address: Option<String>,
    dir: tempfile::TempDir,
    bridge: String,
    child: Child,
    /// dockerd's arguments, to start it again the same way.
    args: Vec<String>,
}

/// TLS material a test made with openssl.
pub struct Certificates {
    /// The folder holding everything.
    pub dir: tempfile::TempDir,
}

impl Certificates {
    /// A CA, a server certificate for 127.0.0.1 signed by it, a client certificate signed by
    /// it (in `client/` as `ca.pem`, `cert.pem`, `key.pem`, the names the docker CLI uses), and
    /// a second client folder `stranger/` whose `ca.pem` is another CA.
    pub fn make() -> Certificates {
        let dir = tempfile::tempdir().expect("tempdir");
        let d = dir.path();
        std::fs::create_dir_all(d.join("client")).unwrap();
        std::fs::create_dir_all(d.join("stranger")).unwrap();
        std::fs::write(
            d.join("server.ext"),
            "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n",
        )
        .unwrap();
        std::fs::write(d.join("client.ext"), "extendedKeyUsage=clientAuth\n").unwrap();
        let steps: [&[&str]; 8] = [
            &[
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-days",
                "2",
                "-subj",
                "/CN=stagebench test CA",
                "-keyout",
                "ca-key.pem",
                "-out",
                "ca.pem",
            ],
            &[
                "req",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-subj",
                "/CN=127.0.0.1",
                "-keyout",
                "server-key.pem",
                "-out",
                "server.csr",
            ],
            &[
                "x509",
                "-req",
                "-days",
                "2",
                "-in",
                "server.csr",
                "-CA",
                "ca.pem",
                "-CAkey",
                "ca-key.pem",
                "-CAcreateserial",
                "-extfile",
                "server.ext",
                "-out",
                "server-cert.pem",
            ],
            &[
                "req",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-subj",
                "/CN=stagebench test client",
                "-keyout",
                "client/key.pem",
                "-out",
                "client.csr",
            ],
            &[
                "x509",
                "-req",
                "-days",
                "2",
                "-in",
                "client.csr",
                "-CA",
                "ca.pem",
                "-CAkey",
                "ca-key.pem",
                "-CAcreateserial",
                "-extfile",
                "client.ext",
                "-out",
                "client/cert.pem",
            ],
            &[
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-days",
                "2",
                "-subj",
                "/CN=some other CA",
                "-keyout",
                "stranger/ca-key.pem",
                "-out",
                "stranger/ca.pem",
            ],
            &[
                "x509",
                "-in",
                "client/cert.pem",
                "-out",
                "stranger/cert.pem",
            ],
            &["pkey", "-in", "client/key.pem", "-out", "stranger/key.pem"],
        ];
        for args in steps {
            let output = Command::new("openssl")
                .args(args)
                .current_dir(d)
                .output()
                .expect("this test makes TLS certificates with the openssl command");
            assert!(
                output.status.success(),
                "openssl {}: {}",
                args.join(" "),
                String::from_utf8_lossy(&output.stderr)
            );
        }
        std::fs::copy(d.join("ca.pem"), d.join("client/ca.pem")).unwrap();
        Certificates { dir }
    }

    /// The client folder trusted by the daemon (`DOCKER_CERT_PATH`).
    pub fn client(&self) -> PathBuf {
        self.dir.path().join("client")
    }

    /// A client folder whose CA did not sign the daemon's certificate.
    pub fn stranger(&self) -> PathBuf {
        self.dir.path().join("stranger")
    }

    fn server_file(&self, name: &str) -> String {
        self.dir.path().join(name).display().to_string()
    }
}

/// Fails the test unless it runs as root, which starting a daemon needs.
pub fn require_root() {
    let output = Command::new("id").arg("-u").output().expect("run id -u");
    assert_eq!(
        String::from_utf8_lossy(&output.stdout).trim(),
        "0",
        "this test starts extra Docker daemons, which needs root; run it through scripts/test as root"
    );
}

impl ExtraDaemon {
    /// Starts daemon number `index` (1-9), on a unix socket and, with `tls`, also on a TCP port
    /// of 127.0.0.1 that requires TLS with certificates signed by the test CA.
    pub fn start(index: u8, tls: Option<&Certificates>) -> ExtraDaemon {
        ExtraDaemon::start_with(index, tls, None)
    }

    /// Starts daemon number `index` whose data root is a tmpfs of `megabytes`, so that a
    /// build can fill its disk without touching the machine's.
    pub fn start_with_disk(index: u8, megabytes: u32) -> ExtraDaemon {
        ExtraDaemon::start_with(index, None, Some(megabytes))
    }

    fn start_with(index: u8, tls: Option<&Certificates>, disk_mb: Option<u32>) -> ExtraDaemon {
        require_root();
        let dir = tempfile::Builder::new()
            .prefix("sbd")
            .tempdir_in("/tmp")
            .expect("tempdir");
        if let Some(megabytes) = disk_mb {
            let data = dir.path().join("data");
            std::fs::create_dir_all(&data).expect("data root");
            let mounted = Command::new("mount")
                .args(["-t", "tmpfs", "-o", &format!("size={megabytes}m"), "tmpfs"])
                .arg(&data)
                .status()
                .expect("mount");
            assert!(mounted.success(), "mount a {megabytes} MB tmpfs");
        }
        let bridge = format!("br-sbtest{index}");
        let subnet = format!("10.{}.0.1/24", 220 + u32::from(index));
        for args in [
            vec!["link", "add", &bridge, "type", "bridge"],
            vec!["addr", "add", &subnet, "dev", &bridge],
            vec!["link", "set", &bridge, "up"],
        ] {
            // An earlier test run that died may have left the bridge; reusing it is fine.
            let _ = Command::new("ip").args(&args).output();
        }
        let socket = dir.path().join("docker.sock");
        let mut args: Vec<String> = vec![
            "--data-root".into(),
            dir.path().join("data").display().to_string(),
            "--exec-root".into(),
            dir.path().join("exec").display().to_string(),
            "--pidfile".into(),
            dir.path().join("docker.pid").display().to_string(),
            "-H".into(),
            format!("unix://{}", socket.display()),
            format!("--bridge={bridge}"),
            "--iptables=false".into(),
        ];
        let tcp_address = tls.map(|certificates| {
            let port = free_port();
            let address = format!("127.0.0.1:{port}");
            args.extend([
                "-H".into(),
                format!("tcp://{address}"),
                "--tlsverify".into(),
                "--tlscacert".into(),
                certificates.server_file("ca.pem"),
                "--tlscert".into(),
                certificates.server_file("server-cert.pem"),
                "--tlskey".into(),
                certificates.server_file("server-key.pem"),
            ]);
            address
        });
        let child = spawn_dockerd(dir.path(), &args);
        let daemon = ExtraDaemon {
            socket,
            tcp_address,
            dir,
            bridge,
            child,
            args,
        };
        daemon.wait_until_it_answers();
        daemon.copy_image_from_main_daemon("busybox:latest");
        daemon
    }

    /// Kills the daemon with SIGKILL, as a crash or the OOM killer would, and waits for it.
    pub fn kill_hard(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Starts the daemon again on the same socket and data root, after [`Self::kill_hard`].
    pub fn restart(&mut self) {
        // A daemon killed hard leaves its pidfile; dockerd refuses to start over a live one.
        let _ = std::fs::remove_file(self.dir.path().join("docker.pid"));
        // And its containerd's pidfile: a new dockerd takes the containerd it names over, and
        // fails with "timeout waiting for containerd to start" when that one is not answering
        // (seen in a clean CI run: it had died with its dockerd, but stayed unreaped).
        self.stop_orphaned_containerd();
        self.child = spawn_dockerd(self.dir.path(), &self.args);
        self.wait_until_it_answers();
    }

    /// Makes sure no containerd of this daemon's is left for a new dockerd to take over. A
    /// containerd that outlived its dockerd is SIGKILLed (its pidfile names it, and the process
    /// is checked to be a containerd first) and waited for; the pidfile is removed in any case,
    /// since dockerd takes a pid that still exists for a running containerd, and a killed one
    /// that nothing has reaped (a zombie, where the machine's init does not reap) still exists.
    fn stop_orphaned_containerd(&self) {
        let pidfile = self.dir.path().join("exec/containerd/containerd.pid");
        let pid = std::fs::read_to_string(&pidfile)
            .ok()
            .and_then(|text| text.trim().parse::<u32>().ok());
        if let Some(pid) = pid {
            // State Z: killed already, only not reaped.
            let is_running_containerd = || {
                std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
                    stat.contains("(containerd)") && !stat.contains("(containerd) Z")
                })
            };
            if is_running_containerd() {
                let _ = Command::new("kill")
                    .args(["-KILL", &pid.to_string()])
                    .status();
                let deadline = Instant::now() + Duration::from_secs(10);
                while is_running_containerd() && Instant::now() < deadline {
                    std::thread::sleep(Duration::from_millis(50));
                }
            }
        }
        let _ = std::fs::remove_file(pidfile);
    }

    /// `unix:///...`.
    pub fn unix_url(&self) -> String {
        format!("unix://{}", self.socket.display())
    }

    /// `tcp://127.0.0.1:PORT`.
    pub fn tcp_url(&self) -> String {
        format!(
            "tcp://{}",
            self.tcp_address.as_deref().expect("started with TLS")
        )
    }

    /// Runs the docker CLI against this daemon.
    pub fn docker(&self, args: &[&str]) -> Output {
        let envs = BTreeMap::from([("DOCKER_HOST", self.unix_url())]);
        Command::new("docker")
            .args(args)
            .envs(envs)
            .env_remove("DOCKER_TLS_VERIFY")
            .output()
            .expect("run the docker CLI")
    }

    fn wait_until_it_answers(&self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if self
                .docker(&["version", "--format", "{{.Server.Version}}"])
                .status
                .success()
            {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "extra dockerd did not answer on {} within 60 s; its log:\n{}",
                self.socket.display(),
                self.log()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    fn copy_image_from_main_daemon(&self, image: &str) {
        let mut save = Command::new("docker")
            .args(["save", image])
            .stdout(Stdio::piped())
            .spawn()
            .expect("docker save");
        let stdout = save.stdout.take().expect("piped");
        let load = Command::new("docker")
            .args(["load", "-q"])
            .env("DOCKER_HOST", self.unix_url())
            .stdin(stdout)
            .output()
            .expect("docker load");
        assert!(
            save.wait().expect("docker save").success(),
            "docker save {image}"
        );
        assert!(
            load.status.success(),
            "docker load into the extra daemon: {}",
            String::from_utf8_lossy(&load.stderr)
        );
    }

    fn log(&self) -> String {
        let text = std::fs::read_to_string(self.dir.path().join("dockerd.log")).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }
}

impl Drop for ExtraDaemon {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = Command::new("ip")
            .args(["link", "del", &self.bridge])
            .output();
        // Overlay mounts may remain under the data root if the daemon died hard; never delete
        // through a mount.
        if let Ok(mounts) = std::fs::read_to_string("/proc/mounts") {
            let root = self.dir.path().display().to_string();
            for mount in mounts.lines().filter_map(|l| l.split(' ').nth(1)) {
                if mount.starts_with(&root) {
                    let _ = Command::new("umount").args(["-l", mount]).output();
                }
            }
        }
    }
}

/// Starts dockerd with `args`, its output appended to `dir/dockerd.log`.
fn spawn_dockerd(dir: &std::path::Path, args: &[String]) -> Child {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("dockerd.log"))
        .expect("log file");
    Command::new("dockerd")
        .args(args)
        .stdin(Stdio::null())
        .stdout(log.try_clone().expect("log"))
        .stderr(log)
        .spawn()
        .expect("start dockerd")
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    listener.local_addr().expect("local address").port()
}
