//! Harness of the sign-in and session attacks (`tests/tests/attacks/{sessions,login}.rs`): a
//! real `sync-server` on the embedded store or PostgreSQL with a config file of the test's
//! choosing, tenants made with its admin CLI, the HTTP calls an owner or attacker makes, a sync
//! WebSocket opened with a user's token, and the server's `/metrics` and resident memory.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use crate::processes::{ServerProcess, create_tenant_args, http_client};

/// Password of every owner made by [`AuthServer::tenant`] (see `create_tenant_args`).
pub const OWNER_PASSWORD: &str = "rahasia-panjang-1";

/// Metrics token of every [`AuthServer`].
pub const METRICS_TOKEN: &str = "attack-suite-metrics-token";

/// A tenant made through the admin CLI.
#[derive(Debug, Clone)]
pub struct Tenant {
    pub tenant_id: String,
    pub store_id: String,
    pub owner_id: String,
    pub email: String,
}

/// A running server with its client.
#[derive(Debug)]
pub struct AuthServer {
    pub server: ServerProcess,
    pub base: String,
    pub client: reqwest::Client,
    pub log: PathBuf,
    _dir: Option<tempdir::TempDir>,
}

mod tempdir {
    //! A directory removed on drop (the tests crate has no tempfile dependency).
    use std::path::PathBuf;

    #[derive(Debug)]
    pub struct TempDir(pub PathBuf);

    impl TempDir {
        pub fn new(prefix: &str) -> TempDir {
            let p = std::env::temp_dir().join(format!(
                "{prefix}-{}-{}",
                std::process::id(),
                rand::random::<u32>()
            ));
            std::fs::create_dir_all(&p).expect("temp dir");
            TempDir(p)
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

/// An HTTP answer: status and JSON body (`Null` when none).
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub body: Value,
    pub retry_after: Option<String>,
}

impl Answer {
    /// The JSON error code, if any.
    pub fn code(&self) -> &str {
        self.body["code"].as_str().unwrap_or_default()
    }
}

impl AuthServer {
    /// A server on a fresh embedded store with `config` (TOML lines) plus the metrics token.
    pub fn sqlite(name: &str, config: &str) -> AuthServer {
        let dir = tempdir::TempDir::new(name);
        let db = vec![
            "--data-dir".to_string(),
            dir.0.join("data").display().to_string(),
        ];
        let mut s = AuthServer::start(&dir.0, &db, config);
        s._dir = Some(dir);
        s
    }

    /// A server on the PostgreSQL database `url` with `config`; `dir` holds its log and config.
    pub fn postgres(dir: &Path, url: &str, config: &str) -> AuthServer {
        let db = vec!["--database-url".to_string(), url.to_string()];
        AuthServer::start(dir, &db, config)
    }

    fn start(dir: &Path, db: &[String], config: &str) -> AuthServer {
        let n = rand::random::<u32>();
        let file = dir.join(format!("server-{n}.toml"));
        std::fs::write(
            &file,
            format!("metrics_token = \"{METRICS_TOKEN}\"\n{config}\n"),
        )
        .expect("write config");
        let log = dir.join(format!("server-{n}.log"));
        let serve = ["--config".to_string(), file.display().to_string()];
        let server = ServerProcess::start_with(db, &serve, "127.0.0.1:0", &log);
        AuthServer {
            base: server.url(),
            server,
            client: http_client(),
            log,
            _dir: None,
        }
    }

    /// A tenant with one store and its owner `email`.
    pub fn tenant(&self, name: &str, code: &str, email: &str) -> Tenant {
        let v = self
            .server
            .admin(&create_tenant_args(name, code, name, email));
        let s = |k: &str| {
            v[k].as_str()
                .unwrap_or_else(|| panic!("{k} in {v}"))
                .to_string()
        };
        Tenant {
            tenant_id: s("tenant_id"),
            store_id: s("store_id"),
            owner_id: s("owner_id"),
            email: email.to_string(),
        }
    }

    /// `method path` with an optional bearer token, JSON body and extra headers.
    pub async fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> Answer {
        let mut req = self.client.request(
            method.parse().expect("method"),
            format!("{}{path}", self.base),
        );
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let resp = req.send().await.expect("request");
        let status = resp.status().as_u16();
        let retry_after = resp
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let text = resp.text().await.unwrap_or_default();
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Answer {
            status,
            body,
            retry_after,
        }
    }

    /// `POST /api/v1/auth/login`.
    pub async fn login(&self, email: &str, password: &str) -> Answer {
        self.login_from(email, password, &[]).await
    }

    /// [`AuthServer::login`] with extra headers (`X-Forwarded-For`).
    pub async fn login_from(
        &self,
        email: &str,
        password: &str,
        headers: &[(&str, &str)],
    ) -> Answer {
        self.call(
            "POST",
            "/api/v1/auth/login",
            None,
            Some(json!({"email": email, "password": password})),
            headers,
        )
        .await
    }

    /// Signs in and returns `(access token, refresh token)`; fails the test otherwise.
    pub async fn sign_in(&self, email: &str, password: &str) -> (String, String) {
        let a = self.login(email, password).await;
        assert_eq!(a.status, 200, "login of {email}: {:?}", a.body);
        (
            a.body["access_token"].as_str().unwrap().to_string(),
            a.body["refresh_token"].as_str().unwrap().to_string(),
        )
    }

    /// `POST /api/v1/auth/refresh`.
    pub async fn refresh(&self, refresh_token: &str) -> Answer {
        self.call(
            "POST",
            "/api/v1/auth/refresh",
            None,
            Some(json!({"refresh_token": refresh_token})),
            &[],
        )
        .await
    }

    /// Status of `GET /api/v1/me` with `token`.
    pub async fn me(&self, token: &str) -> u16 {
        self.call("GET", "/api/v1/me", Some(token), None, &[])
            .await
            .status
    }

    /// A counter or gauge of `/metrics` (read with the metrics token).
    pub async fn metric(&self, name: &str) -> u64 {
        let a = self
            .call("GET", "/metrics", Some(METRICS_TOKEN), None, &[])
            .await;
        assert_eq!(a.status, 200, "/metrics: {:?}", a.body);
        let text = a.body.as_str().unwrap_or_default().to_string();
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{name} ")))
            .unwrap_or_else(|| panic!("{name} not in /metrics:\n{text}"))
            .trim()
            .parse()
            .expect("a number")
    }

    /// The server's resident memory (VmRSS), KiB.
    pub fn rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.server.pid()))
            .expect("read /proc/<pid>/status (Linux only)");
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmRSS")
    }

    /// Opens a sync WebSocket with `token` and joins as `peer`.
    pub async fn sync_socket(&self, token: &str, peer: &str) -> SyncSocket {
        let url = format!("ws://{}/sync?token={token}", self.server.addr);
        let (mut ws, _) = tokio_tungstenite::connect_async(url)
            .await
            .expect("sync upgrade");
        let join = shared_model::wire::encode(&shared_model::wire::Message::join(peer));
        ws.send(Message::Binary(join.into())).await.expect("join");
        let mut s = SyncSocket { ws };
        assert!(
            s.open_after(Duration::from_millis(300)).await,
            "the sync connection closed right after its join"
        );
        s
    }
}

/// A sync WebSocket of a user.
pub struct SyncSocket {
    ws: tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
}

impl std::fmt::Debug for SyncSocket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SyncSocket")
    }
}

impl SyncSocket {
    /// Whether the connection is still open after `wait` (frames read meanwhile are dropped).
    pub async fn open_after(&mut self, wait: Duration) -> bool {
        let until = Instant::now() + wait;
        loop {
            match tokio::time::timeout_at(until.into(), self.ws.next()).await {
                Err(_) => return true,
                Ok(None | Some(Err(_)) | Some(Ok(Message::Close(_)))) => return false,
                Ok(Some(Ok(_))) => {}
            }
        }
    }

    /// How long until the server closes the connection (at most `limit`; `None`: still open).
    pub async fn closed_within(&mut self, limit: Duration) -> Option<Duration> {
        let t0 = Instant::now();
        (!self.open_after(limit).await).then(|| t0.elapsed())
    }
}
