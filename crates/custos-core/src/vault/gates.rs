//! Collection gates: what the policy says may not be collected from *this* person
//! *now*, on top of the per-value rules of `write.rs`.
//!
//! - **Age** (V-5, L-10): a birth date (a `shape = "date"` category whose name ends
//!   in `date_of_birth`) that makes the person younger than their jurisdiction's
//!   `min_age` on the clock's date is refused; nothing is written. A birth date
//!   rectified later to an under-age one is refused too; an erasure request is
//!   opened and the subject restricted until staff decide (never an inline erasure
//!   with borrowed rights, issue 17.3). Impossible birth dates (future, more than
//!   130 years ago) are refused on every path.
//!
//! Rectification runs these gates exactly as a write does (one gate, L-2).
//! - **Opt-out** (P0-5): a category with `opt_out = true` is refused once the person
//!   switched it off. The switch is a consent-ledger event: `withdraw` on the purpose
//!   that collects the category (recorded through `record_consent`, which accepts
//!   grant/withdraw for purposes collecting an opt-out category even when they do not
//!   rest on consent; `grant` switches collection back on). No new ledger kind is
//!   needed, so every store and the archive format stay as they are.
//! - **Settings** (S-2, L-2): a category with `requires_setting = "x"` is accepted
//!   only when the write carries `settings: {"x": true}`.
//! - **Special categories** (S-3): only through a purpose with an `art9_condition`;
//!   when it is `explicit_consent`, only with a live consent to that purpose.
//!
//! Messages name categories, purposes, settings and ages, never the value.

use custos_policy::Policy;
use custos_policy::model::{Art9Condition, Category, Sensitivity};
use custos_policy::names::pattern_matches;
use custos_store::{Store, SubjectId, TenantId, Timestamp};
use serde_json::Value;

use super::Vault;
use super::write::WriteRequest;
use crate::consent::ConsentState;
use crate::error::{FieldError, VaultError};
use crate::tenant::ActivePolicy;

/// Field code: the birth date puts the person under the jurisdiction's minimum age.
pub const UNDER_AGE: &str = "VAULT-0180";
/// Field code: the person switched collection of this category off.
pub const OPTED_OUT: &str = "VAULT-0181";
/// Field code: the category needs a setting or permission the write does not carry as on.
pub const SETTING_OFF: &str = "VAULT-0182";
/// Field code: special-category data through a purpose without an Art. 9 condition.
pub const NO_ART9_CONDITION: &str = "VAULT-0183";
/// Field code: special-category data under explicit consent, and no live consent.
pub const NO_EXPLICIT_CONSENT: &str = "VAULT-0184";

/// Field code: the purpose rests on consent and the person's consent is not
/// current (never given, or withdrawn), and the write does not carry it (P0-1,
/// issue 13.1): consent gates collection, not only reads.
pub const NO_CONSENT: &str = "VAULT-0203";

/// Field code: a purpose with `prior_notice` (call recording) and no recorded
/// notice the person did not refuse (L-11, issue 13.6).
pub const NO_PRIOR_NOTICE: &str = "VAULT-0206";

/// Field code: a birth date in the future or more than [`MAX_AGE_YEARS`] years ago.
pub const IMPOSSIBLE_BIRTH_DATE: &str = "VAULT-0200";
/// Field code: a rectification would make the subject younger than the minimum age.
/// It is refused; an erasure request is opened and the subject restricted until
/// staff decide (L-10, issue 17.3) — never an inline erasure.
pub const UNDER_AGE_RECTIFICATION: &str = "VAULT-0201";

/// Nobody alive is older than this; an older birth date is a typing error.
pub const MAX_AGE_YEARS: u32 = 130;

/// The erasure reason of a subject found to be under the minimum age (L-10).
pub const UNDER_AGE_REASON: &str = "under minimum age";

/// Whether a category holds an age attestation: the person's yes/no "I am at
/// least N" (a boolean category whose name ends in `age_attestation`), which lets
/// an age gate fire without collecting a date of birth (V-5, L-10, issue 13.12).
pub fn is_age_attestation(name: &str, cat: &Category) -> bool {
    cat.is_age_attestation(name)
}

/// Field code: a sign-up in a jurisdiction with a minimum age carries neither a
/// birth date nor an age attestation (issue 13.12).
pub const AGE_NOT_ATTESTED: &str = "VAULT-0207";

/// Whether a category holds a birth date.
pub fn is_birth_date(name: &str, cat: &Category) -> bool {
    cat.is_birth_date(name)
}

/// Whether a category collects a purpose's opt-out category.
pub fn collects_opt_out(policy: &Policy, purpose: &str) -> bool {
    policy.purpose.get(purpose).is_some_and(|p| {
        policy
            .category
            .iter()
            .any(|(name, c)| c.opt_out && p.categories.iter().any(|pat| pattern_matches(pat, name)))
    })
}

/// The minimum age that applies to a person of `jurisdiction`, if the policy
/// sets one. A person whose jurisdiction was not given gets the strictest limit
/// the policy declares: leaving the field out never skips an age gate.
pub fn min_age(policy: &Policy, jurisdiction: Option<&str>) -> Option<u32> {
    match jurisdiction {
        Some(j) => policy.jurisdiction.get(j)?.min_age,
        None => policy.jurisdiction.values().filter_map(|j| j.min_age).max(),
    }
}

/// Whether someone born on `birth` is younger than `min` years on `now`'s UTC date.
/// On the birthday itself the person has the age.
pub fn younger_than(birth: &Value, min: u32, now: Timestamp) -> bool {
    let Some(birth) = birth
        .as_str()
        .and_then(|s| s.trim().parse::<jiff::civil::Date>().ok())
    else {
        return false; // shape errors are reported by validation
    };
    let today = now.to_zoned(jiff::tz::TimeZone::UTC).date();
    match jiff::Span::new()
        .try_years(i64::from(min))
        .ok()
        .and_then(|s| birth.checked_add(s).ok())
    {
        Some(of_age) => today < of_age,
        None => true,
    }
}

/// Whether a birth date is impossible on `now`'s UTC date: in the future, or more
/// than [`MAX_AGE_YEARS`] years ago. Unparsable values are left to shape validation.
pub fn impossible_birth_date(birth: &Value, now: Timestamp) -> bool {
    let Some(birth) = birth
        .as_str()
        .and_then(|s| s.trim().parse::<jiff::civil::Date>().ok())
    else {
        return false;
    };
    let today = now.to_zoned(jiff::tz::TimeZone::UTC).date();
    birth > today || younger_than_never(birth, today)
}

/// Whether someone born on `birth` would be older than [`MAX_AGE_YEARS`] on `today`.
fn younger_than_never(birth: jiff::civil::Date, today: jiff::civil::Date) -> bool {
    match jiff::Span::new()
        .try_years(i64::from(MAX_AGE_YEARS))
        .ok()
        .and_then(|s| birth.checked_add(s).ok())
    {
        Some(limit) => limit < today,
        None => false,
    }
}

impl<S: Store> Vault<S> {
    /// Every gate problem of a write for one subject (`subject` is `None` while
    /// creating it). Run after validation and authorisation, before anything is written.
    pub(crate) fn collection_gates(
        &self,
        tenant: &TenantId,
        active: &ActivePolicy,
        subject: Option<SubjectId>,
        jurisdiction: Option<&str>,
        req: &WriteRequest,
        switched_off: &[String],
    ) -> Result<Vec<FieldError>, VaultError> {
        let policy = &active.policy;
        let mut out = Vec::new();
        let now = self.clock.now();
        let min = min_age(policy, jurisdiction);
        for (i, r) in req.records.iter().enumerate() {
            let at = |f: &str| format!("/records/{i}/{f}");
            let Some(cat) = policy.category.get(&r.category) else {
                continue;
            };
            if is_birth_date(&r.category, cat) && impossible_birth_date(&r.value, now) {
                out.push(FieldError {
                    pointer: at("value"),
                    code: IMPOSSIBLE_BIRTH_DATE,
                    detail: format!(
                        "a birth date is neither in the future nor more than {MAX_AGE_YEARS} years ago"
                    ),
                });
                continue;
            }
            // The customer answers for the people of its customer-directed purposes.
            let own = !policy.customer_directed(&r.purpose);
            if let Some(min) = min
                && own
                && ((is_birth_date(&r.category, cat) && younger_than(&r.value, min, now))
                    || (is_age_attestation(&r.category, cat) && r.value == Value::Bool(false)))
            {
                out.push(FieldError {
                    pointer: at("value"),
                    code: UNDER_AGE,
                    detail: format!(
                        "data is not collected from people under {min} in jurisdiction {}",
                        jurisdiction.unwrap_or_default()
                    ),
                });
            }
            // Settings are recorded subject state (issue 13.3, 13.10): what the write
            // carries counts, except switching back on what was switched off.
            let purpose_setting = policy
                .purpose
                .get(&r.purpose)
                .and_then(|p| p.requires_setting.as_ref());
            for (setting, what) in [
                (cat.requires_setting.as_ref(), format!("`{}`", r.category)),
                (purpose_setting, format!("purpose `{}`", r.purpose)),
            ] {
                let Some(setting) = setting else { continue };
                let on = match req.settings.get(setting) {
                    Some(&carried) => carried && !switched_off.contains(setting),
                    None => match subject {
                        Some(id) => self.setting_on(tenant, id, setting)?,
                        None => false,
                    },
                };
                if !on {
                    out.push(FieldError {
                        pointer: at("category"),
                        code: SETTING_OFF,
                        detail: if switched_off.contains(setting) {
                            format!(
                                "{what} needs `{setting}`, which was switched off; only a settings change switches it back on"
                            )
                        } else {
                            format!(
                                "{what} is collected only while `{setting}` is on; send \"settings\": {{\"{setting}\": true}}"
                            )
                        },
                    });
                }
            }
            // A consent the write carries counts as given: it is stored first, in
            // the same transaction (issue 13.1).
            let consent = |purpose: &str| -> Result<ConsentState, VaultError> {
                if req.consents.iter().any(|c| c.purpose == purpose) {
                    return Ok(ConsentState::Granted);
                }
                // A version that asks re-consent makes older grants not count (V-6),
                // for collection as for reads.
                match (subject, active.reconsent_since.get(purpose)) {
                    (None, _) => Ok(ConsentState::NeverAsked),
                    (Some(id), Some(&since)) => {
                        self.consent.consent_since(tenant, id, purpose, since)
                    }
                    (Some(id), None) => self.consent.consent(tenant, id, purpose),
                }
            };
            // Special categories have their own, stricter consent gate below.
            let told_first = policy
                .purpose
                .get(&r.purpose)
                .is_some_and(|p| p.prior_notice);
            if cat.sensitivity != Sensitivity::Special
                && super::consent::needs_consent(policy, &r.purpose)
                && consent(&r.purpose)? != ConsentState::Granted
                && told_first
            {
                out.push(FieldError {
                    pointer: at("purpose"),
                    code: NO_PRIOR_NOTICE,
                    detail: format!(
                        "purpose `{}` happens only after the person was told and did not refuse; \
                         record the notice given (a grant with its text) first, or carry it in `consents`",
                        r.purpose
                    ),
                });
            } else if cat.sensitivity != Sensitivity::Special
                && super::consent::needs_consent(policy, &r.purpose)
                && consent(&r.purpose)? != ConsentState::Granted
            {
                out.push(FieldError {
                    pointer: at("purpose"),
                    code: NO_CONSENT,
                    detail: format!(
                        "purpose `{}` rests on consent and the person has not given it (or withdrew it); \
                         carry it in `consents` with the text the person saw, or record it first",
                        r.purpose
                    ),
                });
            }
            if cat.opt_out && consent(&r.purpose)? == ConsentState::Withdrawn {
                out.push(FieldError {
                    pointer: at("category"),
                    code: OPTED_OUT,
                    detail: format!(
                        "the person switched off `{}` for purpose `{}`",
                        r.category, r.purpose
                    ),
                });
            }
            if cat.sensitivity == Sensitivity::Special {
                match policy.purpose.get(&r.purpose).map(|p| p.art9_condition) {
                    Some(None) => out.push(FieldError {
                        pointer: at("purpose"),
                        code: NO_ART9_CONDITION,
                        detail: format!(
                            "`{}` is special-category data; purpose `{}` has no Art. 9 condition",
                            r.category, r.purpose
                        ),
                    }),
                    Some(Some(Art9Condition::ExplicitConsent))
                        if consent(&r.purpose)? != ConsentState::Granted =>
                    {
                        out.push(FieldError {
                            pointer: at("purpose"),
                            code: NO_EXPLICIT_CONSENT,
                            detail: format!(
                                "`{}` is special-category data collected on explicit consent to `{}`, and there is none",
                                r.category, r.purpose
                            ),
                        })
                    }
                    _ => {}
                }
            }
        }
        // A sign-up where an age limit applies says the person's age (issue 13.12).
        if subject.is_none()
            && let Some(min) = min
        {
            let own: Vec<_> = req
                .records
                .iter()
                .filter(|r| !policy.customer_directed(&r.purpose))
                .filter_map(|r| policy.category.get(&r.category).map(|c| (r, c)))
                .collect();
            let says_age = own
                .iter()
                .any(|(r, c)| is_birth_date(&r.category, c) || is_age_attestation(&r.category, c));
            if !own.is_empty() && !says_age {
                out.push(FieldError {
                    pointer: "/records".into(),
                    code: AGE_NOT_ATTESTED,
                    detail: format!(
                        "data is collected{} only from people of at least {min}: \
                         add the person's age attestation (a yes/no record) or birth date",
                        jurisdiction
                            .map(|j| format!(" in jurisdiction {j}"))
                            .unwrap_or_default()
                    ),
                });
            }
        }
        Ok(out)
    }
}
