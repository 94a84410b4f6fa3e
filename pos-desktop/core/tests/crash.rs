//! Crash safety: a child process (`src/bin/checkout_loop.rs`) runs checkouts in a loop and
//! is killed with SIGKILL at random moments; the outbox survives a crash between checkout's
//! SQLite commit and the sale's projection or journal update.

mod common;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::*;
use pos_core::shared_model::ids::UserId;
use pos_core::shared_model::sale::Sale;
use pos_core::{CRASH_AFTER_COMMIT_ENV, Terminal};

const KILLS: usize = 40;

/// The child process: `src/bin/checkout_loop.rs`, built by cargo for integration tests.
fn child_exe() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_checkout_loop"))
}

fn spawn_child(db: &Path, log: &Path, cashier: UserId, crash_after_commit: bool) -> Child {
    let mut cmd = Command::new(child_exe());
    cmd.arg(db)
        .arg(log)
        .arg(cashier.to_string())
        .arg("IDM-01")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    if crash_after_commit {
        cmd.env(CRASH_AFTER_COMMIT_ENV, "1");
    } else {
        cmd.env_remove(CRASH_AFTER_COMMIT_ENV);
    }
    cmd.spawn().unwrap()
}

/// Complete lines of the log: sale id → receipt number.
fn logged(log: &Path) -> Vec<(String, String)> {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let complete = match text.rfind('\n') {
        Some(i) => &text[..=i],
        None => "",
    };
    complete
        .lines()
        .map(|l| {
            let (a, b) = l.split_once(' ').unwrap();
            (a.to_string(), b.to_string())
        })
        .collect()
}

fn setup() -> (tempfile::TempDir, PathBuf, UserId) {
    let s = shop();
    let Shop {
        dir,
        path,
        cashier,
        t,
        ..
    } = s;
    drop(t);
    (dir, path, cashier)
}

/// Checks everything the crash tests promise about a reopened store.
fn check_store(path: &Path, log: &Path) -> usize {
    let mut t = Terminal::open(path).expect("reopen after a crash");
    assert_eq!(t.integrity_check().unwrap(), "ok");
    assert_eq!(t.outbox_len().unwrap(), 0, "start-up applies the outbox");
    t.load_all_documents().expect("every document loads");
    let conn = rusqlite_open(path);
    let mut stmt = conn
        .prepare("SELECT sale_id, receipt_no, business_date FROM sales")
        .unwrap();
    let rows: Vec<(String, String, String)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let mut by_id: HashMap<&str, usize> = HashMap::new();
    let mut receipts: HashMap<&str, usize> = HashMap::new();
    for (id, r, _) in &rows {
        *by_id.entry(id).or_default() += 1;
        *receipts.entry(r).or_default() += 1;
    }
    assert!(
        receipts.values().all(|n| *n == 1),
        "a receipt number repeated"
    );
    // No gaps: per business day the sequences are 1..=n.
    let mut per_day: HashMap<&str, Vec<u32>> = HashMap::new();
    for (_, r, d) in &rows {
        let seq: u32 = r.rsplit('-').next().unwrap().parse().unwrap();
        per_day.entry(d).or_default().push(seq);
    }
    for seqs in per_day.values_mut() {
        seqs.sort();
        assert_eq!(
            *seqs,
            (1..=seqs.len() as u32).collect::<Vec<_>>(),
            "gap in receipts"
        );
    }
    // Every sale's receipt is queued once: projected once, whenever the crash came.
    let (receipts_queued, sales_printed): (i64, i64) = conn
        .query_row(
            "SELECT count(*), count(DISTINCT record_id) FROM print_jobs
             WHERE kind = 'receipt' AND copy = 0",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(
        receipts_queued,
        rows.len() as i64,
        "a receipt queued twice or never"
    );
    assert_eq!(sales_printed, rows.len() as i64);
    let log_rows = logged(log);
    for (id, receipt) in &log_rows {
        assert_eq!(
            by_id.get(id.as_str()),
            Some(&1),
            "acknowledged sale {id} lost or doubled"
        );
        let sale = t.sale(id.parse().unwrap()).unwrap();
        assert_eq!(&sale.receipt_no.to_string(), receipt);
    }
    // Every committed sale is in its journal exactly once (journals are maps keyed by id).
    let mut in_journals = 0;
    for (_, _, date) in rows.iter().take(1) {
        let j = t.journal("T1", date.parse().unwrap()).unwrap().unwrap();
        for (id, _, _) in &rows {
            assert!(
                j.sales.contains_key(id),
                "sale {id} missing from its journal"
            );
        }
        in_journals = j.sales.len();
    }
    assert_eq!(in_journals, rows.len());
    log_rows.len()
}

#[test]
fn sigkill_during_checkouts_loses_no_acknowledged_sale() {
    let (dir, path, cashier) = setup();
    let log = dir.path().join("acked.log");
    let mut total_acked = 0;
    for i in 0..KILLS {
        let mut child = spawn_child(&path, &log, cashier, false);
        let ms = 40 + rand::random::<u64>() % 260;
        std::thread::sleep(Duration::from_millis(ms));
        if let Ok(Some(status)) = child.try_wait() {
            panic!("child exited on its own on round {i}: {status}");
        }
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        total_acked = check_store(&path, &log);
    }
    eprintln!("{KILLS} SIGKILLs, {total_acked} acknowledged sales, all present exactly once");
    assert!(
        total_acked > KILLS,
        "too few sales acknowledged ({total_acked}) to mean anything"
    );
}

#[test]
fn a_crash_between_commit_and_journal_reaches_the_journal_once_on_restart() {
    let (dir, path, cashier) = setup();
    let log = dir.path().join("acked.log");
    let counts = |path: &Path, sale_id: &str| -> (i64, i64, i64) {
        rusqlite_open(path)
            .query_row(
                "SELECT (SELECT count(*) FROM sales), (SELECT count(*) FROM sale_lines),
                        (SELECT count(*) FROM print_jobs WHERE record_id = ?1)",
                [sale_id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .unwrap()
    };
    for round in 1..=3 {
        let mut child = spawn_child(&path, &log, cashier, true);
        let status = child.wait().unwrap();
        assert!(!status.success(), "the hook must abort the child");
        // Before any restart: the sale is committed whole in its outbox row, and nothing else
        // of it is written yet (no query-table rows, no print job, not in the journal).
        let conn = rusqlite_open(&path);
        let (sale_id, date, data): (String, String, String) = conn
            .query_row(
                "SELECT entry_id, business_date, data FROM outbox",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .unwrap();
        drop(conn);
        let held: Sale = serde_json::from_str(&data).expect("the outbox row holds the sale");
        assert_eq!(held.id.to_string(), sale_id);
        assert_eq!(counts(&path, &sale_id), (round - 1, round - 1, 0));
        // Restart: the sale is projected, its receipt queued, and it reaches its journal.
        let mut t = Terminal::open(&path).unwrap();
        assert_eq!(t.outbox_len().unwrap(), 0);
        assert_eq!(t.sale(held.id).unwrap(), held);
        assert_eq!(counts(&path, &sale_id), (round, round, 1));
        let j = t.journal("T1", date.parse().unwrap()).unwrap().unwrap();
        assert!(j.sales.contains_key(&sale_id));
        assert_eq!(j.sales.len() as i64, round);
        drop(t);
        // And again: still exactly once, printed once.
        let mut t = Terminal::open(&path).unwrap();
        let j = t.journal("T1", date.parse().unwrap()).unwrap().unwrap();
        assert_eq!(j.sales.len() as i64, round);
        assert_eq!(counts(&path, &sale_id), (round, round, 1));
    }
    assert!(logged(&log).is_empty(), "no checkout returned");
}
