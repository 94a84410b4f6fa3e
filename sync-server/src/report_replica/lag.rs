//! How far a streaming replica is behind its primary, from what each side says about its WAL:
//! pure arithmetic over the primary's recent positions, tested without a database.
//!
//! The replica says how far it has replayed (`pg_last_wal_replay_lsn()`) and the commit time of
//! the last transaction it replayed (`pg_last_xact_replay_timestamp()`). That time alone
//! overstates the lag of a quiet shop (after an hour without sales, the first sale's few
//! milliseconds of replay would read as an hour), so the server also remembers where the
//! primary's WAL was at each of its recent checks: the replica holds everything the primary
//! had at the last check whose position it has replayed. The lag is at most the smaller of the
//! two ages, and zero once the replica has replayed what the primary had at this check.

use std::collections::VecDeque;
use std::time::Duration;

/// Where the primary's WAL was (a byte position) at a time of its clock (unix ms).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Sample {
    at_ms: i64,
    lsn: i64,
}

/// What the replica said at one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplicaPosition {
    /// Bytes of WAL replayed.
    pub replay_lsn: i64,
    /// Commit time (unix ms, the primary's clock) of the last transaction replayed; none
    /// before the first since the standby started.
    pub replayed_commit_ms: Option<i64>,
}

/// The primary's recent WAL positions, enough to bound a lag up to `keep`.
#[derive(Debug)]
pub struct LagTracker {
    samples: VecDeque<Sample>,
    keep_ms: i64,
}

impl LagTracker {
    /// Keeps the positions of the last `keep` (twice the largest lag that matters is enough).
    pub fn new(keep: Duration) -> Self {
        Self {
            samples: VecDeque::new(),
            keep_ms: i64::try_from(keep.as_millis()).unwrap_or(i64::MAX),
        }
    }

    /// The primary's WAL was at `lsn` at `at_ms` (its clock).
    pub fn record(&mut self, at_ms: i64, lsn: i64) {
        self.samples.push_back(Sample { at_ms, lsn });
        while self.samples.len() > 2
            && self
                .samples
                .front()
                .is_some_and(|s| at_ms.saturating_sub(s.at_ms) > self.keep_ms)
        {
            self.samples.pop_front();
        }
    }

    /// How far behind `replica` is at the latest recorded check: zero when it has replayed
    /// everything the primary had then, else the smaller of the age of the last replayed
    /// commit and the age of the last check whose position it has reached; `None` when
    /// neither is known (nothing recorded, or no replayed commit and no check old enough).
    pub fn behind(&self, replica: ReplicaPosition) -> Option<Duration> {
        let now = self.samples.back()?;
        if replica.replay_lsn >= now.lsn {
            return Some(Duration::ZERO);
        }
        let since_check = self
            .samples
            .iter()
            .rev()
            .find(|s| s.lsn <= replica.replay_lsn)
            .map(|s| now.at_ms - s.at_ms);
        let since_commit = replica.replayed_commit_ms.map(|c| now.at_ms - c);
        let ms = match (since_check, since_commit) {
            (Some(a), Some(b)) => a.min(b),
            (Some(a), None) | (None, Some(a)) => a,
            (None, None) => return None,
        };
        Some(Duration::from_millis(u64::try_from(ms).unwrap_or(0)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(replay_lsn: i64, replayed_commit_ms: Option<i64>) -> ReplicaPosition {
        ReplicaPosition {
            replay_lsn,
            replayed_commit_ms,
        }
    }

    #[test]
    fn caught_up_is_zero_whatever_the_last_commit() {
        let mut t = LagTracker::new(Duration::from_secs(120));
        t.record(1_000, 500);
        assert_eq!(t.behind(at(500, Some(0))), Some(Duration::ZERO));
        assert_eq!(t.behind(at(600, None)), Some(Duration::ZERO));
    }

    #[test]
    fn a_quiet_shop_is_not_an_hour_behind_after_one_sale() {
        let mut t = LagTracker::new(Duration::from_secs(120));
        // No sale for an hour; the replica had everything at the check a second ago.
        t.record(3_600_000, 500);
        t.record(3_601_000, 700);
        let lag = t.behind(at(500, Some(0))).unwrap();
        assert_eq!(lag, Duration::from_secs(1));
    }

    #[test]
    fn a_busy_shop_is_behind_by_its_last_replayed_commit() {
        let mut t = LagTracker::new(Duration::from_secs(120));
        t.record(10_000, 100);
        t.record(11_000, 200);
        t.record(12_000, 300);
        // Replayed up to 250, whose last commit was at 11_800: 200 ms behind, not a second.
        assert_eq!(
            t.behind(at(250, Some(11_800))),
            Some(Duration::from_millis(200))
        );
    }

    #[test]
    fn a_paused_replica_falls_further_behind_each_check() {
        let mut t = LagTracker::new(Duration::from_secs(120));
        t.record(0, 100);
        let mut last = Duration::ZERO;
        for i in 1..=30 {
            t.record(i * 1_000, 100 + i);
            let lag = t.behind(at(100, Some(-5_000))).unwrap();
            assert!(lag > last, "{lag:?} after {last:?}");
            assert_eq!(lag, Duration::from_secs(i as u64));
            last = lag;
        }
    }

    #[test]
    fn unknown_when_nothing_bounds_it() {
        let t = LagTracker::new(Duration::from_secs(120));
        assert_eq!(t.behind(at(0, None)), None, "no check yet");
        let mut t = LagTracker::new(Duration::from_secs(120));
        t.record(1_000, 500);
        assert_eq!(t.behind(at(400, None)), None, "older than every check");
        assert_eq!(
            t.behind(at(400, Some(400))),
            Some(Duration::from_millis(600))
        );
    }

    #[test]
    fn old_checks_are_forgotten_so_a_long_stall_stays_unbounded() {
        let mut t = LagTracker::new(Duration::from_secs(10));
        t.record(0, 100);
        for i in 1..=60 {
            t.record(i * 1_000, 100 + i);
        }
        assert!(t.samples.len() <= 12, "{}", t.samples.len());
        assert_eq!(t.behind(at(100, None)), None);
        // The replayed commit still bounds it: a minute.
        assert_eq!(t.behind(at(100, Some(0))), Some(Duration::from_secs(60)));
    }
}
