//! The attack suite: every attack of `docs/security.md`, performed against the real server
//! binary and real tills, asserting that it fails and that nothing was stored or changed.
//! One module per area; each test's name says which attack it performs.
//!
//! ```text
//! cargo nextest run -p snapkasir-tests --test attacks
//! ```

mod files_and_csv;
mod gate;
mod known;
mod lan;
mod login;
mod sessions;
