//! The demo store: a local store with a sample Indonesian catalog, for trying the till
//! without a server.

use serde::{Deserialize, Serialize};

use crate::error::CoreResult;
use crate::terminal::Terminal;

/// The demo store's users, shown on the first-run screen.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DemoStore {
    pub cashier_name: String,
    pub cashier_pin: String,
    pub supervisor_name: String,
    pub supervisor_pin: String,
}

impl Terminal {
    /// Creates the local demo store (no server).
    pub fn create_demo_store(&mut self) -> CoreResult<DemoStore> {
        unimplemented!()
    }

    /// The demo store's users, when this terminal holds the demo store.
    pub fn demo_info(&self) -> CoreResult<Option<DemoStore>> {
        unimplemented!()
    }
}
