//! Per-till local settings (language and the like): a key/value table of this till's file,
//! never synced, so each till keeps its own.

use rusqlite::{OptionalExtension, params};

use crate::error::{CoreError, CoreResult};
use crate::terminal::Terminal;

impl Terminal {
    /// A local setting of this till (None when never set).
    pub fn app_setting(&self, key: &str) -> CoreResult<Option<String>> {
        Ok(self
            .conn
            .prepare_cached("SELECT value FROM app_settings WHERE key = ?1")?
            .query_row([key], |r| r.get(0))
            .optional()?)
    }

    /// Stores a local setting of this till (replacing the old value). Works before the till is
    /// set up (the language is chosen on the first-run screen).
    pub fn set_app_setting(&mut self, key: &str, value: &str) -> CoreResult<()> {
        if key.trim().is_empty() || key.len() > 64 {
            return Err(CoreError::Invalid(
                "a setting's key must have 1-64 characters".into(),
            ));
        }
        self.conn
            .prepare_cached(
                "INSERT INTO app_settings (key, value) VALUES (?1, ?2)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            )?
            .execute(params![key, value])?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::terminal::Terminal;

    #[test]
    fn settings_survive_a_reopen_and_are_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let mut t = Terminal::open(&path).unwrap();
        assert_eq!(t.app_setting("language").unwrap(), None);
        t.set_app_setting("language", "en").unwrap();
        t.set_app_setting("language", "id").unwrap();
        drop(t);
        let mut t = Terminal::open(&path).unwrap();
        assert_eq!(t.app_setting("language").unwrap().as_deref(), Some("id"));
        assert!(t.set_app_setting(" ", "x").is_err());
    }
}
