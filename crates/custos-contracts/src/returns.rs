//! Returns for any reason (T-15, terms §7): notice window, RMA, shipment, receipt,
//! refund amount and refund deadline.
//!
//! The window ends at the later of (delivery confirmation plus 30 days) and
//! (possession plus 14 days), each a statutory period on the customer's calendar. The goods must be
//! shipped within 14 days of the notice; the refund is due within 30 days of receipt.
//!
//! Refund = price actually paid + original shipping − the whole bundle discount when
//! only part of a bundle comes back − deterioration (each item's capped at its
//! price), never below zero. Each component is rounded once (line level).

use jiff::Timestamp;

use crate::Step;
use crate::calendar::{CalendarError, Deadline, Local};
use crate::money::{Currency, Money, MoneyError};
use crate::notice::Notice;
use crate::terms::{Terms, TermsError, span};

/// One returned item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReturnedItem {
    /// What the customer actually paid for it (after any promotional discount).
    pub price_paid: Money,
    /// Cost of deterioration beyond what was needed to try the product.
    pub deterioration: Money,
}

/// What comes back and what was paid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundInput {
    pub currency: Currency,
    pub items: Vec<ReturnedItem>,
    /// Original shipping charged on the order.
    pub original_shipping: Money,
    /// The bundle discount, when only part of a bundle is returned.
    pub partial_bundle_discount: Option<Money>,
}

/// The refund, line by line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refund {
    pub items: Money,
    pub shipping: Money,
    pub bundle_discount_lost: Money,
    pub deterioration: Money,
    pub total: Money,
}

/// Computes the refund under the policy's `[contract.returns]` flags.
pub fn refund(terms: &Terms, input: &RefundInput) -> Result<Refund, ReturnError> {
    let r = terms.returns()?;
    let cur = input.currency;
    let items = Money::sum(cur, input.items.iter().map(|i| i.price_paid.round_line()))?;
    let shipping = if r.refund_includes_original_shipping {
        input.original_shipping.round_line()
    } else {
        Money::zero(cur)
    };
    let bundle = match (
        &input.partial_bundle_discount,
        r.deduct_lost_bundle_discount,
    ) {
        (Some(d), true) => d.round_line().floor_zero(),
        _ => Money::zero(cur),
    };
    let mut deterioration = Money::zero(cur);
    if r.deduct_deterioration {
        for i in &input.items {
            let capped = i
                .deterioration
                .round_line()
                .floor_zero()
                .min(i.price_paid.round_line().floor_zero())?;
            deterioration = deterioration.checked_add(capped)?;
        }
    }
    let total = items
        .checked_add(shipping)?
        .checked_sub(bundle)?
        .checked_sub(deterioration)?
        .floor_zero();
    Ok(Refund {
        items,
        shipping,
        bundle_discount_lost: bundle,
        deterioration,
        total,
    })
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReturnState {
    Notified,
    RmaIssued {
        rma: String,
    },
    Shipped {
        at: Timestamp,
    },
    Received {
        at: Timestamp,
        refund: Refund,
        refund_due: Deadline,
    },
    Refunded {
        at: Timestamp,
    },
}

impl ReturnState {
    fn name(&self) -> &'static str {
        match self {
            ReturnState::Notified => "notified",
            ReturnState::RmaIssued { .. } => "rma_issued",
            ReturnState::Shipped { .. } => "shipped",
            ReturnState::Received { .. } => "received",
            ReturnState::Refunded { .. } => "refunded",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReturnError {
    #[error("the return window closed at {closed}")]
    WindowClosed { closed: Timestamp },
    #[error("the goods had to be shipped by {deadline}")]
    ShippedTooLate { deadline: Timestamp },
    #[error("a return in state `{from}` cannot be {action}")]
    IllegalTransition {
        from: &'static str,
        action: &'static str,
    },
    #[error(transparent)]
    Terms(#[from] TermsError),
    #[error(transparent)]
    Calendar(#[from] CalendarError),
    #[error(transparent)]
    Money(#[from] MoneyError),
}

/// The end of the return window (T-15): the later of the two periods.
pub fn window(
    terms: &Terms,
    local: &Local,
    delivery_confirmed: Timestamp,
    possession: Timestamp,
) -> Result<Deadline, ReturnError> {
    let r = terms.returns()?;
    let a = local.statutory(
        delivery_confirmed,
        span(
            &r.notice_after_delivery_confirmation,
            "contract.returns.notice_after_delivery_confirmation",
        )?,
    )?;
    let b = local.statutory(
        possession,
        span(
            &r.notice_after_possession,
            "contract.returns.notice_after_possession",
        )?,
    )?;
    Ok(if b.ends_at > a.ends_at { b } else { a })
}

/// A return in progress.
#[derive(Debug, Clone, PartialEq)]
pub struct Return {
    pub notified_at: Timestamp,
    pub ship_by: Deadline,
    pub state: ReturnState,
}

impl Return {
    fn illegal(&self, action: &'static str) -> ReturnError {
        ReturnError::IllegalTransition {
            from: self.state.name(),
            action,
        }
    }

    /// The customer tells the seller at `at` (T-15). Refused after the window.
    pub fn notify(
        terms: &Terms,
        local: &Local,
        delivery_confirmed: Timestamp,
        possession: Timestamp,
        at: Timestamp,
    ) -> Result<Step<Return>, ReturnError> {
        let w = window(terms, local, delivery_confirmed, possession)?;
        if !w.is_met_by(at) {
            return Err(ReturnError::WindowClosed { closed: w.ends_at });
        }
        let r = terms.returns()?;
        let ship_by = local.statutory(at, span(&r.ship_within, "contract.returns.ship_within")?)?;
        let notices = vec![Notice::ReturnAccepted {
            ship_by: ship_by.ends_at,
        }];
        Ok(Step::new(
            Return {
                notified_at: at,
                ship_by,
                state: ReturnState::Notified,
            },
            notices,
        ))
    }

    pub fn issue_rma(&self, rma: &str) -> Result<Step<Return>, ReturnError> {
        if self.state != ReturnState::Notified {
            return Err(self.illegal("given an RMA"));
        }
        let mut next = self.clone();
        next.state = ReturnState::RmaIssued {
            rma: rma.to_owned(),
        };
        Ok(Step::new(
            next,
            vec![Notice::RmaIssued {
                rma: rma.to_owned(),
                ship_by: self.ship_by.ends_at,
            }],
        ))
    }

    /// The customer ships; an RMA must exist first when the policy requires one.
    pub fn shipped(&self, terms: &Terms, at: Timestamp) -> Result<Step<Return>, ReturnError> {
        let ok_state = match self.state {
            ReturnState::RmaIssued { .. } => true,
            ReturnState::Notified => !terms.returns()?.rma_required,
            _ => false,
        };
        if !ok_state {
            return Err(self.illegal("shipped"));
        }
        if !self.ship_by.is_met_by(at) {
            return Err(ReturnError::ShippedTooLate {
                deadline: self.ship_by.ends_at,
            });
        }
        let mut next = self.clone();
        next.state = ReturnState::Shipped { at };
        Ok(Step::quiet(next))
    }

    /// The seller receives the goods: the refund is computed and falls due (T-15).
    pub fn received(
        &self,
        terms: &Terms,
        local: &Local,
        input: &RefundInput,
        at: Timestamp,
    ) -> Result<Step<Return>, ReturnError> {
        if !matches!(self.state, ReturnState::Shipped { .. }) {
            return Err(self.illegal("received"));
        }
        let r = terms.returns()?;
        let amount = refund(terms, input)?;
        let refund_due = local.statutory(
            at,
            span(&r.refund_within, "contract.returns.refund_within")?,
        )?;
        let mut notices = vec![Notice::RefundDue {
            amount: amount.total,
            due: refund_due.ends_at,
        }];
        if r.promotional_period_forfeited {
            notices.push(Notice::PromotionalPeriodForfeited);
        }
        let mut next = self.clone();
        next.state = ReturnState::Received {
            at,
            refund: amount,
            refund_due,
        };
        Ok(Step::new(next, notices))
    }

    pub fn refunded(&self, at: Timestamp) -> Result<Step<Return>, ReturnError> {
        if !matches!(self.state, ReturnState::Received { .. }) {
            return Err(self.illegal("refunded"));
        }
        let mut next = self.clone();
        next.state = ReturnState::Refunded { at };
        Ok(Step::quiet(next))
    }
}
