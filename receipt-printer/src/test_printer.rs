//! A printer that lives in the test: it listens on TCP loopback, decodes
//! what it receives into a [`Printout`], answers `DLE EOT` from a
//! [`Condition`] the test sets (paper out, cover open, offline, silent, bad
//! replies). Used by this crate's tests and available to other crates'
//! tests (e.g. the print queue) and to shop set-up demos.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::decode::{Command, parse_one};
use crate::printout::Printout;
use crate::profile::PrinterProfile;
use crate::status::PaperState;

/// The state the test printer reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Condition {
    /// Roll paper sensor.
    pub paper: PaperState,
    /// Cover open.
    pub cover_open: bool,
    /// Offline for an error (e.g. cutter jam) with paper and cover fine.
    pub error: bool,
    /// Answer `DLE EOT` at all.
    pub answers_status: bool,
    /// Answer every `DLE EOT` with these bytes instead (bad replies).
    pub reply_override: Option<Vec<u8>>,
}

impl Default for Condition {
    fn default() -> Self {
        Condition {
            paper: PaperState::Ok,
            cover_open: false,
            error: false,
            answers_status: true,
            reply_override: None,
        }
    }
}

impl Condition {
    /// Ready to print.
    pub fn ready() -> Condition {
        Condition::default()
    }

    /// Out of paper (and therefore offline).
    pub fn paper_out() -> Condition {
        Condition {
            paper: PaperState::Out,
            ..Condition::default()
        }
    }

    /// Offline because of an error, paper and cover fine.
    pub fn offline() -> Condition {
        Condition {
            error: true,
            ..Condition::default()
        }
    }

    /// The byte this condition answers `DLE EOT n` with (Epson layout).
    pub fn status_byte(&self, n: u8) -> u8 {
        let bit = |on: bool, b: u8| if on { 1 << b } else { 0 };
        let paper_out = self.paper == PaperState::Out;
        let near_end = matches!(self.paper, PaperState::NearEnd | PaperState::Out);
        0x12 | match n {
            1 => bit(paper_out || self.cover_open || self.error, 3),
            2 => bit(self.cover_open, 2) | bit(paper_out, 5) | bit(self.error, 6),
            4 => bit(near_end, 2) | bit(near_end, 3) | bit(paper_out, 5) | bit(paper_out, 6),
            _ => 0,
        }
    }
}

/// What one connection sent.
#[derive(Debug, Clone)]
pub struct ReceivedJob {
    /// Every byte received.
    pub bytes: Vec<u8>,
    /// What was printed (empty if decoding failed).
    pub printout: Printout,
    /// Why decoding failed: unknown or malformed commands.
    pub error: Option<String>,
}

impl ReceivedJob {
    /// True if the connection sent anything besides status requests.
    pub fn printed_anything(&self) -> bool {
        !self.printout.items.is_empty()
    }
}

#[derive(Debug, Default)]
struct Shared {
    condition: Condition,
    jobs: Vec<ReceivedJob>,
}

/// A running test printer. Stops when dropped.
#[derive(Debug)]
pub struct TestPrinter {
    address: SocketAddr,
    shared: Arc<Mutex<Shared>>,
    stop: Arc<AtomicBool>,
    acceptor: Option<JoinHandle<()>>,
}

fn lock(shared: &Mutex<Shared>) -> MutexGuard<'_, Shared> {
    shared
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl TestPrinter {
    /// Listens on 127.0.0.1 on a free port, as a printer of `profile`.
    pub fn start(profile: PrinterProfile) -> io::Result<TestPrinter> {
        let listener = TcpListener::bind(("127.0.0.1", 0))?;
        let address = listener.local_addr()?;
        let shared = Arc::new(Mutex::new(Shared::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let acceptor = {
            let (shared, stop) = (shared.clone(), stop.clone());
            std::thread::Builder::new()
                .name("test-printer".into())
                .spawn(move || {
                    let mut workers = Vec::new();
                    for stream in listener.incoming() {
                        if stop.load(Ordering::SeqCst) {
                            break;
                        }
                        let Ok(stream) = stream else { continue };
                        let (shared, stop, profile) =
                            (shared.clone(), stop.clone(), profile.clone());
                        workers.push(std::thread::spawn(move || {
                            serve(stream, &shared, &stop, &profile)
                        }));
                    }
                    for worker in workers {
                        let _ = worker.join();
                    }
                })?
        };
        Ok(TestPrinter {
            address,
            shared,
            stop,
            acceptor: Some(acceptor),
        })
    }

    /// Where it listens.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// Its address as a `tcp://` target.
    pub fn target(&self) -> String {
        format!("tcp://{}", self.address)
    }

    /// Changes what it reports from now on.
    pub fn set_condition(&self, condition: Condition) {
        lock(&self.shared).condition = condition;
    }

    /// Connections that ended so far.
    pub fn jobs(&self) -> Vec<ReceivedJob> {
        lock(&self.shared).jobs.clone()
    }

    /// Connections that printed something, waiting up to `timeout` until
    /// there are at least `count`.
    pub fn wait_for_printed(&self, count: usize, timeout: Duration) -> Vec<ReceivedJob> {
        let deadline = Instant::now() + timeout;
        loop {
            let printed: Vec<ReceivedJob> = self
                .jobs()
                .into_iter()
                .filter(ReceivedJob::printed_anything)
                .collect();
            if printed.len() >= count || Instant::now() >= deadline {
                return printed;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl TestPrinter {
    /// All finished connections, waiting up to `timeout` until there are at
    /// least `count`.
    pub fn wait_for_connections(&self, count: usize, timeout: Duration) -> Vec<ReceivedJob> {
        let deadline = Instant::now() + timeout;
        loop {
            let jobs = self.jobs();
            if jobs.len() >= count || Instant::now() >= deadline {
                return jobs;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for TestPrinter {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // wake the acceptor
        let _ = TcpStream::connect_timeout(&self.address, Duration::from_millis(200));
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
    }
}

fn serve(
    mut stream: TcpStream,
    shared: &Mutex<Shared>,
    stop: &AtomicBool,
    profile: &PrinterProfile,
) {
    let _ = stream.set_read_timeout(Some(Duration::from_millis(20)));
    let mut received = Vec::new();
    let mut parsed_to = 0;
    let mut commands = Vec::new();
    let mut error = None;
    let mut chunk = [0u8; 4096];
    loop {
        match stream.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => received.extend_from_slice(&chunk[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                if stop.load(Ordering::SeqCst) {
                    break;
                }
                continue;
            }
            Err(_) => break,
        }
        while error.is_none() && parsed_to < received.len() {
            match parse_one(&received[parsed_to..], parsed_to) {
                Ok(Some((command, used))) => {
                    parsed_to += used;
                    if let Command::StatusRequest(n) = command {
                        let reply = {
                            let s = lock(shared);
                            let c = &s.condition;
                            match (&c.reply_override, c.answers_status) {
                                (Some(bytes), _) => bytes.clone(),
                                (None, true) => vec![c.status_byte(n)],
                                (None, false) => Vec::new(),
                            }
                        };
                        if !reply.is_empty() && stream.write_all(&reply).is_err() {
                            break;
                        }
                    }
                    commands.push(command);
                }
                Ok(None) => break,
                Err(e) => error = Some(e.to_string()),
            }
        }
    }
    if error.is_none() && parsed_to < received.len() {
        error = Some(format!(
            "connection closed inside a command at byte {parsed_to}"
        ));
    }
    let printout = Printout::from_commands(&commands, profile);
    lock(shared).jobs.push(ReceivedJob {
        bytes: received,
        printout,
        error,
    });
}
