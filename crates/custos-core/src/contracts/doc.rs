//! The stored shape of each contract: the engine's state as serde documents (the
//! engine types carry no serde), with conversions both ways. Amounts are text
//! (`"12.50 EUR"`), instants RFC 3339, days ISO dates. No personal value: the subject
//! by id, payments by processor reference.

use custos_contracts::calendar::Deadline;
use custos_contracts::membership::{Billing, EndReason, Membership, PendingChange};
use custos_contracts::orders::{BuyerKeys, Order, OrderLine, OrderState};
use custos_contracts::returns::{Refund, Return, ReturnState};
use custos_contracts::withdrawal::Withdrawal;
use custos_contracts::{Customer, Local, Money, Terms};
use custos_store::{SubjectId, Timestamp, Uuid};
use jiff::civil::Date;
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};

use super::{ContractFail, codes, fail};

/// Where the customer lives, as the engines need it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Place {
    pub jurisdiction: String,
    #[serde(default)]
    pub subdivision: Option<String>,
    /// IANA zone (`Europe/Berlin`).
    pub time_zone: String,
    #[serde(default = "yes")]
    pub consumer: bool,
}

fn yes() -> bool {
    true
}

impl Place {
    pub fn customer(&self) -> Result<Customer, ContractFail> {
        let tz = TimeZone::get(&self.time_zone).map_err(|_| {
            fail(
                "/customer/time_zone",
                codes::TIME_ZONE,
                "not a known IANA time zone (`Europe/Brussels`)",
            )
        })?;
        let mut c = Customer::new(&self.jurisdiction, self.subdivision.as_deref(), tz);
        c.consumer = self.consumer;
        Ok(c)
    }

    pub fn local(&self, terms: &Terms) -> Result<Local, ContractFail> {
        terms
            .local(&self.customer()?)
            .map_err(|e| super::terms_fail(&e))
    }
}

/// Exact amount as text: `12.50 EUR` (all decimals kept).
pub fn money_text(m: Money) -> String {
    format!("{} {}", m.amount(), m.currency())
}

/// Parses an amount; the problem never quotes the input.
pub fn parse_money(s: &str, pointer: &str) -> Result<Money, ContractFail> {
    s.parse::<Money>().map_err(|e| {
        let detail = match e {
            custos_contracts::MoneyError::UnknownCurrency(_) => "unknown currency (EUR, GBP, CHF)",
            custos_contracts::MoneyError::Overflow => "amount out of range",
            _ => "not an amount: write it as \"12.50 EUR\"",
        };
        fail(pointer, codes::MONEY, detail)
    })
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeadlineDoc {
    pub last_day: Date,
    pub ends_at: Timestamp,
}

impl From<&Deadline> for DeadlineDoc {
    fn from(d: &Deadline) -> Self {
        DeadlineDoc {
            last_day: d.last_day,
            ends_at: d.ends_at,
        }
    }
}

impl From<&DeadlineDoc> for Deadline {
    fn from(d: &DeadlineDoc) -> Self {
        Deadline {
            last_day: d.last_day,
            ends_at: d.ends_at,
        }
    }
}

/// A statutory withdrawal (T-18) from an order or a membership.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WithdrawalDoc {
    pub notified_at: Timestamp,
    pub goods: bool,
    pub paid: String,
    pub refund_due: DeadlineDoc,
    pub return_by: Option<DeadlineDoc>,
    pub may_wait_for_goods: bool,
    pub goods_back_at: Option<Timestamp>,
    pub dispatch_proven_at: Option<Timestamp>,
    /// When staff recorded the refund as paid.
    #[serde(default)]
    pub refunded_at: Option<Timestamp>,
    /// The overdue reminder went to staff.
    #[serde(default)]
    pub reminded: bool,
}

impl WithdrawalDoc {
    pub fn from_engine(w: &Withdrawal) -> Self {
        WithdrawalDoc {
            notified_at: w.notified_at,
            goods: w.goods,
            paid: money_text(w.paid),
            refund_due: (&w.refund_due).into(),
            return_by: w.return_by.as_ref().map(Into::into),
            may_wait_for_goods: w.may_wait_for_goods,
            goods_back_at: w.goods_back_at,
            dispatch_proven_at: w.dispatch_proven_at,
            refunded_at: None,
            reminded: false,
        }
    }

    pub fn engine(&self) -> Result<Withdrawal, ContractFail> {
        Ok(Withdrawal {
            notified_at: self.notified_at,
            goods: self.goods,
            paid: parse_money(&self.paid, "/paid")?,
            refund_due: (&self.refund_due).into(),
            return_by: self.return_by.as_ref().map(Into::into),
            may_wait_for_goods: self.may_wait_for_goods,
            goods_back_at: self.goods_back_at,
            dispatch_proven_at: self.dispatch_proven_at,
        })
    }

    /// When the refund must be paid by, while it is not paid.
    pub fn refund_open_until(&self) -> Option<Timestamp> {
        if self.refunded_at.is_some() {
            return None;
        }
        self.engine().ok()?.refund_payable_by()
    }
}

// --- orders -------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineDoc {
    pub sku: String,
    pub quantity: u32,
    pub unit_price: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "name", rename_all = "snake_case")]
pub enum OrderStateDoc {
    Placed,
    Acknowledged,
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

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderDoc {
    pub place: Place,
    pub reference: Option<String>,
    pub lines: Vec<LineDoc>,
    pub shipping: String,
    pub placed_at: Timestamp,
    pub state: OrderStateDoc,
    /// The payment processor's reference (never card data).
    pub payment_ref: Option<String>,
    /// Physical possession of the last item (starts the withdrawal period, T-18).
    pub possession_at: Option<Timestamp>,
    pub withdrawal: Option<WithdrawalDoc>,
}

/// Buyer keys for the engine's quantity limits: the subject id stands for the
/// person, email, household and address (their values stay in the vault), the
/// payment reference for the card.
pub fn buyer_keys(subject: SubjectId, payment_ref: Option<&str>) -> BuyerKeys {
    let s = subject.to_string();
    BuyerKeys {
        person: s.clone(),
        email: s.clone(),
        household: s.clone(),
        card: payment_ref.map_or_else(|| s.clone(), str::to_owned),
        address: s,
    }
}

impl OrderDoc {
    pub fn from_engine(
        o: &Order,
        place: Place,
        payment_ref: Option<String>,
        possession_at: Option<Timestamp>,
        withdrawal: Option<WithdrawalDoc>,
    ) -> Self {
        OrderDoc {
            place,
            reference: o.reference.clone(),
            lines: o
                .lines
                .iter()
                .map(|l| LineDoc {
                    sku: l.sku.clone(),
                    quantity: l.quantity,
                    unit_price: money_text(l.unit_price),
                })
                .collect(),
            shipping: money_text(o.shipping),
            placed_at: o.placed_at,
            state: match &o.state {
                OrderState::Placed => OrderStateDoc::Placed,
                OrderState::Acknowledged => OrderStateDoc::Acknowledged,
                OrderState::AwaitingReconfirmation => OrderStateDoc::AwaitingReconfirmation,
                OrderState::Confirmed {
                    at,
                    estimated_delivery,
                } => OrderStateDoc::Confirmed {
                    at: *at,
                    estimated_delivery: *estimated_delivery,
                },
                OrderState::Declined { at, reason } => OrderStateDoc::Declined {
                    at: *at,
                    reason: reason.clone(),
                },
                OrderState::WithdrawnUnavailable { at } => {
                    OrderStateDoc::WithdrawnUnavailable { at: *at }
                }
                OrderState::TerminatedInvalidPayment { at } => {
                    OrderStateDoc::TerminatedInvalidPayment { at: *at }
                }
            },
            payment_ref,
            possession_at,
            withdrawal,
        }
    }

    pub fn engine(&self, id: Uuid, subject: SubjectId) -> Result<Order, ContractFail> {
        let lines = self
            .lines
            .iter()
            .map(|l| {
                Ok(OrderLine {
                    sku: l.sku.clone(),
                    quantity: l.quantity,
                    unit_price: parse_money(&l.unit_price, "/lines")?,
                })
            })
            .collect::<Result<Vec<_>, ContractFail>>()?;
        Ok(Order {
            id: id.to_string(),
            reference: self.reference.clone(),
            keys: buyer_keys(subject, self.payment_ref.as_deref()),
            lines,
            shipping: parse_money(&self.shipping, "/shipping")?,
            placed_at: self.placed_at,
            state: match &self.state {
                OrderStateDoc::Placed => OrderState::Placed,
                OrderStateDoc::Acknowledged => OrderState::Acknowledged,
                OrderStateDoc::AwaitingReconfirmation => OrderState::AwaitingReconfirmation,
                OrderStateDoc::Confirmed {
                    at,
                    estimated_delivery,
                } => OrderState::Confirmed {
                    at: *at,
                    estimated_delivery: *estimated_delivery,
                },
                OrderStateDoc::Declined { at, reason } => OrderState::Declined {
                    at: *at,
                    reason: reason.clone(),
                },
                OrderStateDoc::WithdrawnUnavailable { at } => {
                    OrderState::WithdrawnUnavailable { at: *at }
                }
                OrderStateDoc::TerminatedInvalidPayment { at } => {
                    OrderState::TerminatedInvalidPayment { at: *at }
                }
            },
        })
    }

    pub fn status(&self) -> String {
        match &self.withdrawal {
            Some(w) if w.refunded_at.is_some() => "withdrawn_refunded".into(),
            Some(_) => "withdrawn".into(),
            None => match &self.state {
                OrderStateDoc::Placed => "placed",
                OrderStateDoc::Acknowledged => "acknowledged",
                OrderStateDoc::AwaitingReconfirmation => "awaiting_reconfirmation",
                OrderStateDoc::Confirmed { .. } if self.possession_at.is_some() => "delivered",
                OrderStateDoc::Confirmed { .. } => "confirmed",
                OrderStateDoc::Declined { .. } => "declined",
                OrderStateDoc::WithdrawnUnavailable { .. } => "withdrawn_unavailable",
                OrderStateDoc::TerminatedInvalidPayment { .. } => "terminated_invalid_payment",
            }
            .into(),
        }
    }
}

// --- memberships --------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "name", rename_all = "snake_case")]
pub enum BillingDoc {
    AwaitingActivation,
    InGoodStanding,
    PastDue {
        since: Timestamp,
        grace_ends: Timestamp,
    },
    Ended {
        at: Timestamp,
        reason: String,
    },
}

fn reason_text(r: EndReason) -> &'static str {
    match r {
        EndReason::Cancelled => "cancelled",
        EndReason::NonPayment => "non_payment",
        EndReason::InvalidPayment => "invalid_payment",
        EndReason::SellerTermination => "seller_termination",
        EndReason::Withdrawn => "withdrawn",
        EndReason::SubjectErased => "subject_erased",
    }
}

fn reason_of(s: &str) -> Option<EndReason> {
    Some(match s {
        "cancelled" => EndReason::Cancelled,
        "non_payment" => EndReason::NonPayment,
        "invalid_payment" => EndReason::InvalidPayment,
        "seller_termination" => EndReason::SellerTermination,
        "withdrawn" => EndReason::Withdrawn,
        "subject_erased" => EndReason::SubjectErased,
        _ => return None,
    })
}

/// A price or feature change announced and not yet in effect (T-4, T-20, T-21).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingChangeDoc {
    /// The instant it takes effect (the customer's midnight).
    pub effective: Timestamp,
    /// The new period price, `"12.50 EUR"`, when the price changes.
    pub new_price: Option<String>,
    /// It reaches the customer only once accepted (T-20).
    pub requires_acceptance: bool,
    pub accepted: bool,
}

impl PendingChangeDoc {
    pub fn from_engine(c: &PendingChange) -> Self {
        PendingChangeDoc {
            effective: c.effective,
            new_price: c.new_price.map(money_text),
            requires_acceptance: c.requires_acceptance,
            accepted: c.accepted,
        }
    }

    pub fn engine(&self) -> Result<PendingChange, ContractFail> {
        Ok(PendingChange {
            effective: self.effective,
            new_price: self
                .new_price
                .as_deref()
                .map(|p| parse_money(p, "/pending_change/new_price"))
                .transpose()?,
            requires_acceptance: self.requires_acceptance,
            accepted: self.accepted,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MembershipDoc {
    pub place: Place,
    pub plan: String,
    /// The account: the subject id (T-12: memberships stay with their account).
    pub account: String,
    pub devices: Vec<String>,
    pub price: String,
    pub contract_at: Timestamp,
    pub first_time: bool,
    pub activated_at: Option<Timestamp>,
    pub anchor: Option<Date>,
    pub trial: bool,
    pub billing: BillingDoc,
    pub cancel_effective: Option<Timestamp>,
    /// Absent in documents stored before changes were kept.
    #[serde(default)]
    pub pending_change: Option<PendingChangeDoc>,
    pub charged_periods: u32,
    pub payment_ref: Option<String>,
    pub withdrawal: Option<WithdrawalDoc>,
}

impl MembershipDoc {
    pub fn from_engine(
        m: &Membership,
        place: Place,
        payment_ref: Option<String>,
        withdrawal: Option<WithdrawalDoc>,
    ) -> Self {
        MembershipDoc {
            place,
            plan: m.plan.clone(),
            account: m.account.clone(),
            devices: m.devices.clone(),
            price: money_text(m.price),
            contract_at: m.contract_at,
            first_time: m.first_time,
            activated_at: m.activated_at,
            anchor: m.anchor,
            trial: m.trial,
            billing: match &m.billing {
                Billing::AwaitingActivation => BillingDoc::AwaitingActivation,
                Billing::InGoodStanding => BillingDoc::InGoodStanding,
                Billing::PastDue { since, grace_ends } => BillingDoc::PastDue {
                    since: *since,
                    grace_ends: *grace_ends,
                },
                Billing::Ended { at, reason } => BillingDoc::Ended {
                    at: *at,
                    reason: reason_text(*reason).to_owned(),
                },
            },
            cancel_effective: m.cancel_effective,
            pending_change: m.pending_change.as_ref().map(PendingChangeDoc::from_engine),
            charged_periods: m.charged_periods,
            payment_ref,
            withdrawal,
        }
    }

    pub fn engine(&self, id: Uuid, terms: &Terms) -> Result<Membership, ContractFail> {
        Ok(Membership {
            id: id.to_string(),
            plan: self.plan.clone(),
            account: self.account.clone(),
            jurisdiction: self.place.jurisdiction.clone(),
            local: self.place.local(terms)?,
            devices: self.devices.clone(),
            price: parse_money(&self.price, "/price")?,
            contract_at: self.contract_at,
            first_time: self.first_time,
            activated_at: self.activated_at,
            anchor: self.anchor,
            trial: self.trial,
            billing: match &self.billing {
                BillingDoc::AwaitingActivation => Billing::AwaitingActivation,
                BillingDoc::InGoodStanding => Billing::InGoodStanding,
                BillingDoc::PastDue { since, grace_ends } => Billing::PastDue {
                    since: *since,
                    grace_ends: *grace_ends,
                },
                BillingDoc::Ended { at, reason } => Billing::Ended {
                    at: *at,
                    reason: reason_of(reason)
                        .ok_or_else(|| fail("/billing", codes::STATE, "unknown end reason"))?,
                },
            },
            cancel_effective: self.cancel_effective,
            pending_change: self
                .pending_change
                .as_ref()
                .map(PendingChangeDoc::engine)
                .transpose()?,
            charged_periods: self.charged_periods,
        })
    }

    pub fn status(&self) -> String {
        match &self.billing {
            BillingDoc::AwaitingActivation => "awaiting_activation",
            BillingDoc::InGoodStanding if self.cancel_effective.is_some() => "cancelling",
            BillingDoc::InGoodStanding => "active",
            BillingDoc::PastDue { .. } => "past_due",
            BillingDoc::Ended { reason, .. } if reason == "withdrawn" => "withdrawn",
            BillingDoc::Ended { .. } => "ended",
        }
        .into()
    }
}

// --- returns --------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundDoc {
    pub items: String,
    pub shipping: String,
    pub bundle_discount_lost: String,
    pub deterioration: String,
    pub total: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "name", rename_all = "snake_case")]
pub enum ReturnStateDoc {
    Notified,
    RmaIssued {
        rma: String,
    },
    Shipped {
        at: Timestamp,
    },
    Received {
        at: Timestamp,
        refund: RefundDoc,
        refund_due: DeadlineDoc,
    },
    Refunded {
        at: Timestamp,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReturnDoc {
    pub place: Place,
    /// The order returned, when it is one of custos's.
    pub order: Option<Uuid>,
    pub delivery_confirmed_at: Timestamp,
    pub possession_at: Timestamp,
    pub notified_at: Timestamp,
    pub ship_by: DeadlineDoc,
    pub state: ReturnStateDoc,
    #[serde(default)]
    pub reminded: bool,
}

impl ReturnDoc {
    pub fn from_engine(
        r: &Return,
        place: Place,
        order: Option<Uuid>,
        delivery_confirmed_at: Timestamp,
        possession_at: Timestamp,
        reminded: bool,
    ) -> Self {
        ReturnDoc {
            place,
            order,
            delivery_confirmed_at,
            possession_at,
            notified_at: r.notified_at,
            ship_by: (&r.ship_by).into(),
            state: match &r.state {
                ReturnState::Notified => ReturnStateDoc::Notified,
                ReturnState::RmaIssued { rma } => ReturnStateDoc::RmaIssued { rma: rma.clone() },
                ReturnState::Shipped { at } => ReturnStateDoc::Shipped { at: *at },
                ReturnState::Received {
                    at,
                    refund,
                    refund_due,
                } => ReturnStateDoc::Received {
                    at: *at,
                    refund: RefundDoc {
                        items: money_text(refund.items),
                        shipping: money_text(refund.shipping),
                        bundle_discount_lost: money_text(refund.bundle_discount_lost),
                        deterioration: money_text(refund.deterioration),
                        total: money_text(refund.total),
                    },
                    refund_due: refund_due.into(),
                },
                ReturnState::Refunded { at } => ReturnStateDoc::Refunded { at: *at },
            },
            reminded,
        }
    }

    pub fn engine(&self) -> Result<Return, ContractFail> {
        Ok(Return {
            notified_at: self.notified_at,
            ship_by: (&self.ship_by).into(),
            state: match &self.state {
                ReturnStateDoc::Notified => ReturnState::Notified,
                ReturnStateDoc::RmaIssued { rma } => ReturnState::RmaIssued { rma: rma.clone() },
                ReturnStateDoc::Shipped { at } => ReturnState::Shipped { at: *at },
                ReturnStateDoc::Received {
                    at,
                    refund,
                    refund_due,
                } => ReturnState::Received {
                    at: *at,
                    refund: Refund {
                        items: parse_money(&refund.items, "/refund")?,
                        shipping: parse_money(&refund.shipping, "/refund")?,
                        bundle_discount_lost: parse_money(&refund.bundle_discount_lost, "/refund")?,
                        deterioration: parse_money(&refund.deterioration, "/refund")?,
                        total: parse_money(&refund.total, "/refund")?,
                    },
                    refund_due: refund_due.into(),
                },
                ReturnStateDoc::Refunded { at } => ReturnState::Refunded { at: *at },
            },
        })
    }

    pub fn status(&self) -> String {
        match &self.state {
            ReturnStateDoc::Notified => "notified",
            ReturnStateDoc::RmaIssued { .. } => "rma_issued",
            ReturnStateDoc::Shipped { .. } => "shipped",
            ReturnStateDoc::Received { .. } => "received",
            ReturnStateDoc::Refunded { .. } => "refunded",
        }
        .into()
    }
}

/// One stored contract document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ContractDoc {
    Order(OrderDoc),
    Membership(MembershipDoc),
    Return(ReturnDoc),
}

impl ContractDoc {
    pub fn status(&self) -> String {
        match self {
            ContractDoc::Order(o) => o.status(),
            ContractDoc::Membership(m) => m.status(),
            ContractDoc::Return(r) => r.status(),
        }
    }
}
