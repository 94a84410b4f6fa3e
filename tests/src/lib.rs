//! Support for SnapKasir's cross-process tests: a fault-injecting TCP proxy that sits between
//! terminals and the sync server, and seeded schedules of faults that replay exactly.

pub mod processes;
pub mod proxy;
pub mod schedule;
