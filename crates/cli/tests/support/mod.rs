//! Shared support for the `backroom` binary's integration tests: a `backroom serve` child process
//! on SQLite or PostgreSQL, started on a free port, waited for until ready, and killed when its
//! guard is dropped (so a failing test never leaves a server behind).

#![allow(dead_code)]

use std::ffi::OsString;
use std::fs::File;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::Value;

/// The admin key the servers are started with (`BACKROOM_BOOTSTRAP_ADMIN_KEY`).
pub const ADMIN_KEY: &str = "backroom-cli-test-admin-key-0123456789abcdef";

/// How long a server may take to answer `/readyz` with 200.
const READY_TIMEOUT: Duration = Duration::from_secs(30);

/// Where a server keeps its data; servers started on the same storage share it.
pub struct Storage {
    /// The data directory (the SQLite database and its lock; also the server logs).
    dir: tempfile::TempDir,
    /// `(url, schema)` for PostgreSQL; `None` for SQLite.
    postgres: Option<(String, String)>,
    /// Servers started so far, to name their logs.
    starts: usize,
}

impl Storage {
    /// A fresh SQLite data directory.
    pub fn sqlite() -> Self {
        Self { dir: tempfile::tempdir().expect("tempdir"), postgres: None, starts: 0 }
    }

    /// A fresh PostgreSQL schema named `{prefix}_<nanos>_<pid>` on `BACKROOM_TEST_DATABASE_URL`, or
    /// `None` (with a note) when that variable is unset. A set but unreachable URL makes the
    /// server fail to start, which fails the test.
    pub fn postgres(prefix: &str) -> Option<Self> {
        let url = match std::env::var("BACKROOM_TEST_DATABASE_URL") {
            Ok(u) if !u.is_empty() => u,
            _ => {
                eprintln!("BACKROOM_TEST_DATABASE_URL is not set: skipping the PostgreSQL run");
                return None;
            }
        };
        let nanos = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_nanos();
        let schema = format!("{prefix}_{nanos}_{}", std::process::id());
        Some(Self { dir: tempfile::tempdir().expect("tempdir"), postgres: Some((url, schema)), starts: 0 })
    }

    /// `sqlite` or `postgres (schema …)`, for messages.
    pub fn describe(&self) -> String {
        match &self.postgres {
            None => format!("sqlite ({})", self.dir.path().display()),
            Some((_, schema)) => format!("postgres (schema {schema})"),
        }
    }

    /// The data directory.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// `(url, schema)` of the PostgreSQL schema, or `None` for SQLite.
    pub fn postgres_target(&self) -> Option<(&str, &str)> {
        self.postgres.as_ref().map(|(url, schema)| (url.as_str(), schema.as_str()))
    }
}

/// Extra command-line arguments and environment variables for `backroom serve`, on top of the
/// data directory, the listen address and the admin key the harness always gives.
#[derive(Clone, Debug, Default)]
pub struct ServeOptions {
    args: Vec<OsString>,
    env: Vec<(String, OsString)>,
}

impl ServeOptions {
    /// No extra settings.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one argument after `serve …`.
    pub fn arg(mut self, arg: impl Into<OsString>) -> Self {
        self.args.push(arg.into());
        self
    }

    /// Adds a flag and its value: `--name value`.
    pub fn flag(self, name: &str, value: impl Into<OsString>) -> Self {
        self.arg(name).arg(value)
    }

    /// Sets an environment variable (after the harness has removed every inherited `BACKROOM_*`
    /// one and set its own, so this can override `BACKROOM_LOG`, for instance).
    pub fn env(mut self, name: &str, value: impl Into<OsString>) -> Self {
        self.env.push((name.to_owned(), value.into()));
        self
    }
}

/// A running `backroom serve`; dropping it kills the process (SIGKILL) and reaps it.
pub struct Server {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    log: PathBuf,
}

impl Server {
    /// Starts `backroom serve` on `storage` on a free port and waits until `/readyz` answers 200;
    /// panics with the server's stderr if it exits or does not get ready.
    pub async fn start(storage: &mut Storage) -> Server {
        Self::start_with(storage, &ServeOptions::default()).await
    }

    /// [`Server::start`] with extra arguments and environment.
    pub async fn start_with(storage: &mut Storage, options: &ServeOptions) -> Server {
        storage.starts += 1;
        let log = storage.dir.path().join(format!("serve-{}.log", storage.starts));
        let stderr = File::create(&log).expect("server log file");
        let port = free_port();
        let mut command = Command::new(env!("CARGO_BIN_EXE_backroom"));
        command
            .arg("serve")
            .arg("--data-dir")
            .arg(storage.dir.path())
            .arg("--listen")
            .arg(format!("127.0.0.1:{port}"))
            .args(&options.args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr);
        // Only the settings given here: none from the environment the tests run in.
        for (name, _) in std::env::vars_os() {
            if name.to_string_lossy().starts_with("BACKROOM_") {
                command.env_remove(name);
            }
        }
        command.env("BACKROOM_BOOTSTRAP_ADMIN_KEY", ADMIN_KEY).env("BACKROOM_LOG", "warn");
        if let Some((url, schema)) = &storage.postgres {
            command.env("BACKROOM_DATABASE_URL", url).env("BACKROOM_DATABASE_SCHEMA", schema);
        }
        for (name, value) in &options.env {
            command.env(name, value);
        }
        let child = command.spawn().expect("spawn backroom serve");
        let mut server = Server { child, base: format!("http://127.0.0.1:{port}"), log };
        server.wait_ready().await;
        server
    }

    async fn wait_ready(&mut self) {
        let http = http_client();
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                panic!("backroom serve exited before it was ready ({status}); its stderr:\n{}", self.stderr());
            }
            if let Ok(r) = http.get(format!("{}/readyz", self.base)).send().await
                && r.status() == reqwest::StatusCode::OK
            {
                return;
            }
            if started.elapsed() > READY_TIMEOUT {
                panic!("backroom serve was not ready after {READY_TIMEOUT:?}; its stderr:\n{}", self.stderr());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The operating-system process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Whether the process has exited, and how.
    pub fn exited(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().expect("try_wait")
    }

    /// Kills the process with SIGKILL and reaps it; panics (with its stderr) if it had already
    /// exited on its own.
    pub fn kill(&mut self) -> ExitStatus {
        if let Some(status) = self.exited() {
            panic!("backroom serve had already exited ({status}); its stderr:\n{}", self.stderr());
        }
        // `Child::kill` is SIGKILL on Unix: no shutdown handler runs.
        self.child.kill().expect("kill backroom serve");
        self.child.wait().expect("reap backroom serve")
    }

    /// The file its stderr (its log) goes to.
    pub fn log_path(&self) -> &Path {
        &self.log
    }

    /// What the server wrote to stderr (its log), at most the last 8 KiB.
    pub fn stderr(&self) -> String {
        log_tail(&self.log, 8 << 10)
    }

    /// `GET path` with the admin key; panics unless the answer is 200 with a JSON body.
    pub async fn get_json(&self, http: &reqwest::Client, path: &str) -> Value {
        let url = format!("{}{path}", self.base);
        let response = http.get(&url).bearer_auth(ADMIN_KEY).send().await.unwrap_or_else(|e| panic!("GET {url}: {e}"));
        let status = response.status();
        let body = response.text().await.unwrap_or_else(|e| panic!("GET {url}: reading the body: {e}"));
        assert_eq!(status, reqwest::StatusCode::OK, "GET {url}: {body}");
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("GET {url}: not JSON ({e}): {body}"))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// At most the last `bytes` of a log file (cut at a character boundary).
pub fn log_tail(path: &Path, bytes: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| format!("<cannot read the log: {e}>"));
    let start = text.len().saturating_sub(bytes);
    let start = (start..text.len()).find(|&i| text.is_char_boundary(i)).unwrap_or(text.len());
    text[start..].to_owned()
}

/// An HTTP client for a test server: plain HTTP, no proxy from the environment, and a timeout so
/// that a hung server fails the test instead of hanging it.
pub fn http_client() -> reqwest::Client {
    // reqwest is built without a default TLS provider; plain HTTP does not use it, but building a
    // client needs one installed.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder().no_proxy().timeout(Duration::from_secs(30)).build().expect("HTTP client")
}

/// A port nobody listens on right now.
pub fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    listener.local_addr().expect("local_addr").port()
}
