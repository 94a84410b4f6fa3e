//! The attack suite: every attack of `docs/security.md`, performed against the real server
//! binary and real tills, asserting that it fails and that nothing was stored or changed.
//! One module per area; each test's name says which attack it performs.
//!
//! ```text
//! cargo nextest run -p snapkasir-tests --test attacks
//! ```

#[path = "attacks/files_and_csv.rs"]
mod files_and_csv;
#[path = "attacks/gate.rs"]
mod gate;
#[path = "attacks/known.rs"]
mod known;
#[path = "attacks/lan.rs"]
mod lan;
#[path = "attacks/lan_server.rs"]
mod lan_server;
#[path = "attacks/login.rs"]
mod login;
#[path = "attacks/sessions.rs"]
mod sessions;
