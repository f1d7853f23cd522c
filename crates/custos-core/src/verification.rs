//! Identity verification for requests from people (issue 4 part 5): a one-time
//! code goes to a contact custos already holds for the subject (never to an address
//! the requester types in), expires after [`CODE_TTL_MINUTES`], allows
//! [`MAX_ATTEMPTS`] guesses, at most [`MAX_PER_HOUR`] codes per subject per hour,
//! and is compared in constant time against a keyed hash (the code itself is never
//! stored; it travels only in the outbox message that delivers it, and is scrubbed
//! from that row once delivered or expired: [`scrub_code`], used by
//! [`crate::rights::deliver_due`] and the archive export).

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
/// Codes per subject per hour through privacy-center sign-ins: a cap on mail, not
/// the per-client bound (see [`Vault::start_sign_in`]).
pub const SIGN_IN_MAX_PER_HOUR: u32 = 20;
/// The outbox kind that carries a code.
pub const CODE_KIND: &str = "verification.code";

/// The outbox message that carries a code: to `subject`'s held contact, or, for a
/// sign-in that matched nobody, to nowhere (no subject, no code).
fn code_message(
    subject: Option<SubjectId>,
    challenge: Uuid,
    category: &str,
    code: Option<&str>,
    expires_at: Timestamp,
    now: Timestamp,
) -> OutboxMessage {
    let mut payload =
        json!({ "challenge": challenge, "category": category, "expires_at": expires_at });
    if let (Some(code), Some(map)) = (code, payload.as_object_mut()) {
        map.insert("code".into(), json!(code));
    }
    OutboxMessage {
        id: Uuid::now_v7(),
        subject,
        kind: CODE_KIND.into(),
        payload: payload.to_string(),
        created_at: now,
        attempts: 0,
        next_attempt_at: now,
        delivered_at: None,
        last_error: None,
    }
}

/// The payload of a code message without its code (`None`: nothing to scrub — another
/// kind, or already scrubbed). Delivery and the archive export call it, so a code
/// lives in the database only until it is handed to the sink.
pub fn scrub_code(kind: &str, payload: &str) -> Option<String> {
    if kind != CODE_KIND {
        return None;
    }
    let mut v: serde_json::Value = serde_json::from_str(payload).ok()?;
    v.as_object_mut()?.remove("code")?;
    Some(v.to_string())
}

/// Whether a code message is still worth sending at `now`: it holds a code that has
/// not expired. A code past its expiry could never be used; it is not sent late.
pub fn code_deliverable(payload: &str, now: Timestamp) -> bool {
    let Ok(v) = serde_json::from_str::<serde_json::Value>(payload) else {
        return false;
    };
    let expires = v
        .get("expires_at")
        .and_then(serde_json::Value::as_str)
        .and_then(|t| t.parse::<Timestamp>().ok());
    v.get("code").is_some_and(serde_json::Value::is_string) && expires.is_some_and(|t| now < t)
}

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

impl<S: Store + RequestStore + VerificationStore + custos_store::LifecycleStore> Vault<S> {
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
        self.send_code(actor, subject, category, Uuid::now_v7(), MAX_PER_HOUR, ctx)
    }

    /// One code as challenge `id`, unless the subject has had `budget` codes in the
    /// last hour.
    fn send_code(
        &self,
        actor: &Actor,
        subject: SubjectId,
        category: &str,
        id: Uuid,
        budget: u32,
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
        let now = self.clock.now();
        // Expired means gone (issue 13.14): no code to a contact past its expiry.
        if records.iter().all(|r| crate::retention::expired(r, now)) {
            return Err(problem(
                "/category",
                "VAULT-0141",
                "custos holds no contact of this category for the subject",
            ));
        }
        let hour_ago = now
            .checked_sub(jiff::SignedDuration::from_hours(1))
            .unwrap_or(now);
        if self
            .store
            .challenges_since(&actor.tenant, subject, hour_ago)?
            >= budget
        {
            return Err(VaultError::TooManyAttempts);
        }
        let code = six_digits()?;
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
        let message = code_message(Some(subject), id, category, Some(&code), expires_at, now);
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

    /// A privacy-center sign-in for the address a person typed, as challenge
    /// `challenge` (drawn by the caller, so it can answer before this work ends): a
    /// code to the subject holding the address, or the same work for an address that
    /// matches nobody, an erased person's, or one whose hourly budget is spent (keyed
    /// hash of a fresh code, an outbox message to nowhere, an audit entry), so neither
    /// the answer nor the server's effort tells whether someone is a customer (issue
    /// 17.5). The budget here is [`SIGN_IN_MAX_PER_HOUR`]: each client is already held
    /// to a few codes per address by the server's limits, so this bound only caps the
    /// mail a crowd of clients can send one person, and a few probing clients cannot
    /// spend it and lock the person out.
    pub fn start_sign_in(
        &self,
        tenant: &TenantId,
        contact: &str,
        challenge: Uuid,
        ctx: &RequestCtx,
    ) -> Result<(), VaultError> {
        let actor = crate::self_service::privacy_center_actor(tenant);
        let category = match self.find_by_contact(tenant, contact, ctx)? {
            Some((subject, category)) => {
                match self.send_code(
                    &actor,
                    subject,
                    &category,
                    challenge,
                    SIGN_IN_MAX_PER_HOUR,
                    ctx,
                ) {
                    Ok(_) => return Ok(()),
                    // Out of codes for the hour, erased, or no longer holding the
                    // contact: as unknown.
                    Err(
                        VaultError::TooManyAttempts
                        | VaultError::SubjectNotFound
                        | VaultError::Invalid(_),
                    ) => category,
                    Err(e) => return Err(e),
                }
            }
            None => "unknown".to_owned(),
        };
        let now = self.clock.now();
        let expires_at = now
            .checked_add(jiff::SignedDuration::from_mins(CODE_TTL_MINUTES))
            .map_err(|_| VaultError::Internal("time out of range".into()))?;
        // Drawn and hashed as for a real challenge, then dropped: equal work, nothing kept.
        let _ = self.code_hash(tenant, challenge, &six_digits()?)?;
        // Closed as it is written: it never waits in the delivery queue ahead of a
        // real code, and goes with the next decoy written an hour later.
        let mut message = code_message(None, challenge, &category, None, expires_at, now);
        message.delivered_at = Some(now);
        message.last_error = Some("no recipient".into());
        let purge_before = now
            .checked_sub(jiff::SignedDuration::from_hours(1))
            .unwrap_or(now);
        let mut audit = self.audit(&actor, ctx, "verification.unaddressed");
        audit.reason = format!("challenge {challenge}: the address matched no subject");
        self.store
            .queue_unaddressed(tenant, &[message], purge_before, &audit)?;
        Ok(())
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
        let Some(mut c) = self.store.challenge(&actor.tenant, challenge)? else {
            // A sign-in for an address that matched nobody ends here: the same hash
            // and the same kind of write as a wrong guess, so timing does not tell.
            let _ = self.code_hash(&actor.tenant, challenge, code)?;
            let mut audit = self.audit(actor, ctx, "verification.checked");
            audit.outcome = Outcome::Deny;
            audit.reason = format!("challenge {challenge}: no such challenge");
            self.store.append_audit(&actor.tenant, &audit)?;
            return Err(VaultError::BadToken);
        };
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
