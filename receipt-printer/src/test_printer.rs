//! A printer that lives in the test: it listens on TCP loopback (or on a
//! pseudo-terminal, as a serial printer), decodes what it receives into a
//! [`Printout`], answers `DLE EOT` from a [`Condition`] the test sets (paper
//! out, cover open, offline, silent, bad replies). Used by this crate's
//! tests and available to other crates' tests (e.g. the print queue) and to
//! shop set-up demos.

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
    /// Stop reading (a printer whose buffer is full): writers block and
    /// hit their write timeout.
    pub stalled: bool,
}

impl Default for Condition {
    fn default() -> Self {
        Condition {
            paper: PaperState::Ok,
            cover_open: false,
            error: false,
            answers_status: true,
            reply_override: None,
            stalled: false,
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
    target: String,
    address: Option<SocketAddr>,
    shared: Arc<Mutex<Shared>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

fn lock(shared: &Mutex<Shared>) -> MutexGuard<'_, Shared> {
    shared
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Quiet time after which a serial test printer counts the bytes so far
/// as one job (a serial line has no connection to close).
const SERIAL_JOB_GAP: Duration = Duration::from_millis(150);
/// How long one read waits before the serving loop checks for a stop.
const POLL: Duration = Duration::from_millis(20);

impl TestPrinter {
    /// Listens on 127.0.0.1 on a free port, as a printer of `profile`.
    /// Each connection is one job.
    pub fn start(profile: PrinterProfile) -> io::Result<TestPrinter> {
        let listener = TcpListener::bind(("127.0.0.1", 0))?;
        let address = listener.local_addr()?;
        let shared = Arc::new(Mutex::new(Shared::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
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
                        if stream.set_read_timeout(Some(POLL)).is_err() {
                            continue;
                        }
                        let (shared, stop, profile) =
                            (shared.clone(), stop.clone(), profile.clone());
                        workers.push(std::thread::spawn(move || {
                            serve(stream, &shared, &stop, &profile, None)
                        }));
                    }
                    for worker in workers {
                        let _ = worker.join();
                    }
                })?
        };
        Ok(TestPrinter {
            target: format!("tcp://{address}"),
            address: Some(address),
            shared,
            stop,
            thread: Some(thread),
        })
    }

    /// A serial printer on a pseudo-terminal: the driver opens the
    /// terminal's device path as it would `/dev/ttyUSB0`. Bytes followed by
    /// a quiet gap of 150 ms count as one job.
    #[cfg(unix)]
    pub fn start_serial(profile: PrinterProfile) -> io::Result<TestPrinter> {
        use serialport::SerialPort;

        let (mut master, slave) = serialport::TTYPort::pair().map_err(io::Error::other)?;
        let path = slave
            .name()
            .ok_or_else(|| io::Error::other("pseudo-terminal without a device path"))?;
        master.set_timeout(POLL).map_err(io::Error::other)?;
        let shared = Arc::new(Mutex::new(Shared::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (shared, stop) = (shared.clone(), stop.clone());
            std::thread::Builder::new()
                .name("test-printer-serial".into())
                .spawn(move || {
                    // the slave end stays open so the terminal never hangs up
                    let _slave = slave;
                    serve(&mut master, &shared, &stop, &profile, Some(SERIAL_JOB_GAP));
                })?
        };
        Ok(TestPrinter {
            target: format!("serial:{path}@9600"),
            address: None,
            shared,
            stop,
            thread: Some(thread),
        })
    }

    /// Where a TCP test printer listens (`None` for a serial one).
    pub fn address(&self) -> Option<SocketAddr> {
        self.address
    }

    /// Its address as a target: `tcp://127.0.0.1:PORT` or `serial:/dev/pts/N@9600`.
    pub fn target(&self) -> String {
        self.target.clone()
    }

    /// Changes what it reports from now on.
    pub fn set_condition(&self, condition: Condition) {
        lock(&self.shared).condition = condition;
    }

    /// Jobs (connections, or quiet-separated bursts on serial) so far.
    pub fn jobs(&self) -> Vec<ReceivedJob> {
        lock(&self.shared).jobs.clone()
    }

    /// Jobs that printed something, waiting up to `timeout` until there are
    /// at least `count`.
    pub fn wait_for_printed(&self, count: usize, timeout: Duration) -> Vec<ReceivedJob> {
        let printed = |jobs: Vec<ReceivedJob>| -> Vec<ReceivedJob> {
            jobs.into_iter()
                .filter(ReceivedJob::printed_anything)
                .collect()
        };
        self.wait_until(
            timeout,
            |jobs| printed(jobs.to_vec()).len() >= count,
            printed,
        )
    }

    /// All jobs, waiting up to `timeout` until there are at least `count`.
    pub fn wait_for_connections(&self, count: usize, timeout: Duration) -> Vec<ReceivedJob> {
        self.wait_until(timeout, |jobs| jobs.len() >= count, |jobs| jobs)
    }

    fn wait_until(
        &self,
        timeout: Duration,
        done: impl Fn(&[ReceivedJob]) -> bool,
        pick: impl Fn(Vec<ReceivedJob>) -> Vec<ReceivedJob>,
    ) -> Vec<ReceivedJob> {
        let deadline = Instant::now() + timeout;
        loop {
            let jobs = self.jobs();
            if done(&jobs) || Instant::now() >= deadline {
                return pick(jobs);
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for TestPrinter {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(address) = self.address {
            // wake the acceptor
            let _ = TcpStream::connect_timeout(&address, Duration::from_millis(200));
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// One job being received.
#[derive(Default)]
struct Reception {
    received: Vec<u8>,
    parsed_to: usize,
    commands: Vec<Command>,
    error: Option<String>,
}

impl Reception {
    fn finish(self, shared: &Mutex<Shared>, profile: &PrinterProfile) {
        let mut error = self.error;
        if error.is_none() && self.parsed_to < self.received.len() {
            error = Some(format!(
                "job ends inside a command at byte {}",
                self.parsed_to
            ));
        }
        let printout = Printout::from_commands(&self.commands, profile);
        lock(shared).jobs.push(ReceivedJob {
            bytes: self.received,
            printout,
            error,
        });
    }
}

/// Reads `link` until it closes (or `stop`), answering status requests as
/// they arrive. With `job_gap`, a quiet gap ends a job (serial lines).
fn serve<L: Read + Write>(
    mut link: L,
    shared: &Mutex<Shared>,
    stop: &AtomicBool,
    profile: &PrinterProfile,
    job_gap: Option<Duration>,
) {
    let mut job = Reception::default();
    let mut last_byte = Instant::now();
    let mut chunk = [0u8; 4096];
    loop {
        if lock(shared).condition.stalled {
            if stop.load(Ordering::SeqCst) {
                break;
            }
            std::thread::sleep(POLL);
            continue;
        }
        match link.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => {
                job.received.extend_from_slice(&chunk[..n]);
                last_byte = Instant::now();
            }
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                if stop.load(Ordering::SeqCst) {
                    break;
                }
                let quiet = job_gap.is_some_and(|gap| last_byte.elapsed() >= gap);
                if quiet && !job.received.is_empty() {
                    std::mem::take(&mut job).finish(shared, profile);
                }
                continue;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(_) if job_gap.is_some() && !stop.load(Ordering::SeqCst) => {
                // a pseudo-terminal reports EIO while no one has it open
                std::thread::sleep(POLL);
                continue;
            }
            Err(_) => break,
        }
        while job.error.is_none() && job.parsed_to < job.received.len() {
            match parse_one(&job.received[job.parsed_to..], job.parsed_to) {
                Ok(Some((command, used))) => {
                    job.parsed_to += used;
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
                        if !reply.is_empty() {
                            let _ = link.write_all(&reply).and_then(|()| link.flush());
                        }
                    }
                    job.commands.push(command);
                }
                Ok(None) => break,
                Err(e) => job.error = Some(e.to_string()),
            }
        }
    }
    if !job.received.is_empty() || job_gap.is_none() {
        job.finish(shared, profile);
    }
}
