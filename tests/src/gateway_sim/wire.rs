//! The small pieces both simulated gateways share: HTTP Basic authentication with a key and an
//! empty password, the two gateways' ways of writing times, a QRIS payload with its CRC, JSON
//! bodies in and out, and the POST that delivers a notification.

use anyhow::Context;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, FixedOffset, SecondsFormat, Utc};
use serde_json::{Value, json};

/// Whether `Authorization` is HTTP Basic with `key` as the user name and an empty password, as
/// both gateways authenticate server-side calls.
pub(super) fn basic_auth_matches(headers: &HeaderMap, key: &str) -> bool {
    use base64::Engine;
    let Some(value) = headers.get("authorization").and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let Some(encoded) = value
        .strip_prefix("Basic ")
        .or_else(|| value.strip_prefix("basic "))
    else {
        return false;
    };
    let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(encoded.trim()) else {
        return false;
    };
    decoded == format!("{key}:").as_bytes()
}

/// `YYYY-MM-DD HH:MM:SS` in Asia/Jakarta (UTC+7, no daylight saving), as Midtrans writes times.
pub(super) fn jakarta_time(t: DateTime<Utc>) -> String {
    let wib = FixedOffset::east_opt(7 * 3600).expect("UTC+7 is a valid offset");
    t.with_timezone(&wib)
        .format("%Y-%m-%d %H:%M:%S")
        .to_string()
}

/// ISO 8601 in UTC with milliseconds, as Xendit writes times.
pub(super) fn iso_time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// One EMVCo TLV object.
pub(super) fn tlv(id: &str, value: &str) -> String {
    format!("{id}{:02}{value}", value.len())
}

/// A dynamic QRIS payload (EMVCo merchant-presented, point of initiation 12) with the amount in
/// tag 54 and `reference` in the additional data, closed by its CRC.
pub(super) fn qris_payload(
    acquirer_domain: &str,
    merchant: &str,
    amount: Option<i64>,
    reference: &str,
) -> String {
    let account = format!(
        "{}{}",
        tlv("00", acquirer_domain),
        tlv("01", "936009140000000001")
    );
    let mut body = String::new();
    body.push_str(&tlv("00", "01"));
    body.push_str(&tlv("01", if amount.is_some() { "12" } else { "11" }));
    body.push_str(&tlv("26", &account));
    body.push_str(&tlv("52", "5812"));
    body.push_str(&tlv("53", "360"));
    if let Some(amount) = amount {
        body.push_str(&tlv("54", &amount.to_string()));
    }
    body.push_str(&tlv("58", "ID"));
    body.push_str(&tlv("59", merchant));
    body.push_str(&tlv("60", "JAKARTA"));
    let reference: String = reference.chars().take(25).collect();
    body.push_str(&tlv("62", &tlv("05", &reference)));
    shared_model::qris::with_crc(&body)
}

/// A JSON response with `status`.
pub(super) fn json_response(status: StatusCode, body: Value) -> Response {
    (status, axum::Json(body)).into_response()
}

/// The body's JSON object, or None when it is not one.
pub(super) fn parse_object(bytes: &[u8]) -> Option<serde_json::Map<String, Value>> {
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Object(map)) => Some(map),
        _ => None,
    }
}

/// Posts `body` to `url` with `headers`; the receiver's status.
pub(super) async fn post_json(
    client: &reqwest::Client,
    url: &str,
    headers: &[(String, String)],
    body: &Value,
) -> anyhow::Result<u16> {
    let mut request = client.post(url).json(body);
    for (name, value) in headers {
        request = request.header(name.as_str(), value.as_str());
    }
    let response = request
        .send()
        .await
        .with_context(|| format!("notification to {url}"))?;
    Ok(response.status().as_u16())
}

/// An empty JSON object, for optional metadata.
pub(super) fn empty_object() -> Value {
    json!({})
}
