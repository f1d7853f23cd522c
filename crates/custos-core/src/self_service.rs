//! What the privacy center needs beyond the staff API: finding a person by the
//! contact they type (to send them a code), and one view of everything held about
//! them — records with why and for whom, consent choices, objections, requests.
//!
//! The privacy center acts through [`privacy_center_actor`]: an internal actor
//! bound to one subject by the edge's session, which calls only the subject-scoped
//! functions below and in the vault. Every call is audited under key
//! `privacy-center`, so the log tells a person's own actions from staff's.

use custos_policy::model::{Basis, Shape};
use custos_store::{RequestStore, Store, SubjectId, TenantId};
use serde::Serialize;

use crate::error::VaultError;
use crate::rights::RequestView;
use crate::vault::consent::{ConsentRecord, purpose_notice_text};
use crate::vault::export::Export;
use crate::vault::{Actor, RequestCtx, Vault};

/// The key id under which people's own actions are audited.
pub const PRIVACY_CENTER_KEY: &str = "privacy-center";

/// The actor for a signed-in person. Admin so that it may export and fulfil the
/// person's own requests; the edge never hands it another subject.
/// The role of the person themselves (privacy center, signed links): never a
/// policy recipient, so no API key can claim it.
pub const PERSON_ROLE: &str = "data_subject";

pub fn privacy_center_actor(tenant: &TenantId) -> Actor {
    Actor {
        tenant: tenant.clone(),
        key_id: PRIVACY_CENTER_KEY.into(),
        role: PERSON_ROLE.into(),
        purposes: Vec::new(),
        admin: true,
    }
}

/// One purpose as the person sees it: what it is, why it is lawful, who receives
/// the data, and what they can do about it.
#[derive(Debug, Clone, Serialize)]
pub struct PurposeChoice {
    pub purpose: String,
    pub description: String,
    pub basis: &'static str,
    pub recipients: Vec<String>,
    /// Consent purposes: the text the person agrees to.
    pub notice_text: Option<String>,
    /// "granted" | "withdrawn" | "never_asked" | "not_needed".
    pub consent: &'static str,
    /// A legitimate-interest purpose the person may object to.
    pub objectable: bool,
    pub objected: bool,
}

/// Everything the privacy center shows a signed-in person.
#[derive(Debug, Clone, Serialize)]
pub struct MyData {
    pub export: Export,
    /// Recipient names per category (who can see it, from the policy).
    pub recipients: Vec<(String, Vec<String>)>,
    pub purposes: Vec<PurposeChoice>,
    pub requests: Vec<RequestView>,
}

impl<S: Store + RequestStore + custos_store::LifecycleStore> Vault<S> {
    /// The subject holding `value` in the first email (or phone) lookup category.
    /// Ambiguous or absent → `None`; the caller answers the same either way, so
    /// the page never tells whether an address is known.
    pub fn find_by_contact(
        &self,
        tenant: &TenantId,
        value: &str,
        ctx: &RequestCtx,
    ) -> Result<Option<(SubjectId, String)>, VaultError> {
        let active = self.policy(tenant)?;
        let shape = if value.contains('@') {
            Shape::Email
        } else {
            Shape::Phone
        };
        let Some((category, _)) = active
            .policy
            .category
            .iter()
            .find(|(_, c)| c.lookup && c.shape == shape)
        else {
            return Ok(None);
        };
        let key = self.keys.blind_index_key(tenant.as_str(), category)?;
        let hash = match shape {
            Shape::Email => custos_crypto::blind_index_email(&key, value),
            _ => custos_crypto::blind_index_phone(&key, value),
        };
        // Expired means gone (issue 13.14): an address whose record expired signs
        // nobody in, even before the sweep removes its index entry.
        let mut found = Vec::new();
        for id in self.store.find_subjects(tenant, category, &hash)? {
            if let Some(row) = self.store.subject(tenant, id)?
                && self.holds_live_value(tenant, &row, None, category, &key, &hash)?
            {
                found.push(id);
            }
        }
        let actor = privacy_center_actor(tenant);
        let mut audit = self.audit(&actor, ctx, "privacy_center.lookup");
        audit.categories = vec![category.clone()];
        audit.reason = format!("{} match(es)", found.len());
        self.store.append_audit(tenant, &audit)?;
        Ok(match found.as_slice() {
            [one] => Some((*one, category.clone())),
            _ => None,
        })
    }

    /// The person's whole picture (P0-11, P0-14, P0-15): audited as one export,
    /// one consent read and one request listing.
    pub fn my_data(
        &self,
        tenant: &TenantId,
        subject: SubjectId,
        ctx: &RequestCtx,
    ) -> Result<MyData, VaultError>
    where
        S: custos_store::ConsentStore + custos_store::RetentionStore,
    {
        let actor = privacy_center_actor(tenant);
        let export = self.export(&actor, subject, ctx)?;
        let consents: ConsentRecord = self.consent_record(&actor, subject, ctx)?;
        let active = self.policy(tenant)?;
        let policy = &active.policy;
        let recipient_name = |id: &String| {
            policy
                .recipient
                .get(id)
                .map_or_else(|| id.clone(), |r| r.name.clone())
        };
        // Purposes that use the data today: consent given where it is needed, no
        // objection; a recipient of a purpose the person refused does not see it.
        let in_use = |purpose: &String| {
            consents
                .current
                .iter()
                .find(|s| s.purpose == *purpose)
                .is_none_or(|s| !s.objected && matches!(s.consent, "granted" | "not_needed"))
        };
        let mut recipients: Vec<(String, Vec<String>)> = Vec::new();
        for r in &export.records {
            if recipients.iter().any(|(c, _)| *c == r.category) {
                continue;
            }
            let mut names: Vec<String> = Vec::new();
            for p in r.used_for.iter().filter(|p| in_use(p)) {
                if let Some(purpose) = policy.purpose.get(p) {
                    for rec in &purpose.recipients {
                        let n = recipient_name(rec);
                        if !names.contains(&n) {
                            names.push(n);
                        }
                    }
                }
            }
            recipients.push((r.category.clone(), names));
        }
        let purposes = consents
            .current
            .iter()
            .filter_map(|state| {
                let p = policy.purpose.get(&state.purpose)?;
                let li = p.basis == Basis::LegitimateInterest;
                Some(PurposeChoice {
                    purpose: state.purpose.clone(),
                    description: p.description.clone(),
                    basis: state.basis,
                    recipients: p.recipients.iter().map(recipient_name).collect(),
                    notice_text: (state.consent != "not_needed")
                        .then(|| purpose_notice_text(policy, &state.purpose))
                        .flatten(),
                    consent: state.consent,
                    objectable: li && p.objectable != Some(false),
                    objected: state.objected,
                })
            })
            .collect();
        let requests = self
            .requests_of_subject(tenant, subject)?
            .into_iter()
            .collect();
        Ok(MyData {
            export,
            recipients,
            purposes,
            requests,
        })
    }

    /// The subject's own requests, newest first.
    pub fn requests_of_subject(
        &self,
        tenant: &TenantId,
        subject: SubjectId,
    ) -> Result<Vec<RequestView>, VaultError> {
        let mut all: Vec<RequestView> = self
            .request_queue(tenant)?
            .into_iter()
            .filter(|r| r.subject == Some(subject))
            .collect();
        all.sort_by_key(|r| std::cmp::Reverse(r.received_at));
        Ok(all)
    }
}
