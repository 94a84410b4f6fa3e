//! Issue 15's restore test, on each backend: three real tills (`snapkasir-terminal`) sell and
//! sync to the real `sync-server`; the server is backed up while it runs; the tills sell more;
//! the database is destroyed; the older backup is restored into an empty one. The tills then
//! reconnect with the credentials they had and bring the server back up to date: every sale is
//! in the reports exactly once, and each till can still sell and be acknowledged. Along the
//! way: a restore into a database that is not empty, a damaged file, an encrypted file without
//! or with the wrong passphrase are each refused and change nothing.
//!
//! Needs `cargo build -p sync-server -p snapkasir-tests` and, for PostgreSQL, a server at
//! `SNAPKASIR_TEST_DATABASE_URL` (see scripts/test).

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use rust_decimal::Decimal;
use serde_json::{Value, json};
use snapkasir_tests::api::Api;
use snapkasir_tests::gate::{OWNER_PASSWORD, Shop, enrolled_till, sell_and_wait_ack, start_sync};
use snapkasir_tests::processes::{ServerProcess, TerminalProcess, TestDatabase, workspace_bin};

/// `sync-server <db_args> admin <args>`: success, stdout, stderr.
fn admin(db_args: &[String], args: &[&str]) -> (bool, String, String) {
    let out = Command::new(workspace_bin("sync-server"))
        .args(db_args)
        .arg("admin")
        .args(args)
        .output()
        .expect("sync-server admin");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A server on `listen` (the old address after a restart: tills dial the URL they enrolled
/// with), retried while the port is still being released.
fn serve(db_args: &[String], listen: &str, log: &Path) -> ServerProcess {
    let start = Instant::now();
    loop {
        let r = std::panic::catch_unwind(|| ServerProcess::start_with(db_args, &[], listen, log));
        match r {
            Ok(s) => return s,
            Err(_) if start.elapsed() < Duration::from_secs(10) => {
                std::thread::sleep(Duration::from_millis(200))
            }
            Err(e) => std::panic::resume_unwind(e),
        }
    }
}

/// Sales of the store's days around today, as the reports API counts them: (sales, total).
fn reported(api: &Api, store_id: &str) -> (i64, Decimal) {
    let today = chrono::Utc::now().date_naive();
    let (status, days) = api.get(&format!(
        "/api/v1/stores/{store_id}/reports/sales-by-day?from={}&to={}",
        today - chrono::Duration::days(1),
        today + chrono::Duration::days(1)
    ));
    assert_eq!(status, 200, "{days}");
    days.as_array()
        .unwrap()
        .iter()
        .fold((0, Decimal::ZERO), |(n, t), d| {
            (
                n + d["sales"].as_i64().unwrap(),
                t + d["total"].as_str().unwrap().parse::<Decimal>().unwrap(),
            )
        })
}

/// Sells `n` on each till, each acknowledged by the server; the sales' totals.
fn sell_round(tills: &mut [TerminalProcess], n: usize) -> Decimal {
    let mut total = Decimal::ZERO;
    for till in tills.iter_mut() {
        for _ in 0..n {
            sell_and_wait_ack(till, Duration::from_secs(30))
                .unwrap_or_else(|s| panic!("{} not acknowledged: {s}", till.code));
            total += till_total_of_last(till);
        }
    }
    total
}

/// The total of the till's newest sale, from its own list.
fn till_total_of_last(till: &mut TerminalProcess) -> Decimal {
    let s = till.cmd(json!({"cmd": "status"})).expect("status");
    let sales = s["sales"].as_array().expect("sales");
    let last = sales.last().expect("a sale");
    last[2]
        .as_str()
        .expect("total")
        .parse()
        .expect("a decimal total")
}

fn run(backend: &str) {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("server.log");
    let pg = (backend == "postgres").then(|| TestDatabase::create("sk_backup"));
    let db_args: Vec<String> = match &pg {
        Some(db) => vec!["--database-url".into(), db.url.clone()],
        None => vec![
            "--data-dir".into(),
            dir.path().join("server").display().to_string(),
        ],
    };
    let server = serve(&db_args, "127.0.0.1:0", &log);
    let listen = server.url().trim_start_matches("http://").to_string();
    let shop = Shop::create(&server, "Toko Cadangan", "BK1");
    let mut tills: Vec<TerminalProcess> = (1..=3)
        .map(|i| enrolled_till(&server, dir.path(), &shop, &format!("K{i}")))
        .collect();
    for till in &mut tills {
        start_sync(till);
    }

    // Round 1 on every till, then a backup while the server runs (plain and encrypted).
    let mut sold = sell_round(&mut tills, 2);
    let plain = dir.path().join("plain.skb");
    let sealed = dir.path().join("sealed.skb");
    let passphrase = dir.path().join("passphrase.txt");
    std::fs::write(&passphrase, "kata sandi toko cadangan\n").unwrap();
    let (ok, out, err) = admin(&db_args, &["backup", "--to", plain.to_str().unwrap()]);
    assert!(ok, "backup: {err}");
    let summary: Value = serde_json::from_str(&out).expect("backup summary");
    assert!(
        summary["tables"]["automerge_chunks"].as_u64().unwrap() > 0,
        "{summary}"
    );
    assert_eq!(summary["tables"]["terminals"], 3, "{summary}");
    let (ok, _, err) = admin(
        &db_args,
        &[
            "backup",
            "--to",
            sealed.to_str().unwrap(),
            "--passphrase-file",
            passphrase.to_str().unwrap(),
        ],
    );
    assert!(ok, "encrypted backup: {err}");

    // A restore into the live database is refused: it is not empty.
    let (ok, _, err) = admin(&db_args, &["restore", "--from", plain.to_str().unwrap()]);
    assert!(!ok && err.contains("not empty"), "{err}");

    // Round 2, after the backup: these sales are only on the tills and the lost database.
    sold += sell_round(&mut tills, 2);

    // The database is lost.
    drop(server);
    match &pg {
        Some(db) => db.destroy_and_recreate(),
        None => std::fs::remove_dir_all(dir.path().join("server")).unwrap(),
    }

    // A damaged file, an encrypted one without or with a wrong passphrase: refused, nothing
    // written (the real restore below needs the database still empty).
    let mut bytes = std::fs::read(&plain).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x55;
    let damaged = dir.path().join("damaged.skb");
    std::fs::write(&damaged, &bytes).unwrap();
    let (ok, _, err) = admin(&db_args, &["restore", "--from", damaged.to_str().unwrap()]);
    assert!(!ok && err.contains("nothing was restored"), "{err}");
    let (ok, _, err) = admin(&db_args, &["restore", "--from", sealed.to_str().unwrap()]);
    assert!(!ok && err.contains("encrypted"), "{err}");
    let wrong = dir.path().join("wrong.txt");
    std::fs::write(&wrong, "bukan kata sandinya\n").unwrap();
    let (ok, _, err) = admin(
        &db_args,
        &[
            "restore",
            "--from",
            sealed.to_str().unwrap(),
            "--passphrase-file",
            wrong.to_str().unwrap(),
        ],
    );
    assert!(!ok && err.contains("passphrase"), "{err}");

    // The older backup restored (SQLite: the encrypted one; PostgreSQL: the plain one).
    let args: Vec<&str> = match &pg {
        None => vec![
            "restore",
            "--from",
            sealed.to_str().unwrap(),
            "--passphrase-file",
            passphrase.to_str().unwrap(),
        ],
        Some(_) => vec!["restore", "--from", plain.to_str().unwrap()],
    };
    let (ok, out, err) = admin(&db_args, &args);
    assert!(ok, "restore: {err}");
    let restored: Value = serde_json::from_str(&out).expect("restore summary");
    assert_eq!(restored["tables"]["terminals"], 3, "{restored}");
    assert!(restored["reprojected"].as_u64().unwrap() > 0, "{restored}");

    // The server comes back on its address; the tills reconnect with their old credentials
    // and send what the backup did not hold. Every sale once.
    let server = serve(&db_args, &listen, &log);
    let api = Api::sign_in(&server.url(), &shop.owner_email, OWNER_PASSWORD);
    let want = (12, sold);
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let got = reported(&api, &shop.store_id);
        if got == want {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "after the restore the reports show {got:?}, the tills sold {want:?}"
        );
        std::thread::sleep(Duration::from_millis(300));
    }
    // Each till's credential still works: a new sale on each is acknowledged.
    sold += sell_round(&mut tills, 1);
    let deadline = Instant::now() + Duration::from_secs(30);
    while reported(&api, &shop.store_id) != (15, sold) {
        assert!(Instant::now() < deadline, "the sales after the restore");
        std::thread::sleep(Duration::from_millis(300));
    }
    drop(server);
}

#[test]
fn backup_and_restore_on_sqlite_lose_nothing_the_tills_hold() {
    run("sqlite");
}

#[test]
fn backup_and_restore_on_postgres_lose_nothing_the_tills_hold() {
    run("postgres");
}

/// A server with scheduled backups every second into `backups`, keeping one day's newest.
fn scheduled(dir: &Path, name: &str, backups: &Path) -> (ServerProcess, Vec<String>) {
    let config = dir.join(format!("{name}.toml"));
    std::fs::write(
        &config,
        format!(
            "backup_dir = {:?}\nbackup_interval_secs = 1\nbackup_keep_daily = 1\n\
             backup_keep_monthly = 0\nmetrics_token = \"metrik-rahasia\"\n",
            backups.display().to_string()
        ),
    )
    .unwrap();
    let db_args = vec![
        "--config".to_string(),
        config.display().to_string(),
        "--data-dir".to_string(),
        dir.join(name).display().to_string(),
    ];
    let log = dir.join(format!("{name}.log"));
    (serve(&db_args, "127.0.0.1:0", &log), db_args)
}

/// `/readyz` (status, text) and the backup lines of `/metrics`.
fn readiness(server: &ServerProcess) -> (u16, String, String) {
    let api = Api::with_token(&server.url(), "metrik-rahasia");
    let (status, ready) = api.call("GET", "/readyz", None);
    let (m, metrics) = api.call("GET", "/metrics", None);
    assert_eq!(m, 200);
    let metrics = String::from_utf8(metrics).unwrap();
    let backup_lines: Vec<&str> = metrics
        .lines()
        .filter(|l| l.starts_with("snapkasir_backup"))
        .collect();
    (
        status,
        String::from_utf8(ready).unwrap(),
        backup_lines.join("\n"),
    )
}

#[test]
fn scheduled_backups_rotate_and_a_failure_shows_in_readyz_and_metrics() {
    let dir = tempfile::tempdir().unwrap();
    let backups = dir.path().join("backups");
    let (server, _) = scheduled(dir.path(), "good", &backups);
    let shop = Shop::create(&server, "Toko Jadwal", "JD1");
    // Backups come every second; one day kept, so only today's newest stays.
    let deadline = Instant::now() + Duration::from_secs(30);
    let newest = loop {
        let names: Vec<String> = std::fs::read_dir(&backups)
            .map(|d| {
                d.filter_map(|e| e.ok())
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .filter(|n| n.ends_with(".skb"))
                    .collect()
            })
            .unwrap_or_default();
        let (_, ready, metrics) = readiness(&server);
        let ok = ready == "ready" && !metrics.contains("last_success_timestamp_seconds 0");
        if names.len() == 1 && ok {
            // Two more seconds, two more backups: still one file, a newer one.
            std::thread::sleep(Duration::from_secs(2));
            let again: Vec<String> = std::fs::read_dir(&backups)
                .unwrap()
                .filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.ends_with(".skb"))
                .collect();
            assert_eq!(again.len(), 1, "{again:?}");
            assert!(again[0] > names[0], "{again:?} after {names:?}");
            break backups.join(&again[0]);
        }
        assert!(
            Instant::now() < deadline,
            "no scheduled backup: {names:?}; {ready}; {metrics}"
        );
        std::thread::sleep(Duration::from_millis(300));
    };
    assert!(readiness(&server).2.contains("snapkasir_backup_failing 0"));
    // The scheduled file restores like any backup: the tenant is in it.
    let fresh = vec![
        "--data-dir".to_string(),
        dir.path().join("fresh").display().to_string(),
    ];
    let (ok, out, err) = admin(&fresh, &["restore", "--from", newest.to_str().unwrap()]);
    assert!(ok, "restore of a scheduled backup: {err}");
    let restored: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(restored["tables"]["tenants"], 1, "{restored}");
    drop((server, shop));

    // A backup folder that cannot be made (under a file): the server still serves and says so.
    let blocker = dir.path().join("not-a-folder");
    std::fs::write(&blocker, "x").unwrap();
    let (failing, _) = scheduled(dir.path(), "bad", &blocker.join("backups"));
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        // `/readyz` is read before `/metrics`: a failure that lands between the two reads
        // shows in the metrics only, so the loop waits until both tell it.
        let (status, ready, metrics) = readiness(&failing);
        if metrics.contains("snapkasir_backup_failing 1") && ready.contains("backup failed") {
            assert_eq!(
                status, 200,
                "a failed backup does not take the server out: {ready}"
            );
            assert!(ready.starts_with("ready\n"), "{ready}");
            assert!(
                !metrics.contains("snapkasir_backup_failures_total 0"),
                "{metrics}"
            );
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no failure told: {ready}; {metrics}"
        );
        std::thread::sleep(Duration::from_millis(300));
    }
}
