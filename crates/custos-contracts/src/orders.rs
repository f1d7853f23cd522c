//! Store orders: placed → acknowledged (reference) → confirmed (contract formed) |
//! declined | withdrawn for unavailability | terminated for an invalid payment method.
//!
//! Every transition is a pure function from an order to the next order plus the
//! notices owed ([`Step`]); an illegal transition is a typed error and leaves the
//! order as it was.
//!
//! - T-6: the contract forms only at the Order Confirmation, which states an estimated
//!   delivery date.
//! - T-3: prices are fixed at confirmation. A change before it puts the order in
//!   `AwaitingReconfirmation`; a confirmed order refuses any price change.
//! - T-7: quantity limits per person, e-mail, household, card and address count the
//!   units of one product across the caller's purchase history (the caller picks the
//!   window and leaves out declined or withdrawn orders). The **dealer pattern** is
//!   the same count across every order *linked* to this one through any shared key,
//!   transitively: a buyer who rotates cards, e-mails and addresses so that no single
//!   key reaches its limit is still one buyer. Its limit is the largest per-key limit
//!   in the policy, so the rule needs no number of its own.
//! - T-8: withdrawal for unavailability owes the full refund at once.
//! - T-9: an invalid payment method ends the order.

use jiff::Timestamp;
use jiff::civil::Date;

use crate::Step;
use crate::money::{Currency, Money, MoneyError, line_total};
use crate::notice::Notice;
use crate::terms::{Terms, TermsError};

/// One product line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderLine {
    pub sku: String,
    pub quantity: u32,
    pub unit_price: Money,
}

/// Opaque keys of the buyer (blind indexes or ids, never the values themselves).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct BuyerKeys {
    pub person: String,
    pub email: String,
    pub household: String,
    pub card: String,
    pub address: String,
}

/// One earlier line bought by someone, as far as limits are concerned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PriorPurchase {
    pub keys: BuyerKeys,
    pub sku: String,
    pub quantity: u32,
}

/// Reads one key of a buyer.
type KeyOf = fn(&BuyerKeys) -> &str;

/// Which key a quantity limit was reached on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LimitKey {
    Person,
    Email,
    Household,
    Card,
    Address,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrderState {
    Placed,
    Acknowledged,
    /// Terms changed before confirmation; the customer must re-confirm (T-3).
    AwaitingReconfirmation,
    Confirmed {
        at: Timestamp,
        estimated_delivery: Date,
    },
    Declined {
        at: Timestamp,
        reason: String,
    },
    WithdrawnUnavailable {
        at: Timestamp,
    },
    TerminatedInvalidPayment {
        at: Timestamp,
    },
}

impl OrderState {
    pub fn name(&self) -> &'static str {
        match self {
            OrderState::Placed => "placed",
            OrderState::Acknowledged => "acknowledged",
            OrderState::AwaitingReconfirmation => "awaiting_reconfirmation",
            OrderState::Confirmed { .. } => "confirmed",
            OrderState::Declined { .. } => "declined",
            OrderState::WithdrawnUnavailable { .. } => "withdrawn_unavailable",
            OrderState::TerminatedInvalidPayment { .. } => "terminated_invalid_payment",
        }
    }

    pub fn is_final(&self) -> bool {
        matches!(
            self,
            OrderState::Declined { .. }
                | OrderState::WithdrawnUnavailable { .. }
                | OrderState::TerminatedInvalidPayment { .. }
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OrderError {
    #[error("an order in state `{from}` cannot be {action}")]
    IllegalTransition {
        from: &'static str,
        action: &'static str,
    },
    #[error("an order needs at least one line with a quantity")]
    Empty,
    #[error("{total} units of `{sku}` for one {key:?} exceed the limit of {limit}")]
    QuantityLimit {
        key: LimitKey,
        sku: String,
        limit: u32,
        total: u64,
    },
    #[error(
        "{total} units of `{sku}` across linked buyers look like a dealer's order (limit {limit})"
    )]
    DealerPattern { sku: String, limit: u32, total: u64 },
    #[error("prices are fixed once the order is confirmed")]
    PriceFixed,
    #[error(transparent)]
    Money(#[from] MoneyError),
    #[error(transparent)]
    Terms(#[from] TermsError),
}

/// A store order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Order {
    pub id: String,
    pub reference: Option<String>,
    pub keys: BuyerKeys,
    pub lines: Vec<OrderLine>,
    /// Original (standard) shipping charged on the order.
    pub shipping: Money,
    pub placed_at: Timestamp,
    pub state: OrderState,
}

fn illegal(from: &OrderState, action: &'static str) -> OrderError {
    OrderError::IllegalTransition {
        from: from.name(),
        action,
    }
}

impl Order {
    /// Places an order after checking the policy's quantity limits and dealer rule
    /// against `history` (T-7). A refused order is never created.
    pub fn place(
        terms: &Terms,
        id: &str,
        keys: BuyerKeys,
        lines: Vec<OrderLine>,
        shipping: Money,
        at: Timestamp,
        history: &[PriorPurchase],
    ) -> Result<Step<Order>, OrderError> {
        if lines.is_empty() || lines.iter().any(|l| l.quantity == 0) {
            return Err(OrderError::Empty);
        }
        for l in &lines {
            shipping.checked_add(l.unit_price)?;
        }
        let order = Order {
            id: id.to_owned(),
            reference: None,
            keys,
            lines,
            shipping,
            placed_at: at,
            state: OrderState::Placed,
        };
        order.check_limits(terms, history)?;
        Ok(Step::quiet(order))
    }

    pub fn currency(&self) -> Currency {
        self.shipping.currency()
    }

    /// Sum of the rounded lines plus shipping.
    pub fn total(&self) -> Result<Money, MoneyError> {
        let mut total = self.shipping.round_line();
        for l in &self.lines {
            total = total.checked_add(line_total(l.unit_price, l.quantity)?)?;
        }
        Ok(total)
    }

    fn check_limits(&self, terms: &Terms, history: &[PriorPurchase]) -> Result<(), OrderError> {
        let orders = terms.orders()?;
        let Some(limits) = &orders.limits else {
            return Ok(());
        };
        let keyed: [(LimitKey, Option<u32>, KeyOf); 5] = [
            (LimitKey::Person, limits.per_person, |k| &k.person),
            (LimitKey::Email, limits.per_email, |k| &k.email),
            (LimitKey::Household, limits.per_household, |k| &k.household),
            (LimitKey::Card, limits.per_card, |k| &k.card),
            (LimitKey::Address, limits.per_address, |k| &k.address),
        ];
        for line in &self.lines {
            let here: u64 = self
                .lines
                .iter()
                .filter(|l| l.sku == line.sku)
                .map(|l| u64::from(l.quantity))
                .sum();
            for (key, limit, get) in keyed {
                let Some(limit) = limit else { continue };
                let mine = get(&self.keys);
                let before: u64 = history
                    .iter()
                    .filter(|p| p.sku == line.sku && get(&p.keys) == mine)
                    .map(|p| u64::from(p.quantity))
                    .sum();
                if before + here > u64::from(limit) {
                    return Err(OrderError::QuantityLimit {
                        key,
                        sku: line.sku.clone(),
                        limit,
                        total: before + here,
                    });
                }
            }
            if orders.refuse_dealers {
                let limit = keyed.iter().filter_map(|(_, l, _)| *l).max();
                if let Some(limit) = limit {
                    let linked = linked_units(&self.keys, &line.sku, history);
                    if linked + here > u64::from(limit) {
                        return Err(OrderError::DealerPattern {
                            sku: line.sku.clone(),
                            limit,
                            total: linked + here,
                        });
                    }
                }
            }
        }
        Ok(())
    }

    /// Plume acknowledges receipt with an order reference (T-6).
    pub fn acknowledge(&self, reference: &str) -> Result<Step<Order>, OrderError> {
        if self.state != OrderState::Placed {
            return Err(illegal(&self.state, "acknowledged"));
        }
        let mut next = self.clone();
        next.reference = Some(reference.to_owned());
        next.state = OrderState::Acknowledged;
        Ok(Step::new(
            next,
            vec![Notice::OrderAcknowledged {
                reference: reference.to_owned(),
            }],
        ))
    }

    /// New prices (or shipping) before confirmation: the order waits for the customer
    /// to re-confirm. A confirmed order refuses (T-3).
    pub fn change_prices(
        &self,
        lines: Vec<OrderLine>,
        shipping: Money,
    ) -> Result<Step<Order>, OrderError> {
        match self.state {
            OrderState::Placed | OrderState::Acknowledged | OrderState::AwaitingReconfirmation => {}
            OrderState::Confirmed { .. } => return Err(OrderError::PriceFixed),
            _ => return Err(illegal(&self.state, "repriced")),
        }
        let old_total = self.total()?;
        let mut next = self.clone();
        next.lines = lines;
        next.shipping = shipping;
        let new_total = next.total()?;
        next.state = OrderState::AwaitingReconfirmation;
        Ok(Step::new(
            next,
            vec![Notice::ReconfirmationRequested {
                reference: self.reference.clone().unwrap_or_default(),
                old_total,
                new_total,
            }],
        ))
    }

    /// The customer re-confirms on the amended terms.
    pub fn reconfirm(&self) -> Result<Step<Order>, OrderError> {
        if self.state != OrderState::AwaitingReconfirmation {
            return Err(illegal(&self.state, "re-confirmed"));
        }
        let mut next = self.clone();
        next.state = if self.reference.is_some() {
            OrderState::Acknowledged
        } else {
            OrderState::Placed
        };
        Ok(Step::quiet(next))
    }

    /// Plume accepts: the Order Confirmation forms the contract and fixes the prices (T-6, T-3).
    pub fn confirm(
        &self,
        estimated_delivery: Date,
        at: Timestamp,
    ) -> Result<Step<Order>, OrderError> {
        if self.state != OrderState::Acknowledged {
            return Err(illegal(&self.state, "confirmed"));
        }
        let reference = self.reference.clone().unwrap_or_default();
        let total = self.total()?;
        let mut next = self.clone();
        next.state = OrderState::Confirmed {
            at,
            estimated_delivery,
        };
        Ok(Step::new(
            next,
            vec![Notice::OrderConfirmed {
                reference,
                total,
                estimated_delivery,
                contract_formed_at: at,
            }],
        ))
    }

    /// Plume declines before a contract exists (T-6).
    pub fn decline(&self, reason: &str, at: Timestamp) -> Result<Step<Order>, OrderError> {
        if !matches!(
            self.state,
            OrderState::Placed | OrderState::Acknowledged | OrderState::AwaitingReconfirmation
        ) {
            return Err(illegal(&self.state, "declined"));
        }
        let mut next = self.clone();
        next.state = OrderState::Declined {
            at,
            reason: reason.to_owned(),
        };
        Ok(Step::new(
            next,
            vec![Notice::OrderDeclined {
                reference: self.reference.clone(),
                reason: reason.to_owned(),
            }],
        ))
    }

    /// Products unavailable after confirmation: Plume withdraws and owes the whole
    /// amount back, due at once when the policy says so (T-8).
    pub fn withdraw_unavailable(
        &self,
        terms: &Terms,
        at: Timestamp,
    ) -> Result<Step<Order>, OrderError> {
        if !matches!(self.state, OrderState::Confirmed { .. }) {
            return Err(illegal(&self.state, "withdrawn for unavailability"));
        }
        let immediately = terms.orders()?.refund_unavailable_immediately;
        let mut next = self.clone();
        next.state = OrderState::WithdrawnUnavailable { at };
        let mut notices = vec![Notice::OrderWithdrawnUnavailable {
            reference: self.reference.clone().unwrap_or_default(),
        }];
        if immediately {
            notices.push(Notice::RefundDue {
                amount: self.total()?,
                due: at,
            });
        }
        Ok(Step::new(next, notices))
    }

    /// The payment method could not be verified or is invalid (T-9).
    pub fn payment_invalid(&self, terms: &Terms, at: Timestamp) -> Result<Step<Order>, OrderError> {
        if self.state.is_final() {
            return Err(illegal(&self.state, "terminated"));
        }
        if !terms.orders()?.invalid_payment_terminates {
            return Ok(Step::quiet(self.clone()));
        }
        let mut next = self.clone();
        next.state = OrderState::TerminatedInvalidPayment { at };
        Ok(Step::new(
            next,
            vec![Notice::OrderTerminatedInvalidPayment {
                reference: self.reference.clone(),
            }],
        ))
    }
}

/// Units of `sku` in every prior purchase linked to `keys` through shared keys,
/// followed transitively (a small union by repeated passes: histories are short).
fn linked_units(keys: &BuyerKeys, sku: &str, history: &[PriorPurchase]) -> u64 {
    let shares = |a: &BuyerKeys, b: &BuyerKeys| {
        a.person == b.person
            || a.email == b.email
            || a.household == b.household
            || a.card == b.card
            || a.address == b.address
    };
    let mut linked = vec![false; history.len()];
    let mut frontier: Vec<&BuyerKeys> = vec![keys];
    while let Some(k) = frontier.pop() {
        for (p, seen) in history.iter().zip(linked.iter_mut()) {
            if !*seen && shares(k, &p.keys) {
                *seen = true;
                frontier.push(&p.keys);
            }
        }
    }
    history
        .iter()
        .zip(linked)
        .filter(|(p, l)| *l && p.sku == sku)
        .map(|(p, _)| u64::from(p.quantity))
        .sum()
}
