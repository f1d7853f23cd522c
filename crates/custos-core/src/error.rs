//! Errors of the engine, each with a stable code (`VAULT-00NN`) the HTTP and CLI
//! edges show. Messages name categories, purposes and ids — never a value.

use custos_store::StoreError;

/// One problem with one part of the input, located by a JSON pointer (`/records/2/value`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FieldError {
    pub pointer: String,
    pub code: &'static str,
    pub detail: String,
}

#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    /// The input breaks the policy or the value rules; every problem is listed.
    #[error("the request is invalid ({} problem(s))", .0.len())]
    Invalid(Vec<FieldError>),
    /// The purpose is not in the policy in force.
    #[error("purpose `{0}` is not in the policy")]
    UnknownPurpose(String),
    /// The caller's role is not a recipient of this purpose (P0-6).
    #[error("role `{role}` may not process data for purpose `{purpose}`")]
    PurposeNotPermitted { role: String, purpose: String },
    /// The API key is limited to other purposes (L-3).
    #[error("this API key is not allowed to use purpose `{0}`")]
    KeyScope(String),
    #[error("subject not found")]
    SubjectNotFound,
    /// Erased subjects are gone for good (their key was destroyed).
    #[error("subject was erased")]
    SubjectErased,
    /// The idempotency key was used before with a different request.
    #[error("idempotency key reused with a different request")]
    IdempotencyMismatch,
    /// The tenant has no policy in force.
    #[error("no policy is in force for this tenant")]
    NoPolicy,
    /// A stored ciphertext or wrapped key failed authentication: data was altered or moved.
    #[error("stored data failed its integrity check")]
    Integrity,
    /// The database is busy; retry.
    #[error("storage unavailable, retry")]
    Unavailable,
    #[error("internal error: {0}")]
    Internal(String),
    #[error("request not found")]
    RequestNotFound,
    /// Too many verification codes or attempts; wait before trying again.
    #[error("too many attempts; try again later")]
    TooManyAttempts,
    /// An unsubscribe or similar token is forged, altered or for nobody.
    #[error("the link is not valid")]
    BadToken,
    /// No such contract (or not this person's: existence is never revealed).
    #[error("contract not found")]
    ContractNotFound,
    /// The caller's role may not send retention (lifecycle) events: the policy
    /// lists the roles that may (`sends_lifecycle_events`, issue 17.2).
    #[error("role `{0}` may not send lifecycle events")]
    EventRoleNotAllowed(String),
    /// The caller's role may not record a consent grant for a person (issue 13.2):
    /// only the person, admin keys and roles the policy declares with
    /// `records_consent` may.
    #[error("role `{0}` may not record consent on a person's behalf")]
    ConsentGrantNotAllowed(String),
}

impl VaultError {
    pub fn code(&self) -> &'static str {
        match self {
            VaultError::Invalid(_) => "VAULT-0001",
            VaultError::UnknownPurpose(_) => "VAULT-0002",
            VaultError::PurposeNotPermitted { .. } => "VAULT-0003",
            VaultError::KeyScope(_) => "VAULT-0004",
            VaultError::SubjectNotFound => "VAULT-0005",
            VaultError::SubjectErased => "VAULT-0006",
            VaultError::IdempotencyMismatch => "VAULT-0007",
            VaultError::NoPolicy => "VAULT-0008",
            VaultError::Integrity => "VAULT-0009",
            VaultError::Unavailable => "VAULT-0010",
            VaultError::Internal(_) => "VAULT-0011",
            VaultError::BadToken => "VAULT-0012",
            VaultError::RequestNotFound => "VAULT-0013",
            VaultError::TooManyAttempts => "VAULT-0014",
            VaultError::ContractNotFound => "CONTRACT-0001",
            VaultError::EventRoleNotAllowed(_) => "VAULT-0216",
            VaultError::ConsentGrantNotAllowed(_) => "VAULT-0204",
        }
    }
}

impl From<StoreError> for VaultError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(_) => VaultError::SubjectNotFound,
            StoreError::Unavailable(_) => VaultError::Unavailable,
            other => VaultError::Internal(other.to_string()),
        }
    }
}

impl From<custos_crypto::CryptoError> for VaultError {
    fn from(e: custos_crypto::CryptoError) -> Self {
        match e {
            custos_crypto::CryptoError::Tampered
            | custos_crypto::CryptoError::Malformed(_)
            | custos_crypto::CryptoError::UnsupportedFormat(_) => VaultError::Integrity,
            other => VaultError::Internal(other.to_string()),
        }
    }
}

/// Codes of field-level problems (inside `VaultError::Invalid`).
pub mod field {
    pub const UNKNOWN_CATEGORY: &str = "VAULT-0101";
    pub const NEVER_STORE: &str = "VAULT-0102";
    pub const CARD_NUMBER: &str = "VAULT-0103";
    pub const CVV_FIELD: &str = "VAULT-0104";
    /// A card security code written next to its label inside free text (P0-2).
    pub const CVV_IN_TEXT: &str = "VAULT-0286";
    /// A card expiry date next to a card number, full or masked, in free text (P0-2).
    pub const CARD_EXPIRY: &str = "VAULT-0287";
    pub const BAD_SHAPE: &str = "VAULT-0105";
    pub const NOT_COLLECTED: &str = "VAULT-0106";
    pub const UNKNOWN_PURPOSE: &str = "VAULT-0107";
    pub const ANONYMOUS: &str = "VAULT-0108";
    pub const EMPTY: &str = "VAULT-0109";
    pub const TOO_MANY: &str = "VAULT-0110";
    pub const JURISDICTION: &str = "VAULT-0111";
    pub const NOT_LOOKUP: &str = "VAULT-0112";
    pub const SOURCE: &str = "VAULT-0113";
}
