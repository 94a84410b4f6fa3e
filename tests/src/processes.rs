//! Whole processes for the cross-process tests: the sync server binary and headless terminals,
//! plus the PostgreSQL database they use. Every prerequisite that is missing fails the test with
//! what to install or build; nothing is skipped.

use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::Duration;

use serde_json::Value;

/// The directory of this build's binaries (`target/debug`), found from the running executable:
/// a test executable lives in its `deps/` folder, a binary of this crate (the benches) in the
/// profile directory itself.
pub fn bin_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("current exe");
    let dir = exe.parent().expect("executable's directory");
    if dir.file_name().is_some_and(|n| n == "deps") {
        dir.parent().expect("profile dir").to_path_buf()
    } else {
        dir.to_path_buf()
    }
}

/// A binary of the workspace; fails with the command to build it when absent.
pub fn workspace_bin(name: &str) -> PathBuf {
    let p = bin_dir().join(name);
    assert!(
        p.exists(),
        "{} is missing: build it with `cargo build -p {}` (scripts/test builds the whole workspace)",
        p.display(),
        match name {
            "sync-server" => "sync-server",
            _ => "snapkasir-tests",
        }
    );
    p
}

/// The lines `out` prints, read on a thread of their own until it closes (or nobody listens).
pub fn lines_of(out: impl std::io::Read + Send + 'static) -> Receiver<String> {
    let (tx, lines) = channel();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines() {
            let Ok(line) = line else { return };
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    lines
}

/// The `sync-server admin` arguments that create a tenant with one store and its owner (password
/// `rahasia-panjang-1`).
pub fn create_tenant_args<'a>(
    tenant_name: &'a str,
    store_code: &'a str,
    store_name: &'a str,
    owner_email: &'a str,
) -> [&'a str; 11] {
    [
        "create-tenant",
        "--tenant-name",
        tenant_name,
        "--store-code",
        store_code,
        "--store-name",
        store_name,
        "--owner-email",
        owner_email,
        "--owner-password",
        "rahasia-panjang-1",
    ]
}

/// The admin URL of the PostgreSQL server tests may use (scripts/test sets DATABASE_URL).
pub fn admin_url() -> String {
    std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// Runs SQL with `psql`; fails with what to install when psql or the server is missing.
pub fn psql(url: &str, sql: &str) -> String {
    let out = Command::new("psql")
        .args([url, "-X", "-Atq", "-v", "ON_ERROR_STOP=1", "-c", sql])
        .output()
        .unwrap_or_else(|e| {
            panic!("psql not found ({e}): install it with `apt-get install postgresql-client`")
        });
    assert!(
        out.status.success(),
        "psql failed on {url} ({}): is PostgreSQL running? scripts/test starts one. SQL: {sql}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// A fresh database, dropped on drop.
#[derive(Debug)]
pub struct TestDatabase {
    pub url: String,
    admin: String,
    name: String,
}

impl TestDatabase {
    pub fn create(prefix: &str) -> TestDatabase {
        TestDatabase::create_on(&admin_url(), prefix)
    }

    /// A fresh database on the server of `admin` (an admin URL).
    pub fn create_on(admin: &str, prefix: &str) -> TestDatabase {
        let admin = admin.to_string();
        let name = format!("{prefix}_{}_{}", std::process::id(), rand::random::<u32>());
        psql(&admin, &format!("CREATE DATABASE {name}"));
        let url = match admin.rsplit_once('/') {
            Some((base, _)) => format!("{base}/{name}"),
            None => panic!("DATABASE_URL {admin} has no database part"),
        };
        TestDatabase { url, admin, name }
    }
}

impl TestDatabase {
    /// Drops the database with everything in it and makes it again, empty (a lost database).
    pub fn destroy_and_recreate(&self) {
        psql(
            &self.admin,
            &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
        );
        psql(&self.admin, &format!("CREATE DATABASE {}", self.name));
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let _ = Command::new("psql")
            .args([
                &self.admin,
                "-X",
                "-Atq",
                "-c",
                &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
            ])
            .output();
    }
}

/// An HTTP client for the tests. reqwest is built with rustls but no crypto provider of its own
/// (see pos-core's `sync::tls`), so `reqwest::Client::new()` panics: take this one.
pub fn http_client() -> reqwest::Client {
    pos_core::sync::tls::http_client(None, Duration::from_secs(120)).expect("http client")
}

/// Signs in at the server `base` (`http://host:port`) as an owner or manager and returns the
/// access token for the API.
pub async fn api_token(
    client: &reqwest::Client,
    base: &str,
    email: &str,
    password: &str,
) -> String {
    let answer: Value = client
        .post(format!("{base}/api/v1/auth/login"))
        .json(&serde_json::json!({"email": email, "password": password}))
        .send()
        .await
        .expect("login")
        .json()
        .await
        .expect("login json");
    answer["access_token"]
        .as_str()
        .unwrap_or_else(|| panic!("no access token: {answer}"))
        .to_string()
}

/// The sync server as a child process.
#[derive(Debug)]
pub struct ServerProcess {
    child: Child,
    pub addr: SocketAddr,
    /// `http` or `https`.
    pub scheme: &'static str,
    /// Selects the database: `--database-url …` or `--data-dir …`.
    db_args: Vec<String>,
    /// More flags of `serve` (e.g. `--tls-cert`).
    serve_args: Vec<String>,
    log: PathBuf,
    /// The CA file [`ServerProcess::enroll`] trusts (a TLS server's private CA).
    pub ca_file: Option<PathBuf>,
}

impl ServerProcess {
    /// Starts `sync-server serve` on `listen` (port 0 for a free one) and waits for its
    /// "listening on" line.
    pub fn start(database_url: &str, listen: &str, log: &Path) -> ServerProcess {
        let db = ["--database-url".to_string(), database_url.to_string()];
        ServerProcess::start_with(&db, &[], listen, log)
    }

    /// A server on its embedded SQLite store in `dir/server-data` on a free port, logging to
    /// `dir/server.log`.
    pub fn on_sqlite(dir: &Path) -> ServerProcess {
        let data = dir.join("server-data");
        std::fs::create_dir_all(&data).expect("server data dir");
        let db = ["--data-dir".to_string(), data.display().to_string()];
        ServerProcess::start_with(&db, &[], "127.0.0.1:0", &dir.join("server.log"))
    }

    /// [`ServerProcess::start`] with other database flags (`--data-dir` for SQLite) and more
    /// flags for `serve`.
    pub fn start_with(
        db_args: &[String],
        serve_args: &[String],
        listen: &str,
        log: &Path,
    ) -> ServerProcess {
        ServerProcess::try_start(db_args, serve_args, listen, log).unwrap_or_else(|e| panic!("{e}"))
    }

    fn try_start(
        db_args: &[String],
        serve_args: &[String],
        listen: &str,
        log: &Path,
    ) -> Result<ServerProcess, String> {
        let logfile = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .map_err(|e| e.to_string())?;
        let mut child = Command::new(workspace_bin("sync-server"))
            .args(db_args)
            .args(["serve", "--listen", listen])
            .args(serve_args)
            .env("SNAPKASIR_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(logfile)
            .spawn()
            .map_err(|e| format!("start sync-server: {e}"))?;
        let stdout = child.stdout.take().ok_or("no stdout")?;
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let ready = line.trim().strip_prefix("listening on ");
        let addr = ready
            .and_then(|r| r.split_once("://"))
            .and_then(|(scheme, a)| Some((scheme == "https", a.parse().ok()?)));
        match addr {
            Some((tls, addr)) => Ok(ServerProcess {
                child,
                addr,
                scheme: if tls { "https" } else { "http" },
                db_args: db_args.to_vec(),
                serve_args: serve_args.to_vec(),
                log: log.into(),
                ca_file: None,
            }),
            None => {
                let _ = child.kill();
                let _ = child.wait();
                Err(format!(
                    "sync-server did not start on {listen}: {line:?}; see {}",
                    log.display()
                ))
            }
        }
    }

    pub fn url(&self) -> String {
        format!("{}://{}", self.scheme, self.addr)
    }

    /// The server's process id (to read its memory from /proc).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGTERM, and the exit status once the server has shut down gracefully.
    pub fn terminate(mut self) -> std::process::ExitStatus {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        self.child.wait().expect("wait for sync-server")
    }

    /// SIGKILL, then a new process on the same address and database.
    pub fn kill_and_restart(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let listen = self.addr.to_string();
        let mut last = String::new();
        for _ in 0..50 {
            match ServerProcess::try_start(&self.db_args, &self.serve_args, &listen, &self.log) {
                Ok(mut next) => {
                    next.ca_file = self.ca_file.take();
                    *self = next;
                    return;
                }
                Err(e) => last = e,
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("sync-server did not restart: {last}");
    }

    /// A fresh enrollment code for a till named `terminal_name` of `store_id`.
    pub fn enrollment_code(&self, store_id: &str, terminal_name: &str) -> String {
        let code = self.admin(&[
            "enrollment-code",
            "--store-id",
            store_id,
            "--terminal-name",
            terminal_name,
        ]);
        code["code"].as_str().expect("enrollment code").to_string()
    }

    /// Makes an enrollment code for a terminal of `store_id` and enrols with it over HTTP, as a
    /// new till would; returns the server's enrolment reply (device credential, store key, …).
    pub fn enroll(
        &self,
        rt: &tokio::runtime::Runtime,
        store_id: &str,
        terminal_name: &str,
    ) -> Value {
        self.enroll_with_lan_key(rt, store_id, terminal_name, None)
    }

    /// [`ServerProcess::enroll`] for a till that gives its LAN public key (hex) at enrolment.
    pub fn enroll_with_lan_key(
        &self,
        rt: &tokio::runtime::Runtime,
        store_id: &str,
        terminal_name: &str,
        lan_key: Option<&str>,
    ) -> Value {
        let code = self.enrollment_code(store_id, terminal_name);
        let url = format!("{}/api/v1/terminals/enroll", self.url());
        let reply: Value = rt.block_on(async {
            pos_core::sync::tls::http_client(self.ca_file.as_deref(), Duration::from_secs(120))
                .expect("http client")
                .post(url)
                .json(&serde_json::json!({"code": code, "lan_key": lan_key}))
                .send()
                .await
                .expect("enroll")
                .json()
                .await
                .expect("enroll json")
        });
        assert!(
            reply["device_credential"].is_string(),
            "enrolment failed: {reply}"
        );
        reply
    }

    /// Runs `sync-server admin …` against the same database; its plain output.
    pub fn admin_plain(&self, args: &[&str]) -> String {
        let out = Command::new(workspace_bin("sync-server"))
            .args(&self.db_args)
            .arg("admin")
            .args(args)
            .output()
            .expect("sync-server admin");
        assert!(
            out.status.success(),
            "admin {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Runs `sync-server admin …` against the same database and parses its JSON output.
    pub fn admin(&self, args: &[&str]) -> Value {
        serde_json::from_str(&self.admin_plain(args))
            .unwrap_or_else(|e| panic!("admin {args:?} printed no JSON ({e})"))
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A headless terminal (`snapkasir-terminal`) driven over its stdin/stdout.
#[derive(Debug)]
pub struct TerminalProcess {
    child: Child,
    stdin: ChildStdin,
    replies: Receiver<String>,
    pub db: PathBuf,
    pub code: String,
}

/// What a command answered.
pub type Reply = Result<Value, String>;

impl TerminalProcess {
    pub fn spawn(db: &Path, code: &str) -> TerminalProcess {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(db.with_extension("log"))
            .expect("terminal log");
        let mut child = Command::new(workspace_bin("snapkasir-terminal"))
            .arg(db)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .expect("start snapkasir-terminal");
        let stdin = child.stdin.take().expect("stdin");
        let stdout = child.stdout.take().expect("stdout");
        let replies = lines_of(stdout);
        TerminalProcess {
            child,
            stdin,
            replies,
            db: db.into(),
            code: code.into(),
        }
    }

    /// Sends a command and waits for its reply.
    pub fn cmd(&mut self, command: Value) -> Reply {
        self.send(&command).map_err(|e| format!("send: {e}"))?;
        self.reply(Duration::from_secs(60))
    }

    pub fn send(&mut self, command: &Value) -> std::io::Result<()> {
        writeln!(self.stdin, "{command}")?;
        self.stdin.flush()
    }

    pub fn reply(&mut self, timeout: Duration) -> Reply {
        let line = self
            .replies
            .recv_timeout(timeout)
            .map_err(|e| format!("no reply from terminal {}: {e}", self.code))?;
        let v: Value =
            serde_json::from_str(&line).map_err(|e| format!("bad reply {line:?}: {e}"))?;
        if v["ok"] == true {
            Ok(v["result"].clone())
        } else {
            Err(v["error"].as_str().unwrap_or("?").to_string())
        }
    }

    /// SIGKILL.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for TerminalProcess {
    fn drop(&mut self) {
        let _ = writeln!(self.stdin, "{{\"cmd\":\"exit\"}}");
        std::thread::sleep(Duration::from_millis(20));
        self.kill();
    }
}

/// A PostgreSQL cluster of the test's own in a temporary directory (Debian's `initdb` and
/// `pg_ctl`, run as user `postgres` when the test runs as root), so that a test can restart or
/// crash it without touching the shared server.
#[derive(Debug)]
pub struct ThrowawayCluster {
    dir: PathBuf,
    bin: PathBuf,
    pub port: u16,
}

impl ThrowawayCluster {
    pub fn start() -> ThrowawayCluster {
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .ok()
            .and_then(|d| d.filter_map(|e| e.ok()).map(|e| e.path().join("bin")).filter(|p| p.join("initdb").exists()).max())
            .unwrap_or_else(|| panic!("PostgreSQL server binaries not found under /usr/lib/postgresql: apt-get install postgresql"));
        let dir = std::env::temp_dir().join(format!(
            "snapkasir-pg-{}-{}",
            std::process::id(),
            rand::random::<u32>()
        ));
        std::fs::create_dir_all(&dir).expect("cluster dir");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .expect("free port")
            .local_addr()
            .expect("addr")
            .port();
        let c = ThrowawayCluster { dir, bin, port };
        if c.as_root() {
            let _ = Command::new("chown")
                .args(["-R", "postgres", &c.dir.to_string_lossy()])
                .status();
        }
        c.run(&format!(
            "{}/initdb -D {}/data -U postgres -A trust --no-sync",
            c.bin.display(),
            c.dir.display()
        ));
        c.start_server();
        c
    }

    fn as_root(&self) -> bool {
        Command::new("id")
            .arg("-u")
            .output()
            .map(|o| o.stdout.starts_with(b"0"))
            .unwrap_or(false)
    }

    fn run(&self, cmd: &str) {
        let status = if self.as_root() {
            Command::new("su")
                .args(["postgres", "-s", "/bin/sh", "-c", cmd])
                .stdout(Stdio::null())
                .status()
        } else {
            Command::new("sh")
                .args(["-c", cmd])
                .stdout(Stdio::null())
                .status()
        };
        assert!(
            status.map(|s| s.success()).unwrap_or(false),
            "failed: {cmd}"
        );
    }

    fn start_server(&self) {
        // wal_level=replica and WAL senders (PostgreSQL's defaults, said here) let a standby
        // follow it ([`ThrowawayCluster::standby_of`]); initdb's pg_hba.conf already trusts
        // replication connections from 127.0.0.1.
        self.run(&format!(
            "{}/pg_ctl -D {d}/data -w -l {d}/log -o '-h 127.0.0.1 -p {p} -k {d} -F \
             -c wal_level=replica -c max_wal_senders=5' start",
            self.bin.display(),
            d = self.dir.display(),
            p = self.port
        ));
    }

    /// A hot standby of `primary` on a port of its own: `pg_basebackup -R` (streaming WAL,
    /// `standby.signal` and `primary_conninfo` written), then started. It follows `primary`
    /// by streaming replication; `SELECT pg_wal_replay_pause()` on it holds its replay.
    pub fn standby_of(primary: &ThrowawayCluster) -> ThrowawayCluster {
        assert!(
            primary.bin.join("pg_basebackup").exists(),
            "pg_basebackup not found in {}: apt-get install postgresql",
            primary.bin.display()
        );
        let dir = std::env::temp_dir().join(format!(
            "snapkasir-pg-standby-{}-{}",
            std::process::id(),
            rand::random::<u32>()
        ));
        std::fs::create_dir_all(&dir).expect("standby dir");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .expect("free port")
            .local_addr()
            .expect("addr")
            .port();
        let c = ThrowawayCluster {
            dir,
            bin: primary.bin.clone(),
            port,
        };
        if c.as_root() {
            let _ = Command::new("chown")
                .args(["-R", "postgres", &c.dir.to_string_lossy()])
                .status();
        }
        c.run(&format!(
            "{}/pg_basebackup -h 127.0.0.1 -p {} -U postgres -D {}/data -R -X stream -c fast",
            c.bin.display(),
            primary.port,
            c.dir.display()
        ));
        c.start_server();
        c
    }

    /// Stops the server (fast shutdown) and leaves it stopped.
    pub fn stop(&self) {
        self.run(&format!(
            "{}/pg_ctl -D {}/data -w -m fast stop",
            self.bin.display(),
            self.dir.display()
        ));
    }

    /// The server's log file.
    pub fn log(&self) -> PathBuf {
        self.dir.join("log")
    }

    pub fn admin_url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// Crashes the server (immediate shutdown, as a power cut would) and starts it again.
    pub fn crash_and_restart(&self) {
        self.run(&format!(
            "{}/pg_ctl -D {}/data -m immediate stop",
            self.bin.display(),
            self.dir.display()
        ));
        self.start_server();
    }
}

impl Drop for ThrowawayCluster {
    fn drop(&mut self) {
        let cmd = format!(
            "{}/pg_ctl -D {}/data -m immediate stop",
            self.bin.display(),
            self.dir.display()
        );
        let _ = if self.as_root() {
            Command::new("su")
                .args(["postgres", "-s", "/bin/sh", "-c", &cmd])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
        } else {
            Command::new("sh")
                .args(["-c", &cmd])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
        };
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
