//! 1,000 tills selling one sale per second each (issue 17), against the real `sync-server`
//! process on PostgreSQL, the tills in this separate process.
//!
//! Each till is a [`JournalTill`] (see `till_fleet.rs` for what it is and leaves out): its
//! journal of the day is a real automerge document, each sale a real shared-model sale committed
//! as one change, synced over the real protocol on its own WebSocket; its heartbeat goes every
//! 2 s as a shop's till's does (`SyncConfig::new`). Two acknowledgements are timed from each
//! sale's commit: the server's sync reply naming the change among its heads (the server holds
//! it), and the heartbeat answer listing the sale (stored and projected: the till's "on server",
//! so at least the wait for the next heartbeat). Errors (a connection dropped or refused, a
//! heartbeat refused, a sale not acknowledged within `--ack-timeout` seconds or not on server
//! when the run ends) are counted and printed; the figures are printed either way.
//!
//! `cargo build --release -p sync-server -p snapkasir-tests --bin load-bench && target/release/load-bench [--tills 1000] [--duration 600] [--per-store 2] [--per-tenant 100] [--interval-ms 1000] [--heartbeat-ms 2000]`
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use snapkasir_tests::processes::psql;
use snapkasir_tests::till_fleet::{
    BenchArgs, BenchServer, FleetStats, JournalTill, Shelf, TillPlan, cpu_secs, enrol_fleet,
    loadavg, memory_kib, summary,
};

fn main() -> Result<()> {
    let args = BenchArgs::from_env();
    let tills = args.num("--tills", 1000)? as usize;
    let duration = Duration::from_secs(args.num("--duration", 600)?);
    let per_store = args.num("--per-store", 2)? as usize;
    let per_tenant = args.num("--per-tenant", 100)? as usize;
    let interval = Duration::from_millis(args.num("--interval-ms", 1000)?);
    let heartbeat = Duration::from_millis(args.num("--heartbeat-ms", 2000)?);
    let ack_timeout = Duration::from_secs(args.num("--ack-timeout", 30)?);
    let sales_per_till = (duration.as_millis() / interval.as_millis().max(1)) as usize;
    let bench = BenchServer::start("snapkasir_loadbench", tills)?;
    let (rt, server) = (&bench.rt, &bench.server);
    // Timers made on this thread (the waits below) belong to the runtime.
    let _guard = rt.enter();
    let pid = server.pid();
    println!(
        "load-bench: {tills} tills ({per_store} per store, {per_tenant} per tenant), one sale every {interval:?} each for {duration:?} ({sales_per_till} sales per till), heartbeat every {heartbeat:?}; server pid {pid} on PostgreSQL; load average {:.2}",
        loadavg()
    );
    let fleet = rt.block_on(enrol_fleet(server, tills, per_store, per_tenant, 8))?;
    let shelf = Arc::new(Shelf::new()?);
    let day = shelf.business_date()?;
    let stats = Arc::new(Mutex::new(FleetStats::default()));
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let (conn_tx, mut conn_rx) = tokio::sync::mpsc::unbounded_channel();
    let http = snapkasir_tests::processes::http_client();
    let plan = TillPlan {
        sale_every: Some(interval),
        max_sales: sales_per_till,
        heartbeat: Some(heartbeat),
        ack_timeout,
        go: None,
        offline: false,
    };
    // Tills connect in waves of 200, each wave online before the next is started; a till
    // starts selling once its own journal has synced (its first sale at a random point of its
    // first interval), so the first waves sell while the last ones connect.
    let connect_started = Instant::now();
    let mut handles = Vec::with_capacity(tills);
    let mut fleet = fleet.into_iter().peekable();
    while fleet.peek().is_some() {
        let wave: Vec<_> = fleet.by_ref().take(200).collect();
        let n = wave.len();
        for id in wave {
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
        for _ in 0..n {
            if rt
                .block_on(tokio::time::timeout(
                    Duration::from_secs(600),
                    conn_rx.recv(),
                ))
                .is_err()
            {
                bail!("a wave of tills did not connect within 600 s");
            }
        }
    }
    let (rss0, _) = memory_kib(pid);
    println!(
        "{tills} tills online in {:.1} s; server VmRSS {rss0} KiB; errors so far {}",
        connect_started.elapsed().as_secs_f64(),
        stats.lock().unwrap_or_else(|p| p.into_inner()).errors
    );

    // The tills sell from now on (their sale ticks started when they connected: the first
    // sales of the earliest waves are already in; the clock of the run starts here).
    let started = Instant::now();
    let cpu0 = cpu_secs(pid);
    let own0 = cpu_secs(std::process::id());
    let mut last_report = Instant::now();
    let mut peak_rss = 0;
    let drain = duration + ack_timeout + heartbeat * 3;
    loop {
        std::thread::sleep(Duration::from_secs(1));
        let (rss, _) = memory_kib(pid);
        peak_rss = peak_rss.max(rss);
        let done = handles.iter().all(|h| h.is_finished());
        if last_report.elapsed() >= Duration::from_secs(60) || done {
            last_report = Instant::now();
            let s = stats.lock().unwrap_or_else(|p| p.into_inner());
            println!(
                "  t={:.0} s: {} sales, {} synced, {} on server, {} errors; server VmRSS {} MiB; load average {:.2}",
                started.elapsed().as_secs_f64(),
                s.sales,
                s.sync_acks.len(),
                s.server_acks.len(),
                s.errors,
                rss / 1024,
                loadavg()
            );
        }
        if done || started.elapsed() > drain + Duration::from_secs(60) {
            break;
        }
    }
    let elapsed = started.elapsed();
    let server_cpu = cpu_secs(pid) - cpu0;
    let own_cpu = cpu_secs(std::process::id()) - own0;
    let _ = stop_tx.send(true);
    let mut unsynced = 0;
    let mut unconfirmed = 0;
    for h in handles {
        if let Ok(Ok(till)) = rt.block_on(tokio::time::timeout(Duration::from_secs(10), h)) {
            unsynced += till.unsynced();
            unconfirmed += till.unconfirmed();
        }
    }
    let (rss, hwm) = memory_kib(pid);
    let in_pg: usize = psql(&bench.db.url, "SELECT count(*) FROM sales")
        .parse()
        .unwrap_or(0);
    let mut s = stats.lock().unwrap_or_else(|p| p.into_inner());
    if unsynced > 0 {
        s.error(format!(
            "{unsynced} sales never acknowledged by the server's sync"
        ));
    }
    if unconfirmed > 0 {
        s.error(format!(
            "{unconfirmed} sales synced but never reported on server by a heartbeat"
        ));
    }
    println!(
        "load-bench: {} sales by {tills} tills in {:.1} s ({:.0} sales/s); {} in PostgreSQL `sales`",
        s.sales,
        elapsed.as_secs_f64(),
        s.sales as f64 / elapsed.as_secs_f64(),
        in_pg
    );
    println!(
        "commit → server's sync acknowledgement: {}",
        summary(s.sync_acks.clone())
    );
    println!(
        "commit → on server (heartbeat every {heartbeat:?} lists it stored and projected): {}",
        summary(s.server_acks.clone())
    );
    println!(
        "server CPU {:.1} s ({:.0}% of one core), bench process CPU {:.1} s; server VmRSS {} MiB at the end, peak seen {} MiB, VmHWM {} MiB; load average {:.2}",
        server_cpu,
        100.0 * server_cpu / elapsed.as_secs_f64(),
        own_cpu,
        rss / 1024,
        peak_rss / 1024,
        hwm / 1024,
        loadavg()
    );
    println!("errors: {} {:?}", s.errors, s.error_samples);
    println!(
        "goal: 0 errors: {}",
        if s.errors == 0 { "met" } else { "NOT met" }
    );
    drop(s);
    Ok(())
}
