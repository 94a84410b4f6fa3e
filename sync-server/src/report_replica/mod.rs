//! Reports on a PostgreSQL streaming replica (issue 17, "past one database"): with
//! `report_replica_url` set, the report reads ([`ReportStorage`], [`DetailReportStorage`]: the
//! dashboard's report pages, the reports API, the CSV exports) run on a hot standby of the
//! database while it keeps up, and every write, access check and read that must see its own
//! writes stays on the primary.
//!
//! [`ReportReads`] is what the report use-cases read through: it sends a read to the replica
//! while the [`monitor`] last found it reachable and at most `report_replica_max_lag_secs`
//! behind ([`lag`]), and to the primary otherwise; a read the replica fails is asked again of
//! the primary at once, and the replica is left alone until the next check finds it well. Each
//! change of source is logged, and `/metrics` tells the source, the lag and the fallbacks
//! ([`ReportReads::metrics`]). The dashboard's report pages tell the owner while the figures
//! are behind ([`ReportReads::source`]).

pub mod lag;
mod monitor;
mod reads;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::future::BoxFuture;

use crate::config::Config;
use crate::error::{Error, Result};
use crate::storage::{DynStorage, PgStorage, Storage};

/// How long a report read waits for a replica connection before the primary answers instead.
const REPLICA_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(3);

/// Where report reads go now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReportSource {
    /// No replica is configured: the primary.
    Primary,
    /// The replica, this far behind the primary at the last check (zero when caught up).
    Replica { behind: Duration },
    /// A replica is configured but the primary answers, for this reason.
    Fallback(FallbackReason),
}

impl ReportSource {
    /// Whole seconds the figures read now are behind the primary (zero on the primary).
    pub fn behind_secs(&self) -> u64 {
        match self {
            ReportSource::Replica { behind } => behind.as_secs(),
            _ => 0,
        }
    }
}

/// Why the primary answers the reports although a replica is configured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FallbackReason {
    /// The server has not checked the replica yet.
    NotCheckedYet,
    /// The replica could not be reached or failed a read (the error, for the log).
    Unreachable(String),
    /// The replica is not a standby (not in recovery): it is not following the primary.
    NotStandby,
    /// Further behind than the bound.
    TooFarBehind(Duration),
    /// Its lag cannot be bounded (no replayed commit, older than every check remembered).
    LagUnknown,
}

impl std::fmt::Display for FallbackReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FallbackReason::NotCheckedYet => f.write_str("not checked yet"),
            FallbackReason::Unreachable(e) => write!(f, "unreachable: {e}"),
            FallbackReason::NotStandby => f.write_str("it is not a standby (not in recovery)"),
            FallbackReason::TooFarBehind(d) => write!(f, "{} s behind", d.as_secs()),
            FallbackReason::LagUnknown => f.write_str("its lag cannot be told"),
        }
    }
}

/// Refuses bounds that cannot work: a check more often than every 100 ms, a zero lag bound.
pub fn check(config: &Config) -> Result<()> {
    if config.report_replica_check_ms < 100 {
        return Err(Error::Config(
            "report_replica_check_ms must be at least 100".into(),
        ));
    }
    if config.report_replica_max_lag_secs == 0 {
        return Err(Error::Config(
            "report_replica_max_lag_secs must be at least 1".into(),
        ));
    }
    Ok(())
}

/// A configured replica: its storage, the monitor's view of it and counters for `/metrics`.
#[derive(Debug)]
struct Replica {
    storage: Arc<PgStorage>,
    monitor: monitor::Monitor,
    source: Mutex<ReportSource>,
    replay_paused: std::sync::atomic::AtomicBool,
    /// Reads the primary answered because the replica failed them.
    read_fallbacks: AtomicU64,
    /// Changes of source from the replica to the primary.
    fallbacks: AtomicU64,
}

/// The report reads: on the replica while it keeps up, else on the primary.
#[derive(Debug)]
pub struct ReportReads {
    primary: DynStorage,
    replica: Option<Replica>,
    reads_primary: AtomicU64,
    reads_replica: AtomicU64,
}

impl ReportReads {
    /// Report reads over `primary`, and over the replica of `config.report_replica_url` when
    /// set: then `primary` must be PostgreSQL (`database_url`), else a configuration error. The
    /// replica is connected when first used; one that is down at start-up only sends the
    /// reports to the primary.
    pub fn new(primary: DynStorage, config: &Config) -> Result<Arc<Self>> {
        let replica = match &config.report_replica_url {
            None => None,
            Some(url) => {
                let primary_url = match (&config.database_url, primary.backend()) {
                    (Some(u), "postgres") => u,
                    _ => {
                        return Err(Error::Config(
                            "report_replica_url needs the PostgreSQL backend: set database_url \
                             to the primary (the embedded SQLite store has no replicas)"
                                .into(),
                        ));
                    }
                };
                check(config)?;
                let storage = PgStorage::connect_lazy(
                    url.expose(),
                    config.database_max_connections,
                    REPLICA_ACQUIRE_TIMEOUT,
                )
                .map_err(|e| Error::Config(format!("report_replica_url: {e}")))?;
                Some(Replica {
                    storage: Arc::new(storage),
                    monitor: monitor::Monitor::new(primary_url.expose(), config)?,
                    source: Mutex::new(ReportSource::Fallback(FallbackReason::NotCheckedYet)),
                    replay_paused: Default::default(),
                    read_fallbacks: AtomicU64::new(0),
                    fallbacks: AtomicU64::new(0),
                })
            }
        };
        Ok(Arc::new(Self {
            primary,
            replica,
            reads_primary: AtomicU64::new(0),
            reads_replica: AtomicU64::new(0),
        }))
    }

    /// Where report reads go now.
    pub fn source(&self) -> ReportSource {
        match &self.replica {
            None => ReportSource::Primary,
            Some(r) => lock(&r.source).clone(),
        }
    }

    /// Measures the replica's lag every `report_replica_check_ms` and chooses the source, until
    /// the process ends; returns at once without a replica.
    pub async fn run(self: Arc<Self>) {
        let Some(replica) = &self.replica else {
            return;
        };
        let mut tick = tokio::time::interval(replica.monitor.interval());
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let (next, paused) = replica.monitor.check(replica.storage.pool()).await;
            replica.replay_paused.store(paused, Ordering::Relaxed);
            self.switch(replica, next);
        }
    }

    /// Sets the source, logging a change between the replica and the primary.
    fn switch(&self, replica: &Replica, next: ReportSource) {
        let mut source = lock(&replica.source);
        match (&*source, &next) {
            (ReportSource::Replica { .. }, ReportSource::Fallback(why)) => {
                replica.fallbacks.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(reason = %why, "report replica left: reports read from the primary");
            }
            (
                ReportSource::Fallback(FallbackReason::NotCheckedYet),
                ReportSource::Fallback(why),
            ) => {
                tracing::warn!(reason = %why, "report replica not usable: reports read from the primary");
            }
            (ReportSource::Fallback(a), ReportSource::Fallback(b))
                if std::mem::discriminant(a) != std::mem::discriminant(b) =>
            {
                tracing::warn!(reason = %b, "report replica still not usable");
            }
            (ReportSource::Fallback(_), ReportSource::Replica { behind }) => {
                tracing::info!(
                    behind_ms = behind.as_millis() as u64,
                    "report replica in use: reports read from it"
                );
            }
            _ => {}
        }
        *source = next;
    }

    /// Runs `read` on the replica when it is in use, else (or when it fails there) on the
    /// primary.
    fn read<'a, T: Send + 'a>(
        &'a self,
        read: impl Fn(&'a dyn Storage) -> BoxFuture<'a, Result<T>> + Send + 'a,
    ) -> BoxFuture<'a, Result<T>> {
        Box::pin(async move {
            let in_use = self
                .replica
                .as_ref()
                .filter(|r| matches!(*lock(&r.source), ReportSource::Replica { .. }));
            if let Some(r) = in_use {
                match read(&*r.storage as &dyn Storage).await {
                    Ok(v) => {
                        self.reads_replica.fetch_add(1, Ordering::Relaxed);
                        return Ok(v);
                    }
                    Err(e) => {
                        r.read_fallbacks.fetch_add(1, Ordering::Relaxed);
                        tracing::warn!(error = %e, "report read failed on the replica; asking the primary");
                        self.switch(
                            r,
                            ReportSource::Fallback(FallbackReason::Unreachable(e.to_string())),
                        );
                    }
                }
            }
            self.reads_primary.fetch_add(1, Ordering::Relaxed);
            read(&*self.primary).await
        })
    }

    /// The report source's lines of `/metrics` (Prometheus text format).
    pub fn metrics(&self) -> String {
        let mut out = format!(
            "# TYPE snapkasir_report_reads_total counter\n\
             snapkasir_report_reads_total{{source=\"primary\"}} {}\n\
             snapkasir_report_reads_total{{source=\"replica\"}} {}\n",
            self.reads_primary.load(Ordering::Relaxed),
            self.reads_replica.load(Ordering::Relaxed),
        );
        if let Some(r) = &self.replica {
            let source = lock(&r.source).clone();
            let (in_use, lag) = match &source {
                ReportSource::Replica { behind } => (1, behind.as_secs_f64()),
                ReportSource::Fallback(FallbackReason::TooFarBehind(d)) => (0, d.as_secs_f64()),
                _ => (0, f64::NAN),
            };
            out += &format!(
                "# TYPE snapkasir_report_replica_in_use gauge\nsnapkasir_report_replica_in_use {in_use}\n\
                 # TYPE snapkasir_report_replica_lag_seconds gauge\nsnapkasir_report_replica_lag_seconds {lag:.3}\n\
                 # TYPE snapkasir_report_replica_replay_paused gauge\nsnapkasir_report_replica_replay_paused {}\n\
                 # TYPE snapkasir_report_replica_fallbacks_total counter\nsnapkasir_report_replica_fallbacks_total {}\n\
                 # TYPE snapkasir_report_replica_read_fallbacks_total counter\nsnapkasir_report_replica_read_fallbacks_total {}\n",
                u8::from(r.replay_paused.load(Ordering::Relaxed)),
                r.fallbacks.load(Ordering::Relaxed),
                r.read_fallbacks.load(Ordering::Relaxed),
            );
        }
        out
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Secret;
    use crate::storage::SqliteStorage;

    #[tokio::test]
    async fn a_replica_needs_the_postgresql_backend() {
        let dir = tempfile::tempdir().unwrap();
        let sqlite: DynStorage = Arc::new(SqliteStorage::open(dir.path()).await.unwrap());
        let mut config = Config {
            report_replica_url: Some(Secret::new("postgres://127.0.0.1:1/x")),
            ..Config::default()
        };
        let e = ReportReads::new(sqlite.clone(), &config).unwrap_err();
        assert!(e.to_string().contains("PostgreSQL backend"), "{e}");
        config.report_replica_url = None;
        let reads = ReportReads::new(sqlite, &config).unwrap();
        assert_eq!(reads.source(), ReportSource::Primary);
        assert!(!reads.metrics().contains("replica_in_use"));
    }

    #[test]
    fn bounds_that_cannot_work_are_refused() {
        let mut config = Config::default();
        check(&config).unwrap();
        config.report_replica_check_ms = 10;
        assert!(check(&config).is_err());
        config.report_replica_check_ms = 1000;
        config.report_replica_max_lag_secs = 0;
        assert!(check(&config).is_err());
    }
}
