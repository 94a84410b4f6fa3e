//! Projection priced (issue 17): real sales in real journals from 100 tills, end to end until
//! every sale is a row of the reports, beside a bare batched insert of the same rows into
//! PostgreSQL in the same run. Goal: the end-to-end rate ≥ 20% of the bare insert's.
//!
//! End to end: the real `sync-server` process on a fresh PostgreSQL database; `--tills`
//! [`JournalTill`]s (one enrolled terminal each, `--per-store`, `--per-tenant`) connect and put
//! their empty journal of the day on the server; then, on one clock, each commits `--sales`
//! sales, one automerge change each, one every `--interval-ms` (as fast as it can with 0), each
//! synced over the real protocol as it is made. The clock stops when PostgreSQL holds every
//! sale with its lines and payments (`sales`, `sale_lines`, `payments`, polled every 20 ms).
//!
//! Baseline: the rows the server's own projection (`sync_server::projection::project`) makes of
//! the same final journals (sales, sale lines, payments, stock movements), inserted into another
//! fresh database with the server's schema, in one transaction, 1,000 rows per `INSERT … SELECT
//! FROM UNNEST(…)`. The two databases' totals are compared, so a wrong projection shows.
//!
//! `cargo build --release -p sync-server -p snapkasir-tests --bin ingest-bench && target/release/ingest-bench [--tills 100] [--sales 100] [--interval-ms 0] [--per-store 2] [--per-tenant 100] [--offline]`
//!
//! `--offline`: each till makes its sales before the clock starts and connects when it starts,
//! as a till back from a day without network; the clock then prices the server's ingest
//! (connect, sync, store, project) without the bench's own cost of making the sales.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use snapkasir_tests::processes::{TestDatabase, psql};
use snapkasir_tests::till_fleet::{
    BenchArgs, BenchServer, FleetStats, JournalTill, Shelf, TillPlan, cpu_secs, enrol_fleet,
    loadavg, summary,
};
use sync_server::projection::ProjectedDoc;
use sync_server::storage::{PgStorage, Storage};

/// Rows per `INSERT` of the baseline.
const BATCH: usize = 1000;

/// The bare insert: every row of `docs` into `pool`, batched, in one transaction.
async fn bare_insert(pool: &sqlx::PgPool, docs: &[ProjectedDoc]) -> Result<()> {
    let mut tx = pool.begin().await?;
    let sales: Vec<_> = docs
        .iter()
        .flat_map(|d| d.sales.iter().map(move |r| (d, r)))
        .collect();
    for chunk in sales.chunks(BATCH) {
        let col = |f: &dyn Fn(&(&ProjectedDoc, &sync_server::projection::SaleRow)) -> String| {
            chunk.iter().map(f).collect::<Vec<String>>()
        };
        let int = |f: &dyn Fn(&(&ProjectedDoc, &sync_server::projection::SaleRow)) -> i64| {
            chunk.iter().map(f).collect::<Vec<i64>>()
        };
        sqlx::query(
            "INSERT INTO sales (tenant_id, id, doc_id, store_id, terminal_code, business_date, \
             created_at, cashier_id, receipt_no, total_e4, tax_e4, voided, discount_e4, receipt_token) \
             SELECT 'bench', id, doc_id, store_id, terminal_code, business_date, created_at, cashier_id, \
             receipt_no, total_e4, tax_e4, voided, discount_e4, receipt_token FROM UNNEST(\
             $1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::text[], \
             $8::text[], $9::bigint[], $10::bigint[], $11::bool[], $12::bigint[], $13::text[]) \
             AS t(id, doc_id, store_id, terminal_code, business_date, created_at, cashier_id, \
             receipt_no, total_e4, tax_e4, voided, discount_e4, receipt_token)",
        )
        .bind(col(&|(_, r)| r.id.clone()))
        .bind(col(&|(d, _)| d.doc_id.clone()))
        .bind(col(&|(d, _)| d.store_id.clone()))
        .bind(col(&|(_, r)| r.terminal_code.clone()))
        .bind(col(&|(_, r)| r.business_date.clone()))
        .bind(int(&|(_, r)| r.created_at))
        .bind(col(&|(_, r)| r.cashier_id.clone()))
        .bind(col(&|(_, r)| r.receipt_no.clone()))
        .bind(int(&|(_, r)| r.total_e4))
        .bind(int(&|(_, r)| r.tax_e4))
        .bind(chunk.iter().map(|(_, r)| r.voided).collect::<Vec<bool>>())
        .bind(int(&|(_, r)| r.discount_e4))
        .bind(
            chunk
                .iter()
                .map(|(_, r)| r.receipt_token.clone())
                .collect::<Vec<Option<String>>>(),
        )
        .execute(&mut *tx)
        .await?;
    }
    let lines: Vec<_> = docs
        .iter()
        .flat_map(|d| d.sale_lines.iter().map(move |r| (d, r)))
        .collect();
    for chunk in lines.chunks(BATCH) {
        let s = |f: &dyn Fn(&(&ProjectedDoc, &sync_server::projection::SaleLineRow)) -> String| {
            chunk.iter().map(f).collect::<Vec<String>>()
        };
        let i = |f: &dyn Fn(&(&ProjectedDoc, &sync_server::projection::SaleLineRow)) -> i64| {
            chunk.iter().map(f).collect::<Vec<i64>>()
        };
        sqlx::query(
            "INSERT INTO sale_lines (tenant_id, sale_id, line_no, doc_id, store_id, product_id, sku, \
             name, category_id, quantity_e4, amount_e4, tax_e4, line_id) \
             SELECT 'bench', * FROM UNNEST($1::text[], $2::bigint[], $3::text[], $4::text[], $5::text[], \
             $6::text[], $7::text[], $8::text[], $9::bigint[], $10::bigint[], $11::bigint[], $12::text[])",
        )
        .bind(s(&|(_, r)| r.sale_id.clone()))
        .bind(i(&|(_, r)| r.line_no))
        .bind(s(&|(d, _)| d.doc_id.clone()))
        .bind(s(&|(d, _)| d.store_id.clone()))
        .bind(s(&|(_, r)| r.product_id.clone()))
        .bind(s(&|(_, r)| r.sku.clone()))
        .bind(s(&|(_, r)| r.name.clone()))
        .bind(
            chunk
                .iter()
                .map(|(_, r)| r.category_id.clone())
                .collect::<Vec<Option<String>>>(),
        )
        .bind(i(&|(_, r)| r.quantity_e4))
        .bind(i(&|(_, r)| r.amount_e4))
        .bind(i(&|(_, r)| r.tax_e4))
        .bind(s(&|(_, r)| r.line_id.clone()))
        .execute(&mut *tx)
        .await?;
    }
    let payments: Vec<_> = docs
        .iter()
        .flat_map(|d| d.payments.iter().map(move |r| (d, r)))
        .collect();
    for chunk in payments.chunks(BATCH) {
        sqlx::query(
            "INSERT INTO payments (tenant_id, sale_id, seq, doc_id, store_id, method, amount_e4) \
             SELECT 'bench', * FROM UNNEST($1::text[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::bigint[])",
        )
        .bind(chunk.iter().map(|(_, r)| r.sale_id.clone()).collect::<Vec<_>>())
        .bind(chunk.iter().map(|(_, r)| r.seq).collect::<Vec<_>>())
        .bind(chunk.iter().map(|(d, _)| d.doc_id.clone()).collect::<Vec<_>>())
        .bind(chunk.iter().map(|(d, _)| d.store_id.clone()).collect::<Vec<_>>())
        .bind(chunk.iter().map(|(_, r)| r.method.clone()).collect::<Vec<_>>())
        .bind(chunk.iter().map(|(_, r)| r.amount_e4).collect::<Vec<_>>())
        .execute(&mut *tx)
        .await?;
    }
    let moves: Vec<_> = docs
        .iter()
        .flat_map(|d| d.stock_movements.iter().map(move |r| (d, r)))
        .collect();
    for chunk in moves.chunks(BATCH) {
        sqlx::query(
            "INSERT INTO stock_movements (tenant_id, id, doc_id, store_id, product_id, kind, \
             quantity_e4, at, reference, terminal_code) SELECT 'bench', * FROM UNNEST($1::text[], $2::text[], $3::text[], \
             $4::text[], $5::text[], $6::bigint[], $7::bigint[], $8::text[], $9::text[])",
        )
        .bind(chunk.iter().map(|(_, r)| r.id.clone()).collect::<Vec<_>>())
        .bind(
            chunk
                .iter()
                .map(|(d, _)| d.doc_id.clone())
                .collect::<Vec<_>>(),
        )
        .bind(
            chunk
                .iter()
                .map(|(d, _)| d.store_id.clone())
                .collect::<Vec<_>>(),
        )
        .bind(
            chunk
                .iter()
                .map(|(_, r)| r.product_id.clone())
                .collect::<Vec<_>>(),
        )
        .bind(
            chunk
                .iter()
                .map(|(_, r)| r.kind.clone())
                .collect::<Vec<_>>(),
        )
        .bind(chunk.iter().map(|(_, r)| r.quantity_e4).collect::<Vec<_>>())
        .bind(chunk.iter().map(|(_, r)| r.at).collect::<Vec<_>>())
        .bind(
            chunk
                .iter()
                .map(|(_, r)| r.reference.clone())
                .collect::<Vec<_>>(),
        )
        .bind(
            chunk
                .iter()
                .map(|(_, r)| r.terminal_code.clone())
                .collect::<Vec<_>>(),
        )
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// `count(*), sum(total_e4)` of sales, and the counts of lines and payments, of a database.
fn totals(url: &str) -> String {
    psql(
        url,
        "SELECT (SELECT count(*) FROM sales) || ' sales, total_e4 ' || \
         (SELECT coalesce(sum(total_e4), 0) FROM sales) || ', ' || \
         (SELECT count(*) FROM sale_lines) || ' lines (amount_e4 ' || \
         (SELECT coalesce(sum(amount_e4), 0) FROM sale_lines) || '), ' || \
         (SELECT count(*) FROM payments) || ' payments, ' || \
         (SELECT count(*) FROM stock_movements) || ' stock movements'",
    )
}

fn main() -> Result<()> {
    let args = BenchArgs::from_env();
    let tills = args.num("--tills", 100)? as usize;
    let sales = args.num("--sales", 100)? as usize;
    let per_store = args.num("--per-store", 2)? as usize;
    let per_tenant = args.num("--per-tenant", 100)? as usize;
    let interval = Duration::from_millis(args.num("--interval-ms", 0)?.max(1));
    let offline = args.flag("--offline");
    let bench = BenchServer::start("snapkasir_ingest", tills)?;
    let (rt, server) = (&bench.rt, &bench.server);
    // Timers made on this thread (the waits below) belong to the runtime.
    let _guard = rt.enter();
    let pid = server.pid();
    let shape = if offline {
        "made offline before the clock; the tills connect when it starts".to_string()
    } else {
        format!("one every {interval:?}")
    };
    println!(
        "ingest-bench: {tills} tills ({per_store} per store, {per_tenant} per tenant) x {sales} sales, {shape}; server pid {pid} on PostgreSQL; load average {:.2}",
        loadavg()
    );
    let fleet = rt.block_on(enrol_fleet(server, tills, per_store, per_tenant, 8))?;
    let shelf = Arc::new(Shelf::new()?);
    let day = shelf.business_date()?;
    let stats = Arc::new(Mutex::new(FleetStats::default()));
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let (go_tx, go_rx) = tokio::sync::watch::channel(false);
    let (conn_tx, mut conn_rx) = tokio::sync::mpsc::unbounded_channel();
    let http = snapkasir_tests::processes::http_client();
    let plan = TillPlan {
        sale_every: Some(interval),
        max_sales: sales,
        heartbeat: None,
        ack_timeout: Duration::from_secs(300),
        go: Some(go_rx),
        offline,
    };
    let mut handles = Vec::with_capacity(tills);
    for id in fleet {
        let till = JournalTill::new(id, day)?;
        handles.push(rt.spawn(till.run(
            server.addr,
            plan.clone(),
            shelf.clone(),
            http.clone(),
            stats.clone(),
            conn_tx.clone(),
            stop_rx.clone(),
        )));
    }
    for _ in 0..tills {
        rt.block_on(tokio::time::timeout(
            Duration::from_secs(600),
            conn_rx.recv(),
        ))
        .context("the tills did not connect within 600 s")?;
    }
    if stats.lock().unwrap_or_else(|p| p.into_inner()).errors > 0 {
        bail!(
            "errors while connecting: {:?}",
            stats
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .error_samples
        );
    }
    std::thread::sleep(Duration::from_secs(1));

    let total = tills * sales;
    let cpu0 = cpu_secs(pid);
    let bench_cpu0 = cpu_secs(std::process::id());
    let load_before = loadavg();
    println!("{tills} tills ready; the clock starts");
    let started = Instant::now();
    let _ = go_tx.send(true);
    // One connection polls, not a `psql` process started every 20 ms on the cores the server
    // it watches runs on.
    let counter = rt.block_on(sqlx::PgPool::connect(&bench.db.url))?;
    let count_sql = "SELECT (SELECT count(*) FROM sales), (SELECT count(*) FROM payments), (SELECT count(*) FROM sale_lines)";
    let mut synced_at = None;
    let rows_at = loop {
        std::thread::sleep(Duration::from_millis(20));
        if synced_at.is_none()
            && stats
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .sync_acks
                .len()
                >= total
        {
            synced_at = Some(started.elapsed());
        }
        let counts: (i64, i64, i64) = rt.block_on(sqlx::query_as(count_sql).fetch_one(&counter))?;
        if counts.0 >= total as i64 && counts.1 >= total as i64 {
            // Lines: every sale's, known once the sales are; checked against the baseline below.
            break started.elapsed();
        }
        if started.elapsed() > Duration::from_secs(900) {
            bail!("not every sale projected after 900 s: {counts:?} of {total}");
        }
        let errors = stats.lock().unwrap_or_else(|p| p.into_inner()).errors;
        if errors > 0 {
            bail!(
                "errors: {:?}",
                stats
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .error_samples
            );
        }
    };
    let server_cpu = cpu_secs(pid) - cpu0;
    rt.block_on(counter.close());
    let bench_cpu = cpu_secs(std::process::id()) - bench_cpu0;
    let load_after = loadavg();
    let _ = stop_tx.send(true);
    let mut journals = Vec::with_capacity(tills);
    for h in handles {
        let till = rt.block_on(h)?;
        journals.push(till);
    }
    let e2e_rate = total as f64 / rows_at.as_secs_f64();
    let s = stats.lock().unwrap_or_else(|p| p.into_inner());
    println!(
        "end to end: {total} sales committed, synced and projected into PostgreSQL in {:.2} s = {e2e_rate:.0} sales/s (every sale acknowledged by the server's sync at {}); server CPU {server_cpu:.1} s, bench process CPU {bench_cpu:.1} s; load average {load_before:.2} -> {load_after:.2}",
        rows_at.as_secs_f64(),
        synced_at.map_or("-".into(), |d| format!("{:.2} s", d.as_secs_f64()))
    );
    println!(
        "  commit → server's sync acknowledgement: {}",
        summary(s.sync_acks.clone())
    );
    println!("  errors: {} {:?}", s.errors, s.error_samples);
    drop(s);
    std::thread::sleep(Duration::from_millis(500));
    let e2e_totals = totals(&bench.db.url);

    // The baseline: the same rows, from the server's projection of the same journals.
    let docs: Vec<ProjectedDoc> = journals
        .iter()
        .map(|t| {
            sync_server::projection::project(t.doc_id(), &t.id.store_id, t.journal())
                .map_err(anyhow::Error::msg)?
                .context("a journal projects")
        })
        .collect::<Result<_>>()?;
    let bare_db = TestDatabase::create("snapkasir_bare");
    let bare_rate = rt.block_on(async {
        let storage = PgStorage::connect(&bare_db.url, 2).await?;
        storage.migrate().await?;
        let started = Instant::now();
        bare_insert(storage.pool(), &docs).await?;
        Ok::<_, anyhow::Error>(total as f64 / started.elapsed().as_secs_f64())
    })?;
    let bare_totals = totals(&bare_db.url);
    println!(
        "bare batched insert of the same rows ({} rows per INSERT … UNNEST, one transaction): {bare_rate:.0} sales/s",
        BATCH
    );
    println!("  end-to-end database: {e2e_totals}");
    println!("  bare-insert database: {bare_totals}");
    if e2e_totals != bare_totals {
        println!("  THE TWO DATABASES DIFFER");
    }
    let ratio = e2e_rate / bare_rate;
    println!(
        "ratio end to end / bare insert: {:.1}% (goal >= 20%: {}); load average {:.2}",
        100.0 * ratio,
        if ratio >= 0.2 { "met" } else { "NOT met" },
        loadavg()
    );
    Ok(())
}
