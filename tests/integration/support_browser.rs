//! A headless Chromium for the browser tests, driven over the DevTools protocol (CDP).
//!
//! Why by hand: the tests need a dozen commands and a few events over one WebSocket, and
//! messages kept as `serde_json::Value` never fall behind the installed Chromium. The crates
//! that wrap CDP generate the whole protocol (megabytes of code to compile on every clean build)
//! for one fixed Chromium version.
//!
//! The browser listens on 127.0.0.1 only, with a fresh profile in a temporary folder; it is
//! closed when the `Browser` is dropped, and killed if it does not close.

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tungstenite::{Message, WebSocket};

/// Headless, offline and quiet, with no scrollbar taking width from screenshots: no sandbox (CI runs as root), no GPU, no QUIC, and nothing
/// that phones home (first-run pages, background updates, sync).
const FLAGS: [&str; 9] = [
    "--headless",
    "--hide-scrollbars",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
];

/// How long one step (start, one command, one page load, one download) may take before the
/// test fails instead of hanging. Each takes well under a second here.
const STEP_TIMEOUT: Duration = Duration::from_secs(30);

/// Where to look for Chromium when `STAGEBENCH_CHROMIUM` is not set: Debian's binary (its
/// /usr/bin/chromium is a shell wrapper around it that prints noise), then the PATH.
const DEBIAN_CHROMIUM: &str = "/usr/lib/chromium/chromium";

/// The browser's executable, or `None` when there is none.
fn executable() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("STAGEBENCH_CHROMIUM") {
        let path = PathBuf::from(path);
        assert!(
            path.is_file(),
            "STAGEBENCH_CHROMIUM={} is not a file",
            path.display()
        );
        return Some(path);
    }
    if Path::new(DEBIAN_CHROMIUM).is_file() {
        return Some(PathBuf::from(DEBIAN_CHROMIUM));
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| ["chromium", "chromium-browser"].map(|name| dir.join(name)))
        .find(|candidate| candidate.is_file())
}

/// Makes every image eager and resolves once each has loaded or failed.
const LOAD_IMAGES: &str = r#"Promise.all([...document.images].map(image => new Promise(done => {
  image.addEventListener("load", done);
  image.addEventListener("error", done);
  image.loading = "eager";
  if (image.complete) done();
})))"#;

/// One page load: what `Page.navigate` answered and every event until the page had loaded.
pub struct Visit {
    pub navigate: Value,
    pub events: Vec<Value>,
}

impl Visit {
    /// Whether the URL was not shown but handed to the download manager (Chromium does that
    /// for types it does not display, such as CSV).
    pub fn is_download(&self) -> bool {
        self.navigate["isDownload"] == json!(true)
    }

    /// The navigation's own error (`net::ERR_FILE_NOT_FOUND`, ...), if it failed.
    pub fn error(&self) -> Option<&str> {
        self.navigate["errorText"].as_str()
    }
}

pub struct Browser {
    child: Child,
    socket: WebSocket<TcpStream>,
    next_id: u64,
    /// The session of the one page every visit happens in.
    session: String,
    /// The page's width in CSS pixels.
    width_px: u32,
    /// Events received and not yet handed out by `open` or `take_events`.
    events: Vec<Value>,
    /// The profile, the downloads and the browser's stderr; removed after the browser ends.
    work: tempfile::TempDir,
}

impl Browser {
    /// Starts Chromium with one blank page of `width_px` × 900 CSS pixels. Without a browser
    /// the test is skipped (`None`), unless `STAGEBENCH_REQUIRE_DOCKER=1` makes that a failure.
    pub fn launch(width_px: u32) -> Option<Browser> {
        let Some(executable) = executable() else {
            if std::env::var("STAGEBENCH_REQUIRE_DOCKER").as_deref() == Ok("1") {
                panic!(
                    "this test needs Chromium and STAGEBENCH_REQUIRE_DOCKER=1 forbids skipping it; \
                     run it through scripts/test, whose scripts/with-chromium installs it, or set \
                     STAGEBENCH_CHROMIUM to the browser's binary"
                );
            }
            eprintln!(
                "skipped: no Chromium found (set STAGEBENCH_CHROMIUM, or install Debian's chromium; \
                 set STAGEBENCH_REQUIRE_DOCKER=1 to make this a failure)"
            );
            return None;
        };
        let work = tempfile::tempdir().expect("tempdir");
        let profile = work.path().join("profile");
        std::fs::create_dir(&profile).expect("profile folder");
        std::fs::create_dir(work.path().join("downloads")).expect("downloads folder");
        let stderr = std::fs::File::create(work.path().join("stderr.txt")).expect("stderr file");
        // Port 0: Chromium picks a free port and writes it to DevToolsActivePort in the profile.
        let mut child = Command::new(&executable)
            .args(FLAGS)
            .arg(format!("--user-data-dir={}", profile.display()))
            .arg("--remote-debugging-port=0")
            .arg("about:blank")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", executable.display()));
        let (port, path) = match wait_for_endpoint(&profile, &mut child) {
            Ok(endpoint) => endpoint,
            Err(why) => {
                let _ = child.kill();
                let _ = child.wait();
                let log = std::fs::read_to_string(work.path().join("stderr.txt")).unwrap();
                let tail: Vec<&str> = log.lines().rev().take(20).collect();
                panic!(
                    "{} {why}; its stderr ends:\n{}",
                    executable.display(),
                    tail.into_iter().rev().collect::<Vec<_>>().join("\n")
                );
            }
        };
        let stream = TcpStream::connect(("127.0.0.1", port)).expect("connect to DevTools");
        stream.set_read_timeout(Some(STEP_TIMEOUT)).unwrap();
        let (socket, _) = tungstenite::client(format!("ws://127.0.0.1:{port}{path}"), stream)
            .unwrap_or_else(|e| panic!("DevTools WebSocket handshake failed: {e}"));
        let mut browser = Browser {
            child,
            socket,
            next_id: 0,
            session: String::new(),
            width_px,
            events: Vec::new(),
            work,
        };
        let downloads = browser.work.path().join("downloads");
        // Without this, a download would land in the user's ~/Downloads.
        browser.call_in(
            None,
            "Browser.setDownloadBehavior",
            json!({"behavior": "allowAndName", "downloadPath": downloads, "eventsEnabled": true}),
        );
        let target = browser.call_in(None, "Target.createTarget", json!({"url": "about:blank"}));
        let attached = browser.call_in(
            None,
            "Target.attachToTarget",
            json!({"targetId": target["targetId"], "flatten": true}),
        );
        browser.session = attached["sessionId"]
            .as_str()
            .expect("sessionId")
            .to_string();
        for domain in ["Page", "Runtime", "Log", "Network"] {
            browser.call(&format!("{domain}.enable"), json!({}));
        }
        browser.call(
            "Emulation.setDeviceMetricsOverride",
            json!({"width": width_px, "height": 900, "deviceScaleFactor": 1, "mobile": false}),
        );
        Some(browser)
    }

    /// Sends a command to the page and returns its result.
    pub fn call(&mut self, method: &str, params: Value) -> Value {
        let session = Some(self.session.clone());
        self.call_in(session, method, params)
    }

    /// Sends a command to the page's session, or to the browser itself with `None`; events
    /// that arrive before the answer are kept.
    fn call_in(&mut self, session: Option<String>, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let mut message = json!({"id": id, "method": method, "params": params});
        if let Some(session) = session {
            message["sessionId"] = json!(session);
        }
        self.socket
            .send(Message::text(message.to_string()))
            .unwrap_or_else(|e| panic!("cannot send {method}: {e}"));
        let deadline = Instant::now() + STEP_TIMEOUT;
        loop {
            let received = self
                .receive(deadline)
                .unwrap_or_else(|| panic!("no answer to {method} within {STEP_TIMEOUT:?}"));
            if received["id"] == json!(id) {
                if let Some(error) = received.get("error") {
                    panic!("{method} failed: {error}");
                }
                return received["result"].clone();
            }
            self.events.push(received);
        }
    }

    /// The next message, or `None` once `deadline` has passed.
    fn receive(&mut self, deadline: Instant) -> Option<Value> {
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return None;
            }
            self.socket.get_mut().set_read_timeout(Some(left)).unwrap();
            match self.socket.read() {
                Ok(Message::Text(text)) => {
                    return Some(serde_json::from_str(text.as_str()).expect("CDP message is JSON"));
                }
                Ok(_) => {}
                Err(tungstenite::Error::Io(e))
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) => {}
                Err(e) => panic!("the DevTools connection failed: {e}"),
            }
        }
    }

    /// Waits for the first event, kept or new, that `wanted` accepts.
    fn wait_for_event(&mut self, what: &str, wanted: impl Fn(&Value) -> bool) -> Value {
        if let Some(found) = self.events.iter().find(|e| wanted(e)) {
            return found.clone();
        }
        let deadline = Instant::now() + STEP_TIMEOUT;
        loop {
            let received = self
                .receive(deadline)
                .unwrap_or_else(|| panic!("no {what} within {STEP_TIMEOUT:?}"));
            let found = wanted(&received);
            self.events.push(received.clone());
            if found {
                return received;
            }
        }
    }

    /// Navigates the page to `url` and waits until it has loaded (or failed, or became a
    /// download); the visit holds every event since the last one was taken.
    pub fn open(&mut self, url: &str) -> Visit {
        self.events.clear();
        let navigate = self.call("Page.navigate", json!({"url": url}));
        let mut visit = Visit {
            navigate,
            events: Vec::new(),
        };
        if visit.is_download() {
            let download = self.wait_for_event("Browser.downloadWillBegin", |e| {
                e["method"] == "Browser.downloadWillBegin" && e["params"]["url"] == url
            });
            let guid = download["params"]["guid"].clone();
            self.wait_for_event("the end of the download", |e| {
                e["method"] == "Browser.downloadProgress"
                    && e["params"]["guid"] == guid
                    && e["params"]["state"] != "inProgress"
            });
        } else if visit.error().is_none() {
            self.wait_for_event("Page.loadEventFired", |e| {
                e["method"] == "Page.loadEventFired"
            });
        }
        visit.events = std::mem::take(&mut self.events);
        visit
    }

    /// Evaluates `expression` in the page and returns its value.
    pub fn evaluate(&mut self, expression: &str) -> Value {
        let answer = self.call(
            "Runtime.evaluate",
            json!({"expression": expression, "returnByValue": true}),
        );
        assert!(
            answer.get("exceptionDetails").is_none(),
            "{expression} threw: {}",
            answer["exceptionDetails"]
        );
        answer["result"]["value"].clone()
    }

    /// Loads every image of the page and waits until each has loaded or failed. The site marks
    /// its charts `loading="lazy"`, so a browser fetches those below the window only when they
    /// are scrolled near; a check of every image, and a screenshot of the whole page, need them
    /// all.
    pub fn load_lazy_images(&mut self) {
        let answer = self.call(
            "Runtime.evaluate",
            json!({
                "expression": LOAD_IMAGES,
                "awaitPromise": true,
                "returnByValue": true,
            }),
        );
        assert!(
            answer.get("exceptionDetails").is_none(),
            "loading the images threw: {}",
            answer["exceptionDetails"]
        );
    }

    /// Events received since the last visit was handed out (during `evaluate`, for instance).
    pub fn take_events(&mut self) -> Vec<Value> {
        std::mem::take(&mut self.events)
    }

    /// The file a finished download was saved to, named by its guid, and whether it completed.
    pub fn downloaded(&self, visit: &Visit) -> (PathBuf, bool) {
        let done = visit
            .events
            .iter()
            .find(|e| {
                e["method"] == "Browser.downloadProgress" && e["params"]["state"] != "inProgress"
            })
            .expect("the visit was a download");
        let guid = done["params"]["guid"].as_str().expect("guid");
        (
            self.work.path().join("downloads").join(guid),
            done["params"]["state"] == "completed",
        )
    }

    /// Writes a PNG of the whole page (not only the viewport) to `path`: as wide as the page
    /// unless its content is wider, as tall as its content.
    pub fn screenshot(&mut self, path: &Path) {
        use base64::Engine as _;
        let metrics = self.call("Page.getLayoutMetrics", json!({}));
        let size = &metrics["cssContentSize"];
        let width = size["width"]
            .as_f64()
            .expect("content width")
            .max(f64::from(self.width_px));
        let shot = self.call(
            "Page.captureScreenshot",
            json!({
                "format": "png",
                "captureBeyondViewport": true,
                "clip": {"x": 0, "y": 0, "width": width, "height": size["height"], "scale": 1},
            }),
        );
        let png = base64::engine::general_purpose::STANDARD
            .decode(shot["data"].as_str().expect("screenshot data"))
            .expect("screenshot is base64");
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, png).unwrap();
    }
}

/// Polls the profile's DevToolsActivePort (line 1 the port, line 2 the browser's WebSocket
/// path) until Chromium has written it.
fn wait_for_endpoint(profile: &Path, child: &mut Child) -> Result<(u16, String), String> {
    let deadline = Instant::now() + STEP_TIMEOUT;
    loop {
        if let Ok(text) = std::fs::read_to_string(profile.join("DevToolsActivePort")) {
            let mut lines = text.lines();
            if let (Some(port), Some(path)) = (lines.next(), lines.next())
                && let Ok(port) = port.trim().parse()
            {
                return Ok((port, path.trim().to_string()));
            }
        }
        if let Some(status) = child.try_wait().unwrap() {
            return Err(format!("exited ({status}) before DevTools listened"));
        }
        if Instant::now() > deadline {
            return Err(format!(
                "wrote no DevToolsActivePort within {STEP_TIMEOUT:?}"
            ));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // Closing lets Chromium end its own child processes; a browser that does not close
        // within a few seconds is killed. The profile is removed after this, once it is gone.
        let id = self.next_id + 1;
        let close = json!({"id": id, "method": "Browser.close", "params": {}});
        let _ = self.socket.send(Message::text(close.to_string()));
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
