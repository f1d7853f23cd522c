//! Errors at the HTTP edge: every failure leaves as RFC 9457 `application/problem+json`
//! with a stable `code` (also in `type`), the request id, and never a personal value.
//!
//! Which error goes where: the engine returns `VaultError` (custos-core), the
//! authentication layer `AuthError`; both become an [`ApiError`] here, and only
//! here is a status code chosen.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use custos_core::VaultError;
use custos_core::api_keys::AuthError;
use custos_core::error::FieldError;
use serde_json::json;

/// A failure to report to the client.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub title: &'static str,
    pub detail: String,
    pub errors: Vec<FieldError>,
    pub request_id: Option<String>,
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(
        status: StatusCode,
        code: &'static str,
        title: &'static str,
        detail: impl Into<String>,
    ) -> Self {
        ApiError {
            status,
            code,
            title,
            detail: detail.into(),
            errors: Vec::new(),
            request_id: None,
            retry_after: None,
        }
    }

    pub fn with_request_id(mut self, id: &str) -> Self {
        self.request_id = Some(id.to_owned());
        self
    }

    pub fn bad_request(code: &'static str, detail: impl Into<String>) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, code, "Bad request", detail)
    }

    /// The problem for an error response the framework produced itself, with no
    /// problem body: an unknown method, a query string or path segment it could
    /// not decode. Its own message is dropped (it may quote the input).
    pub fn from_status(status: StatusCode) -> Self {
        match status {
            StatusCode::NOT_FOUND => ApiError::not_found(),
            StatusCode::METHOD_NOT_ALLOWED => ApiError::new(
                status,
                "HTTP-0405",
                "Method not allowed",
                "this path does not accept this method; see /v1/openapi.json",
            ),
            _ => ApiError::new(
                status,
                "HTTP-0400",
                "Bad request",
                "the request could not be read",
            ),
        }
    }

    pub fn not_found() -> Self {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "HTTP-0404",
            "Not found",
            "no such resource",
        )
    }

    pub fn forbidden_admin() -> Self {
        ApiError::new(
            StatusCode::FORBIDDEN,
            "AUTH-0003",
            "Forbidden",
            "this action needs an admin API key",
        )
    }
}

impl From<VaultError> for ApiError {
    fn from(e: VaultError) -> Self {
        let code = e.code();
        let (status, title) = match &e {
            VaultError::Invalid(_) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "The request breaks the policy or the value rules",
            ),
            VaultError::UnknownPurpose(_) => (StatusCode::UNPROCESSABLE_ENTITY, "Unknown purpose"),
            VaultError::PurposeNotPermitted { .. } => {
                (StatusCode::FORBIDDEN, "Purpose not permitted for this role")
            }
            VaultError::KeyScope(_) => (
                StatusCode::FORBIDDEN,
                "Purpose outside this API key's scope",
            ),
            VaultError::SubjectNotFound => (StatusCode::NOT_FOUND, "Subject not found"),
            VaultError::SubjectErased => (StatusCode::GONE, "Subject erased"),
            VaultError::IdempotencyMismatch => {
                (StatusCode::UNPROCESSABLE_ENTITY, "Idempotency key reused")
            }
            VaultError::NoPolicy => (StatusCode::SERVICE_UNAVAILABLE, "No policy in force"),
            VaultError::Integrity => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "Stored data failed its integrity check",
            ),
            VaultError::Unavailable => (StatusCode::SERVICE_UNAVAILABLE, "Storage busy"),
            VaultError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "Internal error"),
            VaultError::BadToken => (StatusCode::NOT_FOUND, "Invalid link"),
            VaultError::RequestNotFound => (StatusCode::NOT_FOUND, "Request not found"),
            VaultError::TooManyAttempts => (StatusCode::TOO_MANY_REQUESTS, "Too many attempts"),
            VaultError::ContractNotFound => (StatusCode::NOT_FOUND, "Contract not found"),
            VaultError::EventRoleNotAllowed(_) => {
                (StatusCode::FORBIDDEN, "Role may not send lifecycle events")
            }
            VaultError::ConsentGrantNotAllowed(_) => {
                (StatusCode::FORBIDDEN, "Role may not record consent")
            }
        };
        let detail = match &e {
            // Internal details go to the log (with the request id), not to the client.
            VaultError::Internal(msg) => {
                tracing::error!(code, error = %msg, "internal error");
                "an internal error occurred; quote the request id to the operator".to_owned()
            }
            other => other.to_string(),
        };
        let errors = match e {
            VaultError::Invalid(list) => list,
            _ => Vec::new(),
        };
        let mut api = ApiError::new(status, code, title, detail);
        api.errors = errors;
        if status == StatusCode::SERVICE_UNAVAILABLE {
            api.retry_after = Some(1);
        }
        api
    }
}

impl From<AuthError> for ApiError {
    fn from(e: AuthError) -> Self {
        match e {
            AuthError::Malformed => ApiError::new(
                StatusCode::UNAUTHORIZED,
                "AUTH-0001",
                "Unauthorized",
                "send `Authorization: Bearer ck_…` with a valid API key",
            ),
            AuthError::Rejected => ApiError::new(
                StatusCode::UNAUTHORIZED,
                "AUTH-0002",
                "Unauthorized",
                "unknown, revoked or wrong API key",
            ),
            AuthError::Unavailable => {
                let mut a = ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "VAULT-0010",
                    "Storage busy",
                    "retry",
                );
                a.retry_after = Some(1);
                a
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut body = json!({
            "type": format!("urn:custos:problem:{}", self.code),
            "title": self.title,
            "status": self.status.as_u16(),
            "detail": self.detail,
            "code": self.code,
        });
        if let Some(obj) = body.as_object_mut() {
            if !self.errors.is_empty() {
                obj.insert("errors".into(), json!(self.errors));
            }
            if let Some(id) = &self.request_id {
                obj.insert("request_id".into(), json!(id));
            }
        }
        let mut resp = (self.status, body.to_string()).into_response();
        resp.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if self.status == StatusCode::UNAUTHORIZED {
            resp.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if let Some(secs) = self.retry_after
            && let Ok(v) = HeaderValue::from_str(&secs.to_string())
        {
            resp.headers_mut().insert(header::RETRY_AFTER, v);
        }
        resp
    }
}
