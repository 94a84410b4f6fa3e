//! Idle till connections held by the real `sync-server` process (issue 17: 10,000 within 1 GiB
//! of server RSS), the clients in this separate process.
//!
//! The server runs on a fresh PostgreSQL database with a config that lifts the per-address and
//! per-tenant connection caps (every client comes from 127.0.0.1). `--tills` terminals are
//! enrolled over the real API (`--per-store`, `--per-tenant`), then connected in steps
//! (`--steps`, default 1000,5000,10000). Each is a [`JournalTill`]: a WebSocket with the till's
//! credential and schema header, the automerge-repo join handshake, its (empty) journal of the
//! day synced until the server's heads cover it, then silence apart from a WebSocket ping every
//! 5 s, as a till between sales. At 0 connections and at each step the server's VmRSS and VmHWM
//! are read from `/proc/<pid>/status`.
//!
//! `cargo build --release -p sync-server -p snapkasir-tests --bin conn-bench && target/release/conn-bench [--tills 10000] [--steps 1000,5000,10000] [--per-store 2] [--per-tenant 100]`
//! (needs `ulimit -n` above the number of tills; `DATABASE_URL` as for the tests).
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use snapkasir_tests::till_fleet::{
    BenchArgs, BenchServer, FleetStats, JournalTill, Shelf, TillPlan, enrol_fleet, loadavg,
    memory_kib,
};

fn main() -> Result<()> {
    let args = BenchArgs::from_env();
    let tills = args.num("--tills", 10_000)? as usize;
    let per_store = args.num("--per-store", 2)? as usize;
    let per_tenant = args.num("--per-tenant", 100)? as usize;
    let steps: Vec<usize> = args
        .opt("--steps")
        .unwrap_or_else(|| "1000,5000,10000".into())
        .split(',')
        .map(|s| s.trim().parse())
        .collect::<Result<_, _>>()?;
    let steps: Vec<usize> = steps.into_iter().filter(|s| *s <= tills).collect();
    let bench = BenchServer::start("snapkasir_connbench", tills)?;
    let (rt, server) = (&bench.rt, &bench.server);
    // Timers made on this thread (the waits below) belong to the runtime.
    let _guard = rt.enter();
    let pid = server.pid();
    println!(
        "conn-bench: {tills} tills ({per_store} per store, {per_tenant} per tenant), server pid {pid} on PostgreSQL, load average {:.2}",
        loadavg()
    );
    let started = Instant::now();
    let fleet = rt.block_on(enrol_fleet(server, tills, per_store, per_tenant, 8))?;
    println!(
        "enrolled {} tills in {:.1} s",
        fleet.len(),
        started.elapsed().as_secs_f64()
    );
    let shelf = Arc::new(Shelf::new()?);
    let day = shelf.business_date()?;
    std::thread::sleep(Duration::from_secs(2));
    let (rss0, hwm0) = memory_kib(pid);
    println!("0 connections: server VmRSS {rss0} KiB, VmHWM {hwm0} KiB");

    let stats = Arc::new(Mutex::new(FleetStats::default()));
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let (conn_tx, mut conn_rx) = tokio::sync::mpsc::unbounded_channel();
    let http = snapkasir_tests::processes::http_client();
    let plan = TillPlan {
        sale_every: None,
        max_sales: 0,
        heartbeat: None,
        ack_timeout: Duration::from_secs(60),
        go: None,
        offline: false,
    };
    let mut handles = Vec::with_capacity(tills);
    let mut fleet = fleet.into_iter();
    let mut open = 0usize;
    let mut rows = Vec::new();
    for step in &steps {
        let t = Instant::now();
        while open < *step {
            // Connect in waves of 200, each wave joined and synced before the next.
            let wave = (step - open).min(200);
            for id in fleet.by_ref().take(wave) {
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
            for _ in 0..wave {
                if rt
                    .block_on(tokio::time::timeout(
                        Duration::from_secs(600),
                        conn_rx.recv(),
                    ))
                    .is_err()
                {
                    bail!("a wave of connections did not sync within 600 s");
                }
            }
            open += wave;
        }
        let took = t.elapsed();
        // Let the server settle (its writes of the journals, presence) before reading memory.
        std::thread::sleep(Duration::from_secs(5));
        let (rss, hwm) = memory_kib(pid);
        let errors = stats.lock().unwrap_or_else(|p| p.into_inner()).errors;
        let per = (rss.saturating_sub(rss0)) as f64 / *step as f64;
        println!(
            "{step} connections (opened in {:.1} s): server VmRSS {rss} KiB ({:.1} MiB), VmHWM {hwm} KiB; {per:.1} KiB per connection over the 0-connection figure; errors so far {errors}; load average {:.2}",
            took.as_secs_f64(),
            rss as f64 / 1024.0,
            loadavg()
        );
        rows.push((*step, rss, hwm, per));
    }
    // Hold them a while: pings flow, nothing else.
    std::thread::sleep(Duration::from_secs(20));
    let (rss, hwm) = memory_kib(pid);
    let s = stats.lock().unwrap_or_else(|p| p.into_inner());
    println!(
        "held {open} connections 20 s more: server VmRSS {rss} KiB ({:.1} MiB), VmHWM {hwm} KiB ({:.1} MiB); errors {} {:?}",
        rss as f64 / 1024.0,
        hwm as f64 / 1024.0,
        s.errors,
        s.error_samples
    );
    let goal = 1024 * 1024;
    println!(
        "goal: {open} idle till connections within 1 GiB server RSS (VmHWM {hwm} KiB): {}",
        if hwm <= goal && s.errors == 0 && open >= 10_000 {
            "met"
        } else if open < 10_000 {
            "not measured at 10,000"
        } else {
            "NOT met"
        }
    );
    drop(s);
    let _ = stop_tx.send(true);
    for h in handles {
        let _ = rt.block_on(tokio::time::timeout(Duration::from_secs(10), h));
    }

    Ok(())
}
