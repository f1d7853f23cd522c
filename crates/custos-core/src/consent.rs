//! The consent hook of purpose-bound reads. The vault asks this view, for one
//! subject and purpose, whether consent is live and whether the person objected;
//! the consent ledger (its own issue) implements it. Until then
//! [`NothingRecorded`] answers "no consent, no objection", which keeps every
//! consent purpose closed: failing closed is the safe default.

use custos_store::{SubjectId, TenantId};

use crate::error::VaultError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConsentState {
    Granted,
    Withdrawn,
    NeverAsked,
}

pub trait ConsentView: Send + Sync + std::fmt::Debug {
    fn consent(
        &self,
        tenant: &TenantId,
        subject: SubjectId,
        purpose: &str,
    ) -> Result<ConsentState, VaultError>;
    fn objected(
        &self,
        tenant: &TenantId,
        subject: SubjectId,
        purpose: &str,
    ) -> Result<bool, VaultError>;
    /// Like [`ConsentView::consent`], but a grant recorded under a policy version
    /// below `min_version` does not count (re-consent after a policy change, V-6):
    /// it answers `NeverAsked`. Views that do not know versions answer as `consent`.
    fn consent_since(
        &self,
        tenant: &TenantId,
        subject: SubjectId,
        purpose: &str,
        _min_version: u32,
    ) -> Result<ConsentState, VaultError> {
        self.consent(tenant, subject, purpose)
    }
}

/// No ledger yet: no consent was given, nobody objected.
#[derive(Debug, Default, Clone, Copy)]
pub struct NothingRecorded;

impl ConsentView for NothingRecorded {
    fn consent(&self, _: &TenantId, _: SubjectId, _: &str) -> Result<ConsentState, VaultError> {
        Ok(ConsentState::NeverAsked)
    }

    fn objected(&self, _: &TenantId, _: SubjectId, _: &str) -> Result<bool, VaultError> {
        Ok(false)
    }
}

/// The consent ledger as seen by reads: the latest grant/withdrawal and the latest
/// objection/lift decide.
#[derive(Debug)]
pub struct Ledger<S> {
    store: std::sync::Arc<S>,
}

impl<S> Ledger<S> {
    pub fn new(store: std::sync::Arc<S>) -> Self {
        Ledger { store }
    }
}

impl<S: custos_store::ConsentStore + std::fmt::Debug> ConsentView for Ledger<S> {
    fn consent(
        &self,
        tenant: &TenantId,
        subject: SubjectId,
        purpose: &str,
    ) -> Result<ConsentState, VaultError> {
        use custos_store::ConsentKind as K;
        let latest =
            self.store
                .latest_consent(tenant, subject, purpose, &[K::Granted, K::Withdrawn])?;
        Ok(match latest.map(|e| e.kind) {
            Some(K::Granted) => ConsentState::Granted,
            Some(_) => ConsentState::Withdrawn,
            None => ConsentState::NeverAsked,
        })
    }

    fn consent_since(
        &self,
        tenant: &TenantId,
        subject: SubjectId,
        purpose: &str,
        min_version: u32,
    ) -> Result<ConsentState, VaultError> {
        use custos_store::ConsentKind as K;
        let latest =
            self.store
                .latest_consent(tenant, subject, purpose, &[K::Granted, K::Withdrawn])?;
        Ok(match latest {
            Some(e) if e.kind == K::Granted && e.policy_version >= min_version => {
                ConsentState::Granted
            }
            Some(e) if e.kind == K::Withdrawn => ConsentState::Withdrawn,
            _ => ConsentState::NeverAsked,
        })
    }

    fn objected(
        &self,
        tenant: &TenantId,
        subject: SubjectId,
        purpose: &str,
    ) -> Result<bool, VaultError> {
        use custos_store::ConsentKind as K;
        let latest = self.store.latest_consent(
            tenant,
            subject,
            purpose,
            &[K::Objected, K::ObjectionLifted],
        )?;
        Ok(latest.is_some_and(|e| e.kind == K::Objected))
    }
}
