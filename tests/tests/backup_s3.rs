//! The copy of the scheduled backups to S3-compatible storage, against a real S3 server on
//! loopback: moto (PyPI, `moto[server]`, installed into a virtualenv in the target directory the
//! way `sync-server/tests/api-fuzz/run` installs schemathesis). The real `sync-server` writes a
//! backup every second; each one shows up in the bucket with the bytes of the local file (and the
//! downloaded copy restores), the ones the folder's retention deletes leave the bucket too, and
//! objects that are not scheduled backups under the prefix are left alone. With moto stopped the
//! server keeps serving and backing up locally while `/readyz` and `/metrics` tell the failed
//! copy; with moto back the copy recovers on its own.
//!
//! Needs `cargo build -p sync-server`, python3 with venv (`apt-get install python3-venv`) and
//! PyPI reachable the first time; a missing one fails the test saying what to install.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use futures::TryStreamExt;
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::client::{ClientOptions, HttpClient, HttpConnector};
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload, RetryConfig};
use serde_json::Value;
use snapkasir_tests::api::Api;
use snapkasir_tests::processes::{ServerProcess, create_tenant_args, http_client, workspace_bin};

/// The moto release the test runs against.
const MOTO: &str = "moto[server]==5.2.5";
const BUCKET: &str = "snapkasir-copy";
const PREFIX: &str = "toko/";
const METRICS_TOKEN: &str = "metrik-rahasia";

/// `moto_server` from a virtualenv under the target directory, installed when missing.
fn moto_server() -> PathBuf {
    snapkasir_tests::pypi::venv_program("moto-venv", MOTO, "moto_server")
}

/// object_store's HTTP client: the tests' reqwest client (rustls with the ring provider).
#[derive(Debug)]
struct TestClient;

impl HttpConnector for TestClient {
    fn connect(&self, _: &ClientOptions) -> object_store::Result<HttpClient> {
        Ok(HttpClient::new(http_client()))
    }
}

/// A moto server on a loopback port, read and written with object_store (as the server writes)
/// and, for what object_store does not do (a bucket, readiness), plain HTTP.
struct Moto {
    bin: PathBuf,
    port: u16,
    log: PathBuf,
    child: Option<Child>,
    rt: tokio::runtime::Runtime,
    client: reqwest::Client,
    store: AmazonS3,
}

impl Moto {
    fn start(log: &Path) -> Moto {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let url = format!("http://127.0.0.1:{port}");
        let store = AmazonS3Builder::new()
            .with_bucket_name(BUCKET)
            .with_region("us-east-1")
            .with_access_key_id("AKIAMOTOTEST")
            .with_secret_access_key("rahasia-s3")
            .with_endpoint(&url)
            .with_allow_http(true)
            .with_http_connector(TestClient)
            .with_retry(RetryConfig {
                max_retries: 0,
                ..RetryConfig::default()
            })
            .build()
            .unwrap();
        let mut moto = Moto {
            bin: moto_server(),
            port,
            log: log.to_path_buf(),
            child: None,
            store,
            rt: tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap(),
            client: http_client(),
        };
        moto.run();
        moto
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Starts moto on its port (again) and waits until it answers; its state starts empty.
    fn run(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .unwrap();
        let child = Command::new(&self.bin)
            .args(["-H", "127.0.0.1", "-p", &self.port.to_string()])
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .stdin(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("start {}: {e}", self.bin.display()));
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(30);
        while self.try_request("GET", "/").is_none() {
            let exited = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten());
            assert!(
                exited.is_none() && Instant::now() < deadline,
                "moto_server did not come up on {} ({exited:?}); see {}",
                self.url(),
                self.log.display()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    fn try_request(&self, method: &str, path: &str) -> Option<(u16, Vec<u8>)> {
        let url = format!("{}{path}", self.url());
        let req = self
            .client
            .request(method.parse().unwrap(), url)
            .timeout(Duration::from_secs(10));
        self.rt.block_on(async {
            let res = req.send().await.ok()?;
            let status = res.status().as_u16();
            Some((status, res.bytes().await.ok()?.to_vec()))
        })
    }

    fn create_bucket(&self) {
        let (status, body) = self
            .try_request("PUT", &format!("/{BUCKET}"))
            .expect("moto answers");
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    }

    fn put(&self, key: &str, bytes: &[u8]) {
        let payload = PutPayload::from(bytes.to_vec());
        self.rt
            .block_on(self.store.put(&ObjectPath::from(key), payload))
            .unwrap_or_else(|e| panic!("put {key}: {e}"));
    }

    /// The object's bytes; none when there is no such object.
    fn get(&self, key: &str) -> Option<Vec<u8>> {
        self.rt.block_on(async {
            match self.store.get(&ObjectPath::from(key)).await {
                Ok(got) => Some(got.bytes().await.expect("object body").to_vec()),
                Err(object_store::Error::NotFound { .. }) => None,
                Err(e) => panic!("get {key}: {e}"),
            }
        })
    }

    /// Every key in the bucket.
    fn keys(&self) -> Vec<String> {
        let mut keys: Vec<String> = self.rt.block_on(async {
            let listed: Vec<_> = self.store.list(None).try_collect().await.expect("list");
            listed.into_iter().map(|o| o.location.to_string()).collect()
        });
        keys.sort();
        keys
    }

    /// The scheduled backups' file names under the prefix.
    fn backups(&self) -> Vec<String> {
        self.keys()
            .iter()
            .filter_map(|k| k.strip_prefix(PREFIX))
            .filter(|n| is_scheduled(n))
            .map(str::to_string)
            .collect()
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        self.stop();
    }
}

fn is_scheduled(name: &str) -> bool {
    name.starts_with("snapkasir-2") && name.ends_with("Z.skb") && !name.contains('/')
}

/// The scheduled backups in the folder, sorted.
fn local_backups(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|d| {
            d.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| is_scheduled(n))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// `/readyz` (status, text) and the backup lines of `/metrics`.
fn readiness(server: &ServerProcess) -> (u16, String, String) {
    let api = Api::with_token(&server.url(), METRICS_TOKEN);
    let (status, ready) = api.call("GET", "/readyz", None);
    let (m, metrics) = api.call("GET", "/metrics", None);
    assert_eq!(m, 200);
    let metrics = String::from_utf8(metrics).unwrap();
    let lines: Vec<&str> = metrics
        .lines()
        .filter(|l| l.starts_with("snapkasir_backup"))
        .collect();
    (status, String::from_utf8(ready).unwrap(), lines.join("\n"))
}

/// Waits (up to 20 s) until the bucket holds exactly the folder's scheduled backups, byte for
/// byte, with one newer than `after`; answers the file name and its bytes.
fn in_step(moto: &Moto, dir: &Path, after: &str, what: &str) -> (String, Vec<u8>) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let local = local_backups(dir);
        let remote = moto.backups();
        if local.len() == 1 && remote == local && local[0].as_str() > after {
            let name = &local[0];
            let (mine, theirs) = (
                std::fs::read(dir.join(name)).ok(),
                moto.get(&format!("{PREFIX}{name}")),
            );
            if let (Some(mine), Some(theirs)) = (mine, theirs)
                && mine == theirs
            {
                return (name.clone(), theirs);
            }
        }
        assert!(
            Instant::now() < deadline,
            "{what}: the bucket never matched the folder: local {local:?}, bucket {remote:?}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Waits (up to 20 s) until `ok` holds of the server's readiness.
fn until(server: &ServerProcess, what: &str, ok: impl Fn(u16, &str, &str) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (status, ready, metrics) = readiness(server);
        if ok(status, &ready, &metrics) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{what}: {status} {ready:?}\n{metrics}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn scheduled_backups_are_copied_to_s3_pruned_there_and_a_failed_copy_shows_and_recovers() {
    let dir = tempfile::tempdir().unwrap();
    let backups = dir.path().join("backups");
    let mut moto = Moto::start(&dir.path().join("moto.log"));
    moto.create_bucket();
    let unrelated = [
        (format!("{PREFIX}catatan.txt"), b"jangan dihapus".as_slice()),
        (
            format!("{PREFIX}snapkasir-manual.skb"),
            b"a backup made by hand",
        ),
        (
            "lain/snapkasir-20200101T000000Z.skb".to_string(),
            b"another prefix",
        ),
    ];
    for (key, bytes) in &unrelated {
        moto.put(key, bytes);
    }

    // The credentials come from files (the environment's AWS_* would do as well).
    let (id, secret) = (dir.path().join("s3-id"), dir.path().join("s3-secret"));
    std::fs::write(&id, "AKIAMOTOTEST\n").unwrap();
    std::fs::write(&secret, "rahasia-s3\n").unwrap();
    let s3 = format!(
        "backup_s3_url = \"s3://{BUCKET}/{PREFIX}\"\nbackup_s3_endpoint = {:?}\n\
         backup_s3_access_key_file = {:?}\nbackup_s3_secret_key_file = {:?}\n",
        moto.url(),
        id.display().to_string(),
        secret.display().to_string()
    );
    let data = dir.path().join("data").display().to_string();

    // A copy without a backup folder is refused at start-up, saying why.
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, &s3).unwrap();
    let out = Command::new(workspace_bin("sync-server"))
        .args([
            "--config",
            bad.to_str().unwrap(),
            "--data-dir",
            &data,
            "migrate",
        ])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("scheduled backups, which need backup_dir"),
        "{err}"
    );

    let admin = Command::new(workspace_bin("sync-server"))
        .args(["--data-dir", &data, "admin"])
        .args(create_tenant_args(
            "Toko Awan",
            "AWN",
            "Toko Awan",
            "owner@awan.local",
        ))
        .env("SNAPKASIR_LOG", "warn")
        .output()
        .unwrap();
    assert!(
        admin.status.success(),
        "{}",
        String::from_utf8_lossy(&admin.stderr)
    );
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        format!(
            "backup_dir = {:?}\nbackup_interval_secs = 1\nbackup_keep_daily = 1\n\
             backup_keep_monthly = 0\nmetrics_token = \"{METRICS_TOKEN}\"\n{s3}",
            backups.display().to_string()
        ),
    )
    .unwrap();
    let db_args = [
        "--config".to_string(),
        config.display().to_string(),
        "--data-dir".to_string(),
        data,
    ];
    let server =
        ServerProcess::start_with(&db_args, &[], "127.0.0.1:0", &dir.path().join("server.log"));

    // Each backup reaches the bucket whole; the one the folder's retention deleted leaves it.
    let (first, _) = in_step(&moto, &backups, "", "the first copy");
    let (second, copy) = in_step(&moto, &backups, &first, "the next copy");
    assert!(
        !moto.backups().contains(&first),
        "{first} was not pruned from the bucket"
    );
    let keys = moto.keys();
    for (key, bytes) in &unrelated {
        assert!(keys.contains(key), "{key} is gone: {keys:?}");
        assert_eq!(moto.get(key).as_deref(), Some(*bytes), "{key} changed");
    }
    until(&server, "the copy is told", |status, ready, metrics| {
        status == 200
            && ready == "ready"
            && metrics.contains("snapkasir_backup_upload_failing 0")
            && metrics.contains("snapkasir_backup_upload_failures_total 0")
            && !metrics.contains("snapkasir_backup_last_upload_timestamp_seconds 0\n")
    });

    // The downloaded copy restores into an empty database.
    let downloaded = dir.path().join(&second);
    std::fs::write(&downloaded, &copy).unwrap();
    let fresh = dir.path().join("fresh").display().to_string();
    let restore = Command::new(workspace_bin("sync-server"))
        .args(["--data-dir", &fresh, "admin", "restore", "--from"])
        .arg(&downloaded)
        .env("SNAPKASIR_LOG", "warn")
        .output()
        .unwrap();
    assert!(
        restore.status.success(),
        "{}",
        String::from_utf8_lossy(&restore.stderr)
    );
    let restored: Value = serde_json::from_slice(&restore.stdout).unwrap();
    assert_eq!(restored["tables"]["tenants"], 1, "{restored}");

    // The storage goes away: the server serves and backs up locally, and says the copy fails.
    moto.stop();
    until(
        &server,
        "a failed copy is told",
        |status, ready, metrics| {
            status == 200
                && ready.starts_with("ready\nthe last copy to S3 failed at ")
                && metrics.contains("snapkasir_backup_upload_failing 1")
                && !metrics.contains("snapkasir_backup_upload_failures_total 0")
                && metrics.contains("snapkasir_backup_failing 0")
        },
    );
    let during = local_backups(&backups);
    let deadline = Instant::now() + Duration::from_secs(20);
    while local_backups(&backups).last() <= during.last() {
        assert!(
            Instant::now() < deadline,
            "no local backup while the copy fails"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(
        readiness(&server).2.contains("snapkasir_backup_failing 0"),
        "the local backups keep going"
    );

    // It comes back (empty, as moto keeps nothing): the next schedule copies again.
    moto.run();
    moto.create_bucket();
    let latest = local_backups(&backups).pop().unwrap_or_default();
    in_step(
        &moto,
        &backups,
        &latest,
        "the copy after the storage came back",
    );
    until(&server, "the recovery is told", |status, ready, metrics| {
        status == 200 && ready == "ready" && metrics.contains("snapkasir_backup_upload_failing 0")
    });
    drop(server);
}
