//! The app's commands, one inlined plugin per area (contract.md). Each command is a thin call
//! into pos-core through [`crate::state::App`]; the plugin and command names are listed once in
//! `plugin_commands.rs`, from which build.rs grants them.

pub mod enrolment;
pub mod export;
pub mod payment;
pub mod printing;
pub mod selling;
pub mod session;
pub mod settings;
pub mod sync;

use std::str::FromStr;

use pos_core::Approval;
use pos_core::shared_model::ids::UserId;
use pos_core::shared_model::money::{Money, Quantity};
use rust_decimal::Decimal;
use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::error::{AppError, AppResult};

/// Parses an id or other `FromStr` argument, refusing it as `invalid_input`.
pub(crate) fn parse<T>(what: &str, s: &str) -> AppResult<T>
where
    T: FromStr,
    T::Err: std::fmt::Display,
{
    s.trim().parse().map_err(|e| AppError::invalid(what, e))
}

/// A decimal string such as "12500" or "0.735".
pub(crate) fn decimal(what: &str, s: &str) -> AppResult<Decimal> {
    parse::<Decimal>(what, s)
}

pub(crate) fn money(what: &str, s: &str) -> AppResult<Money> {
    decimal(what, s).map(Money::new)
}

pub(crate) fn quantity(what: &str, s: &str) -> AppResult<Quantity> {
    decimal(what, s).map(Quantity::new)
}

/// A JSON argument read as a model type (discounts, tenders), refused as `invalid_input`
/// rather than as Tauri's own deserialisation error, so the UI sees one error shape.
pub(crate) fn from_json<T: DeserializeOwned>(what: &str, v: serde_json::Value) -> AppResult<T> {
    serde_json::from_value(v).map_err(|e| AppError::invalid(what, e))
}

/// A supervisor's approval as the UI sends it (`{ userId, pin }`).
pub(crate) fn approval(v: serde_json::Value) -> AppResult<Approval> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct ApprovalArg {
        user_id: String,
        pin: String,
    }
    let a: ApprovalArg = from_json("approval", v)?;
    Ok(Approval {
        user_id: parse::<UserId>("approval.userId", &a.user_id)?,
        pin: a.pin,
    })
}
