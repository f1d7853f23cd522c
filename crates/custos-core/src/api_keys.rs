//! API keys: issued once (the secret is shown to the operator and never stored),
//! checked on every request by a keyed hash compared in constant time.
//!
//! Token format: `ck_<16 hex id>.<64 hex secret>`. The id is public and indexes the
//! stored row; the secret is 32 random bytes.

use std::fmt::Write as _;

use custos_crypto::{KeyRing, SecretKey, Zeroizing};
use custos_store::{ApiKey, AuditDraft, Outcome, Store, TenantId, Timestamp};

use crate::error::VaultError;
use crate::vault::Actor;

/// A newly issued key; `token` is shown once.
#[derive(Debug)]
pub struct IssuedKey {
    pub key: ApiKey,
    pub token: Zeroizing<String>,
}

/// Why a token was refused. Deliberately coarse: a caller learns nothing about
/// which part was wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("missing or malformed API key")]
    Malformed,
    #[error("unknown, revoked or wrong API key")]
    Rejected,
    #[error("storage unavailable")]
    Unavailable,
}

fn hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

/// What a new key may do.
#[derive(Debug, Clone)]
pub struct KeySpec {
    pub label: String,
    pub role: String,
    pub purposes: Vec<String>,
    pub admin: bool,
}

/// Issues a key for `tenant`; the audit entry names the issuer.
pub fn issue<S: Store>(
    store: &S,
    keys: &KeyRing,
    tenant: &TenantId,
    spec: &KeySpec,
    issuer: &str,
    now: Timestamp,
) -> Result<IssuedKey, VaultError> {
    let id_bytes = SecretKey::generate()?;
    let secret_bytes = SecretKey::generate()?;
    let id = format!(
        "ck_{}",
        hex(id_bytes.expose_secret().get(..8).unwrap_or_default())
    );
    let secret = Zeroizing::new(hex(secret_bytes.expose_secret()));
    let key = ApiKey {
        id: id.clone(),
        tenant: tenant.clone(),
        hash: keys.api_key_hash(&secret),
        label: spec.label.clone(),
        role: spec.role.clone(),
        purposes: spec.purposes.clone(),
        admin: spec.admin,
        created_at: now,
        revoked_at: None,
    };
    let audit = AuditDraft {
        at: now,
        actor: issuer.to_owned(),
        key_id: Some(id.clone()),
        action: "create_key".into(),
        purpose: None,
        subject: None,
        categories: Vec::new(),
        outcome: Outcome::Allow,
        reason: format!(
            "role {}{}",
            spec.role,
            if spec.admin { ", admin" } else { "" }
        ),
        request_id: None,
    };
    store.insert_api_key(&key, &audit)?;
    let token = Zeroizing::new(format!("{id}.{}", secret.as_str()));
    Ok(IssuedKey { key, token })
}

/// Resolves a bearer token to the actor it stands for.
pub fn authenticate<S: Store>(store: &S, keys: &KeyRing, token: &str) -> Result<Actor, AuthError> {
    let (id, secret) = token.split_once('.').ok_or(AuthError::Malformed)?;
    let well_formed = id.len() == 19
        && id.starts_with("ck_")
        && secret.len() == 64
        && id
            .bytes()
            .skip(3)
            .chain(secret.bytes())
            .all(|b| b.is_ascii_hexdigit());
    if !well_formed {
        return Err(AuthError::Malformed);
    }
    let key = match store.api_key(id) {
        Ok(Some(k)) => k,
        Ok(None) => {
            // Spend the same work as a real check so timing does not reveal which ids exist.
            let _ = keys.verify_api_key(secret, &[0u8; 32]);
            return Err(AuthError::Rejected);
        }
        Err(_) => return Err(AuthError::Unavailable),
    };
    if !keys.verify_api_key(secret, &key.hash) || key.revoked_at.is_some() {
        return Err(AuthError::Rejected);
    }
    Ok(Actor {
        tenant: key.tenant,
        key_id: key.id,
        role: key.role,
        purposes: key.purposes,
        admin: key.admin,
    })
}

/// Revokes a key of `tenant`.
pub fn revoke<S: Store>(
    store: &S,
    tenant: &TenantId,
    id: &str,
    by: &str,
    now: Timestamp,
) -> Result<(), VaultError> {
    let audit = AuditDraft {
        at: now,
        actor: by.to_owned(),
        key_id: Some(id.to_owned()),
        action: "revoke_key".into(),
        purpose: None,
        subject: None,
        categories: Vec::new(),
        outcome: Outcome::Allow,
        reason: "revoked".into(),
        request_id: None,
    };
    match store.revoke_api_key(tenant, id, now, &audit) {
        Ok(_) => Ok(()),
        Err(custos_store::StoreError::NotFound(_)) => {
            Err(VaultError::Invalid(vec![crate::FieldError {
                pointer: "/id".into(),
                code: "VAULT-0114",
                detail: "no such key in this tenant".into(),
            }]))
        }
        Err(e) => Err(e.into()),
    }
}
