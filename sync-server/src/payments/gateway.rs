//! What the server needs from a payment gateway, whichever it is: create a dynamic QRIS charge,
//! ask its status, cancel it, refund it, and read its notifications. Midtrans
//! ([`super::midtrans`]) and Xendit ([`super::xendit`]) each speak their own documented API;
//! this module holds the shapes both are turned into.

use serde::{Deserialize, Serialize};

use super::status::ChargeStatus;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Provider {
    Midtrans,
    Xendit,
}

impl Provider {
    pub fn as_str(self) -> &'static str {
        match self {
            Provider::Midtrans => "midtrans",
            Provider::Xendit => "xendit",
        }
    }

    pub fn parse(s: &str) -> Option<Provider> {
        match s {
            "midtrans" => Some(Provider::Midtrans),
            "xendit" => Some(Provider::Xendit),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Environment {
    Production,
    Sandbox,
}

impl Environment {
    pub fn as_str(self) -> &'static str {
        match self {
            Environment::Production => "production",
            Environment::Sandbox => "sandbox",
        }
    }

    pub fn parse(s: &str) -> Option<Environment> {
        match s {
            "production" => Some(Environment::Production),
            "sandbox" => Some(Environment::Sandbox),
            _ => None,
        }
    }
}

/// The secrets of a store's account, as sealed in the database.
#[derive(Clone, Default, Serialize, Deserialize)]
pub struct Secrets {
    /// Midtrans: the server key (Basic auth user, and the notifications' signature key).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_key: Option<String>,
    /// Xendit: the secret API key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_key: Option<String>,
    /// Xendit: the callback verification token (`x-callback-token`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callback_token: Option<String>,
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secrets(…)")
    }
}

/// A store's account, opened, with the API address to call.
#[derive(Debug, Clone)]
pub struct Account {
    pub provider: Provider,
    pub base_url: String,
    pub secrets: Secrets,
}

/// A charge the gateway made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Created {
    pub qr_string: String,
    /// The gateway's own id of it (Midtrans transaction id, Xendit `qr_…`).
    pub gateway_id: String,
}

/// What the gateway says of a charge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Observed {
    pub status: ChargeStatus,
    /// The paid payment's reference, when paid.
    pub reference: Option<String>,
    /// The amount the gateway names, in whole rupiah, when it names one.
    pub amount: Option<i64>,
    pub gateway_id: Option<String>,
}

/// How a refund went at the gateway.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefundOutcome {
    /// The money is on its way back; the gateway's refund id.
    Done(Option<String>),
    /// Accepted; the gateway finishes it later.
    Pending(Option<String>),
    /// The gateway will not refund it (the payment's issuer does not support it, the window
    /// passed, …): its words.
    Refused(String),
}

/// A gateway call that did not give an answer to act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatewayError {
    /// Safe to show to the cashier and the owner: the gateway's own words, or what failed.
    pub message: String,
    /// Worth trying again later (network, 5xx) rather than a refusal.
    pub transient: bool,
}

impl GatewayError {
    pub fn transient(message: impl Into<String>) -> GatewayError {
        GatewayError {
            message: message.into(),
            transient: true,
        }
    }

    pub fn refused(message: impl Into<String>) -> GatewayError {
        GatewayError {
            message: message.into(),
            transient: false,
        }
    }

    /// A network failure, in words.
    pub fn network(gateway: &str, e: &reqwest::Error) -> GatewayError {
        let what = if e.is_timeout() {
            "did not answer in time"
        } else if e.is_connect() {
            "cannot be reached"
        } else {
            "answered something unreadable"
        };
        GatewayError::transient(format!("{gateway} {what}"))
    }
}

/// Whole rupiah of a gateway's amount (`"10000.00"`, `10000`); `None` for a fraction or junk.
pub fn whole_rupiah(value: &serde_json::Value) -> Option<i64> {
    use rust_decimal::Decimal;
    use rust_decimal::prelude::ToPrimitive;
    let d: Decimal = match value {
        serde_json::Value::String(s) => s.trim().parse().ok()?,
        serde_json::Value::Number(n) => n.to_string().parse().ok()?,
        _ => return None,
    };
    if d.fract() != Decimal::ZERO {
        return None;
    }
    d.to_i64()
}

#[cfg(test)]
mod tests {
    use super::whole_rupiah;
    use serde_json::json;

    #[test]
    fn gateway_amounts_read_as_whole_rupiah() {
        assert_eq!(whole_rupiah(&json!("25000.00")), Some(25_000));
        assert_eq!(whole_rupiah(&json!(25000)), Some(25_000));
        assert_eq!(whole_rupiah(&json!("25000.50")), None);
        assert_eq!(whole_rupiah(&json!("junk")), None);
        assert_eq!(whole_rupiah(&json!(null)), None);
    }
}
