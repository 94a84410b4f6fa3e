//! Inbound budget per tenant: every tenant's connections together may send so many bytes and
//! frames per second. Per-connection limits (ws.rs) stop one connection from flooding, but a
//! tenant can open many; without a budget per tenant, one abusive tenant would take the CPU
//! that validates frames, the chunk writer and the database from every other tenant.
//!
//! A tenant over its budget is slowed, not cut off: its connections wait before their next
//! frame is read, so TCP pushes back on the sender and a busy but honest tenant (a hundred tills
//! resyncing after an outage) only syncs more slowly. The budget is a token bucket that may go
//! into debt: a frame is let through at once and its sender then waits until the debt is repaid,
//! so a frame as large as the burst never waits forever.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Debug)]
struct Bucket {
    bytes: f64,
    frames: f64,
    last: Instant,
}

/// The tenants' inbound budgets of one instance.
#[derive(Debug)]
pub struct TenantThrottle {
    byte_rate: f64,
    byte_burst: f64,
    frame_rate: f64,
    frame_burst: f64,
    buckets: Mutex<HashMap<String, Bucket>>,
}

impl TenantThrottle {
    /// Budgets of `byte_rate` bytes and `frame_rate` frames per second per tenant, with bursts
    /// of one second's worth (at least `max_frame` bytes). A rate of 0 or less: no budget.
    pub fn new(byte_rate: f64, frame_rate: f64, max_frame: usize) -> Self {
        Self {
            byte_rate,
            byte_burst: byte_rate.max(max_frame as f64),
            frame_rate,
            frame_burst: frame_rate,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one frame of `len` bytes from `tenant`'s budget and returns how long its sender
    /// must wait before reading the next one (zero within budget).
    pub fn charge(&self, tenant: &str, len: usize) -> Duration {
        let now = Instant::now();
        let mut buckets = self.buckets.lock().expect("throttle lock");
        if buckets.len() > 100_000 {
            // Forget idle tenants (a full bucket is the same as none).
            buckets.retain(|_, b| now.duration_since(b.last) < Duration::from_secs(60));
        }
        let b = buckets.entry(tenant.to_string()).or_insert(Bucket {
            bytes: self.byte_burst,
            frames: self.frame_burst,
            last: now,
        });
        let dt = now.duration_since(b.last).as_secs_f64();
        b.last = now;
        let mut wait: f64 = 0.0;
        if self.byte_rate > 0.0 {
            b.bytes = (b.bytes + dt * self.byte_rate).min(self.byte_burst) - len as f64;
            wait = wait.max(-b.bytes / self.byte_rate);
        }
        if self.frame_rate > 0.0 {
            b.frames = (b.frames + dt * self.frame_rate).min(self.frame_burst) - 1.0;
            wait = wait.max(-b.frames / self.frame_rate);
        }
        Duration::from_secs_f64(wait.max(0.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tenant_over_budget_waits_and_others_do_not() {
        let t = TenantThrottle::new(1000.0, 1_000_000.0, 500);
        assert_eq!(t.charge("a", 1000), Duration::ZERO);
        let wait = t.charge("a", 1000);
        assert!(wait >= Duration::from_millis(900), "{wait:?}");
        // The debt adds up: the next sender of the tenant waits longer still.
        assert!(t.charge("a", 1000) > wait);
        assert_eq!(t.charge("b", 1000), Duration::ZERO);
        let frames = TenantThrottle::new(0.0, 10.0, 1);
        for _ in 0..10 {
            assert_eq!(frames.charge("a", 1), Duration::ZERO);
        }
        assert!(frames.charge("a", 1) >= Duration::from_millis(90));
        let off = TenantThrottle::new(0.0, 0.0, 1);
        assert_eq!(off.charge("a", usize::MAX / 2), Duration::ZERO);
    }
}
