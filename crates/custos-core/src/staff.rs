//! What the staff console needs beyond the API: finding a person by the contact
//! they give on the phone or by email, without naming a purpose. Only operators
//! (admin keys) may, and each search is audited as `console.lookup` with the
//! categories searched and the number of matches, never the value.

use custos_policy::model::Shape;
use custos_store::{Store, SubjectId};

use crate::error::VaultError;
use crate::vault::{Actor, RequestCtx, Vault};

/// The audit action of a console search.
pub const CONSOLE_LOOKUP: &str = "console.lookup";

/// One match: the subject and the category its contact was found in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactMatch {
    pub subject: SubjectId,
    pub category: String,
}

impl<S: Store> Vault<S> {
    /// Subjects holding `value` in any `lookup = true` category of its shape: an
    /// email when it contains `@`, else a phone number (normalised as the blind
    /// index is). Admin keys only; a refusal is audited like any other.
    pub fn find_subjects_by_contact(
        &self,
        actor: &Actor,
        value: &str,
        ctx: &RequestCtx,
    ) -> Result<Vec<ContactMatch>, VaultError> {
        if !actor.admin {
            let e = VaultError::PurposeNotPermitted {
                role: actor.role.clone(),
                purpose: "staff lookup".to_owned(),
            };
            return Err(self.deny(actor, ctx, CONSOLE_LOOKUP, None, None, e));
        }
        let active = self.policy(&actor.tenant)?;
        let value = value.trim();
        let shape = if value.contains('@') {
            Shape::Email
        } else {
            Shape::Phone
        };
        let mut found: Vec<ContactMatch> = Vec::new();
        let mut searched: Vec<String> = Vec::new();
        for (category, _) in active
            .policy
            .category
            .iter()
            .filter(|(_, c)| c.lookup && c.shape == shape)
        {
            let key = self.keys.blind_index_key(actor.tenant.as_str(), category)?;
            let hash = match shape {
                Shape::Email => custos_crypto::blind_index_email(&key, value),
                _ => custos_crypto::blind_index_phone(&key, value),
            };
            for subject in self.store.find_subjects(&actor.tenant, category, &hash)? {
                if !found.iter().any(|m| m.subject == subject) {
                    found.push(ContactMatch {
                        subject,
                        category: category.clone(),
                    });
                }
            }
            searched.push(category.clone());
        }
        let mut audit = self.audit(actor, ctx, CONSOLE_LOOKUP);
        audit.categories = searched;
        audit.reason = format!("{} match(es)", found.len());
        self.store.append_audit(&actor.tenant, &audit)?;
        Ok(found)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

    use std::sync::Arc;

    use custos_crypto::{KeyFile, KeyRing};
    use custos_store::{Outcome, TenantId, Timestamp};
    use custos_store_sqlite::SqliteStore;
    use serde_json::json;

    use super::*;
    use crate::clock::{Clock, TestClock};
    use crate::consent::NothingRecorded;
    use crate::tenant::{ensure_tenant, publish_policy};
    use crate::vault::{NewRecord, WriteRequest};

    const POLICY: &str = include_str!("../../../policies/plume-sasu.toml");

    fn actor(tenant: &TenantId, admin: bool) -> Actor {
        Actor {
            tenant: tenant.clone(),
            key_id: if admin { "ck_admin" } else { "ck_desk" }.into(),
            role: "technical_services".into(),
            purposes: Vec::new(),
            admin,
        }
    }

    #[test]
    fn only_admins_find_subjects_by_email_or_phone_and_each_search_is_audited() {
        let t0: Timestamp = "2026-03-01T10:00:00Z".parse().unwrap();
        let store = Arc::new(SqliteStore::open_temporary().unwrap());
        let tenant = TenantId::new("acme").unwrap();
        ensure_tenant(store.as_ref(), &tenant, "Acme", t0).unwrap();
        publish_policy(store.as_ref(), &tenant, POLICY, "p.toml", t0, t0).unwrap();
        let vault = Vault::new(
            Arc::clone(&store),
            Arc::new(KeyRing::from_keyfile(
                &KeyFile::generate("2026-03-01").unwrap(),
            )),
            Arc::new(TestClock::at(t0)) as Arc<dyn Clock>,
            Arc::new(NothingRecorded),
        );
        let admin = actor(&tenant, true);
        let ctx = RequestCtx::default();
        let record = |category: &str, value: &str| NewRecord {
            category: category.into(),
            value: json!(value),
            purpose: "account".into(),
            source: None,
        };
        let subject = vault
            .create_subject(
                &admin,
                &WriteRequest {
                    jurisdiction: None,
                    settings: Default::default(),
                    consents: Vec::new(),
                    records: vec![
                        record("user.contact.email", "camille@example.fr"),
                        record("user.contact.phone_number", "+33612345678"),
                    ],
                },
                &ctx,
            )
            .unwrap()
            .written()
            .subject;

        let by_email = vault
            .find_subjects_by_contact(&admin, " camille@example.fr ", &ctx)
            .unwrap();
        assert_eq!(
            by_email,
            vec![ContactMatch {
                subject,
                category: "user.contact.email".into()
            }]
        );
        let by_phone = vault
            .find_subjects_by_contact(&admin, "+33 6 12 34 56 78", &ctx)
            .unwrap();
        assert_eq!(by_phone.len(), 1);
        assert_eq!(by_phone[0].category, "user.contact.phone_number");
        assert!(
            vault
                .find_subjects_by_contact(&admin, "nobody@example.org", &ctx)
                .unwrap()
                .is_empty()
        );
        let refused =
            vault.find_subjects_by_contact(&actor(&tenant, false), "camille@example.fr", &ctx);
        assert!(matches!(
            refused,
            Err(VaultError::PurposeNotPermitted { .. })
        ));

        let entries: Vec<_> = store
            .audit_entries(&tenant, 1, 1000)
            .unwrap()
            .into_iter()
            .filter(|e| e.draft.action == CONSOLE_LOOKUP)
            .collect();
        assert_eq!(entries.len(), 4);
        assert_eq!(entries[0].draft.reason, "1 match(es)");
        assert_eq!(entries[0].draft.categories, ["user.contact.email"]);
        assert_eq!(entries[2].draft.reason, "0 match(es)");
        assert_eq!(entries[3].draft.outcome, Outcome::Deny);
        for e in &entries {
            assert!(
                !format!("{:?}", e.draft).contains("camille"),
                "{:?}",
                e.draft
            );
            assert!(!format!("{:?}", e.draft).contains("612345678"));
        }
    }
}
