//! Policy versions that change what people were told (S-7, V-6, T-17).
//!
//! [`publish_version`] compares the new text with the latest published version
//! (`custos_policy::diff`):
//! - impact `notice` or `reconsent`: one `policy.change` outbox message per person
//!   not erased, written at publish time (ahead of the effective date), carrying the
//!   version, the effective date and the change list (paths and descriptions of the
//!   policy, never personal data), in the same transaction as the version;
//! - the effective date must leave the longest notice period any of those people's
//!   jurisdictions needs: the jurisdiction's `change_notice`, else the policy's
//!   `changes.notice`, else 30 days; a jurisdiction's consumer `change_notice` also
//!   counts when the contract terms change (6 weeks for German consumers, T-20).
//!   A shorter notice is refused with a field error unless
//!   [`PublishOptions::allow_short_notice`] (a change the law mandates);
//! - impact `reconsent`: from the version's effective date, each purpose a reconsent
//!   change concerns needs a grant recorded under that version or a later one; an
//!   older grant no longer counts ([`reconsent_since`], used by reads and the ledger).
//!
//! Versions still apply by date: reads use the version in force at the clock's time.

use std::collections::BTreeMap;

use custos_policy::diff::{Impact, PolicyDiff, diff};
use custos_policy::period::{Span, Unit};
use custos_policy::{Policy, Report};
use custos_store::{
    AuditDraft, OutboxMessage, Outcome, PolicyNoticeStore, PolicyVersion, Store, StoreError,
    TenantId, Timestamp, Uuid,
};
use serde_json::json;

use crate::error::FieldError;
use crate::rights::add_span;

/// Field code: the effective date leaves less notice than people are owed.
pub const SHORT_NOTICE: &str = "VAULT-0185";

/// The outbox kind of a policy-change notice.
pub const KIND: &str = "policy.change";

#[derive(Debug, Clone, Copy, Default)]
pub struct PublishOptions {
    /// Publish even when the effective date leaves less than the notice period
    /// (changes the law mandates).
    pub allow_short_notice: bool,
}

/// What publishing did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Published {
    pub number: u32,
    pub impact: Impact,
    /// `policy.change` messages written.
    pub notices: usize,
    /// The earliest effective date the notice periods allow (when notices are owed).
    pub earliest_effective: Option<Timestamp>,
    pub diff: PolicyDiff,
}

#[derive(Debug, thiserror::Error)]
pub enum VersionError {
    #[error("the policy has errors:\n{0}")]
    Invalid(Report),
    /// The version cannot be published as asked (notice too short).
    #[error("the version cannot be published ({} problem(s))", .0.len())]
    Refused(Vec<FieldError>),
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn default_notice() -> Span {
    Span::new(30, Unit::Days)
}

/// The notice owed to people in `jurisdiction` for this diff.
fn notice_for(policy: &Policy, jurisdiction: Option<&str>, contract_changed: bool) -> Span {
    let base = policy
        .changes
        .as_ref()
        .and_then(|c| c.notice.as_ref())
        .and_then(|p| p.span())
        .unwrap_or_else(default_notice);
    let j = jurisdiction.and_then(|j| policy.jurisdiction.get(j));
    let mut span = j
        .and_then(|j| j.change_notice.as_ref())
        .and_then(|p| p.span())
        .unwrap_or(base);
    if contract_changed
        && let Some(c) = j
            .and_then(|j| j.consumer.as_ref())
            .and_then(|c| c.change_notice.as_ref())
            .and_then(|p| p.span())
        && c.approx_hours() > span.approx_hours()
    {
        span = c;
    }
    span
}

/// Validates `text` and publishes it as the tenant's next version, with the notices
/// and checks described in the module documentation.
pub fn publish_version<S: Store + PolicyNoticeStore>(
    store: &S,
    tenant: &TenantId,
    text: &str,
    file: &str,
    effective_at: Timestamp,
    now: Timestamp,
    options: PublishOptions,
) -> Result<Published, VersionError> {
    let loaded = custos_policy::load(text, file).map_err(VersionError::Invalid)?;
    let new = loaded.policy;
    let versions = store.policy_versions(tenant)?;
    let number = u32::try_from(versions.len()).unwrap_or(u32::MAX - 1) + 1;
    let version = PolicyVersion {
        number,
        label: new.policy.version.clone(),
        text: text.to_owned(),
        effective_at,
        published_at: now,
    };
    let previous = versions
        .iter()
        .max_by_key(|v| v.number)
        .and_then(|v| custos_policy::load(&v.text, "stored policy").ok());
    let Some(old) = previous else {
        store.publish_policy(tenant, &version)?;
        return Ok(Published {
            number,
            impact: Impact::None,
            notices: 0,
            earliest_effective: None,
            diff: PolicyDiff::default(),
        });
    };
    let d = diff(&old.policy, &new);
    let impact = d.impact();
    if impact == Impact::None {
        store.publish_policy(tenant, &version)?;
        return Ok(Published {
            number,
            impact,
            notices: 0,
            earliest_effective: None,
            diff: d,
        });
    }

    let contract_changed = d.changes.iter().any(|c| c.path.starts_with("contract"));
    let recipients = store.notice_recipients(tenant)?;
    let mut longest: Option<(Span, Option<&str>)> = None;
    for (_, j) in &recipients {
        let span = notice_for(&new, j.as_deref(), contract_changed);
        if longest.is_none_or(|(l, _)| span.approx_hours() > l.approx_hours()) {
            longest = Some((span, j.as_deref()));
        }
    }
    let earliest = longest.and_then(|(span, _)| add_span(now, span));
    if let (Some(earliest), Some((span, j))) = (earliest, longest)
        && effective_at < earliest
        && !options.allow_short_notice
    {
        return Err(VersionError::Refused(vec![FieldError {
            pointer: "/effective_at".into(),
            code: SHORT_NOTICE,
            detail: format!(
                "people{} are owed {span} notice of this change: the effective date must be {earliest} or later (allow_short_notice only for changes the law mandates)",
                j.map(|j| format!(" in {j}")).unwrap_or_default()
            ),
        }]));
    }

    let changes: Vec<_> = d
        .changes
        .iter()
        .filter(|c| c.impact != Impact::None)
        .map(|c| json!({ "path": c.path, "description": c.description, "impact": c.impact.as_str() }))
        .collect();
    let outbox: Vec<OutboxMessage> = recipients
        .iter()
        .map(|(subject, _)| OutboxMessage {
            id: Uuid::now_v7(),
            subject: Some(*subject),
            kind: KIND.to_owned(),
            payload: json!({
                "policy_version": number,
                "label": new.policy.version,
                "title": new.policy.title,
                "effective_at": effective_at.to_string(),
                "impact": impact.as_str(),
                "changes": changes,
            })
            .to_string(),
            created_at: now,
            attempts: 0,
            next_attempt_at: now,
            delivered_at: None,
            last_error: None,
        })
        .collect();
    let audit = AuditDraft {
        at: now,
        actor: "system".into(),
        key_id: None,
        action: "policy.publish".into(),
        purpose: None,
        subject: None,
        categories: Vec::new(),
        outcome: Outcome::Allow,
        reason: format!(
            "policy v{number} effective {effective_at}: {}, {} notice(s){}",
            impact.as_str(),
            outbox.len(),
            if options.allow_short_notice && earliest.is_some_and(|e| effective_at < e) {
                ", short notice allowed"
            } else {
                ""
            }
        ),
        request_id: None,
    };
    store.publish_with_notices(tenant, &version, &outbox, &audit)?;
    Ok(Published {
        number,
        impact,
        notices: outbox.len(),
        earliest_effective: earliest,
        diff: d,
    })
}

/// The purposes a reconsent change of `diff` concerns in `new`.
fn reconsent_purposes(new: &Policy, d: &PolicyDiff) -> Vec<String> {
    use custos_policy::names::pattern_matches;
    let mut out = Vec::new();
    for c in d.changes.iter().filter(|c| c.impact == Impact::Reconsent) {
        if let Some(rest) = c.path.strip_prefix("purpose.") {
            let id = rest.split('.').next().unwrap_or(rest);
            out.push(id.to_owned());
        } else if let Some(rest) = c.path.strip_prefix("category.\"") {
            let name = rest.split('"').next().unwrap_or(rest);
            out.extend(
                new.purpose
                    .iter()
                    .filter(|(_, p)| p.categories.iter().any(|pat| pattern_matches(pat, name)))
                    .map(|(id, _)| id.clone()),
            );
        } else if let Some(rest) = c.path.strip_prefix("recipient.") {
            let rid = rest.split('.').next().unwrap_or(rest);
            out.extend(
                new.purpose
                    .iter()
                    .filter(|(_, p)| p.recipients.iter().any(|r| r == rid))
                    .map(|(id, _)| id.clone()),
            );
        }
    }
    out.retain(|p| new.purpose.contains_key(p));
    out
}

/// For each version number (ascending input), the purposes that need a grant recorded
/// under at least the given version: a reconsent change in version N sets N; later
/// versions keep it while the purpose exists.
pub fn reconsent_since<'a>(
    versions: impl IntoIterator<Item = (u32, &'a Policy)>,
) -> BTreeMap<u32, BTreeMap<String, u32>> {
    let mut out = BTreeMap::new();
    let mut carried: BTreeMap<String, u32> = BTreeMap::new();
    let mut prev: Option<&Policy> = None;
    for (number, policy) in versions {
        carried.retain(|p, _| policy.purpose.contains_key(p));
        if let Some(old) = prev {
            for p in reconsent_purposes(policy, &diff(old, policy)) {
                carried.insert(p, number);
            }
        }
        out.insert(number, carried.clone());
        prev = Some(policy);
    }
    out
}

/// The plain-text notice of a `policy.change` message (see `notices::render`).
pub(crate) fn render_notice(p: &serde_json::Value) -> Option<crate::notices::Rendered> {
    let effective = p.get("effective_at")?.as_str()?;
    let effective = effective.get(..10).unwrap_or(effective);
    let title = p
        .get("title")
        .and_then(|t| t.as_str())
        .unwrap_or("Privacy notice");
    let changes = p.get("changes")?.as_array()?;
    let reconsent = p.get("impact").and_then(|i| i.as_str()) == Some("reconsent");
    let subject = format!("Changes to our {title} from {effective}");
    let mut body = format!(
        "We are changing how we handle your personal data. The new version takes effect on {effective}.\n\nWhat changes:\n"
    );
    for c in changes {
        let path = c.get("path").and_then(|v| v.as_str()).unwrap_or_default();
        let what = c
            .get("description")
            .and_then(|v| v.as_str())
            .unwrap_or_default();
        body.push_str(&format!("- {path}: {what}\n"));
    }
    if reconsent {
        body.push_str(
            "\nSome of these changes use your data in a new way. They will not apply to \
             you unless you agree; you can choose in your account or by replying to us.\n",
        );
    }
    Some((subject, body))
}
