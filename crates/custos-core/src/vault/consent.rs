//! Recording consent, withdrawal and objections (the consent ledger), consent
//! receipts, unsubscribe links that work without login (L-9), and Global Privacy
//! Control signals.
//!
//! Withdrawal is not retroactive: it appends an event; reads from then on stop for
//! consent-based purposes, while purposes on another lawful basis continue (L-7).

use custos_crypto::{blind_index, ct_eq};
use custos_policy::Policy;
use custos_policy::model::RecipientKind;
use custos_policy::names::pattern_matches;
use custos_store::{
    AuditRef, ConsentEvent, ConsentKind, ConsentStore, Outcome, Store, SubjectId, SubjectState,
    TenantId, Timestamp, Uuid,
};
use serde::{Deserialize, Serialize};

use super::{Actor, RequestCtx, Vault};
use crate::error::{FieldError, VaultError};
use crate::tenant::ActivePolicy;

/// Field code: a grant for a purpose with `prior_notice` without the text given (L-11).
pub const NOTICE_TEXT_REQUIRED: &str = "VAULT-0205";

/// What the person did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsentAction {
    Grant,
    Withdraw,
    Object,
    LiftObjection,
}

impl ConsentAction {
    fn kind(self) -> ConsentKind {
        match self {
            ConsentAction::Grant => ConsentKind::Granted,
            ConsentAction::Withdraw => ConsentKind::Withdrawn,
            ConsentAction::Object => ConsentKind::Objected,
            ConsentAction::LiftObjection => ConsentKind::ObjectionLifted,
        }
    }
}

/// Channels a consent decision can arrive by.
pub const CHANNELS: [&str; 10] = [
    "web",
    "app",
    "email",
    "email_link",
    "phone",
    "paper",
    "gpc",
    "operator",
    "api",
    "privacy_center",
];

/// A consent decision relayed by an application.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsentInput {
    pub purpose: String,
    pub action: ConsentAction,
    pub channel: String,
    /// The exact notice text the person saw; custos's own wording of the purpose when absent.
    #[serde(default)]
    pub notice_text: Option<String>,
    /// The person's IP address: only a keyed hash of it is kept.
    #[serde(default)]
    pub ip: Option<String>,
    #[serde(default)]
    pub user_agent: Option<String>,
}

/// Proof of one recorded decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConsentReceipt {
    pub id: Uuid,
    pub subject: SubjectId,
    pub purpose: String,
    pub kind: &'static str,
    pub policy_version: u32,
    /// Hex SHA-256 of the notice text shown.
    pub notice_hash: String,
    /// The notice text, when it can be reproduced (custos's wording for that version).
    pub notice_text: Option<String>,
    pub channel: String,
    pub ip_hashed: bool,
    pub user_agent: Option<String>,
    pub at: Timestamp,
    /// Who recorded it: `data_subject`, `admin` or the relaying role (issue 13.2).
    pub recorded_by: String,
}

/// Current consent state of one purpose, derived from the ledger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PurposeState {
    pub purpose: String,
    pub basis: &'static str,
    /// `granted`, `withdrawn`, `never_asked`, or `not_needed` (another lawful basis).
    pub consent: &'static str,
    pub objected: bool,
    pub since: Option<Timestamp>,
}

/// Everything the ledger holds about a subject: the exportable consent receipt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConsentRecord {
    pub subject: SubjectId,
    pub current: Vec<PurposeState>,
    /// Device and account settings (location permission, the app's connection),
    /// each with when and by whom it last changed (issue 13.3).
    pub settings: Vec<super::settings::SettingState>,
    pub events: Vec<ConsentReceipt>,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn sha256(text: &str) -> [u8; 32] {
    use sha2::Digest;
    sha2::Sha256::digest(text.as_bytes()).into()
}

/// Whether a purpose runs on consent (its own basis, a consent-only recipient, or
/// explicit consent under Art. 9), or on a prior notice the person may refuse
/// (call recording, L-11): the notice given and not refused is a ledger grant,
/// the refusal a withdrawal, so both gate collection and reads the same way.
pub fn needs_consent(policy: &Policy, purpose: &str) -> bool {
    policy.purpose.get(purpose).is_some_and(|p| {
        p.rests_on_the_persons_decision()
            || p.recipients
                .iter()
                .any(|r| policy.recipient.get(r).is_some_and(|r| r.requires_consent))
    })
}

pub fn objectable(policy: &Policy, purpose: &str) -> bool {
    policy
        .purpose
        .get(purpose)
        .is_some_and(|p| p.objectable.unwrap_or(p.basis.objectable()))
}

/// custos's own wording of what a person consents to for a purpose, per policy version.
pub fn purpose_notice_text(policy: &Policy, purpose: &str) -> Option<String> {
    let p = policy.purpose.get(purpose)?;
    let categories: Vec<&str> = policy
        .category
        .iter()
        .filter(|(name, c)| {
            !c.never_store && p.categories.iter().any(|pat| pattern_matches(pat, name))
        })
        .map(|(_, c)| c.description.as_str())
        .collect();
    let recipients: Vec<&str> = p
        .recipients
        .iter()
        .filter_map(|r| policy.recipient.get(r))
        .map(|r| r.name.as_str())
        .collect();
    Some(format!(
        "{}: {}\nLawful basis: {}\nData used: {}\nWho receives it: {}\nController: {}",
        policy.policy.title,
        p.description,
        p.basis.phrase(),
        categories.join("; "),
        recipients.join("; "),
        policy.controller.name
    ))
}

/// Who recorded a ledger event, as the ledger shows it (issue 13.2).
pub(crate) fn recorder(actor: &Actor) -> String {
    if actor.role == crate::self_service::PERSON_ROLE {
        crate::self_service::PERSON_ROLE.to_owned()
    } else if actor.admin {
        "admin".to_owned()
    } else {
        actor.role.clone()
    }
}

/// Whether `actor` may record a consent *grant* (issue 13.2): the person (privacy
/// center, signed links), an admin key (an operator entering a paper form), or a
/// policy role declared with `records_consent` — only ever an internal recipient
/// (POL-0101), so no partner or integration can give itself a consent. Anyone may
/// record a withdrawal or an objection: withdrawing is as easy as giving.
pub fn may_record_grant(policy: &Policy, actor: &Actor) -> bool {
    actor.admin
        || actor.role == crate::self_service::PERSON_ROLE
        || policy
            .recipient
            .get(&actor.role)
            .is_some_and(|r| r.records_consent && r.kind == RecipientKind::Internal)
}

impl<S: Store> Vault<S> {
    /// Checks a consent decision and builds its ledger event; nothing is stored.
    /// `at` prefixes the problems' pointers (`/consents/0` for a consent a write
    /// carries). A grant by a role that may not record one is refused and audited.
    pub(crate) fn consent_event(
        &self,
        actor: &Actor,
        active: &ActivePolicy,
        subject: SubjectId,
        input: &ConsentInput,
        at: &str,
        ctx: &RequestCtx,
    ) -> Result<(ConsentEvent, String), VaultError> {
        let policy = &active.policy;
        let mut problems = Vec::new();
        let mut problem = |pointer: &str, code: &'static str, detail: String| {
            problems.push(FieldError {
                pointer: format!("{at}{pointer}"),
                code,
                detail,
            });
        };
        if !policy.purpose.contains_key(&input.purpose) {
            return Err(VaultError::UnknownPurpose(input.purpose.clone()));
        }
        if input.action == ConsentAction::Grant && !may_record_grant(policy, actor) {
            return Err(self.deny(
                actor,
                ctx,
                "consent.granted",
                Some(&input.purpose),
                Some(subject),
                VaultError::ConsentGrantNotAllowed(actor.role.clone()),
            ));
        }
        match input.action {
            // Opt-out categories (P0-5) are switched off and on with withdraw/grant.
            ConsentAction::Grant | ConsentAction::Withdraw
                if !needs_consent(policy, &input.purpose)
                    && !super::gates::collects_opt_out(policy, &input.purpose)
                    && !active.reconsent_since.contains_key(&input.purpose) =>
            {
                problem(
                    "/purpose",
                    "VAULT-0120",
                    format!(
                        "purpose `{}` does not rest on consent; withdrawing consent does not apply to it",
                        input.purpose
                    ),
                )
            }
            ConsentAction::Object | ConsentAction::LiftObjection
                if !objectable(policy, &input.purpose) =>
            {
                problem(
                    "/purpose",
                    "VAULT-0121",
                    format!(
                        "purpose `{}` is not based on legitimate or public interest; an objection does not apply",
                        input.purpose
                    ),
                )
            }
            _ => {}
        }
        // Global Privacy Control is an opt-out signal: it never carries a yes.
        if input.action == ConsentAction::Grant && input.channel == "gpc" {
            problem(
                "/channel",
                "VAULT-0122",
                "a grant cannot arrive by an opt-out signal (gpc)".into(),
            );
        }
        if !CHANNELS.contains(&input.channel.as_str()) {
            problem(
                "/channel",
                "VAULT-0122",
                format!("channel must be one of {}", CHANNELS.join(", ")),
            );
        }
        // L-11: a receipt never claims a notice nobody gave, so custos does not
        // fill in its own wording for a purpose told before it happens.
        if input.action == ConsentAction::Grant
            && input.notice_text.is_none()
            && policy
                .purpose
                .get(&input.purpose)
                .is_some_and(|p| p.prior_notice)
        {
            problem(
                "/notice_text",
                NOTICE_TEXT_REQUIRED,
                format!(
                    "purpose `{}` is announced before it happens; send the notice text the person was actually given",
                    input.purpose
                ),
            );
        }
        if input
            .notice_text
            .as_ref()
            .is_some_and(|t| !custos_pii::has_visible_text(t) || t.len() > 100_000)
        {
            problem(
                "/notice_text",
                "VAULT-0123",
                "the notice text must show the words given (visible text, at most 100,000 bytes)"
                    .into(),
            );
        }
        if input
            .ip
            .as_ref()
            .is_some_and(|ip| ip.parse::<std::net::IpAddr>().is_err())
        {
            problem("/ip", "VAULT-0124", "not an IP address".into());
        }
        if input.user_agent.as_ref().is_some_and(|u| u.len() > 512) {
            problem("/user_agent", "VAULT-0125", "at most 512 bytes".into());
        }
        if !problems.is_empty() {
            return Err(VaultError::Invalid(problems));
        }
        let notice = input
            .notice_text
            .clone()
            .or_else(|| purpose_notice_text(policy, &input.purpose))
            .unwrap_or_default();
        let ip_hash = match &input.ip {
            Some(ip) => {
                let key = self
                    .keys
                    .blind_index_key(actor.tenant.as_str(), "consent.ip")?;
                Some(blind_index(&key, ip.trim()))
            }
            None => None,
        };
        let event = ConsentEvent {
            id: Uuid::now_v7(),
            subject,
            purpose: input.purpose.clone(),
            kind: input.action.kind(),
            policy_version: active.number,
            notice_hash: sha256(&notice),
            channel: input.channel.clone(),
            ip_hash,
            user_agent: input.user_agent.clone(),
            at: self.clock.now(),
            recorded_by: recorder(actor),
        };
        Ok((event, notice))
    }

    /// The ledger events of the consents a write carries (issue 13.1): each is a
    /// grant checked like any other, with the form's own text.
    pub(crate) fn carried_consents(
        &self,
        actor: &Actor,
        active: &ActivePolicy,
        subject: SubjectId,
        req: &super::write::WriteRequest,
        ctx: &RequestCtx,
    ) -> Result<Vec<ConsentEvent>, VaultError> {
        req.consents
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let input = ConsentInput {
                    purpose: c.purpose.clone(),
                    action: ConsentAction::Grant,
                    channel: c.channel.clone(),
                    notice_text: Some(c.notice_text.clone()),
                    ip: c.ip.clone(),
                    user_agent: c.user_agent.clone(),
                };
                let at = format!("/consents/{i}");
                Ok(self
                    .consent_event(actor, active, subject, &input, &at, ctx)?
                    .0)
            })
            .collect()
    }
}

impl<S: Store + ConsentStore + custos_store::RetentionStore> Vault<S> {
    /// Records a consent decision for a subject.
    pub fn record_consent(
        &self,
        actor: &Actor,
        subject: SubjectId,
        input: &ConsentInput,
        ctx: &RequestCtx,
    ) -> Result<ConsentReceipt, VaultError> {
        let active = self.policy(&actor.tenant)?;
        let policy = &active.policy;
        let (event, notice) = self.consent_event(actor, &active, subject, input, "", ctx)?;
        self.append_event(actor, &event, ctx)?;
        // A withdrawal starts the clock of retention that counts from it.
        if matches!(input.action, ConsentAction::Withdraw)
            && policy.category.values().any(|c| {
                c.retention
                    .as_ref()
                    .and_then(|r| r.rule())
                    .is_some_and(|r| r.after == custos_policy::period::Trigger::ConsentWithdrawal)
            })
        {
            // The ledger's own withdrawal, at the server's time: not a client event.
            self.apply_event(
                actor,
                subject,
                custos_policy::period::Trigger::ConsentWithdrawal,
                event.at,
                Some(&input.purpose),
                ctx,
            )?;
        }
        Ok(receipt(&event, Some(notice)))
    }

    fn append_event(
        &self,
        actor: &Actor,
        event: &ConsentEvent,
        ctx: &RequestCtx,
    ) -> Result<AuditRef, VaultError> {
        let mut audit = self.audit(actor, ctx, &format!("consent.{}", event.kind.as_str()));
        audit.purpose = Some(event.purpose.clone());
        audit.subject = Some(event.subject);
        audit.reason = format!("channel {}", event.channel);
        audit.outcome = Outcome::Allow;
        match self.store.append_consent(&actor.tenant, event, &audit) {
            Ok(r) => Ok(r),
            Err(custos_store::StoreError::NotFound(_)) => Err(VaultError::SubjectNotFound),
            Err(e) => Err(e.into()),
        }
    }

    /// The subject's consent record: current state per purpose and every event with
    /// the notice text it refers to.
    pub fn consent_record(
        &self,
        actor: &Actor,
        subject: SubjectId,
        ctx: &RequestCtx,
    ) -> Result<ConsentRecord, VaultError> {
        match self.store.subject(&actor.tenant, subject)? {
            Some(s) if s.state != SubjectState::Erased => {}
            _ => {
                return Err(self.deny(
                    actor,
                    ctx,
                    "consent.export",
                    None,
                    Some(subject),
                    VaultError::SubjectNotFound,
                ));
            }
        }
        let active = self.policy(&actor.tenant)?;
        let events = self.store.consent_events(&actor.tenant, subject)?;
        let versions = self.store.policy_versions(&actor.tenant)?;
        let text_of = |e: &ConsentEvent| {
            let v = versions.iter().find(|v| v.number == e.policy_version)?;
            let p = custos_policy::load(&v.text, "stored policy").ok()?.policy;
            let text = purpose_notice_text(&p, &e.purpose)?;
            // Only custos's own wording can be reproduced; a client's text is known by hash.
            (sha256(&text) == e.notice_hash).then_some(text)
        };
        let receipts: Vec<ConsentReceipt> = events.iter().map(|e| receipt(e, text_of(e))).collect();
        let current = active
            .policy
            .purpose
            .iter()
            .map(|(id, p)| {
                let latest = |kinds: &[ConsentKind]| {
                    events
                        .iter()
                        .rev()
                        .find(|e| e.purpose == *id && kinds.contains(&e.kind))
                };
                let consent = latest(&[ConsentKind::Granted, ConsentKind::Withdrawn]);
                let objection = latest(&[ConsentKind::Objected, ConsentKind::ObjectionLifted]);
                PurposeState {
                    purpose: id.clone(),
                    basis: p.basis.as_str(),
                    consent: if !needs_consent(&active.policy, id) {
                        "not_needed"
                    } else {
                        match consent.map(|e| e.kind) {
                            Some(ConsentKind::Granted) => "granted",
                            Some(_) => "withdrawn",
                            None => "never_asked",
                        }
                    },
                    objected: objection.is_some_and(|e| e.kind == ConsentKind::Objected),
                    since: consent.or(objection).map(|e| e.at),
                }
            })
            .collect();
        let mut audit = self.audit(actor, ctx, "consent.export");
        audit.subject = Some(subject);
        audit.reason = format!("{} event(s)", receipts.len());
        self.store.append_audit(&actor.tenant, &audit)?;
        Ok(ConsentRecord {
            subject,
            current,
            settings: self.settings_of(&actor.tenant, subject)?,
            events: receipts,
        })
    }

    /// A token for the unsubscribe link of a marketing message: it withdraws consent
    /// to `purpose` without login (L-9). Stateless: an HMAC over tenant, subject and
    /// purpose under a tenant key, so it cannot be forged or moved to another person.
    pub fn unsubscribe_token(
        &self,
        tenant: &TenantId,
        subject: SubjectId,
        purpose: &str,
    ) -> Result<String, VaultError> {
        let mac = self.unsubscribe_mac(tenant, subject, purpose)?;
        Ok(format!(
            "{tenant}~{subject}~{purpose}~{}",
            hex(mac.get(..16).unwrap_or_default())
        ))
    }

    fn unsubscribe_mac(
        &self,
        tenant: &TenantId,
        subject: SubjectId,
        purpose: &str,
    ) -> Result<[u8; 32], VaultError> {
        let key = self.keys.blind_index_key(tenant.as_str(), "unsubscribe")?;
        Ok(blind_index(
            &key,
            &format!("{tenant}\0{subject}\0{purpose}"),
        ))
    }

    /// Checks an unsubscribe token; returns tenant, subject and purpose when genuine.
    pub fn check_unsubscribe_token(&self, token: &str) -> Option<(TenantId, SubjectId, String)> {
        let mut parts = token.split('~');
        let (tenant, subject, purpose, mac) =
            (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() || mac.len() != 32 {
            return None;
        }
        let tenant = TenantId::new(tenant)?;
        let subject = SubjectId(Uuid::try_parse(subject).ok()?);
        let expected = self.unsubscribe_mac(&tenant, subject, purpose).ok()?;
        let expected = hex(expected.get(..16)?);
        ct_eq(expected.as_bytes(), mac.as_bytes()).then(|| (tenant, subject, purpose.to_owned()))
    }

    /// Withdraws consent through an unsubscribe token (no API key: the token is the proof).
    pub fn unsubscribe(
        &self,
        token: &str,
        user_agent: Option<String>,
    ) -> Result<ConsentReceipt, VaultError> {
        let (tenant, subject, purpose) = self
            .check_unsubscribe_token(token)
            .ok_or(VaultError::BadToken)?;
        let actor = Actor {
            tenant,
            key_id: "unsubscribe-link".into(),
            role: crate::self_service::PERSON_ROLE.into(),
            purposes: Vec::new(),
            admin: false,
        };
        let input = ConsentInput {
            purpose,
            action: ConsentAction::Withdraw,
            channel: "email_link".into(),
            notice_text: None,
            ip: None,
            user_agent: user_agent.map(|u| u.chars().take(512).collect()),
        };
        let mut receipt = self.record_consent(&actor, subject, &input, &RequestCtx::default())?;
        receipt.notice_text = None;
        Ok(receipt)
    }

    /// A Global Privacy Control (or similar opt-out) signal: withdraws consent to every
    /// consent purpose that shares data with a third party. Returns the purposes affected.
    pub fn opt_out_signal(
        &self,
        actor: &Actor,
        subject: SubjectId,
        ctx: &RequestCtx,
    ) -> Result<Vec<String>, VaultError> {
        let active = self.policy(&actor.tenant)?;
        let policy = &active.policy;
        let sharing: Vec<String> = policy
            .purpose
            .iter()
            .filter(|(id, p)| {
                needs_consent(policy, id)
                    && p.recipients
                        .iter()
                        .any(|r| policy.recipient.get(r).is_some_and(|r| r.is_third_party()))
            })
            .map(|(id, _)| id.clone())
            .collect();
        for purpose in &sharing {
            let input = ConsentInput {
                purpose: purpose.clone(),
                action: ConsentAction::Withdraw,
                channel: "gpc".into(),
                notice_text: None,
                ip: None,
                user_agent: None,
            };
            self.record_consent(actor, subject, &input, ctx)?;
        }
        Ok(sharing)
    }
}

fn receipt(e: &ConsentEvent, notice_text: Option<String>) -> ConsentReceipt {
    ConsentReceipt {
        id: e.id,
        subject: e.subject,
        purpose: e.purpose.clone(),
        kind: e.kind.as_str(),
        policy_version: e.policy_version,
        notice_hash: hex(&e.notice_hash),
        notice_text,
        channel: e.channel.clone(),
        ip_hashed: e.ip_hash.is_some(),
        user_agent: e.user_agent.clone(),
        at: e.at,
        recorded_by: e.recorded_by.clone(),
    }
}
