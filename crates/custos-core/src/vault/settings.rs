//! Device and account settings as recorded subject state (P0-5, P0-16, issue
//! 13.3 and 13.10): the location permission, the app's connection, … Each is a
//! ledger entry with history (`setting.<name>`: granted = on, withdrawn = off),
//! set by the person or the app, shown beside the consents, and read by the
//! gates instead of a flag trusted on each write:
//!
//! - a category with `requires_setting` is collected only while its setting is on;
//! - a purpose with `requires_setting` neither reads nor collects while it is off;
//! - a write may carry `settings`: `false` records the switch-off, `true` records
//!   the switch-on only when nobody switched it off before — once off, only an
//!   explicit settings action turns it back on, so switching off stops collection
//!   at once and an app cannot silently undo it.
//!
//! Anyone may switch a setting off; switching on is for the person, admin keys,
//! consent relays and the roles of the purposes that depend on the setting.

use custos_policy::Policy;
use custos_policy::names::pattern_matches;
use custos_store::{ConsentEvent, ConsentKind, ConsentStore, Store, SubjectId, Timestamp, Uuid};
use serde::{Deserialize, Serialize};

use super::{Actor, RequestCtx, Vault};
use crate::consent::ConsentState;
use crate::error::{FieldError, VaultError};

/// Field code: no category or purpose of the policy depends on this setting.
pub const UNKNOWN_SETTING: &str = "VAULT-0208";

/// The ledger's name for a setting; no purpose name contains a dot.
pub fn ledger_key(name: &str) -> String {
    format!("setting.{name}")
}

/// The settings the policy declares: every `requires_setting` of a category or purpose.
pub fn declared(policy: &Policy) -> Vec<String> {
    let mut out: Vec<String> = policy
        .category
        .values()
        .filter_map(|c| c.requires_setting.clone())
        .chain(
            policy
                .purpose
                .values()
                .filter_map(|p| p.requires_setting.clone()),
        )
        .collect();
    out.sort();
    out.dedup();
    out
}

/// Whether `role` serves a purpose that depends on the setting (the app's own
/// service): it may switch it on.
fn depends_on(policy: &Policy, role: &str, name: &str) -> bool {
    policy.purpose.values().any(|p| {
        p.recipients.iter().any(|r| r == role)
            && (p.requires_setting.as_deref() == Some(name)
                || policy.category.iter().any(|(cat, c)| {
                    c.requires_setting.as_deref() == Some(name)
                        && p.categories.iter().any(|pat| pattern_matches(pat, cat))
                }))
    })
}

/// A setting switched on or off.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SettingInput {
    pub name: String,
    pub on: bool,
    /// How it was changed (`app`, `privacy_center`, `web`, …).
    pub channel: String,
}

/// A setting as the person sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SettingState {
    pub name: String,
    pub on: bool,
    /// When it last changed, and who changed it; `None` when never set (off).
    pub since: Option<Timestamp>,
    pub recorded_by: Option<String>,
}

fn event(
    subject: SubjectId,
    name: &str,
    on: bool,
    channel: &str,
    policy_version: u32,
    at: Timestamp,
    recorded_by: String,
) -> ConsentEvent {
    use sha2::Digest;
    let what = format!("{} {}", ledger_key(name), if on { "on" } else { "off" });
    ConsentEvent {
        id: Uuid::now_v7(),
        subject,
        purpose: ledger_key(name),
        kind: if on {
            ConsentKind::Granted
        } else {
            ConsentKind::Withdrawn
        },
        policy_version,
        notice_hash: sha2::Sha256::digest(what.as_bytes()).into(),
        channel: channel.to_owned(),
        ip_hash: None,
        user_agent: None,
        at,
        recorded_by,
    }
}

impl<S: Store> Vault<S> {
    /// The recorded state of a setting: on only after a switch-on not followed by
    /// a switch-off.
    pub(crate) fn setting_on(
        &self,
        tenant: &custos_store::TenantId,
        subject: SubjectId,
        name: &str,
    ) -> Result<bool, VaultError> {
        Ok(self.consent.consent(tenant, subject, &ledger_key(name))? == ConsentState::Granted)
    }

    /// The ledger events a write's `settings` record (in its transaction), and
    /// the settings the write would switch back on although they were switched
    /// off (refused: only an explicit settings action does that).
    pub(crate) fn carried_settings(
        &self,
        actor: &Actor,
        policy_version: u32,
        subject: Option<SubjectId>,
        settings: &std::collections::BTreeMap<String, bool>,
    ) -> Result<(Vec<ConsentEvent>, Vec<String>), VaultError> {
        let mut events = Vec::new();
        let mut refused = Vec::new();
        let now = self.now();
        for (name, &on) in settings {
            let recorded = match subject {
                Some(id) => self.consent.consent(&actor.tenant, id, &ledger_key(name))?,
                None => ConsentState::NeverAsked,
            };
            let changes = match (recorded, on) {
                (ConsentState::Granted, true) | (ConsentState::Withdrawn, false) => false,
                (ConsentState::Withdrawn, true) => {
                    refused.push(name.clone());
                    false
                }
                _ => true,
            };
            if changes && let Some(id) = subject {
                events.push(event(
                    id,
                    name,
                    on,
                    "app",
                    policy_version,
                    now,
                    super::consent::recorder(actor),
                ));
            }
        }
        Ok((events, refused))
    }

    /// Every declared setting of a subject, on or off, with when and by whom.
    pub fn settings_of(
        &self,
        tenant: &custos_store::TenantId,
        subject: SubjectId,
    ) -> Result<Vec<SettingState>, VaultError>
    where
        S: ConsentStore,
    {
        let active = self.policy(tenant)?;
        declared(&active.policy)
            .into_iter()
            .map(|name| {
                let last = self.store.latest_consent(
                    tenant,
                    subject,
                    &ledger_key(&name),
                    &[ConsentKind::Granted, ConsentKind::Withdrawn],
                )?;
                Ok(SettingState {
                    on: last
                        .as_ref()
                        .is_some_and(|e| e.kind == ConsentKind::Granted),
                    since: last.as_ref().map(|e| e.at),
                    recorded_by: last.map(|e| e.recorded_by),
                    name,
                })
            })
            .collect()
    }
}

impl<S: Store + ConsentStore> Vault<S> {
    /// Switches a setting on or off for a subject (`POST /v1/subjects/{id}/settings`,
    /// the privacy center's "disconnect the app").
    pub fn set_setting(
        &self,
        actor: &Actor,
        subject: SubjectId,
        input: &SettingInput,
        ctx: &RequestCtx,
    ) -> Result<SettingState, VaultError> {
        let active = self.policy(&actor.tenant)?;
        let policy = &active.policy;
        let mut problems = Vec::new();
        if !declared(policy).contains(&input.name) {
            problems.push(FieldError {
                pointer: "/name".into(),
                code: UNKNOWN_SETTING,
                detail: format!(
                    "no category or purpose depends on a setting `{}`",
                    input.name
                ),
            });
        }
        if !super::consent::CHANNELS.contains(&input.channel.as_str()) {
            problems.push(FieldError {
                pointer: "/channel".into(),
                code: "VAULT-0122",
                detail: format!(
                    "channel must be one of {}",
                    super::consent::CHANNELS.join(", ")
                ),
            });
        }
        if !problems.is_empty() {
            return Err(VaultError::Invalid(problems));
        }
        if input.on
            && !super::consent::may_record_grant(policy, actor)
            && !depends_on(policy, &actor.role, &input.name)
        {
            return Err(self.deny(
                actor,
                ctx,
                "setting.on",
                None,
                Some(subject),
                VaultError::ConsentGrantNotAllowed(actor.role.clone()),
            ));
        }
        let e = event(
            subject,
            &input.name,
            input.on,
            &input.channel,
            active.number,
            self.now(),
            super::consent::recorder(actor),
        );
        let mut audit = self.audit(
            actor,
            ctx,
            if input.on {
                "setting.on"
            } else {
                "setting.off"
            },
        );
        audit.subject = Some(subject);
        audit.reason = format!("{} via {}", ledger_key(&input.name), input.channel);
        match self.store.append_consent(&actor.tenant, &e, &audit) {
            Ok(_) => Ok(SettingState {
                name: input.name.clone(),
                on: input.on,
                since: Some(e.at),
                recorded_by: Some(e.recorded_by),
            }),
            Err(custos_store::StoreError::NotFound(_)) => Err(VaultError::SubjectNotFound),
            Err(e) => Err(e.into()),
        }
    }
}
