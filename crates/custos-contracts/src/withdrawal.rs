//! The statutory right of withdrawal (T-18, the Addendum (A) and (B)).
//!
//! 14 days (the jurisdiction's period, else the contract's), counted for goods from
//! physical possession of the *last* item of the order and for a membership from the
//! contract date (Order Confirmation). Any unambiguous statement counts; the standard
//! withdrawal form is one of them and is never required. The refund is due 14 days
//! after the notice, but for goods the seller may wait until the goods are back or the
//! customer proves dispatch, whichever is earlier. The goods go back within 14 days
//! of the notice, at the customer's direct cost, which the policy caps per currency.

use custos_policy::model::WithdrawalStart;
use jiff::Timestamp;
use jiff::civil::Date;

use crate::Step;
use crate::calendar::{CalendarError, Deadline, Local};
use crate::money::{Money, MoneyError};
use crate::notice::Notice;
use crate::terms::{Terms, TermsError, opt_span, span};

/// What is withdrawn from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Purchase {
    /// Goods: when the customer (or someone they named, not the carrier) took
    /// possession of the last item of the order, and when the contract was formed.
    Goods {
        contract_at: Timestamp,
        possession_of_last_item: Timestamp,
    },
    Membership {
        contract_at: Timestamp,
    },
}

/// The standard withdrawal form of the Addendum.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StandardForm {
    pub order_date: Date,
    pub goods_or_services: String,
    pub consumer_names: String,
    pub consumer_address: String,
    pub signed_on: Date,
}

/// How the customer said it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Statement {
    StandardForm(StandardForm),
    /// A letter, fax or e-mail that clearly says so.
    Unambiguous,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WithdrawalError {
    #[error("the withdrawal period ended at {closed}")]
    Expired { closed: Timestamp },
    #[error("the standard withdrawal form is not accepted under this policy")]
    FormNotAccepted,
    #[error("only goods are sent back")]
    NoGoods,
    #[error(transparent)]
    Terms(#[from] TermsError),
    #[error(transparent)]
    Calendar(#[from] CalendarError),
    #[error(transparent)]
    Money(#[from] MoneyError),
}

/// The end of the withdrawal period for a purchase by a customer of `jurisdiction`.
pub fn deadline(
    terms: &Terms,
    local: &Local,
    jurisdiction: &str,
    purchase: &Purchase,
) -> Result<Deadline, WithdrawalError> {
    let w = terms.withdrawal()?;
    let period = terms.withdrawal_period(jurisdiction)?;
    let start = |from: WithdrawalStart| match (purchase, from) {
        (Purchase::Goods { contract_at, .. }, WithdrawalStart::ContractDate)
        | (Purchase::Membership { contract_at }, _) => *contract_at,
        (
            Purchase::Goods {
                possession_of_last_item,
                ..
            },
            _,
        ) => *possession_of_last_item,
    };
    let event = match purchase {
        Purchase::Goods { .. } => start(w.goods_from),
        Purchase::Membership { .. } => start(w.membership_from),
    };
    Ok(local.statutory(event, period)?)
}

/// A withdrawal the customer has declared.
#[derive(Debug, Clone, PartialEq)]
pub struct Withdrawal {
    pub notified_at: Timestamp,
    pub goods: bool,
    /// All payments received (goods and standard delivery), to be refunded.
    pub paid: Money,
    pub refund_due: Deadline,
    pub return_by: Option<Deadline>,
    pub may_wait_for_goods: bool,
    pub goods_back_at: Option<Timestamp>,
    pub dispatch_proven_at: Option<Timestamp>,
}

impl Withdrawal {
    /// The customer withdraws at `at` (T-18).
    pub fn exercise(
        terms: &Terms,
        local: &Local,
        jurisdiction: &str,
        purchase: &Purchase,
        paid: Money,
        statement: &Statement,
        at: Timestamp,
    ) -> Result<Step<Withdrawal>, WithdrawalError> {
        let w = terms.withdrawal()?;
        if matches!(statement, Statement::StandardForm(_)) && !w.standard_form {
            return Err(WithdrawalError::FormNotAccepted);
        }
        let end = deadline(terms, local, jurisdiction, purchase)?;
        if !end.is_met_by(at) {
            return Err(WithdrawalError::Expired {
                closed: end.ends_at,
            });
        }
        let goods = matches!(purchase, Purchase::Goods { .. });
        let refund_due = local.statutory(
            at,
            span(&w.refund_within, "contract.withdrawal.refund_within")?,
        )?;
        let return_by = match opt_span(
            w.return_within.as_ref(),
            "contract.withdrawal.return_within",
        )? {
            Some(s) if goods => Some(local.statutory(at, s)?),
            _ => None,
        };
        let next = Withdrawal {
            notified_at: at,
            goods,
            paid,
            refund_due: refund_due.clone(),
            return_by: return_by.clone(),
            may_wait_for_goods: goods && w.refund_may_wait_for_goods,
            goods_back_at: None,
            dispatch_proven_at: None,
        };
        let notices = vec![Notice::WithdrawalAcknowledged {
            refund_by: refund_due.ends_at,
            return_by: return_by.map(|d| d.ends_at),
        }];
        Ok(Step::new(next, notices))
    }

    pub fn goods_received(&self, at: Timestamp) -> Result<Step<Withdrawal>, WithdrawalError> {
        if !self.goods {
            return Err(WithdrawalError::NoGoods);
        }
        let mut next = self.clone();
        next.goods_back_at = Some(at);
        Ok(Step::quiet(next))
    }

    pub fn dispatch_proven(&self, at: Timestamp) -> Result<Step<Withdrawal>, WithdrawalError> {
        if !self.goods {
            return Err(WithdrawalError::NoGoods);
        }
        let mut next = self.clone();
        next.dispatch_proven_at = Some(at);
        Ok(Step::quiet(next))
    }

    /// The latest instant the refund may be paid: the refund deadline, or — when the
    /// seller may wait for the goods — the later of that and the earlier of goods back
    /// and proof of dispatch. `None` while the seller may still wait.
    pub fn refund_payable_by(&self) -> Option<Timestamp> {
        if !self.may_wait_for_goods {
            return Some(self.refund_due.ends_at);
        }
        let back = match (self.goods_back_at, self.dispatch_proven_at) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }?;
        Some(self.refund_due.ends_at.max(back))
    }

    /// The refund: all payments less deterioration beyond testing, capped at the
    /// price of the goods (Addendum (B)(iv)).
    pub fn refund(
        &self,
        goods_price: Money,
        deterioration: Money,
    ) -> Result<Money, WithdrawalError> {
        let deduct = deterioration.floor_zero().min(goods_price.floor_zero())?;
        Ok(self.paid.checked_sub(deduct)?.floor_zero().round_line())
    }

    /// What the customer bears for sending the goods back: the direct cost, capped
    /// by the policy's maximum for the currency (Addendum (B)(iii)).
    pub fn return_cost(terms: &Terms, actual: Money) -> Result<Money, WithdrawalError> {
        match terms.max_return_cost(actual.currency())? {
            Some(cap) => Ok(actual.floor_zero().min(cap)?),
            None => Ok(actual.floor_zero()),
        }
    }
}
