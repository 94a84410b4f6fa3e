//! Enrolling a till with a sync server: redeem a one-time code, keep the device credential,
//! and join the store's documents (or create them when the server's store has none yet).

use std::sync::{Arc, Mutex};

use serde::Serialize;

use crate::error::CoreResult;
use crate::sync::DeviceCredential;
use crate::terminal::Terminal;

/// Where and as whom this till is enrolled.
#[derive(Debug, Clone, Serialize)]
pub struct Enrolment {
    pub server_url: String,
    pub terminal_id: String,
    pub store_id: String,
    pub store_code: String,
    pub terminal_code: String,
    pub store_name: String,
}

impl Terminal {
    /// The stored enrolment with its device credential (None before enrolment).
    pub fn enrolment(&self) -> CoreResult<Option<(Enrolment, DeviceCredential)>> {
        unimplemented!()
    }
}

/// Redeems an enrolment code at `server_url` (http or https), stores credential, store key and
/// server address in the terminal, and joins the store's documents (fetched from the server
/// over the sync endpoint) or, when the server's store has none yet, creates them.
pub async fn enrol(
    terminal: &Arc<Mutex<Terminal>>,
    server_url: &str,
    code: &str,
    seed_demo_catalog: bool,
) -> CoreResult<Enrolment> {
    let _ = (terminal, server_url, code, seed_demo_catalog);
    unimplemented!()
}
