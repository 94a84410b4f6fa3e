//! A TCP proxy that injects network faults between a client and an upstream server.
//!
//! Faults (each counted when it fires, so a run can show that every kind happened):
//! - `delay`: every chunk waits before it is forwarded;
//! - `drop`: packets are lost in both directions: nothing gets through and the connection
//!   stalls (the client must notice with its own timeouts);
//! - `cut mid-frame`: the next chunk in a direction is forwarded only in part, then the
//!   connection is reset;
//! - `partition`: no bytes pass either way and new connections are refused;
//! - `one-way partition`: bytes in one direction are lost, the other direction works;
//! - `cut`: every open connection is closed at once.
//!
//! TCP never delivers a stream with a hole in it: bytes are delivered in order or the
//! connection breaks. So a connection that lost bytes to `drop` or a partition delivers nothing
//! more and is reset when the fault heals (a real one would time out), never resumed with a gap.
//!
//! Written here because no maintained crate offers a programmable, in-process fault proxy
//! for tokio (toxiproxy is a separate Go server that this machine cannot fetch).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// The direction bytes travel through the proxy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    ClientToServer,
    ServerToClient,
}

/// The kinds of fault, for counting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FaultKind {
    Delay,
    Drop,
    CutMidFrame,
    Partition,
    OneWayPartition,
    Cut,
}

impl FaultKind {
    pub const ALL: [FaultKind; 6] = [
        FaultKind::Delay,
        FaultKind::Drop,
        FaultKind::CutMidFrame,
        FaultKind::Partition,
        FaultKind::OneWayPartition,
        FaultKind::Cut,
    ];
}

#[derive(Debug, Default, Clone)]
struct Faults {
    delay: Duration,
    drop: bool,
    partition: bool,
    one_way: Option<Direction>,
    cut_mid_frame: Option<Direction>,
}

#[derive(Debug, Default)]
struct Shared {
    faults: Mutex<Faults>,
    /// Bumped to close every open connection.
    cut_generation: AtomicU64,
    fired: Mutex<HashMap<FaultKind, u64>>,
    /// Bumped on every heal, to reset the connections that lost bytes.
    heal_tx: Mutex<Option<watch::Sender<u64>>>,
    bytes: [AtomicU64; 2],
    connections: AtomicU64,
}

impl Shared {
    fn faults(&self) -> MutexGuard<'_, Faults> {
        self.faults.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn fire(&self, kind: FaultKind) {
        *self
            .fired
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(kind)
            .or_default() += 1;
    }
}

/// A running proxy. Dropping it stops accepting and closes every connection.
#[derive(Debug)]
pub struct FaultProxy {
    addr: SocketAddr,
    shared: Arc<Shared>,
    cut_tx: watch::Sender<u64>,
    accept: JoinHandle<()>,
}

impl FaultProxy {
    /// Listens on a free loopback port and forwards to `upstream`.
    pub async fn start(upstream: SocketAddr) -> std::io::Result<FaultProxy> {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared::default());
        let (cut_tx, cut_rx) = watch::channel(0u64);
        let (heal_tx, heal_rx) = watch::channel(0u64);
        *shared.heal_tx.lock().unwrap_or_else(|p| p.into_inner()) = Some(heal_tx);
        let accept = tokio::spawn(accept_loop(
            listener,
            upstream,
            shared.clone(),
            cut_rx,
            heal_rx,
        ));
        Ok(FaultProxy {
            addr,
            shared,
            cut_tx,
            accept,
        })
    }

    /// The address clients connect to.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn set_delay(&self, delay: Duration) {
        self.shared.faults().delay = delay;
        if !delay.is_zero() {
            self.shared.fire(FaultKind::Delay);
        }
    }

    /// Discards bytes both ways until `heal`.
    pub fn drop_packets(&self) {
        self.shared.faults().drop = true;
        self.shared.fire(FaultKind::Drop);
    }

    /// Nothing passes and new connections are refused until `heal`.
    pub fn partition(&self) {
        self.shared.faults().partition = true;
        self.shared.fire(FaultKind::Partition);
    }

    /// Bytes travelling in `direction` are discarded until `heal`.
    pub fn one_way_partition(&self, direction: Direction) {
        self.shared.faults().one_way = Some(direction);
        self.shared.fire(FaultKind::OneWayPartition);
    }

    /// The next chunk in `direction` is forwarded in part, then its connection is reset.
    pub fn cut_mid_frame(&self, direction: Direction) {
        self.shared.faults().cut_mid_frame = Some(direction);
    }

    /// Closes every open connection now.
    pub fn cut_all(&self) {
        self.shared.cut_generation.fetch_add(1, Ordering::SeqCst);
        self.cut_tx.send_modify(|g| *g += 1);
        self.shared.fire(FaultKind::Cut);
    }

    /// Removes every fault (a pending cut-mid-frame included); connections that lost bytes are
    /// reset.
    pub fn heal(&self) {
        *self.shared.faults() = Faults::default();
        if let Some(tx) = self
            .shared
            .heal_tx
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
        {
            tx.send_modify(|g| *g += 1);
        }
    }

    /// How often each kind of fault fired.
    pub fn fired(&self) -> HashMap<FaultKind, u64> {
        self.shared
            .fired
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Bytes forwarded in a direction.
    pub fn bytes_forwarded(&self, direction: Direction) -> u64 {
        self.shared.bytes[dir_index(direction)].load(Ordering::Relaxed)
    }

    /// Connections accepted so far.
    pub fn connections(&self) -> u64 {
        self.shared.connections.load(Ordering::Relaxed)
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.accept.abort();
        self.cut_tx.send_modify(|g| *g += 1);
    }
}

fn dir_index(d: Direction) -> usize {
    match d {
        Direction::ClientToServer => 0,
        Direction::ServerToClient => 1,
    }
}

async fn accept_loop(
    listener: TcpListener,
    upstream: SocketAddr,
    shared: Arc<Shared>,
    cut_rx: watch::Receiver<u64>,
    heal_rx: watch::Receiver<u64>,
) {
    loop {
        let Ok((client, _)) = listener.accept().await else {
            continue;
        };
        if shared.faults().partition {
            // Refused: the client sees the connection closed at once.
            drop(client);
            continue;
        }
        shared.connections.fetch_add(1, Ordering::Relaxed);
        let shared = shared.clone();
        let cut_rx = cut_rx.clone();
        let mut heal_rx = heal_rx.clone();
        tokio::spawn(async move {
            let Ok(server) = TcpStream::connect(upstream).await else {
                return;
            };
            let _ = client.set_nodelay(true);
            let _ = server.set_nodelay(true);
            let (cr, cw) = client.into_split();
            let (sr, sw) = server.into_split();
            let lost = Arc::new(AtomicBool::new(false));
            let up = pump(
                cr,
                sw,
                Direction::ClientToServer,
                shared.clone(),
                lost.clone(),
            );
            let down = pump(sr, cw, Direction::ServerToClient, shared, lost.clone());
            let mut cut_rx = cut_rx;
            let generation = *cut_rx.borrow_and_update();
            heal_rx.borrow_and_update();
            tokio::select! {
                _ = up => {}
                _ = down => {}
                _ = async { while cut_rx.changed().await.is_ok() && *cut_rx.borrow() == generation {} } => {}
                _ = async { while heal_rx.changed().await.is_ok() && !lost.load(Ordering::SeqCst) {} } => {}
            }
            // Dropping both halves of both sockets closes the connection.
        });
    }
}

/// Forwards one direction until either side closes or a fault ends the connection.
async fn pump(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    direction: Direction,
    shared: Arc<Shared>,
    lost: Arc<AtomicBool>,
) {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let faults = shared.faults().clone();
        if !faults.delay.is_zero() {
            tokio::time::sleep(faults.delay).await;
        }
        if faults.partition
            || faults.drop
            || faults.one_way == Some(direction)
            || lost.load(Ordering::SeqCst)
        {
            // Lost: this connection delivers nothing more and is reset when the fault heals.
            lost.store(true, Ordering::SeqCst);
            continue;
        }
        if faults.cut_mid_frame == Some(direction) {
            shared.faults().cut_mid_frame = None;
            shared.fire(FaultKind::CutMidFrame);
            let part = (n / 2).max(1).min(n);
            let _ = to.write_all(&buf[..part]).await;
            // Reset rather than close cleanly, as a broken link would.
            break;
        }
        if to.write_all(&buf[..n]).await.is_err() {
            break;
        }
        shared.bytes[dir_index(direction)].fetch_add(n as u64, Ordering::Relaxed);
    }
    let _ = to.shutdown().await;
}
