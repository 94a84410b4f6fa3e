//! Issue 17, "past one database": the reports read from a PostgreSQL streaming replica. The test
//! makes its own primary cluster and a hot standby of it with `pg_basebackup -R`, runs the real
//! `sync-server` on the primary with `report_replica_url` set to the standby, a real enrolled
//! till selling, and a real Chromium on the dashboard's overview and a report page:
//!
//! 1. a sale reaches the report, read on the replica (the replica's own rows have it, and the
//!    server counts the read as the replica's);
//! 2. replay paused on the standby, the till sells again: the pages say the reports are
//!    behind and still show the old total, in both languages, at phone and desktop width;
//! 3. replay resumed: the notice goes and the new total shows;
//! 4. the standby stopped, the till sells again: the reports read from the primary (current
//!    figures, no notice), and the operator sees it in the log and at `/metrics`.
//!
//! Needs PostgreSQL's server binaries (initdb, pg_ctl, pg_basebackup), psql, chromium and
//! chromedriver; a missing one fails the test with what to install.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use pos_core::Terminal;
use pos_core::enrolment::enrol;
use pos_core::shared_model::codec::Timestamp;
use pos_core::shared_model::sale::Sale;
use pos_core::sync::client::{SyncClient, SyncConfig};
use rust_decimal::Decimal;
use snapkasir_tests::browser::Browser;
use snapkasir_tests::processes::{
    ServerProcess, ThrowawayCluster, create_tenant_args, http_client, psql,
};

type Till = Arc<Mutex<Terminal>>;

const METRICS_TOKEN: &str = "replica-metrics-token";
const PASSWORD: &str = "rahasia-panjang-1";

/// English words of the pages (the lag notice's among them) that the Indonesian pages must
/// not keep.
const ENGLISH: [&str; 5] = [
    "Reports are about",
    "behind",
    "newest sales",
    "Transactions",
    "Download CSV",
];

fn lock(t: &Till) -> std::sync::MutexGuard<'_, Terminal> {
    t.lock().unwrap_or_else(|p| p.into_inner())
}

fn wait_until<T>(what: &str, limit: Duration, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for: {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// An amount as the dashboard shows it (`Rp 12.500`); anything else fails.
fn rupiah(shown: &str) -> Decimal {
    let digits = shown
        .trim()
        .strip_prefix("Rp")
        .unwrap_or_else(|| panic!("not an amount in rupiah: {shown:?}"))
        .trim()
        .replace('.', "")
        .replace(',', ".");
    digits
        .parse()
        .unwrap_or_else(|_| panic!("not an amount: {shown:?}"))
}

/// Sells one Aqua in exact cash and waits until the server has projected the sale.
fn sell_and_wait(till: &Till) -> Sale {
    let sale = snapkasir_tests::demo_sale::sell(&mut lock(till), &["Aqua"], Vec::new());
    let id = sale.id.to_string();
    wait_until(
        "the server projects the sale",
        Duration::from_secs(60),
        || lock(till).on_server_since(&id).unwrap(),
    );
    sale
}

/// The server's `/metrics`, as `name{labels} value` lines.
fn metrics(rt: &tokio::runtime::Runtime, base: &str) -> String {
    rt.block_on(async {
        let r = http_client()
            .get(format!("{base}/metrics"))
            .bearer_auth(METRICS_TOKEN)
            .send()
            .await
            .expect("metrics");
        assert!(r.status().is_success(), "/metrics: {}", r.status());
        r.text().await.expect("metrics body")
    })
}

/// The value of metric `name` (with its labels, as written) in `text`.
fn metric(text: &str, name: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))
        .unwrap_or_else(|| panic!("no metric {name} in:\n{text}"))
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("metric {name} is not a number in:\n{text}"))
}

/// Rows of `sales` on a cluster's database.
fn sales_rows(url: &str) -> i64 {
    psql(url, "SELECT count(*) FROM sales").parse().unwrap()
}

fn write_config(dir: &Path, replica_url: &str) -> String {
    let file = dir.join("server.toml");
    std::fs::write(
        &file,
        format!(
            "report_replica_url = \"{replica_url}\"\n\
             report_replica_check_ms = 200\n\
             report_replica_max_lag_secs = 900\n\
             metrics_token = \"{METRICS_TOKEN}\"\n"
        ),
    )
    .expect("config file");
    file.display().to_string()
}

#[test]
fn reports_read_from_a_streaming_replica_and_say_when_it_lags() {
    let dir = tempfile::tempdir().unwrap();
    let primary = ThrowawayCluster::start();
    psql(&primary.admin_url(), "CREATE DATABASE snapkasir");
    let standby = ThrowawayCluster::standby_of(&primary);
    let primary_url = format!("postgres://postgres@127.0.0.1:{}/snapkasir", primary.port);
    let replica_url = format!("postgres://postgres@127.0.0.1:{}/snapkasir", standby.port);
    assert_eq!(
        psql(&replica_url, "SELECT pg_is_in_recovery()"),
        "t",
        "the standby is in recovery"
    );

    let config = write_config(dir.path(), &replica_url);
    let log = dir.path().join("server.log");
    let server = ServerProcess::start_with(
        &[
            "--config".into(),
            config,
            "--database-url".into(),
            primary_url.clone(),
        ],
        &[],
        "127.0.0.1:0",
        &log,
    );
    let base = server.url();
    let email = format!("owner-{:08x}@example.com", rand::random::<u32>());
    let made = server.admin(&create_tenant_args(
        "Replika",
        "RPL",
        "Toko Replika",
        &email,
    ));
    let store_id = made["store_id"].as_str().unwrap().to_string();
    let code = server.enrollment_code(&store_id, "Kasir 1");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let till: Till = Arc::new(Mutex::new(
        Terminal::open(dir.path().join("t1.db")).unwrap(),
    ));
    rt.block_on(enrol(&till, &base, &code, true))
        .expect("enrols");
    let _client = {
        let _inside = rt.enter();
        let (enrolment, credential) = lock(&till).enrolment().unwrap().unwrap();
        let mut config = SyncConfig::new(&enrolment.server_url, credential);
        config.poll_interval = Duration::from_millis(50);
        config.heartbeat_interval = Duration::from_millis(200);
        SyncClient::start(till.clone(), config)
    };
    let date = lock(&till)
        .business_date_at(Timestamp::now())
        .unwrap()
        .to_string();
    let overview = format!("/stores/{store_id}/overview?from={date}&to={date}");
    let payments = format!("/stores/{store_id}/reports/payments?from={date}&to={date}");

    // ---- 1. a sale reaches the report, read on the replica.
    let first = sell_and_wait(&till);
    wait_until("the replica has the sale", Duration::from_secs(30), || {
        (sales_rows(&replica_url) == 1).then_some(())
    });
    wait_until(
        "the server reads the reports on the replica",
        Duration::from_secs(30),
        || (metric(&metrics(&rt, &base), "snapkasir_report_replica_in_use") == 1.0).then_some(()),
    );
    let mut b = Browser::start("report_replica", &base);
    b.sign_in(&email, PASSWORD);
    let before = metric(
        &metrics(&rt, &base),
        "snapkasir_report_reads_total{source=\"replica\"}",
    );
    b.open(&overview);
    assert_eq!(rupiah(&b.text("value-sales")), first.total().0);
    assert!(b.find("reports-behind").is_none(), "no lag notice yet");
    let after = metric(
        &metrics(&rt, &base),
        "snapkasir_report_reads_total{source=\"replica\"}",
    );
    assert!(
        after > before,
        "the overview read the replica ({before} → {after})"
    );

    // ---- 2. replay paused: the pages say the reports are behind and keep the old total.
    psql(&replica_url, "SELECT pg_wal_replay_pause()");
    let second = sell_and_wait(&till);
    assert_eq!(sales_rows(&primary_url), 2, "the primary has both sales");
    assert_eq!(sales_rows(&replica_url), 1, "the paused replica has one");
    let notice = b.poll("the lag notice on the overview", |b| {
        b.open(&overview);
        b.find("reports-behind").map(|_| b.text("reports-behind"))
    });
    let secs: u64 = notice
        .strip_prefix("Reports are about ")
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("the notice tells the seconds: {notice:?}"));
    assert!(secs >= 1, "{notice}");
    assert!(notice.contains(" s behind"), "{notice}");
    assert_eq!(
        rupiah(&b.text("value-sales")),
        first.total().0,
        "the overview shows the replica's (old) total"
    );
    let m = metrics(&rt, &base);
    assert_eq!(metric(&m, "snapkasir_report_replica_in_use"), 1.0, "{m}");
    assert_eq!(
        metric(&m, "snapkasir_report_replica_replay_paused"),
        1.0,
        "{m}"
    );
    assert!(
        metric(&m, "snapkasir_report_replica_lag_seconds") >= 1.0,
        "{m}"
    );
    b.shots("overview-replica-behind", "en");
    b.open(&payments);
    b.wait_for("reports-behind");
    let cash = b.table_rows("report-payments");
    assert_eq!(cash.len(), 1, "{cash:?}");
    assert_eq!(rupiah(&cash[0][2]), first.total().0, "{cash:?}");
    b.shots("payments-replica-behind", "en");
    b.switch_lang("id");
    b.assert_no_english("payments", &ENGLISH);
    let notice_id = b.text("reports-behind");
    assert!(
        notice_id.starts_with("Laporan tertunda ± ") && notice_id.contains(" detik"),
        "{notice_id}"
    );
    b.shots("payments-replica-behind", "id");
    b.open(&overview);
    b.assert_no_english("overview", &ENGLISH);
    assert!(b.text("reports-behind").starts_with("Laporan tertunda ± "));
    assert_eq!(rupiah(&b.text("value-sales")), first.total().0);
    b.shots("overview-replica-behind", "id");
    b.switch_lang("en");

    // ---- 3. replay resumed: the notice goes, the new total shows.
    psql(&replica_url, "SELECT pg_wal_replay_resume()");
    let both = first.total().0 + second.total().0;
    b.poll("the new total without a notice", |b| {
        b.open(&overview);
        (b.find("reports-behind").is_none() && rupiah(&b.text("value-sales")) == both).then_some(())
    });
    assert_eq!(sales_rows(&replica_url), 2);
    let m = metrics(&rt, &base);
    assert_eq!(metric(&m, "snapkasir_report_replica_in_use"), 1.0, "{m}");
    assert_eq!(
        metric(&m, "snapkasir_report_replica_replay_paused"),
        0.0,
        "{m}"
    );
    b.shots("overview-replica-caught-up", "en");

    // ---- 4. the standby stopped: the reports read from the primary, current figures.
    let fallbacks_before = metric(&m, "snapkasir_report_replica_fallbacks_total");
    standby.stop();
    let third = sell_and_wait(&till);
    let all = both + third.total().0;
    b.poll("the current total from the primary", |b| {
        b.open(&overview);
        (b.find("reports-behind").is_none() && rupiah(&b.text("value-sales")) == all).then_some(())
    });
    let m = wait_until(
        "metrics say the replica is not used",
        Duration::from_secs(30),
        || {
            let m = metrics(&rt, &base);
            (metric(&m, "snapkasir_report_replica_in_use") == 0.0).then_some(m)
        },
    );
    assert!(
        metric(&m, "snapkasir_report_replica_fallbacks_total") > fallbacks_before,
        "{m}"
    );
    let primary_reads = metric(&m, "snapkasir_report_reads_total{source=\"primary\"}");
    b.open(&payments);
    let cash = b.table_rows("report-payments");
    assert_eq!(rupiah(&cash[0][2]), all, "{cash:?}");
    let m = metrics(&rt, &base);
    assert!(
        metric(&m, "snapkasir_report_reads_total{source=\"primary\"}") > primary_reads,
        "{m}"
    );
    b.shots("payments-replica-stopped", "en");
    b.switch_lang("id");
    b.assert_no_english("payments", &ENGLISH);
    b.shots("payments-replica-stopped", "id");
    b.switch_lang("en");
    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(
        logged.contains("report replica left: reports read from the primary"),
        "the operator reads it in the log:\n{logged}"
    );
    drop(b);
    drop(server);
}
