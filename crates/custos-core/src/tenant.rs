//! Tenants and their policy versions: publishing a policy file, and finding the
//! version in force at a given time without parsing it on every request.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use custos_policy::compile::{CompiledPolicy, compile};
use custos_policy::{Policy, Report};
use custos_store::{PolicyVersion, Store, Tenant, TenantId, Timestamp};

use crate::error::VaultError;

/// A parsed, compiled policy version.
#[derive(Debug)]
pub struct ActivePolicy {
    pub number: u32,
    pub effective_at: Timestamp,
    pub policy: Policy,
    pub table: CompiledPolicy,
    /// Purposes that need a grant recorded under at least this version number: a
    /// version whose diff asks re-consent for them (`policy_change::reconsent_since`).
    pub reconsent_since: std::collections::BTreeMap<String, u32>,
}

/// Why a policy could not be published.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error("the policy has errors:\n{0}")]
    Invalid(Report),
    #[error(transparent)]
    Store(#[from] custos_store::StoreError),
}

/// Creates a tenant if it does not exist yet.
pub fn ensure_tenant<S: Store>(
    store: &S,
    id: &TenantId,
    name: &str,
    now: Timestamp,
) -> Result<(), custos_store::StoreError> {
    if store.tenant(id)?.is_none() {
        store.create_tenant(&Tenant {
            id: id.clone(),
            name: name.to_owned(),
            created_at: now,
        })?;
    }
    Ok(())
}

/// Validates `text` and stores it as the tenant's next policy version.
pub fn publish_policy<S: Store>(
    store: &S,
    tenant: &TenantId,
    text: &str,
    file: &str,
    effective_at: Timestamp,
    now: Timestamp,
) -> Result<u32, PublishError> {
    let loaded = custos_policy::load(text, file).map_err(PublishError::Invalid)?;
    let number = u32::try_from(store.policy_versions(tenant)?.len()).unwrap_or(u32::MAX - 1) + 1;
    store.publish_policy(
        tenant,
        &PolicyVersion {
            number,
            label: loaded.policy.policy.version.clone(),
            text: text.to_owned(),
            effective_at,
            published_at: now,
        },
    )?;
    Ok(number)
}

/// How long a tenant's list of versions is trusted before it is read again, so a
/// version published by another instance is seen within this time.
const REFRESH_MICROS: i64 = 5_000_000;

#[derive(Debug)]
struct Entry {
    loaded_at: Timestamp,
    versions: Vec<Arc<ActivePolicy>>,
}

/// Parsed policy versions per tenant.
#[derive(Debug, Default)]
pub struct PolicyCache {
    tenants: RwLock<HashMap<TenantId, Entry>>,
}

impl PolicyCache {
    /// The version in force at `now`: the highest-numbered one already effective.
    pub fn in_force<S: Store>(
        &self,
        store: &S,
        tenant: &TenantId,
        now: Timestamp,
    ) -> Result<Arc<ActivePolicy>, VaultError> {
        let fresh = |e: &Entry| {
            now.as_microsecond() - e.loaded_at.as_microsecond() < REFRESH_MICROS
                && now >= e.loaded_at
        };
        {
            let map = self
                .tenants
                .read()
                .map_err(|_| VaultError::Internal("policy cache poisoned".into()))?;
            if let Some(entry) = map.get(tenant).filter(|e| fresh(e)) {
                return pick(&entry.versions, now);
            }
        }
        let versions = self.load(store, tenant)?;
        let picked = pick(&versions, now);
        let mut map = self
            .tenants
            .write()
            .map_err(|_| VaultError::Internal("policy cache poisoned".into()))?;
        map.insert(
            tenant.clone(),
            Entry {
                loaded_at: now,
                versions,
            },
        );
        picked
    }

    /// Forget a tenant's versions (after publishing).
    pub fn invalidate(&self, tenant: &TenantId) {
        if let Ok(mut map) = self.tenants.write() {
            map.remove(tenant);
        }
    }

    fn load<S: Store>(
        &self,
        store: &S,
        tenant: &TenantId,
    ) -> Result<Vec<Arc<ActivePolicy>>, VaultError> {
        let existing: HashMap<u32, Arc<ActivePolicy>> = self
            .tenants
            .read()
            .map(|m| {
                m.get(tenant)
                    .map(|e| {
                        e.versions
                            .iter()
                            .map(|v| (v.number, Arc::clone(v)))
                            .collect()
                    })
                    .unwrap_or_default()
            })
            .unwrap_or_default();
        enum Slot {
            Known(Arc<ActivePolicy>),
            New(u32, Timestamp, Box<Policy>),
        }
        let mut slots = Vec::new();
        for v in store.policy_versions(tenant)? {
            if let Some(known) = existing.get(&v.number) {
                slots.push(Slot::Known(Arc::clone(known)));
                continue;
            }
            // Stored versions were validated when published; a failure here means the
            // row was altered, and that version is skipped rather than trusted.
            let Ok(loaded) = custos_policy::load(&v.text, "stored policy") else {
                continue;
            };
            slots.push(Slot::New(v.number, v.effective_at, Box::new(loaded.policy)));
        }
        let number = |s: &Slot| match s {
            Slot::Known(a) => a.number,
            Slot::New(n, _, _) => *n,
        };
        slots.sort_by_key(number);
        let mut since = crate::policy_change::reconsent_since(slots.iter().map(|s| match s {
            Slot::Known(a) => (a.number, &a.policy),
            Slot::New(n, _, p) => (*n, p.as_ref()),
        }));
        Ok(slots
            .into_iter()
            .map(|s| match s {
                Slot::Known(a) => a,
                Slot::New(n, effective_at, policy) => {
                    let table = compile(&policy);
                    Arc::new(ActivePolicy {
                        number: n,
                        effective_at,
                        reconsent_since: since.remove(&n).unwrap_or_default(),
                        policy: *policy,
                        table,
                    })
                }
            })
            .collect())
    }
}

fn pick(versions: &[Arc<ActivePolicy>], now: Timestamp) -> Result<Arc<ActivePolicy>, VaultError> {
    versions
        .iter()
        .filter(|v| v.effective_at <= now)
        .max_by_key(|v| v.number)
        .cloned()
        .ok_or(VaultError::NoPolicy)
}
