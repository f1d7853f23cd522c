//! Identity verification for requests from people (issue 4 part 5): a one-time
//! code goes to a contact custos already holds for the subject (never to an address
//! the requester types in), expires after [`CODE_TTL_MINUTES`], allows
//! [`MAX_ATTEMPTS`] guesses, at most [`MAX_PER_HOUR`] codes per subject per hour,
//! and is compared in constant time against a keyed hash (the code itself is never
//! stored; it travels only in the outbox message that delivers it).

use custos_crypto::{SecretKey, blind_index, ct_eq};
use custos_store::{
    Challenge, OutboxMessage, Outcome, RequestStore, Store, StoreError, SubjectId, SubjectState,
    TenantId, Timestamp, Uuid, VerificationStore,
};
use serde::Serialize;
use serde_json::json;

use crate::error::{FieldError, VaultError};
use crate::vault::{Actor, RequestCtx, Vault};

pub const CODE_TTL_MINUTES: i64 = 10;
pub const MAX_ATTEMPTS: u32 = 5;
pub const MAX_PER_HOUR: u32 = 5;

/// What the caller learns when a code is sent: where to check it and until when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Started {
    pub challenge: Uuid,
    pub category: String,
    pub expires_at: Timestamp,
}

/// The outcome of checking a code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Checked {
    pub verified: bool,
    pub subject: Option<SubjectId>,
    pub attempts_left: u32,
}

fn problem(pointer: &str, code: &'static str, detail: &str) -> VaultError {
    VaultError::Invalid(vec![FieldError {
        pointer: pointer.to_owned(),
        code,
        detail: detail.to_owned(),
    }])
}

impl<S: Store + RequestStore + VerificationStore> Vault<S> {
    fn code_hash(
        &self,
        tenant: &TenantId,
        challenge: Uuid,
        code: &str,
    ) -> Result<[u8; 32], VaultError> {
        let key = self
            .keys
            .blind_index_key(tenant.as_str(), "verification.code")?;
        Ok(blind_index(&key, &format!("{challenge}\0{code}")))
    }

    /// Sends a code to the subject's contact of `category` (it must hold one).
    pub fn start_verification(
        &self,
        actor: &Actor,
        subject: SubjectId,
        category: &str,
        ctx: &RequestCtx,
    ) -> Result<Started, VaultError> {
        let policy = self.policy(&actor.tenant)?;
        let is_contact = policy.policy.category.get(category).is_some_and(|c| {
            c.lookup
                && matches!(
                    c.shape,
                    custos_policy::model::Shape::Email | custos_policy::model::Shape::Phone
                )
        });
        if !is_contact {
            return Err(problem(
                "/category",
                "VAULT-0140",
                "codes go to an email or phone category declared with lookup = true",
            ));
        }
        match self.store.subject(&actor.tenant, subject)? {
            Some(s) if s.state != SubjectState::Erased => {}
            _ => return Err(VaultError::SubjectNotFound),
        }
        let mut probe = self.audit(actor, ctx, "verification.lookup");
        probe.subject = Some(subject);
        probe.categories = vec![category.to_owned()];
        probe.reason = "does the subject hold this contact".into();
        let (_, records) =
            self.store
                .read_subject(&actor.tenant, subject, &[category.to_owned()], &probe)?;
        if records.is_empty() {
            return Err(problem(
                "/category",
                "VAULT-0141",
                "custos holds no contact of this category for the subject",
            ));
        }
        let now = self.clock.now();
        let hour_ago = now
            .checked_sub(jiff::SignedDuration::from_hours(1))
            .unwrap_or(now);
        if self
            .store
            .challenges_since(&actor.tenant, subject, hour_ago)?
            >= MAX_PER_HOUR
        {
            return Err(VaultError::TooManyAttempts);
        }
        let code = six_digits()?;
        let id = Uuid::now_v7();
        let expires_at = now
            .checked_add(jiff::SignedDuration::from_mins(CODE_TTL_MINUTES))
            .map_err(|_| VaultError::Internal("time out of range".into()))?;
        let challenge = Challenge {
            id,
            subject,
            category: category.to_owned(),
            code_hash: self.code_hash(&actor.tenant, id, &code)?,
            created_at: now,
            expires_at,
            attempts: 0,
            consumed_at: None,
        };
        // The code leaves only through this message; the sink sends it to the held contact.
        let message = OutboxMessage {
            id: Uuid::now_v7(),
            subject: Some(subject),
            kind: "verification.code".into(),
            payload: json!({ "challenge": id, "category": category, "code": code, "expires_at": expires_at }).to_string(),
            created_at: now,
            attempts: 0,
            next_attempt_at: now,
            delivered_at: None,
            last_error: None,
        };
        let mut audit = self.audit(actor, ctx, "verification.started");
        audit.subject = Some(subject);
        audit.categories = vec![category.to_owned()];
        audit.reason = format!("challenge {id}");
        self.store
            .create_challenge(&actor.tenant, &challenge, &[message], &audit)?;
        Ok(Started {
            challenge: id,
            category: category.to_owned(),
            expires_at,
        })
    }

    /// Checks a code. A wrong code spends an attempt; an expired, used-up or consumed
    /// challenge never verifies.
    pub fn check_verification(
        &self,
        actor: &Actor,
        challenge: Uuid,
        code: &str,
        ctx: &RequestCtx,
    ) -> Result<Checked, VaultError> {
        let mut c = self
            .store
            .challenge(&actor.tenant, challenge)?
            .ok_or(VaultError::BadToken)?;
        let now = self.clock.now();
        if c.consumed_at.is_some() || c.attempts >= MAX_ATTEMPTS || now > c.expires_at {
            return Ok(Checked {
                verified: false,
                subject: None,
                attempts_left: 0,
            });
        }
        let well_formed = code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit());
        let expected = c.code_hash;
        let given = self.code_hash(
            &actor.tenant,
            challenge,
            if well_formed { code } else { "" },
        )?;
        let ok = well_formed && ct_eq(&expected, &given);
        let before = c.attempts;
        c.attempts += 1;
        if ok {
            c.consumed_at = Some(now);
        }
        let mut audit = self.audit(actor, ctx, "verification.checked");
        audit.subject = Some(c.subject);
        audit.outcome = if ok { Outcome::Allow } else { Outcome::Deny };
        audit.reason = format!("challenge {challenge}, attempt {}", c.attempts);
        match self.store.record_attempt(&actor.tenant, &c, before, &audit) {
            Ok(_) => {}
            // Another guess landed first: this one does not count and does not verify.
            Err(StoreError::Conflict(_)) => {
                return Ok(Checked {
                    verified: false,
                    subject: None,
                    attempts_left: 0,
                });
            }
            Err(e) => return Err(e.into()),
        }
        Ok(Checked {
            verified: ok,
            subject: ok.then_some(c.subject),
            attempts_left: if ok {
                0
            } else {
                MAX_ATTEMPTS.saturating_sub(c.attempts)
            },
        })
    }
}

/// A uniformly random six-digit code (rejection sampling, no modulo bias).
fn six_digits() -> Result<String, VaultError> {
    loop {
        let bytes = SecretKey::generate()?;
        for chunk in bytes.expose_secret().chunks_exact(4) {
            let mut b = [0u8; 4];
            b.copy_from_slice(chunk);
            let n = u32::from_le_bytes(b);
            // 4,294,000,000 is the largest multiple of 1,000,000 below 2^32.
            if n < 4_294_000_000 {
                return Ok(format!("{:06}", n % 1_000_000));
            }
        }
    }
}
