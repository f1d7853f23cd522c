use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use custos_core::VaultError;
use custos_core::clock::{Clock, TestClock};
use custos_core::consent::{ConsentState, ConsentView};
use custos_core::tenant::{ensure_tenant, publish_policy};
use custos_core::vault::{Actor, NewRecord, RequestCtx, Vault, WriteRequest};
use custos_crypto::{KeyFile, KeyRing};
use custos_store::{Store, SubjectId, TenantId, Timestamp};
use custos_store_sqlite::SqliteStore;
use serde_json::{Value, json};

pub const POLICY: &str = r#"
[policy]
id = "test"
title = "Test policy"
version = "1"

[controller]
name = "Test SAS"
address = "1 rue du Test, Paris"
country = "FR"
region = "EEA"

[jurisdiction.FR]

[rights]
deadline = "1mo"
available = ["access", "erasure", "objection", "consent_withdrawal"]

[category."user.contact.email"]
description = "Email"
shape = "email"
retention = "3y after last_activity"
lookup = true

[category."user.contact.phone"]
description = "Phone"
shape = "phone"
retention = "3y after last_activity"
lookup = true

[category."user.name"]
description = "Name"
retention = "3y after last_activity"

[category."user.notes"]
description = "Free-text notes"
retention = "30d"

[category."user.preferences"]
description = "Preferences"
shape = "json"
retention = "1y"

[category."user.financial.card_cvv"]
description = "CVV"
sensitivity = "payment"
never_store = true

[category."user.survey"]
description = "Anonymous survey"
anonymous = true
retention = "1y"

[purpose.account]
description = "Run the account"
basis = "contract"
categories = ["user.contact.*", "user.name", "user.notes", "user.preferences"]
recipients = ["sales", "support"]

[purpose.support]
description = "Support"
basis = "contract"
categories = ["user.name", "user.notes"]
recipients = ["support"]

[purpose.newsletter]
description = "Newsletter"
basis = "consent"
categories = ["user.contact.email", "user.name"]
recipients = ["marketing"]
withdraw = ["privacy_center", "unsubscribe_link"]

[purpose.profiling]
description = "Know our customers"
basis = "legitimate_interest"
legitimate_interest = "improve offers"
categories = ["user.name", "user.preferences"]
recipients = ["marketing"]

[purpose.statistics]
description = "Statistics"
basis = "legitimate_interest"
legitimate_interest = "improve products"
categories = ["user.survey"]
recipients = ["marketing"]
anonymised_only = true

[purpose.payment]
description = "Pay"
basis = "contract"
categories = ["user.financial.card_cvv"]
recipients = ["psp"]
stores = false

[purpose.partner_offers]
description = "Offers from selected partners"
basis = "consent"
categories = ["user.contact.email"]
recipients = ["partner"]
withdraw = ["privacy_center", "unsubscribe_link"]

[recipient.partner]
name = "Selected partner"
kind = "partner"
requires_consent = true

[recipient.sales]
name = "Sales"
kind = "internal"
sends_lifecycle_events = true
records_consent = true

[recipient.support]
name = "Support"
kind = "internal"

[recipient.marketing]
name = "Marketing"
kind = "internal"

[recipient.psp]
name = "Payment provider"
kind = "controller"
"#;

/// Consent and objections set by the test.
#[derive(Debug, Default)]
pub struct Scripted {
    pub consent: Mutex<HashMap<(SubjectId, String), ConsentState>>,
    pub objections: Mutex<HashMap<(SubjectId, String), bool>>,
}

impl ConsentView for Scripted {
    fn consent(&self, _: &TenantId, s: SubjectId, p: &str) -> Result<ConsentState, VaultError> {
        Ok(*self
            .consent
            .lock()
            .unwrap()
            .get(&(s, p.to_owned()))
            .unwrap_or(&ConsentState::NeverAsked))
    }
    fn objected(&self, _: &TenantId, s: SubjectId, p: &str) -> Result<bool, VaultError> {
        Ok(*self
            .objections
            .lock()
            .unwrap()
            .get(&(s, p.to_owned()))
            .unwrap_or(&false))
    }
}

pub struct H {
    pub vault: Vault<SqliteStore>,
    pub store: Arc<SqliteStore>,
    pub clock: Arc<TestClock>,
    pub consent: Arc<Scripted>,
    pub key_file: KeyFile,
    pub tenant: TenantId,
}

pub fn t0() -> Timestamp {
    "2026-03-01T10:00:00Z".parse().unwrap()
}

/// A harness whose reads consult the real consent ledger in the store.
pub fn harness_with_ledger() -> H {
    let mut h = harness();
    let ledger = Arc::new(custos_core::consent::Ledger::new(Arc::clone(&h.store)));
    let keys = Arc::new(KeyRing::from_keyfile(&h.key_file));
    h.vault = Vault::new(
        Arc::clone(&h.store),
        keys,
        Arc::clone(&h.clock) as Arc<dyn Clock>,
        ledger,
    );
    h
}

/// A harness over `text` (a seed policy from `policies/`), reads consulting the
/// real consent ledger.
pub fn with_policy(text: &str) -> H {
    let mut h = harness_over(text);
    let ledger = Arc::new(custos_core::consent::Ledger::new(Arc::clone(&h.store)));
    h.vault = Vault::new(
        Arc::clone(&h.store),
        Arc::new(KeyRing::from_keyfile(&h.key_file)),
        Arc::clone(&h.clock) as Arc<dyn Clock>,
        ledger,
    );
    h
}

pub fn harness() -> H {
    harness_over(POLICY)
}

pub fn harness_over(policy: &str) -> H {
    let store = Arc::new(SqliteStore::open_temporary().unwrap());
    let clock = Arc::new(TestClock::at(t0()));
    let key_file = KeyFile::generate("2026-03-01").unwrap();
    let keys = Arc::new(KeyRing::from_keyfile(&key_file));
    let tenant = TenantId::new("acme").unwrap();
    ensure_tenant(store.as_ref(), &tenant, "Acme", t0()).unwrap();
    publish_policy(store.as_ref(), &tenant, policy, "test.toml", t0(), t0()).unwrap();
    let consent = Arc::new(Scripted::default());
    let vault = Vault::new(
        Arc::clone(&store),
        keys,
        Arc::clone(&clock) as Arc<dyn Clock>,
        Arc::clone(&consent) as Arc<dyn ConsentView>,
    );
    H {
        vault,
        store,
        clock,
        consent,
        key_file,
        tenant,
    }
}

impl H {
    pub fn actor(&self, role: &str) -> Actor {
        Actor {
            tenant: self.tenant.clone(),
            key_id: format!("ck_{role}"),
            role: role.to_owned(),
            purposes: Vec::new(),
            admin: false,
        }
    }

    pub fn alice(&self) -> SubjectId {
        let req = request(&[
            ("user.contact.email", json!("alice@example.com"), "account"),
            ("user.contact.phone", json!("+33612345678"), "account"),
            ("user.name", json!("Alice Martin"), "account"),
            ("user.notes", json!("prefers mornings"), "account"),
        ]);
        self.vault
            .create_subject(&self.actor("sales"), &req, &RequestCtx::default())
            .unwrap()
            .written()
            .subject
    }

    /// An admin key of the tenant (staff acting on requests).
    pub fn staff(&self, role: &str) -> Actor {
        Actor {
            admin: true,
            ..self.actor(role)
        }
    }

    pub fn audit_len(&self) -> u64 {
        self.store.counts(&self.tenant).unwrap().audit_entries
    }
}

pub fn request(records: &[(&str, Value, &str)]) -> WriteRequest {
    WriteRequest {
        jurisdiction: None,
        settings: Default::default(),
        consents: Vec::new(),
        records: records
            .iter()
            .map(|(c, v, p)| NewRecord {
                category: (*c).to_owned(),
                value: v.clone(),
                purpose: (*p).to_owned(),
                source: None,
            })
            .collect(),
    }
}
