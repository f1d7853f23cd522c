//! Warranty clocks: the Belgian legal guarantee (T-19) and the UK remedies for faulty
//! goods (T-21). Every length comes from the jurisdiction's `consumer` table.

use jiff::Timestamp;

use crate::calendar::{CalendarError, Deadline, Local};
use crate::terms::{Terms, TermsError, span};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WarrantyError {
    #[error("jurisdiction `{0}` states no {1}")]
    NotStated(String, &'static str),
    #[error(transparent)]
    Terms(#[from] TermsError),
    #[error(transparent)]
    Calendar(#[from] CalendarError),
}

/// A defect under a legal guarantee with a notice duty (Belgium).
#[derive(Debug, Clone, PartialEq)]
pub struct GuaranteeClaim {
    /// The guarantee covers defects that appear before this ends.
    pub guarantee_ends: Deadline,
    /// The customer must tell the seller by then (from noticing the defect).
    pub report_by: Deadline,
    /// Rights are time-barred at the end of this (from noticing the defect).
    pub time_barred: Deadline,
    pub defect_covered: bool,
}

impl GuaranteeClaim {
    /// A defect that appeared at `appeared` and was noticed at `noticed`, on goods
    /// delivered at `delivered` (T-19).
    pub fn assess(
        terms: &Terms,
        local: &Local,
        jurisdiction: &str,
        delivered: Timestamp,
        appeared: Timestamp,
        noticed: Timestamp,
    ) -> Result<GuaranteeClaim, WarrantyError> {
        let law = terms.consumer(jurisdiction)?;
        let need = |p: &Option<custos_policy::period::Period>, what: &'static str| {
            p.as_ref()
                .ok_or_else(|| WarrantyError::NotStated(jurisdiction.to_owned(), what))
                .and_then(|p| Ok(span(p, what)?))
        };
        let guarantee_ends =
            local.statutory(delivered, need(&law.legal_guarantee, "legal_guarantee")?)?;
        let report_by = local.statutory(noticed, need(&law.defect_notice, "defect_notice")?)?;
        let time_barred =
            local.statutory(noticed, need(&law.defect_time_bar, "defect_time_bar")?)?;
        Ok(GuaranteeClaim {
            defect_covered: guarantee_ends.is_met_by(appeared),
            guarantee_ends,
            report_by,
            time_barred,
        })
    }

    /// A report made at `reported` keeps the claim.
    pub fn report_in_time(&self, reported: Timestamp) -> bool {
        self.defect_covered && self.report_by.is_met_by(reported)
    }

    /// The claim can still be enforced at `at`.
    pub fn enforceable_at(&self, reported: Timestamp, at: Timestamp) -> bool {
        self.report_in_time(reported) && self.time_barred.is_met_by(at)
    }
}

/// What a UK consumer can get for faulty goods, by when they tell the seller (T-21).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UkRemedy {
    /// Short-term right to reject: a full refund.
    Refund,
    /// Repair or replacement (a refund if neither works).
    RepairOrReplace,
    /// Goods that did not last a reasonable time: some money back.
    SomeMoneyBack,
    /// Past the longest period a remedy can be claimed.
    None,
}

/// The remedy for faulty goods delivered at `delivered` and reported at `reported`.
pub fn uk_remedy(
    terms: &Terms,
    local: &Local,
    jurisdiction: &str,
    delivered: Timestamp,
    reported: Timestamp,
) -> Result<UkRemedy, WarrantyError> {
    let law = terms.consumer(jurisdiction)?;
    let steps = [
        (&law.faulty_refund, UkRemedy::Refund, "faulty_refund"),
        (
            &law.repair_or_replace,
            UkRemedy::RepairOrReplace,
            "repair_or_replace",
        ),
        (&law.remedy_limit, UkRemedy::SomeMoneyBack, "remedy_limit"),
    ];
    let mut stated = false;
    for (period, remedy, what) in steps {
        let Some(p) = period else { continue };
        stated = true;
        if local
            .statutory(delivered, span(p, what)?)?
            .is_met_by(reported)
        {
            return Ok(remedy);
        }
    }
    if stated {
        Ok(UkRemedy::None)
    } else {
        Err(WarrantyError::NotStated(
            jurisdiction.to_owned(),
            "faulty-goods remedies",
        ))
    }
}
