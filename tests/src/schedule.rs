//! Seeded random fault schedules: the same seed gives the same schedule, so a failing run is
//! replayed by its seed.

use std::fmt;
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::proxy::{Direction, FaultKind, FaultProxy};

/// One step of a schedule: a fault applied to one proxy, held for a while, then healed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// Index of the proxy (one per terminal).
    pub target: usize,
    pub fault: Fault,
    pub hold: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    Delay(Duration),
    Drop,
    CutMidFrame(Direction),
    Partition,
    OneWayPartition(Direction),
    Cut,
}

impl Fault {
    pub fn kind(self) -> FaultKind {
        match self {
            Fault::Delay(_) => FaultKind::Delay,
            Fault::Drop => FaultKind::Drop,
            Fault::CutMidFrame(_) => FaultKind::CutMidFrame,
            Fault::Partition => FaultKind::Partition,
            Fault::OneWayPartition(_) => FaultKind::OneWayPartition,
            Fault::Cut => FaultKind::Cut,
        }
    }

    /// Applies the fault to a proxy.
    pub fn apply(self, proxy: &FaultProxy) {
        match self {
            Fault::Delay(d) => proxy.set_delay(d),
            Fault::Drop => proxy.drop_packets(),
            Fault::CutMidFrame(d) => proxy.cut_mid_frame(d),
            Fault::Partition => proxy.partition(),
            Fault::OneWayPartition(d) => proxy.one_way_partition(d),
            Fault::Cut => proxy.cut_all(),
        }
    }
}

/// A schedule: the seed it came from and its steps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    pub seed: u64,
    pub steps: Vec<Step>,
}

impl Schedule {
    /// `steps` random faults over `targets` proxies. The first six steps cover every fault
    /// kind once, in a seeded order, so that every kind fires in every schedule of six steps
    /// or more.
    pub fn random(seed: u64, targets: usize, steps: usize) -> Schedule {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut kinds = FaultKind::ALL.to_vec();
        for i in (1..kinds.len()).rev() {
            kinds.swap(i, rng.random_range(0..=i));
        }
        let out = (0..steps)
            .map(|i| {
                let kind = kinds
                    .get(i)
                    .copied()
                    .unwrap_or_else(|| FaultKind::ALL[rng.random_range(0..FaultKind::ALL.len())]);
                let direction = if rng.random_bool(0.5) {
                    Direction::ClientToServer
                } else {
                    Direction::ServerToClient
                };
                let fault = match kind {
                    FaultKind::Delay => {
                        Fault::Delay(Duration::from_millis(rng.random_range(5..150)))
                    }
                    FaultKind::Drop => Fault::Drop,
                    FaultKind::CutMidFrame => Fault::CutMidFrame(direction),
                    FaultKind::Partition => Fault::Partition,
                    FaultKind::OneWayPartition => Fault::OneWayPartition(direction),
                    FaultKind::Cut => Fault::Cut,
                };
                Step {
                    target: rng.random_range(0..targets.max(1)),
                    fault,
                    hold: Duration::from_millis(rng.random_range(50..600)),
                }
            })
            .collect();
        Schedule { seed, steps: out }
    }
}

impl fmt::Display for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "schedule seed {} (replay with SNAPKASIR_SEED={}):",
            self.seed, self.seed
        )?;
        for (i, s) in self.steps.iter().enumerate() {
            writeln!(
                f,
                "  {i:>3}: proxy {} {:?} for {:?}",
                s.target, s.fault, s.hold
            )?;
        }
        Ok(())
    }
}
