//! Per-till local settings (language and the like): a key/value table, never synced.

use crate::error::CoreResult;
use crate::terminal::Terminal;

impl Terminal {
    /// A local setting of this till.
    pub fn app_setting(&self, key: &str) -> CoreResult<Option<String>> {
        let _ = key;
        unimplemented!()
    }

    /// Stores a local setting of this till.
    pub fn set_app_setting(&mut self, key: &str, value: &str) -> CoreResult<()> {
        let _ = (key, value);
        unimplemented!()
    }
}
