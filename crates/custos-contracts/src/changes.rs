//! Changes of price, features or terms, and which version of the terms governs.
//!
//! - T-4 / T-21: a membership's price or features change only after the notice the
//!   policy gives ([`Terms::change_notice`]: the longest of the jurisdiction's, the
//!   plan's and the terms'), counted as a statutory period from the announcement; the
//!   customer may cancel free of charge until it takes effect.
//! - T-20: where the jurisdiction requires acceptance (Germany), the change reaches a
//!   customer only once accepted; silence counts only for legally mandated changes.
//! - T-17: terms changes need the same notice; a dispute is judged under the version
//!   in force when it arose.

use jiff::Timestamp;
use jiff::civil::Date;

use crate::calendar::{CalendarError, Local};
use crate::money::Money;
use crate::terms::{Terms, TermsError};

/// What changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    Price,
    Features,
    Terms,
}

/// A change the seller announces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeOffer {
    pub kind: ChangeKind,
    pub announced_at: Timestamp,
    /// The day the change is to take effect (at the customer's midnight).
    pub effective: Date,
    pub new_price: Option<Money>,
    /// The change is required by a change in the law.
    pub legally_mandated: bool,
}

/// How a change reaches one customer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeRules {
    /// The first instant the change may take effect.
    pub earliest: Timestamp,
    pub requires_acceptance: bool,
    /// The customer may end the contract free of charge before it takes effect.
    pub cancel_free: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChangeError {
    #[error("the change takes effect before the notice period ends (earliest {earliest})")]
    NoticeTooShort { earliest: Timestamp },
    #[error(transparent)]
    Terms(#[from] TermsError),
    #[error(transparent)]
    Calendar(#[from] CalendarError),
}

/// The rules for a change announced to a customer of `jurisdiction` (and `plan`, for
/// a membership change), refusing one that gives too little notice.
pub fn check(
    terms: &Terms,
    local: &Local,
    jurisdiction: &str,
    plan: Option<&str>,
    offer: &ChangeOffer,
) -> Result<ChangeRules, ChangeError> {
    let notice = terms.change_notice(jurisdiction, plan)?;
    let earliest = local.statutory(offer.announced_at, notice)?.ends_at;
    if local.start_of(offer.effective)? < earliest {
        return Err(ChangeError::NoticeTooShort { earliest });
    }
    let law = terms.consumer(jurisdiction)?;
    let silence_ok = offer.legally_mandated && law.silence_accepts_only_mandated_changes;
    let requires_acceptance = law.change_requires_acceptance && !silence_ok;
    let cancel_free = law.cancel_on_price_change || offer.kind != ChangeKind::Terms;
    Ok(ChangeRules {
        earliest,
        requires_acceptance,
        cancel_free,
    })
}

/// One published version of the terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TermsVersion {
    pub version: String,
    pub effective: Timestamp,
}

/// The version in force at `at`: the latest one whose effective time has come
/// (T-17: a dispute uses the version in force when it arose).
pub fn version_in_force(versions: &[TermsVersion], at: Timestamp) -> Option<&TermsVersion> {
    versions
        .iter()
        .filter(|v| v.effective <= at)
        .max_by_key(|v| v.effective)
}
