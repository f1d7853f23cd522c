//! Breach incidents (P0-13, V-4, S-5): the blast radius computed from the audit
//! log, the deadlines set from the policy, a notice drafted per affected person,
//! compromised API keys revoked, and a law-enforcement hold that delays people's
//! notices (with its recorded reason) until it is lifted.

use std::collections::{BTreeMap, BTreeSet};

use custos_policy::model::Channel;
use custos_store::{
    AuditDraft, IncidentRow, IncidentStore, OutboxMessage, Outcome, RequestStore, Store,
    StoreError, SubjectId, TenantId, Timestamp, Uuid,
};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::error::{FieldError, VaultError};
use crate::rights::add_span;
use crate::vault::{Actor, RequestCtx, Vault};

/// What staff know when they open an incident.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IncidentInput {
    pub description: String,
    pub detected_at: Timestamp,
    /// When the controller became aware (deadlines count from it); `detected_at` if absent.
    #[serde(default)]
    pub aware_at: Option<Timestamp>,
    /// API keys believed compromised; they are revoked when the incident opens.
    #[serde(default)]
    pub key_ids: Vec<String>,
    /// Other actors in scope, as audited (`operator`, `key:…`).
    #[serde(default)]
    pub actors: Vec<String>,
    pub from: Timestamp,
    pub to: Timestamp,
    /// Only these categories count (all when empty).
    #[serde(default)]
    pub categories: Vec<String>,
    /// Law enforcement asked for a delay (V-4): notices to people wait for the lift.
    #[serde(default)]
    pub law_enforcement_hold: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Affected {
    pub subject: SubjectId,
    pub categories: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hold {
    pub reason: String,
    pub since: Timestamp,
    pub lifted_at: Option<Timestamp>,
}

/// The incident as stored (JSON document) and returned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Incident {
    pub id: Uuid,
    pub description: String,
    pub detected_at: Timestamp,
    pub aware_at: Timestamp,
    pub key_ids: Vec<String>,
    pub actors: Vec<String>,
    pub from: Timestamp,
    pub to: Timestamp,
    pub categories: Vec<String>,
    pub affected: Vec<Affected>,
    /// Deadline to tell the supervisory authority, when the policy sets one.
    pub authority_due: Option<Timestamp>,
    /// How fast people are told, in the policy's words.
    pub people_urgency: Option<String>,
    /// Channels in order of preference (V-4: email, then fax, then post).
    pub channels: Vec<String>,
    pub revoked_keys: Vec<String>,
    pub hold: Option<Hold>,
    /// Notices drafted for people, and whether they have been released to the outbox.
    pub notices_drafted: usize,
    pub notices_released: bool,
}

fn problem(pointer: &str, code: &'static str, detail: &str) -> FieldError {
    FieldError {
        pointer: pointer.to_owned(),
        code,
        detail: detail.to_owned(),
    }
}

fn channel_name(c: Channel) -> &'static str {
    match c {
        Channel::Email => "email",
        Channel::Fax => "fax",
        Channel::Post => "post",
        Channel::InApp => "in_app",
        Channel::SiteNotice => "site_notice",
    }
}

/// Reads released through a key or actor in the window: who, and which categories.
fn blast_radius<S: Store>(
    store: &S,
    tenant: &TenantId,
    input: &IncidentInput,
) -> Result<Vec<Affected>, VaultError> {
    const PAGE: usize = 10_000;
    let keys: BTreeSet<&str> = input.key_ids.iter().map(String::as_str).collect();
    let actors: BTreeSet<&str> = input.actors.iter().map(String::as_str).collect();
    let wanted: BTreeSet<&str> = input.categories.iter().map(String::as_str).collect();
    let mut hit: BTreeMap<SubjectId, BTreeSet<String>> = BTreeMap::new();
    let mut from = 1;
    loop {
        let page = store.audit_entries(tenant, from, PAGE)?;
        let n = page.len();
        for e in page {
            from = e.seq + 1;
            let d = &e.draft;
            let in_scope = d.key_id.as_deref().is_some_and(|k| keys.contains(k))
                || actors.contains(d.actor.as_str());
            let disclosed =
                matches!(d.action.as_str(), "read" | "export") && d.outcome != Outcome::Deny;
            if !(in_scope && disclosed && d.at >= input.from && d.at <= input.to) {
                continue;
            }
            let Some(subject) = d.subject else { continue };
            let cats: Vec<&String> = d
                .categories
                .iter()
                .filter(|c| wanted.is_empty() || wanted.contains(c.as_str()))
                .collect();
            if d.action == "export" && cats.is_empty() && wanted.is_empty() {
                // An export releases everything held; the entry names no category.
                hit.entry(subject).or_default().insert("*".into());
            }
            if !cats.is_empty() {
                hit.entry(subject)
                    .or_default()
                    .extend(cats.into_iter().cloned());
            }
        }
        if n < PAGE {
            break;
        }
    }
    Ok(hit
        .into_iter()
        .map(|(subject, c)| Affected {
            subject,
            categories: c.into_iter().collect(),
        })
        .collect())
}

impl<S: Store + RequestStore + IncidentStore> Vault<S> {
    /// Opens an incident: revokes the keys, computes who was affected, sets the
    /// deadlines, and drafts a notice per person (released now, or held).
    pub fn open_incident(
        &self,
        actor: &Actor,
        input: &IncidentInput,
        ctx: &RequestCtx,
    ) -> Result<Incident, VaultError> {
        if !actor.admin {
            return Err(VaultError::PurposeNotPermitted {
                role: actor.role.clone(),
                purpose: "incident response".into(),
            });
        }
        let mut problems = Vec::new();
        if input.description.trim().is_empty() || input.description.len() > 5000 {
            problems.push(problem(
                "/description",
                "VAULT-0150",
                "describe the incident (1–5000 bytes)",
            ));
        }
        if input.from > input.to {
            problems.push(problem(
                "/from",
                "VAULT-0151",
                "the window starts after it ends",
            ));
        }
        if input.key_ids.is_empty() && input.actors.is_empty() {
            problems.push(problem(
                "/key_ids",
                "VAULT-0152",
                "name at least one API key or actor in scope",
            ));
        }
        if input
            .law_enforcement_hold
            .as_ref()
            .is_some_and(|r| r.trim().is_empty())
        {
            problems.push(problem(
                "/law_enforcement_hold",
                "VAULT-0153",
                "a hold states its reason",
            ));
        }
        if !problems.is_empty() {
            return Err(VaultError::Invalid(problems));
        }
        let policy = self.policy(&actor.tenant)?;
        let breach = policy.policy.breach.as_ref();
        let now = self.clock.now();
        let aware_at = input.aware_at.unwrap_or(input.detected_at);
        // The strictest authority deadline among the policy and its jurisdictions.
        let spans = breach
            .and_then(|b| b.notify_authority.as_ref())
            .into_iter()
            .chain(
                policy
                    .policy
                    .jurisdiction
                    .values()
                    .filter_map(|j| j.breach_authority_deadline.as_ref()),
            )
            .filter_map(|p| p.span());
        let authority_due = spans.filter_map(|s| add_span(aware_at, s)).min();

        let mut revoked = Vec::new();
        for key in &input.key_ids {
            match crate::api_keys::revoke(
                self.store.as_ref(),
                &actor.tenant,
                key,
                &format!("key:{}", actor.key_id),
                now,
            ) {
                Ok(()) => revoked.push(key.clone()),
                // Unknown or another tenant's key: nothing to revoke here.
                Err(VaultError::Invalid(_)) => {}
                Err(e) => return Err(e),
            }
        }
        let affected = blast_radius(self.store.as_ref(), &actor.tenant, input)?;
        let id = Uuid::now_v7();
        let channels: Vec<String> = breach
            .map(|b| {
                b.channels
                    .iter()
                    .map(|c| channel_name(*c).to_owned())
                    .collect()
            })
            .unwrap_or_default();
        let hold = input.law_enforcement_hold.as_ref().map(|r| Hold {
            reason: r.trim().to_owned(),
            since: now,
            lifted_at: None,
        });
        let incident = Incident {
            id,
            description: input.description.trim().to_owned(),
            detected_at: input.detected_at,
            aware_at,
            key_ids: input.key_ids.clone(),
            actors: input.actors.clone(),
            from: input.from,
            to: input.to,
            categories: input.categories.clone(),
            notices_drafted: affected.len(),
            notices_released: hold.is_none(),
            affected,
            authority_due,
            people_urgency: breach.map(|b| b.notify_people.phrase().to_owned()),
            channels,
            revoked_keys: revoked,
            hold,
        };
        let mut outbox = Vec::new();
        if let Some(due) = authority_due {
            outbox.push(message(
                None,
                "breach.authority",
                json!({ "incident": id, "due": due, "people": incident.affected.len() }),
                now,
            ));
        }
        if incident.notices_released {
            outbox.extend(self.people_notices(&incident, now));
        }
        let mut audit = self.audit(actor, ctx, "incident.opened");
        audit.reason = format!(
            "incident {id}: {} subject(s) affected",
            incident.affected.len()
        );
        self.save_incident(&actor.tenant, &incident, None, &outbox, &audit)?;
        Ok(incident)
    }

    fn people_notices(&self, incident: &Incident, now: Timestamp) -> Vec<OutboxMessage> {
        incident
            .affected
            .iter()
            .map(|a| {
                message(
                    Some(a.subject),
                    "breach.notice",
                    json!({ "incident": incident.id, "categories": a.categories, "channels": incident.channels,
                            "description": incident.description }),
                    now,
                )
            })
            .collect()
    }

    fn save_incident(
        &self,
        tenant: &TenantId,
        incident: &Incident,
        expected: Option<u32>,
        outbox: &[OutboxMessage],
        audit: &AuditDraft,
    ) -> Result<(), VaultError> {
        let document =
            serde_json::to_string(incident).map_err(|e| VaultError::Internal(e.to_string()))?;
        let row = IncidentRow {
            id: incident.id,
            version: expected.map_or(1, |v| v + 1),
            document,
        };
        match self
            .store
            .put_incident(tenant, &row, expected, outbox, audit)
        {
            Ok(_) => Ok(()),
            Err(StoreError::Conflict(_)) => Err(VaultError::Invalid(vec![problem(
                "/",
                "VAULT-0154",
                "the incident changed meanwhile; reload it",
            )])),
            Err(e) => Err(e.into()),
        }
    }

    pub fn incident(&self, tenant: &TenantId, id: Uuid) -> Result<(Incident, u32), VaultError> {
        let row = self
            .store
            .incident(tenant, id)?
            .ok_or(VaultError::RequestNotFound)?;
        let incident = serde_json::from_str(&row.document).map_err(|_| VaultError::Integrity)?;
        Ok((incident, row.version))
    }

    pub fn incidents(&self, tenant: &TenantId) -> Result<Vec<Incident>, VaultError> {
        self.store
            .incidents(tenant)?
            .into_iter()
            .map(|r| serde_json::from_str(&r.document).map_err(|_| VaultError::Integrity))
            .collect()
    }

    /// Lifts the law-enforcement hold: the drafted notices go to the outbox now.
    pub fn lift_hold(
        &self,
        actor: &Actor,
        id: Uuid,
        ctx: &RequestCtx,
    ) -> Result<Incident, VaultError> {
        if !actor.admin {
            return Err(VaultError::PurposeNotPermitted {
                role: actor.role.clone(),
                purpose: "incident response".into(),
            });
        }
        let (mut incident, version) = self.incident(&actor.tenant, id)?;
        let now = self.clock.now();
        match incident.hold.as_mut() {
            Some(h) if h.lifted_at.is_none() => h.lifted_at = Some(now),
            _ => {
                return Err(VaultError::Invalid(vec![problem(
                    "/hold",
                    "VAULT-0155",
                    "this incident has no hold in force",
                )]));
            }
        }
        let outbox = if incident.notices_released {
            Vec::new()
        } else {
            self.people_notices(&incident, now)
        };
        incident.notices_released = true;
        let mut audit = self.audit(actor, ctx, "incident.hold_lifted");
        audit.reason = format!("incident {id}: {} notice(s) released", outbox.len());
        self.save_incident(&actor.tenant, &incident, Some(version), &outbox, &audit)?;
        Ok(incident)
    }
}

fn message(
    subject: Option<SubjectId>,
    kind: &str,
    payload: serde_json::Value,
    now: Timestamp,
) -> OutboxMessage {
    OutboxMessage {
        id: Uuid::now_v7(),
        subject,
        kind: kind.to_owned(),
        payload: payload.to_string(),
        created_at: now,
        attempts: 0,
        next_attempt_at: now,
        delivered_at: None,
        last_error: None,
    }
}
