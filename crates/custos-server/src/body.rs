//! Request bodies and the authenticated caller, as extractors that fail with
//! problem+json. JSON errors are reported by position and kind only: serde's own
//! messages can quote the offending value, which may be personal data.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use custos_core::api_keys;
use custos_core::vault::Actor;
use custos_store::Store;
use serde::de::DeserializeOwned;

use crate::problem::ApiError;
use crate::{AppState, RequestId};

/// A JSON body, with its SHA-256 (for idempotency keys).
#[derive(Debug)]
pub struct JsonBody<T> {
    pub value: T,
    pub hash: [u8; 32],
}

impl<S: Store, T: DeserializeOwned> FromRequest<Arc<AppState<S>>> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &Arc<AppState<S>>) -> Result<Self, Self::Rejection> {
        let rid = req
            .extensions()
            .get::<RequestId>()
            .map(|r| r.0.clone())
            .unwrap_or_default();
        let json_ct = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_none_or(|ct| ct.starts_with("application/json") || ct.ends_with("+json"));
        if !json_ct {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "HTTP-0415",
                "Unsupported media type",
                "send application/json",
            )
            .with_request_id(&rid));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            let status = e.status();
            if status == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(
                    status,
                    "HTTP-0413",
                    "Body too large",
                    format!("at most {} bytes", crate::MAX_BODY_BYTES),
                )
            } else {
                ApiError::new(
                    status,
                    "HTTP-0400",
                    "Unreadable body",
                    "the request body could not be read",
                )
            }
            .with_request_id(&rid)
        })?;
        let value = serde_json::from_slice::<T>(&bytes).map_err(|e| {
            let msg = e.to_string();
            // Field names are safe to echo; values are not.
            let what = if e.is_syntax() || e.is_eof() {
                "the body is not valid JSON".to_owned()
            } else if msg.starts_with("unknown field") || msg.starts_with("missing field") {
                msg.split(" at line").next().unwrap_or("").to_owned()
            } else {
                "the body does not have the expected shape".to_owned()
            };
            ApiError::bad_request(
                "HTTP-0400",
                format!("{what} (line {}, column {})", e.line(), e.column()),
            )
            .with_request_id(&rid)
        })?;
        use sha2::Digest;
        let hash: [u8; 32] = sha2::Sha256::digest(&bytes).into();
        Ok(JsonBody { value, hash })
    }
}

/// The caller, authenticated by `Authorization: Bearer ck_…` and rate-limited.
#[derive(Debug, Clone)]
pub struct Authed {
    pub actor: Actor,
    pub request_id: String,
}

impl<S: Store> FromRequestParts<Arc<AppState<S>>> for Authed {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState<S>>,
    ) -> Result<Self, Self::Rejection> {
        let rid = parts
            .extensions
            .get::<RequestId>()
            .map(|r| r.0.clone())
            .unwrap_or_default();
        // Before any key is parsed, hashed or looked up: a client address that keeps
        // sending bad keys is turned away here, cheaply (issue 17.11).
        let client = crate::limits::client_in(&parts.headers).to_owned();
        let now = state.vault.now();
        if let Err(wait) = state.edge.unauthenticated.peek(&client, now) {
            state.metrics.rate_limited();
            return Err(unauthenticated_limited(wait).with_request_id(&rid));
        }
        let charge = |e: ApiError| {
            // Only failures spend the client's budget.
            let _ = state.edge.unauthenticated.check(&client, now);
            e
        };
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            // The scheme is case-insensitive (RFC 9110 §11.1): `bearer` is `Bearer`.
            .and_then(|v| v.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, token)| token)
            .map(str::trim)
            .ok_or_else(|| {
                charge(ApiError::from(api_keys::AuthError::Malformed).with_request_id(&rid))
            })?
            .to_owned();
        let st = Arc::clone(state);
        let actor = tokio::task::spawn_blocking(move || {
            api_keys::authenticate(st.vault.store().as_ref(), st.vault.keys(), &token)
        })
        .await
        .map_err(|_| {
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "VAULT-0011",
                "Internal error",
                "task failed",
            )
        })?
        .map_err(|e| match e {
            api_keys::AuthError::Rejected | api_keys::AuthError::Malformed => {
                charge(ApiError::from(e).with_request_id(&rid))
            }
            other => ApiError::from(other).with_request_id(&rid),
        })?;
        if let Err(wait) = state.limiter.check(&actor.key_id, state.vault.now()) {
            state.metrics.rate_limited();
            let mut e = ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "HTTP-0429",
                "Too many requests",
                "rate limit of this API key reached",
            )
            .with_request_id(&rid);
            e.retry_after = Some(wait);
            return Err(e);
        }
        Ok(Authed {
            actor,
            request_id: rid,
        })
    }
}

/// The answer to a client address that sent too many requests without a valid key.
pub fn unauthenticated_limited(wait: u64) -> ApiError {
    let mut e = ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        crate::limits::UNAUTHENTICATED_LIMITED,
        "Too many requests",
        "too many requests without a valid API key from this address; wait and retry",
    );
    e.retry_after = Some(wait);
    e
}
