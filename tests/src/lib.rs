//! Support for SnapKasir's cross-process tests: a fault-injecting TCP proxy that sits between
//! terminals and the sync server, seeded schedules of faults that replay exactly, and a driver
//! for the real cashier app (WebDriver through tauri-driver), and what the attack suite shares.

pub mod api;
pub mod app_driver;
pub mod attack;
pub mod auth;
pub mod browser;
pub mod demo_sale;
pub mod dpkg;
pub mod gate;
pub mod gateway_sim;
pub mod lan_attacks;
pub mod processes;
pub mod proxy;
pub mod pypi;
pub mod schedule;
pub mod till_fleet;
