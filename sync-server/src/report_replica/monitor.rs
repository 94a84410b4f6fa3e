//! The replica's lag, measured: at each check the primary's WAL position and clock, then the
//! replica's replayed position and last replayed commit ([`super::lag`]), and from them the
//! source of the reports. One connection to the primary of its own, so that a busy pool does
//! not delay the measure.

use std::str::FromStr;
use std::sync::Mutex;
use std::time::Duration;

use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use super::lag::{LagTracker, ReplicaPosition};
use super::{FallbackReason, ReportSource};
use crate::config::Config;
use crate::error::{Error, Result};

/// The primary's WAL position (bytes) and clock (unix ms).
const PRIMARY_SQL: &str = "SELECT (pg_current_wal_lsn() - '0/0'::pg_lsn)::bigint, \
     (extract(epoch FROM clock_timestamp()) * 1000)::bigint";

/// Whether the replica is a standby, how far it has replayed (bytes), the commit time of the
/// last transaction it replayed (unix ms) and whether replay is paused.
const REPLICA_SQL: &str = "SELECT pg_is_in_recovery(), \
     (pg_last_wal_replay_lsn() - '0/0'::pg_lsn)::bigint, \
     (extract(epoch FROM pg_last_xact_replay_timestamp()) * 1000)::bigint, \
     CASE WHEN pg_is_in_recovery() THEN pg_is_wal_replay_paused() ELSE false END";

/// How long one side may take to answer a check.
const CHECK_TIMEOUT: Duration = Duration::from_secs(5);

/// Measures the replica against the primary.
#[derive(Debug)]
pub(super) struct Monitor {
    primary: PgPool,
    tracker: Mutex<LagTracker>,
    max_lag: Duration,
    interval: Duration,
}

impl Monitor {
    /// A monitor of the primary at `primary_url` (connected when first used).
    pub(super) fn new(primary_url: &str, config: &Config) -> Result<Self> {
        let opts = PgConnectOptions::from_str(primary_url)
            .map_err(|e| Error::Config(format!("invalid database URL: {e}")))?;
        let primary = PgPoolOptions::new()
            .max_connections(1)
            .acquire_timeout(CHECK_TIMEOUT)
            .connect_lazy_with(opts);
        let max_lag = Duration::from_secs(config.report_replica_max_lag_secs);
        Ok(Self {
            primary,
            tracker: Mutex::new(LagTracker::new(max_lag * 2)),
            max_lag,
            interval: Duration::from_millis(config.report_replica_check_ms),
        })
    }

    pub(super) fn interval(&self) -> Duration {
        self.interval
    }

    /// One check: the source the reports should read from now, and whether the replica's
    /// replay is paused.
    pub(super) async fn check(&self, replica: &PgPool) -> (ReportSource, bool) {
        let primary = tokio::time::timeout(
            CHECK_TIMEOUT,
            sqlx::query_as::<_, (i64, i64)>(PRIMARY_SQL).fetch_one(&self.primary),
        )
        .await;
        match primary {
            Ok(Ok((lsn, at_ms))) => super::lock(&self.tracker).record(at_ms, lsn),
            // The primary answers the reports either way; say why the replica is not used.
            Ok(Err(e)) => return (unreachable(format!("the primary: {e}")), false),
            Err(_) => return (unreachable("the primary: no answer".into()), false),
        }
        let replica = tokio::time::timeout(CHECK_TIMEOUT, replica_position(replica)).await;
        let (in_recovery, position, paused) = match replica {
            Ok(Ok(v)) => v,
            Ok(Err(e)) => return (unreachable(e.to_string()), false),
            Err(_) => return (unreachable("no answer".into()), false),
        };
        if !in_recovery {
            return (ReportSource::Fallback(FallbackReason::NotStandby), false);
        }
        let behind = position.and_then(|p| super::lock(&self.tracker).behind(p));
        (decide(behind, self.max_lag), paused)
    }
}

/// The source for a replica `behind` (unknown: `None`) with the bound `max_lag`.
fn decide(behind: Option<Duration>, max_lag: Duration) -> ReportSource {
    match behind {
        None => ReportSource::Fallback(FallbackReason::LagUnknown),
        Some(d) if d > max_lag => ReportSource::Fallback(FallbackReason::TooFarBehind(d)),
        Some(behind) => ReportSource::Replica { behind },
    }
}

fn unreachable(why: String) -> ReportSource {
    ReportSource::Fallback(FallbackReason::Unreachable(why))
}

/// Whether `replica` is in recovery, its position, and whether its replay is paused.
async fn replica_position(replica: &PgPool) -> Result<(bool, Option<ReplicaPosition>, bool)> {
    let row: (bool, Option<i64>, Option<i64>, bool) =
        sqlx::query_as(REPLICA_SQL).fetch_one(replica).await?;
    Ok((
        row.0,
        row.1.map(|replay_lsn| ReplicaPosition {
            replay_lsn,
            replayed_commit_ms: row.2,
        }),
        row.3,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn within_the_bound_the_replica_answers_beyond_it_the_primary() {
        let max = Duration::from_secs(60);
        assert_eq!(
            decide(Some(Duration::from_secs(3)), max),
            ReportSource::Replica {
                behind: Duration::from_secs(3)
            }
        );
        assert_eq!(
            decide(Some(max), max),
            ReportSource::Replica { behind: max }
        );
        assert_eq!(
            decide(Some(Duration::from_secs(61)), max),
            ReportSource::Fallback(FallbackReason::TooFarBehind(Duration::from_secs(61)))
        );
        assert_eq!(
            decide(None, max),
            ReportSource::Fallback(FallbackReason::LagUnknown)
        );
    }
}
