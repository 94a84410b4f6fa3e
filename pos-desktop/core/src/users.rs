//! Cashiers and supervisors (the store's users document, argon2 PIN hashes) and PIN checks
//! with a persisted lockout.

use std::collections::HashMap;

use automerge::ChangeHash;
use rusqlite::{OptionalExtension, params};
use shared_model::codec::Timestamp;
use shared_model::documents::UsersDoc;
use shared_model::ids::UserId;
use shared_model::users::{PinPepper, Role, StoreUser, check_pin};
use tracing::{instrument, warn};

use crate::docs::{self, get_entry, put_entry};
use crate::error::{CoreError, CoreResult};
use crate::terminal::Terminal;

/// Wrong PINs in a row after which a user is locked.
pub const MAX_PIN_FAILURES: u32 = 5;

/// A supervisor's approval for something a cashier may not do alone.
#[derive(Debug, Clone)]
pub struct Approval {
    pub user_id: UserId,
    pub pin: String,
}

/// `sync_meta` key of the store's PIN pepper (from enrolment; never in a document).
const PIN_PEPPER_META: &str = "pin_pepper";

/// Users as read from the users document, valid while the document's heads are `heads` (a
/// document's content is fixed by its heads, so every way it changes, an edit here, a merge or
/// a sync, makes the cache start again). Every sale checks its cashier: reading the user from
/// the document (a map lookup and hydrating the entry) was a fifth of a checkout's CPU.
#[derive(Debug, Default)]
pub(crate) struct UserCache {
    heads: Vec<ChangeHash>,
    users: HashMap<UserId, StoreUser>,
}

impl Terminal {
    /// Keeps the store's PIN pepper (from enrolment or `GET /api/v1/terminal/lan`) in
    /// `sync_meta`, next to the store key: PINs set from now on are hashed with it.
    pub fn set_pin_pepper(&mut self, pepper: &PinPepper) -> CoreResult<()> {
        self.set_sync_meta(PIN_PEPPER_META, Some(&pepper.to_hex()))
    }

    /// The store's PIN pepper; `None` on a till that never enrolled (the demo store).
    pub fn pin_pepper(&self) -> CoreResult<Option<PinPepper>> {
        self.sync_meta(PIN_PEPPER_META)?
            .map(|h| PinPepper::from_hex(&h).map_err(CoreError::from))
            .transpose()
    }

    /// shared-model's one PIN hash, keyed with the store's pepper when the till has it.
    fn hash_pin(&self, pin: &str) -> CoreResult<String> {
        shared_model::users::hash_pin(pin, self.pin_pepper()?.as_ref())
            .map_err(|e| CoreError::Invalid(e.to_string()))
    }

    fn users_doc_id(&self) -> CoreResult<String> {
        Ok(self.identity()?.users_doc.clone())
    }

    /// Adds a cashier, supervisor or manager with a PIN.
    #[instrument(skip_all, fields(role = ?role))]
    pub fn add_user(&mut self, name: &str, role: Role, pin: &str) -> CoreResult<StoreUser> {
        check_pin(pin)?;
        let user = StoreUser {
            id: UserId::new(),
            name: name.trim().to_string(),
            role,
            pin_hash: self.hash_pin(pin)?,
            active: true,
        };
        user.validate()?;
        self.put_user(&user)?;
        Ok(user)
    }

    /// Changes a user's PIN (clears a lockout).
    pub fn set_pin(&mut self, id: UserId, pin: &str) -> CoreResult<()> {
        check_pin(pin)?;
        let mut u = self.user(id)?;
        u.pin_hash = self.hash_pin(pin)?;
        self.put_user(&u)?;
        self.conn.execute(
            "DELETE FROM pin_attempts WHERE user_id = ?1",
            [id.to_string()],
        )?;
        Ok(())
    }

    pub fn set_user_active(&mut self, id: UserId, active: bool) -> CoreResult<()> {
        let mut u = self.user(id)?;
        u.active = active;
        self.put_user(&u)
    }

    fn put_user(&mut self, u: &StoreUser) -> CoreResult<()> {
        let doc_id = self.users_doc_id()?;
        self.write(|tx, d| {
            let doc = d.get_mut(tx, &doc_id)?;
            put_entry(doc, "users", &u.id.to_string(), u)
        })
    }

    pub fn user(&mut self, id: UserId) -> CoreResult<StoreUser> {
        let doc_id = self.users_doc_id()?;
        let doc = self.docs.get(&self.conn, &doc_id)?;
        let heads = doc.get_heads();
        if self.user_cache.heads != heads {
            self.user_cache = UserCache {
                heads,
                users: HashMap::new(),
            };
        }
        if let Some(u) = self.user_cache.users.get(&id) {
            return Ok(u.clone());
        }
        let user: StoreUser =
            get_entry(doc, "users", &id.to_string())?.ok_or_else(|| CoreError::NotFound {
                what: "user",
                id: id.to_string(),
            })?;
        self.user_cache.users.insert(id, user.clone());
        Ok(user)
    }

    pub fn users(&mut self) -> CoreResult<Vec<StoreUser>> {
        let doc_id = self.users_doc_id()?;
        let doc: UsersDoc = docs::read(self.docs.get(&self.conn, &doc_id)?)?;
        let mut out: Vec<StoreUser> = doc.users.into_values().collect();
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    /// Checks a user's PIN. Five wrong PINs in a row lock the user for the lock duration; the
    /// count and the lock survive restarts.
    #[instrument(skip_all, fields(user = %id))]
    pub fn verify_pin(&mut self, id: UserId, pin: &str) -> CoreResult<StoreUser> {
        let user = self.user(id)?;
        let key = id.to_string();
        let now = Timestamp::now();
        let state: Option<(u32, Option<String>)> = self
            .conn
            .query_row(
                "SELECT failures, locked_until FROM pin_attempts WHERE user_id = ?1",
                [&key],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let mut failures = 0;
        if let Some((f, until)) = state {
            failures = f;
            if let Some(until) = until {
                let until_ts: Timestamp = until.parse()?;
                if until_ts > now {
                    return Err(CoreError::UserLocked { until });
                }
                failures = 0;
            }
        }
        if !user.active {
            return Err(CoreError::InactiveUser(user.name));
        }
        let ok = shared_model::users::verify_pin(&user.pin_hash, pin, self.pin_pepper()?.as_ref());
        if ok {
            self.conn
                .execute("DELETE FROM pin_attempts WHERE user_id = ?1", [&key])?;
            return Ok(user);
        }
        failures += 1;
        let locked_until = (failures >= MAX_PIN_FAILURES).then(|| {
            let lock = chrono::Duration::from_std(self.pin_lock).unwrap_or(chrono::Duration::MAX);
            Timestamp(now.0 + lock).to_string()
        });
        self.conn.execute(
            "INSERT INTO pin_attempts (user_id, failures, locked_until) VALUES (?1, ?2, ?3)
             ON CONFLICT (user_id) DO UPDATE SET failures = excluded.failures,
                locked_until = excluded.locked_until",
            params![key, failures, locked_until],
        )?;
        warn!(failures, "wrong PIN");
        match locked_until {
            Some(until) => Err(CoreError::UserLocked { until }),
            None => Err(CoreError::WrongPin {
                attempts_left: MAX_PIN_FAILURES - failures,
            }),
        }
    }

    /// Checks an approval: the right PIN of an active supervisor or manager.
    pub fn authorize(&mut self, approval: &Approval, what: &str) -> CoreResult<StoreUser> {
        let u = self.verify_pin(approval.user_id, &approval.pin)?;
        if !u.role.can_authorize() {
            return Err(CoreError::NotAuthorized(format!("{} ({what})", u.name)));
        }
        Ok(u)
    }

    /// An active user for recording who did something.
    pub(crate) fn active_user(&mut self, id: UserId) -> CoreResult<StoreUser> {
        let u = self.user(id)?;
        if !u.active {
            return Err(CoreError::InactiveUser(u.name));
        }
        Ok(u)
    }
}
