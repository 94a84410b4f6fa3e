//! Request extractors of the HTTP surface, in one place: who is calling ([`UserAuth`],
//! [`AnyAuth`], [`DeviceAuth`], [`ClientAddr`]) and the request's JSON body or query string
//! ([`ApiJson`], [`StaffJson`], [`ApiQuery`]).
//!
//! A rejected body or query string is answered (and logged) without repeating it: serde's
//! messages quote the offending value (`invalid type: integer `1234``), which could be a
//! password or a PIN. The answer names the field and the kind of problem only.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Query, Request};
use axum::http::HeaderMap;
use axum::http::request::Parts;

use crate::auth::Principal;
use crate::error::{Error, Result};
use crate::state::AppState;

/// Bearer token of a request (`Authorization: Bearer <token>`), if any.
pub fn bearer_token(headers: &HeaderMap) -> Option<String> {
    let v = headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let t = v
        .strip_prefix("Bearer ")
        .or_else(|| v.strip_prefix("bearer "))?;
    Some(t.trim().to_string())
}

/// An owner or manager authenticated by `Authorization: Bearer <access token>`.
#[derive(Debug, Clone)]
pub struct UserAuth(pub Principal);

impl FromRequestParts<AppState> for UserAuth {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self> {
        let token =
            bearer_token(&parts.headers).ok_or(Error::Unauthorized("missing bearer token"))?;
        Ok(UserAuth(state.services.authenticate_access(&token).await?))
    }
}

/// A terminal (device credential) or a user (access token).
#[derive(Debug, Clone)]
pub struct AnyAuth(pub Principal);

impl FromRequestParts<AppState> for AnyAuth {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self> {
        let token =
            bearer_token(&parts.headers).ok_or(Error::Unauthorized("missing bearer token"))?;
        Ok(AnyAuth(state.services.authenticate_sync(&token).await?))
    }
}

/// An enrolled terminal authenticated by its device credential (Bearer); anyone else is
/// refused with 403.
#[derive(Debug, Clone)]
pub struct DeviceAuth {
    pub terminal_id: String,
    pub tenant_id: String,
    pub store_id: String,
}

impl FromRequestParts<AppState> for DeviceAuth {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self> {
        let token = bearer_token(&parts.headers).ok_or(Error::Unauthorized("missing token"))?;
        match state.services.authenticate_sync(&token).await? {
            Principal::Terminal {
                terminal_id,
                tenant_id,
                store_id,
            } => Ok(DeviceAuth {
                terminal_id,
                tenant_id,
                store_id,
            }),
            Principal::User { .. } | Principal::App { .. } | Principal::Instance { .. } => {
                Err(Error::Forbidden("only terminals may do this"))
            }
        }
    }
}

/// The client's address: the socket's, or behind a trusted proxy the one it forwards
/// ([`crate::proxy`]); `0.0.0.0` in in-process tests.
#[derive(Debug, Clone, Copy)]
pub struct ClientAddr(pub IpAddr);

impl FromRequestParts<AppState> for ClientAddr {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip())
            .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
        Ok(ClientAddr(
            state.services.proxies.client(peer, &parts.headers),
        ))
    }
}

/// Declares a JSON-body extractor `$name<T>` whose rejection is the [`Error`] `$reject` makes
/// of axum's [`JsonRejection`].
macro_rules! json_extractor {
    ($(#[$doc:meta])* $name:ident, $reject:expr) => {
        $(#[$doc])*
        #[derive(Debug)]
        pub struct $name<T>(pub T);

        impl<T, S> FromRequest<S> for $name<T>
        where
            Json<T>: FromRequest<S, Rejection = JsonRejection>,
            S: Send + Sync,
        {
            type Rejection = Error;

            async fn from_request(req: Request, state: &S) -> Result<Self> {
                let body = Json::<T>::from_request(req, state).await;
                body.map(|Json(v)| $name(v)).map_err($reject)
            }
        }
    };
}

json_extractor!(
    /// JSON body whose rejection is a JSON error with code `bad_request` that does not repeat
    /// the body.
    ApiJson,
    |rejection: JsonRejection| Error::BadRequest(json_rejection_message(&rejection))
);

json_extractor!(
    /// JSON body of the staff endpoints: any rejection is one fixed message that says what a
    /// staff request looks like.
    StaffJson,
    |_: JsonRejection| {
        Error::BadRequest(
            "invalid staff request: a JSON object with name, role (cashier or supervisor), \
             active (true or false) and pin (4–8 digits, as a string)"
                .into(),
        )
    }
);

/// Query string whose rejection is a JSON error with code `bad_request` that does not repeat
/// the query.
#[derive(Debug)]
pub struct ApiQuery<T>(pub T);

impl<T, S> FromRequestParts<S> for ApiQuery<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self> {
        match Query::<T>::from_request_parts(parts, state).await {
            Ok(Query(v)) => Ok(ApiQuery(v)),
            Err(QueryRejection::FailedToDeserializeQueryString(e)) => Err(Error::BadRequest(
                format!("invalid query string: {}", without_values(&e.body_text())),
            )),
            Err(_) => Err(Error::BadRequest("invalid query string".into())),
        }
    }
}

/// What a rejected JSON body is answered with: the kind of problem and, for a field of the
/// wrong type or value, the field's path, never the value.
fn json_rejection_message(rejection: &JsonRejection) -> String {
    match rejection {
        JsonRejection::JsonDataError(e) => {
            format!("invalid JSON body: {}", without_values(&e.body_text()))
        }
        JsonRejection::JsonSyntaxError(_) => "malformed JSON body".into(),
        JsonRejection::MissingJsonContentType(_) => {
            "expected a body with `Content-Type: application/json`".into()
        }
        _ => "could not read the request body".into(),
    }
}

/// serde's problems, and whether the text after them is safe to repeat (a field name of
/// ours, not a value of the client's).
const SERDE_PROBLEMS: [(&str, bool); 7] = [
    ("missing field", true),
    ("duplicate field", true),
    ("unknown field", false),
    ("unknown variant", false),
    ("invalid type", false),
    ("invalid value", false),
    ("invalid length", false),
];

/// A serde deserialization message (as axum words it: `Failed to deserialize …: path:
/// problem`) cut down to the field path and the problem, without any value it quotes.
fn without_values(text: &str) -> String {
    let detail = text.split_once("target type: ").map_or(text, |(_, d)| d);
    let detail = detail
        .split_once("query string: ")
        .map_or(detail, |(_, d)| d);
    let found = SERDE_PROBLEMS
        .iter()
        .filter_map(|&(p, safe)| detail.find(p).map(|at| (at, p, safe)))
        .min_by_key(|&(at, ..)| at);
    match found {
        Some((at, problem, true)) => {
            let rest = &detail[at + problem.len()..];
            let name = rest.split('`').nth(1).unwrap_or_default();
            format!("{}{problem} `{name}`", &detail[..at])
        }
        Some((at, problem, false)) => format!("{}{problem}", &detail[..at]),
        None => "a field has the wrong type or value".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serde_messages_lose_their_values() {
        assert_eq!(
            without_values(
                "Failed to deserialize the JSON body into the target type: password: invalid \
                 type: integer `12345678`, expected a string at line 1 column 30"
            ),
            "password: invalid type"
        );
        assert_eq!(
            without_values(
                "Failed to deserialize the JSON body into the target type: missing field \
                 `password` at line 1 column 13"
            ),
            "missing field `password`"
        );
        assert_eq!(
            without_values(
                "Failed to deserialize query string: role: unknown variant `s3cret`, expected \
                 `owner` or `manager`"
            ),
            "role: unknown variant"
        );
        assert_eq!(
            without_values("Failed to deserialize query string: date 1234 is odd"),
            "a field has the wrong type or value"
        );
    }

    #[test]
    fn bearer_tokens() {
        let mut h = HeaderMap::new();
        assert_eq!(bearer_token(&h), None);
        h.insert("authorization", "Bearer abc ".parse().unwrap());
        assert_eq!(bearer_token(&h).as_deref(), Some("abc"));
        h.insert("authorization", "Basic abc".parse().unwrap());
        assert_eq!(bearer_token(&h), None);
    }
}
