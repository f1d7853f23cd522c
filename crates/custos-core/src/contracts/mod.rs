//! Consumer contracts (issue 9): orders, memberships and returns kept in the store,
//! driven by the pure engine of `custos-contracts` with the injected clock.
//!
//! Each change loads the contract, runs one engine transition with the terms of the
//! tenant's policy in force (`[contract]`), and stores the next state, the notices
//! it owes (as outbox messages `contract.*`) and its audit entry in one transaction,
//! by compare-and-set on the row's version. [`Vault::tick_contracts`] is the clock
//! job: it advances every contract whose `next_due` has come (renewal charges
//! announced, grace run out, cancellations taking effect, refunds overdue).
//!
//! The functions a person's own pages call — [`Vault::contracts_of_subject`],
//! [`Vault::cancel_membership`], [`Vault::withdraw`], [`Vault::accept_change`],
//! [`Vault::cancel_for_change`] — answer `ContractNotFound` for a contract of another
//! subject, exactly as for one that does not exist.

pub mod doc;

use std::collections::BTreeSet;

use custos_contracts::changes::{ChangeError, ChangeKind, ChangeOffer};
use custos_contracts::membership::{Billing, Membership, MembershipError, PendingChange};
use custos_contracts::notice::Notice;
use custos_contracts::orders::{Order, OrderError, OrderLine, OrderState, PriorPurchase};
use custos_contracts::returns::{RefundInput, Return, ReturnError, ReturnedItem};
use custos_contracts::withdrawal::{self, Purchase, Statement, Withdrawal, WithdrawalError};
use custos_contracts::{Money, Step, Terms, TermsError};
use custos_store::{
    AuditDraft, ContractFilter, ContractKind, ContractRow, ContractStore, OutboxMessage, Outcome,
    Store, StoreError, SubjectId, SubjectState, TenantId, Timestamp, Uuid,
};
use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::error::{FieldError, VaultError};
use crate::vault::{Actor, RequestCtx, Vault};
use doc::{
    BillingDoc, ContractDoc, MembershipDoc, OrderDoc, OrderStateDoc, Place, ReturnDoc,
    ReturnStateDoc, WithdrawalDoc, money_text, parse_money,
};

/// Stable codes of contract problems (in `errors[].code` of a 422, or the 404's code).
pub mod codes {
    /// No contract with this id for this tenant (or for this subject).
    pub const NOT_FOUND: &str = "CONTRACT-0001";
    /// The input is malformed or incomplete (empty order, blank field).
    pub const INPUT: &str = "CONTRACT-0101";
    /// An amount is not `"12.50 EUR"` or mixes currencies.
    pub const MONEY: &str = "CONTRACT-0102";
    /// Not a known IANA time zone.
    pub const TIME_ZONE: &str = "CONTRACT-0103";
    /// The policy lacks the terms this needs (no `[contract]`, unknown plan or jurisdiction).
    pub const TERMS: &str = "CONTRACT-0104";
    /// The contract's state does not allow this action.
    pub const STATE: &str = "CONTRACT-0105";
    /// A statutory or contractual period has run out (withdrawal, return window).
    pub const EXPIRED: &str = "CONTRACT-0106";
    /// Quantity limits or a dealer pattern (T-7).
    pub const LIMIT: &str = "CONTRACT-0107";
    /// The contract changed meanwhile; reload and retry.
    pub const CONFLICT: &str = "CONTRACT-0108";
    /// The action does not apply to this kind of contract.
    pub const WRONG_KIND: &str = "CONTRACT-0109";
    /// The subject is unknown or erased.
    pub const SUBJECT: &str = "CONTRACT-0110";
    /// An announced change is refused: unknown `kind` (`price`, `features`, `terms`),
    /// or it takes effect before the notice period ends (T-4, T-20, T-21).
    pub const CHANGE: &str = "CONTRACT-0111";
    /// The contract's person was erased: their contracts ended with the erasure, and no
    /// step (activation, confirmation, charge) applies any more; only recording a refund
    /// as paid still does (issue 13, point 15).
    pub const SUBJECT_ERASED: &str = "CONTRACT-0200";
}

/// A contract problem, before it becomes a [`VaultError`].
#[derive(Debug)]
pub struct ContractFail(FieldError);

pub(crate) fn fail(pointer: &str, code: &'static str, detail: &str) -> ContractFail {
    ContractFail(FieldError {
        pointer: pointer.to_owned(),
        code,
        detail: detail.to_owned(),
    })
}

impl From<ContractFail> for VaultError {
    fn from(f: ContractFail) -> Self {
        VaultError::Invalid(vec![f.0])
    }
}

/// A terms problem; names from the input (plan, jurisdiction) are not quoted back.
pub(crate) fn terms_fail(e: &TermsError) -> ContractFail {
    match e {
        TermsError::UnknownJurisdiction(_) => fail(
            "/customer/jurisdiction",
            codes::TERMS,
            "no such jurisdiction in the policy",
        ),
        TermsError::UnknownPlan(_) => fail("/plan", codes::TERMS, "no such plan in the policy"),
        TermsError::Calendar(_) => fail(
            "/customer/subdivision",
            codes::TERMS,
            "no holiday calendar for this jurisdiction and subdivision",
        ),
        other => fail("/", codes::TERMS, &other.to_string()),
    }
}

fn order_fail(e: OrderError) -> ContractFail {
    let code = match &e {
        OrderError::Empty => codes::INPUT,
        OrderError::QuantityLimit { .. } | OrderError::DealerPattern { .. } => codes::LIMIT,
        OrderError::Money(_) => codes::MONEY,
        OrderError::Terms(_) => codes::TERMS,
        OrderError::IllegalTransition { .. } | OrderError::PriceFixed => codes::STATE,
    };
    fail("/", code, &e.to_string())
}

fn membership_fail(e: MembershipError) -> ContractFail {
    if let MembershipError::Change(ChangeError::NoticeTooShort { earliest }) = &e {
        return fail(
            "/effective",
            codes::CHANGE,
            &format!("the change takes effect before the notice period ends (earliest {earliest})"),
        );
    }
    let code = match &e {
        MembershipError::AccountRequired => codes::INPUT,
        MembershipError::Terms(_) | MembershipError::Calendar(_) => codes::TERMS,
        _ => codes::STATE,
    };
    fail("/", code, &e.to_string())
}

fn return_fail(e: ReturnError) -> ContractFail {
    let code = match &e {
        ReturnError::WindowClosed { .. } | ReturnError::ShippedTooLate { .. } => codes::EXPIRED,
        ReturnError::IllegalTransition { .. } => codes::STATE,
        ReturnError::Money(_) => codes::MONEY,
        ReturnError::Terms(_) | ReturnError::Calendar(_) => codes::TERMS,
    };
    fail("/", code, &e.to_string())
}

fn withdrawal_fail(e: WithdrawalError) -> ContractFail {
    let code = match &e {
        WithdrawalError::Expired { .. } => codes::EXPIRED,
        WithdrawalError::FormNotAccepted | WithdrawalError::NoGoods => codes::STATE,
        WithdrawalError::Money(_) => codes::MONEY,
        WithdrawalError::Terms(_) | WithdrawalError::Calendar(_) => codes::TERMS,
    };
    fail("/", code, &e.to_string())
}

fn not_blank(s: &str, pointer: &str) -> Result<(), ContractFail> {
    if s.trim().is_empty() || s.len() > 200 {
        return Err(fail(pointer, codes::INPUT, "give 1–200 bytes"));
    }
    Ok(())
}

// --- inputs ---------------------------------------------------------------------------

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewLine {
    pub sku: String,
    pub quantity: u32,
    /// `"49.99 EUR"`.
    pub unit_price: String,
}

/// An order placed by a customer (T-3, T-6, T-7).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewOrder {
    pub subject: SubjectId,
    /// Where the customer lives (law, holidays, time zone): no address.
    pub customer: Place,
    pub lines: Vec<NewLine>,
    pub shipping: String,
    /// The payment processor's reference (never card data).
    #[serde(default)]
    pub payment_ref: Option<String>,
}

/// A membership bought (T-10, T-11).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewMembership {
    pub subject: SubjectId,
    /// Where the customer lives (law, holidays, time zone): no address.
    pub customer: Place,
    pub plan: String,
    /// Price of one paid period, `"9.99 EUR"`.
    pub price: String,
    #[serde(default = "first_time_default")]
    pub first_time: bool,
    #[serde(default)]
    pub payment_ref: Option<String>,
}

fn first_time_default() -> bool {
    true
}

/// A return notified by a customer (T-15).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewReturn {
    pub subject: SubjectId,
    /// Where the customer lives (law, holidays, time zone): no address.
    pub customer: Place,
    /// The order returned, when it is one kept here (same subject).
    #[serde(default)]
    pub order: Option<Uuid>,
    pub delivery_confirmed_at: Timestamp,
    pub possession_at: Timestamp,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReturnedItemInput {
    pub price_paid: String,
    #[serde(default)]
    pub deterioration: Option<String>,
}

/// What staff (or the customer, through staff) do with a contract.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case", deny_unknown_fields)]
pub enum ContractAction {
    // Orders (T-6 … T-9).
    Acknowledge {
        reference: String,
    },
    Confirm {
        estimated_delivery: Date,
    },
    Decline {
        reason: String,
    },
    /// The products are unavailable: the seller withdraws and refunds (T-8).
    Unavailable,
    /// The last item reached the customer (starts the withdrawal period, T-18).
    Delivered,
    // Memberships (T-10 … T-14).
    Activate {
        device: String,
    },
    Cancel,
    PaymentFailed,
    PaymentRecovered,
    /// The seller terminates on `termination_notice` (T-11).
    Terminate,
    Reactivate {
        price: String,
    },
    /// The seller announces a price, feature or terms change (T-4, T-20, T-21).
    AnnounceChange {
        /// `price`, `features` or `terms`.
        kind: String,
        /// The day it takes effect (at the customer's midnight).
        effective: Date,
        /// The new period price, `"12.50 EUR"` (required for a price change).
        #[serde(default)]
        new_price: Option<String>,
        /// Required by a change in the law (silence then accepts it where allowed).
        #[serde(default)]
        legally_mandated: bool,
    },
    /// The customer accepts the announced change (T-20).
    AcceptChange,
    /// The customer cancels because of the announced change: it ends no later than
    /// the change takes effect, even inside an initial term (T-4, T-21).
    CancelForChange,
    // Orders and memberships.
    PaymentInvalid,
    /// Statutory withdrawal (T-18).
    Withdraw,
    /// After a withdrawal from an order: the goods are back.
    GoodsReturned,
    /// After a withdrawal from an order: proof the goods were sent back.
    DispatchProven,
    /// The refund was paid (withdrawal or return).
    Refunded,
    // Returns (T-15).
    IssueRma {
        rma: String,
    },
    Shipped,
    Received {
        items: Vec<ReturnedItemInput>,
        original_shipping: String,
        #[serde(default)]
        partial_bundle_discount: Option<String>,
    },
}

impl ContractAction {
    fn name(&self) -> &'static str {
        match self {
            ContractAction::Acknowledge { .. } => "acknowledge",
            ContractAction::Confirm { .. } => "confirm",
            ContractAction::Decline { .. } => "decline",
            ContractAction::Unavailable => "unavailable",
            ContractAction::Delivered => "delivered",
            ContractAction::Activate { .. } => "activate",
            ContractAction::Cancel => "cancel",
            ContractAction::PaymentFailed => "payment_failed",
            ContractAction::PaymentRecovered => "payment_recovered",
            ContractAction::Terminate => "terminate",
            ContractAction::Reactivate { .. } => "reactivate",
            ContractAction::AnnounceChange { .. } => "announce_change",
            ContractAction::AcceptChange => "accept_change",
            ContractAction::CancelForChange => "cancel_for_change",
            ContractAction::PaymentInvalid => "payment_invalid",
            ContractAction::Withdraw => "withdraw",
            ContractAction::GoodsReturned => "goods_returned",
            ContractAction::DispatchProven => "dispatch_proven",
            ContractAction::Refunded => "refunded",
            ContractAction::IssueRma { .. } => "issue_rma",
            ContractAction::Shipped => "shipped",
            ContractAction::Received { .. } => "received",
        }
    }
}

// --- views ----------------------------------------------------------------------------

/// A date that matters to the customer (`contract_at`, `next_charge`, `refund_due`, …).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeyDate {
    pub name: &'static str,
    pub at: Timestamp,
}

/// An amount that matters (`total`, `price`, `refund`, …), as `"12.50 EUR"`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Amount {
    pub name: &'static str,
    pub amount: String,
}

/// A contract as people and staff see it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ContractView {
    pub id: Uuid,
    pub kind: &'static str,
    pub subject: SubjectId,
    pub status: String,
    pub version: u32,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// When the clock job next looks at it.
    pub next_due: Option<Timestamp>,
    /// The order reference, the plan key or the RMA.
    pub reference: Option<String>,
    pub key_dates: Vec<KeyDate>,
    pub amounts: Vec<Amount>,
    /// The customer may cancel now (memberships not ended nor already cancelling).
    pub may_cancel: bool,
    /// The customer may withdraw now (statutory withdrawal, T-18).
    pub may_withdraw: bool,
    /// The last instant a withdrawal is in time, while it still is.
    pub withdraw_until: Option<Timestamp>,
    /// An announced change (key date `change_effective`, amount `new_price`) reaches
    /// this customer only once accepted (T-20).
    pub change_needs_acceptance: bool,
    /// The customer may accept the announced change now (it needs acceptance, is not
    /// yet accepted nor in effect).
    pub may_accept_change: bool,
    /// The customer may cancel because of the announced change now: the membership
    /// then ends no later than the change takes effect.
    pub may_cancel_for_change: bool,
    /// The full stored state.
    pub state: Value,
}

/// What one clock-job pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct TickReport {
    pub advanced: usize,
    pub notices: usize,
    /// Rows changed by someone else meanwhile (they are picked up next time).
    pub conflicts: usize,
    /// Rows that could not be advanced (bad state, or terms that lost a plan): left due.
    pub failed: usize,
}

// --- the engine's notices as outbox messages -----------------------------------------

/// The outbox kind and payload of an engine notice.
pub fn notice_message(contract: Uuid, n: &Notice) -> (&'static str, Value) {
    let c = contract.to_string();
    match n {
        Notice::OrderAcknowledged { reference } => (
            "contract.order_acknowledged",
            json!({ "contract": c, "reference": reference }),
        ),
        Notice::ReconfirmationRequested {
            reference,
            old_total,
            new_total,
        } => (
            "contract.reconfirmation_requested",
            json!({ "contract": c, "reference": reference, "old_total": money_text(*old_total),
                    "new_total": money_text(*new_total) }),
        ),
        Notice::OrderConfirmed {
            reference,
            total,
            estimated_delivery,
            contract_formed_at,
        } => (
            "contract.order_confirmed",
            json!({ "contract": c, "reference": reference, "total": money_text(*total),
                    "estimated_delivery": estimated_delivery.to_string(),
                    "contract_formed_at": contract_formed_at }),
        ),
        Notice::OrderDeclined { reference, reason } => (
            "contract.order_declined",
            json!({ "contract": c, "reference": reference, "reason": reason }),
        ),
        Notice::OrderWithdrawnUnavailable { reference } => (
            "contract.order_unavailable",
            json!({ "contract": c, "reference": reference }),
        ),
        Notice::OrderTerminatedInvalidPayment { reference } => (
            "contract.order_terminated",
            json!({ "contract": c, "reference": reference }),
        ),
        Notice::RefundDue { amount, due } => (
            "contract.refund_due",
            json!({ "contract": c, "amount": money_text(*amount), "due": due }),
        ),
        Notice::MembershipActivated { free_until } => (
            "contract.membership_activated",
            json!({ "contract": c, "free_until": free_until.map(|d| d.to_string()) }),
        ),
        Notice::RenewalCharge {
            period,
            amount,
            earliest,
            period_start,
        } => (
            "contract.renewal_charge",
            json!({ "contract": c, "period": period, "amount": money_text(*amount),
                    "earliest": earliest, "period_start": period_start }),
        ),
        Notice::CancellationConfirmed { effective } => (
            "contract.cancellation_confirmed",
            json!({ "contract": c, "effective": effective }),
        ),
        Notice::PaymentFailed { grace_ends } => (
            "contract.payment_failed",
            json!({ "contract": c, "grace_ends": grace_ends }),
        ),
        Notice::MembershipTerminated { at, basic_mode } => (
            "contract.membership_terminated",
            json!({ "contract": c, "at": at, "basic_mode": basic_mode }),
        ),
        Notice::MembershipEnded { at, basic_mode } => (
            "contract.membership_ended",
            json!({ "contract": c, "at": at, "basic_mode": basic_mode }),
        ),
        Notice::MembershipReactivated { at } => (
            "contract.membership_reactivated",
            json!({ "contract": c, "at": at }),
        ),
        Notice::NewMembershipRequired { device, account } => (
            "contract.new_membership_required",
            json!({ "contract": c, "device": device, "account": account }),
        ),
        Notice::ChangeAnnounced {
            effective,
            new_price,
            requires_acceptance,
            cancel_free_until,
        } => (
            "contract.change_announced",
            json!({ "contract": c, "effective": effective,
                    "new_price": new_price.map(money_text),
                    "requires_acceptance": requires_acceptance,
                    "cancel_free_until": cancel_free_until }),
        ),
        Notice::ChangeNotApplied { effective } => (
            "contract.change_not_applied",
            json!({ "contract": c, "effective": effective }),
        ),
        Notice::ChangeApplied { effective } => (
            "contract.change_applied",
            json!({ "contract": c, "effective": effective }),
        ),
        Notice::ReturnAccepted { ship_by } => (
            "contract.return_accepted",
            json!({ "contract": c, "ship_by": ship_by }),
        ),
        Notice::RmaIssued { rma, ship_by } => (
            "contract.rma_issued",
            json!({ "contract": c, "rma": rma, "ship_by": ship_by }),
        ),
        Notice::PromotionalPeriodForfeited => (
            "contract.promotional_period_forfeited",
            json!({ "contract": c }),
        ),
        Notice::WithdrawalAcknowledged {
            refund_by,
            return_by,
        } => (
            "contract.withdrawal_acknowledged",
            json!({ "contract": c, "refund_by": refund_by, "return_by": return_by }),
        ),
    }
}

/// To staff (the operator): a refund is due now and not recorded as paid.
pub const REFUND_OVERDUE: &str = "contract.refund_overdue";

fn outbox_message(
    subject: Option<SubjectId>,
    kind: &str,
    payload: Value,
    now: Timestamp,
) -> OutboxMessage {
    OutboxMessage {
        id: Uuid::now_v7(),
        subject,
        kind: kind.to_owned(),
        payload: payload.to_string(),
        created_at: now,
        attempts: 0,
        next_attempt_at: now,
        delivered_at: None,
        last_error: None,
    }
}

fn messages(
    contract: Uuid,
    subject: SubjectId,
    notices: &[Notice],
    now: Timestamp,
) -> Vec<OutboxMessage> {
    notices
        .iter()
        .map(|n| {
            let (kind, payload) = notice_message(contract, n);
            outbox_message(Some(subject), kind, payload, now)
        })
        .collect()
}

// --- clocks -----------------------------------------------------------------------------

fn min_opt(a: Option<Timestamp>, b: Option<Timestamp>) -> Option<Timestamp> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, y) => x.or(y),
    }
}

fn withdrawal_reminder(w: Option<&WithdrawalDoc>) -> Option<Timestamp> {
    w.filter(|w| !w.reminded)
        .and_then(WithdrawalDoc::refund_open_until)
}

/// The next instant the clock job must look at a membership.
fn membership_due(m: &Membership, terms: &Terms) -> Option<Timestamp> {
    let end = match &m.billing {
        Billing::InGoodStanding => m.cancel_effective,
        Billing::PastDue { grace_ends, .. } => {
            Some(min_opt(m.cancel_effective, Some(*grace_ends))?)
        }
        Billing::AwaitingActivation | Billing::Ended { .. } => return None,
    };
    let mut next = end;
    if let Some(c) = &m.pending_change
        && end.is_none_or(|e| c.effective < e)
    {
        next = min_opt(next, Some(c.effective));
    }
    if m.billing == Billing::InGoodStanding {
        let k = m.charged_periods;
        if let Ok(start) = m.period_start(terms, k)
            && end.is_none_or(|e| start < e)
            && let Ok(opens) = m.charge_window_opens(terms, k)
        {
            next = min_opt(next, Some(opens));
        }
    }
    next
}

fn next_due(doc: &ContractDoc, membership: Option<(&Membership, &Terms)>) -> Option<Timestamp> {
    match doc {
        ContractDoc::Order(o) => withdrawal_reminder(o.withdrawal.as_ref()),
        ContractDoc::Membership(m) => min_opt(
            membership.and_then(|(e, t)| membership_due(e, t)),
            withdrawal_reminder(m.withdrawal.as_ref()),
        ),
        ContractDoc::Return(r) => match &r.state {
            ReturnStateDoc::Received { refund_due, .. } if !r.reminded => Some(refund_due.ends_at),
            _ => None,
        },
    }
}

// --- the service --------------------------------------------------------------------------

/// A contract loaded for a change.
struct Loaded {
    row: ContractRow,
    doc: ContractDoc,
}

/// The outcome of one transition, before it is stored.
struct Change {
    doc: ContractDoc,
    notices: Vec<Notice>,
    /// Extra messages (to staff).
    extra: Vec<OutboxMessage>,
}

fn internal(e: impl std::fmt::Display) -> VaultError {
    VaultError::Internal(e.to_string())
}

fn wrong_kind(kind: ContractKind, action: &str) -> ContractFail {
    fail(
        "/action",
        codes::WRONG_KIND,
        &format!("`{action}` does not apply to a {}", kind.as_str()),
    )
}

impl<S: Store + ContractStore> Vault<S> {
    fn contract_terms(&self, tenant: &TenantId) -> Result<Terms, VaultError> {
        let policy = self.policy(tenant)?;
        Ok(Terms::new(&policy.policy).map_err(|e| terms_fail(&e))?)
    }

    fn contract_subject(&self, tenant: &TenantId, subject: SubjectId) -> Result<(), VaultError> {
        match self.store.subject(tenant, subject)? {
            Some(s) if s.state != SubjectState::Erased => Ok(()),
            _ => Err(fail(
                "/subject",
                codes::SUBJECT,
                "no such subject (or it was erased)",
            )
            .into()),
        }
    }

    /// Whether the contract's person is gone: erased, or (failing closed) no longer
    /// on record at all.
    fn subject_gone(&self, tenant: &TenantId, subject: SubjectId) -> Result<bool, VaultError> {
        Ok(match self.store.subject(tenant, subject)? {
            Some(s) => s.state == SubjectState::Erased,
            None => true,
        })
    }

    fn load(&self, tenant: &TenantId, id: Uuid) -> Result<Loaded, VaultError> {
        let row = self
            .store
            .contract(tenant, id)?
            .ok_or(VaultError::ContractNotFound)?;
        let doc = serde_json::from_str(&row.state).map_err(|_| VaultError::Integrity)?;
        Ok(Loaded { row, doc })
    }

    fn row_for(
        &self,
        id: Uuid,
        subject: SubjectId,
        kind: ContractKind,
        doc: &ContractDoc,
        terms: &Terms,
        now: Timestamp,
    ) -> Result<ContractRow, VaultError> {
        let membership = match doc {
            ContractDoc::Membership(m) => Some(m.engine(id, terms)?),
            _ => None,
        };
        Ok(ContractRow {
            id,
            subject,
            kind,
            status: doc.status(),
            state: serde_json::to_string(doc).map_err(internal)?,
            next_due: next_due(doc, membership.as_ref().map(|m| (m, terms))),
            version: 1,
            created_at: now,
            updated_at: now,
        })
    }

    #[allow(clippy::too_many_arguments)]
    fn create(
        &self,
        tenant: &TenantId,
        subject: SubjectId,
        kind: ContractKind,
        doc: ContractDoc,
        notices: &[Notice],
        terms: &Terms,
        mut audit: AuditDraft,
    ) -> Result<ContractView, VaultError> {
        let now = self.clock.now();
        let id = Uuid::now_v7();
        let row = self.row_for(id, subject, kind, &doc, terms, now)?;
        audit.subject = Some(subject);
        audit.reason = format!("{} {id}: created ({})", kind.as_str(), row.status);
        self.store
            .create_contract(tenant, &row, &messages(id, subject, notices, now), &audit)?;
        Ok(self.view(&row, &doc, terms, now))
    }

    fn save(
        &self,
        tenant: &TenantId,
        loaded: &Loaded,
        change: Change,
        terms: &Terms,
        mut audit: AuditDraft,
        what: &str,
    ) -> Result<(ContractRow, ContractDoc, usize), VaultError> {
        let now = self.clock.now();
        let old = &loaded.row;
        let mut row = self.row_for(old.id, old.subject, old.kind, &change.doc, terms, now)?;
        row.version = old.version + 1;
        row.created_at = old.created_at;
        let mut outbox = messages(old.id, old.subject, &change.notices, now);
        outbox.extend(change.extra);
        audit.subject = Some(old.subject);
        audit.reason = format!(
            "{} {}: {what} ({} → {})",
            old.kind.as_str(),
            old.id,
            old.status,
            row.status
        );
        match self
            .store
            .update_contract(tenant, &row, old.version, &outbox, &audit)
        {
            Ok(_) => Ok((row, change.doc, outbox.len())),
            Err(StoreError::Conflict(_)) => Err(fail(
                "/",
                codes::CONFLICT,
                "the contract changed meanwhile; reload it",
            )
            .into()),
            Err(e) => Err(e.into()),
        }
    }

    // --- creation ---------------------------------------------------------------------

    /// Places an order (T-3, T-7: quantity limits over the subject's earlier orders).
    pub fn create_order(
        &self,
        actor: &Actor,
        input: &NewOrder,
        ctx: &RequestCtx,
    ) -> Result<ContractView, VaultError> {
        require_admin(actor)?;
        let tenant = &actor.tenant;
        self.contract_subject(tenant, input.subject)?;
        let terms = self.contract_terms(tenant)?;
        input.customer.local(&terms)?;
        if let Some(p) = &input.payment_ref {
            not_blank(p, "/payment_ref")?;
        }
        let mut lines = Vec::new();
        for (i, l) in input.lines.iter().enumerate() {
            not_blank(&l.sku, &format!("/lines/{i}/sku"))?;
            lines.push(OrderLine {
                sku: l.sku.trim().to_owned(),
                quantity: l.quantity,
                unit_price: parse_money(&l.unit_price, &format!("/lines/{i}/unit_price"))?,
            });
        }
        let shipping = parse_money(&input.shipping, "/shipping")?;
        let keys = doc::buyer_keys(input.subject, input.payment_ref.as_deref());
        let mut history = Vec::new();
        for r in self.store.contracts(
            tenant,
            &ContractFilter {
                subject: Some(input.subject),
                kind: Some(ContractKind::Order),
                status: None,
            },
        )? {
            if let Ok(ContractDoc::Order(o)) = serde_json::from_str::<ContractDoc>(&r.state)
                && o.withdrawal.is_none()
                && !matches!(
                    o.state,
                    OrderStateDoc::Declined { .. }
                        | OrderStateDoc::WithdrawnUnavailable { .. }
                        | OrderStateDoc::TerminatedInvalidPayment { .. }
                )
            {
                history.extend(o.lines.iter().map(|l| PriorPurchase {
                    keys: doc::buyer_keys(input.subject, o.payment_ref.as_deref()),
                    sku: l.sku.clone(),
                    quantity: l.quantity,
                }));
            }
        }
        let now = self.clock.now();
        let step = Order::place(&terms, "new", keys, lines, shipping, now, &history)
            .map_err(order_fail)?;
        let d = ContractDoc::Order(OrderDoc::from_engine(
            &step.next,
            input.customer.clone(),
            input.payment_ref.clone(),
            None,
            None,
        ));
        let audit = self.audit(actor, ctx, "contract.created");
        self.create(
            tenant,
            input.subject,
            ContractKind::Order,
            d,
            &step.notices,
            &terms,
            audit,
        )
    }

    /// A membership bought now (T-10: a trial plan waits for activation).
    pub fn create_membership(
        &self,
        actor: &Actor,
        input: &NewMembership,
        ctx: &RequestCtx,
    ) -> Result<ContractView, VaultError> {
        require_admin(actor)?;
        let tenant = &actor.tenant;
        self.contract_subject(tenant, input.subject)?;
        let terms = self.contract_terms(tenant)?;
        let local = input.customer.local(&terms)?;
        if let Some(p) = &input.payment_ref {
            not_blank(p, "/payment_ref")?;
        }
        terms.plan(&input.plan).map_err(|e| terms_fail(&e))?;
        let price = parse_money(&input.price, "/price")?;
        let now = self.clock.now();
        let account = input.subject.to_string();
        let step = Membership::purchase(
            &terms,
            "new",
            &input.plan,
            &account,
            &input.customer.jurisdiction,
            local,
            price,
            now,
            input.first_time,
        )
        .map_err(membership_fail)?;
        let d = ContractDoc::Membership(MembershipDoc::from_engine(
            &step.next,
            input.customer.clone(),
            input.payment_ref.clone(),
            None,
        ));
        let audit = self.audit(actor, ctx, "contract.created");
        self.create(
            tenant,
            input.subject,
            ContractKind::Membership,
            d,
            &step.notices,
            &terms,
            audit,
        )
    }

    /// A return notified now (T-15: within the window, whichever ends later).
    pub fn create_return(
        &self,
        actor: &Actor,
        input: &NewReturn,
        ctx: &RequestCtx,
    ) -> Result<ContractView, VaultError> {
        require_admin(actor)?;
        let tenant = &actor.tenant;
        self.contract_subject(tenant, input.subject)?;
        if let Some(order) = input.order {
            let row = self.store.contract(tenant, order)?;
            if !row.is_some_and(|r| r.subject == input.subject && r.kind == ContractKind::Order) {
                return Err(
                    fail("/order", codes::NOT_FOUND, "no such order of this subject").into(),
                );
            }
        }
        let terms = self.contract_terms(tenant)?;
        let local = input.customer.local(&terms)?;
        let now = self.clock.now();
        let step = Return::notify(
            &terms,
            &local,
            input.delivery_confirmed_at,
            input.possession_at,
            now,
        )
        .map_err(return_fail)?;
        let d = ContractDoc::Return(ReturnDoc::from_engine(
            &step.next,
            input.customer.clone(),
            input.order,
            input.delivery_confirmed_at,
            input.possession_at,
            false,
        ));
        let audit = self.audit(actor, ctx, "contract.created");
        self.create(
            tenant,
            input.subject,
            ContractKind::Return,
            d,
            &step.notices,
            &terms,
            audit,
        )
    }

    // --- reads ------------------------------------------------------------------------

    /// One contract (staff).
    pub fn contract_view(&self, tenant: &TenantId, id: Uuid) -> Result<ContractView, VaultError> {
        let loaded = self.load(tenant, id)?;
        let terms = self.contract_terms(tenant)?;
        Ok(self.view(&loaded.row, &loaded.doc, &terms, self.clock.now()))
    }

    /// Contracts matching `filter`, oldest first (staff).
    pub fn contract_list(
        &self,
        tenant: &TenantId,
        filter: &ContractFilter,
    ) -> Result<Vec<ContractView>, VaultError> {
        let rows = self.store.contracts(tenant, filter)?;
        if rows.is_empty() {
            // A tenant without contract terms simply has no contracts.
            return Ok(Vec::new());
        }
        let terms = self.contract_terms(tenant)?;
        let now = self.clock.now();
        rows.into_iter()
            .map(|row| {
                let doc: ContractDoc =
                    serde_json::from_str(&row.state).map_err(|_| VaultError::Integrity)?;
                Ok(self.view(&row, &doc, &terms, now))
            })
            .collect()
    }

    /// Every contract of a person, oldest first, with what they may do now.
    pub fn contracts_of_subject(
        &self,
        tenant: &TenantId,
        subject: SubjectId,
    ) -> Result<Vec<ContractView>, VaultError> {
        self.contract_list(
            tenant,
            &ContractFilter {
                subject: Some(subject),
                ..ContractFilter::default()
            },
        )
    }

    fn view(
        &self,
        row: &ContractRow,
        doc: &ContractDoc,
        terms: &Terms,
        now: Timestamp,
    ) -> ContractView {
        let mut key_dates = vec![KeyDate {
            name: "created_at",
            at: row.created_at,
        }];
        let mut amounts = Vec::new();
        let mut reference = None;
        let mut may_cancel = false;
        let mut change_needs_acceptance = false;
        let mut may_accept_change = false;
        let mut may_cancel_for_change = false;
        let deadline = withdraw_deadline(row.id, doc, terms);
        let mut add = |name: &'static str, at: Option<Timestamp>| {
            if let Some(at) = at {
                key_dates.push(KeyDate { name, at });
            }
        };
        match doc {
            ContractDoc::Order(o) => {
                reference.clone_from(&o.reference);
                if let OrderStateDoc::Confirmed { at, .. } = &o.state {
                    add("contract_at", Some(*at));
                }
                add("possession_at", o.possession_at);
                if let Some(w) = &o.withdrawal {
                    add("withdrawn_at", Some(w.notified_at));
                    add("refund_due", w.refund_open_until());
                    add("return_by", w.return_by.as_ref().map(|d| d.ends_at));
                    add("refunded_at", w.refunded_at);
                }
                if let Ok(order) = o.engine(row.id, row.subject)
                    && let Ok(total) = order.total()
                {
                    amounts.push(Amount {
                        name: "total",
                        amount: money_text(total),
                    });
                }
            }
            ContractDoc::Membership(m) => {
                reference = Some(m.plan.clone());
                add("contract_at", Some(m.contract_at));
                add("activated_at", m.activated_at);
                add("cancel_effective", m.cancel_effective);
                match &m.billing {
                    BillingDoc::PastDue { grace_ends, .. } => add("grace_ends", Some(*grace_ends)),
                    BillingDoc::Ended { at, .. } => add("ended_at", Some(*at)),
                    _ => {}
                }
                if let Ok(e) = m.engine(row.id, terms) {
                    if matches!(e.billing, Billing::InGoodStanding)
                        && e.cancel_effective.is_none()
                        && let Ok(start) = e.period_start(terms, e.charged_periods)
                    {
                        add("next_period", Some(start));
                    }
                    if let Ok(p) = e.price_of(terms, e.charged_periods) {
                        amounts.push(Amount {
                            name: "price",
                            amount: money_text(p),
                        });
                    }
                }
                if let Some(w) = &m.withdrawal {
                    add("withdrawn_at", Some(w.notified_at));
                    add("refund_due", w.refund_open_until());
                }
                let open = !matches!(m.billing, BillingDoc::Ended { .. });
                if let Some(c) = &m.pending_change
                    && open
                {
                    add("change_effective", Some(c.effective));
                    if let Some(p) = &c.new_price {
                        amounts.push(Amount {
                            name: "new_price",
                            amount: p.clone(),
                        });
                    }
                    change_needs_acceptance = c.requires_acceptance;
                    may_accept_change = c.requires_acceptance && !c.accepted && now < c.effective;
                    may_cancel_for_change =
                        now < c.effective && m.cancel_effective.is_none_or(|e| c.effective < e);
                }
                may_cancel = matches!(
                    m.billing,
                    BillingDoc::AwaitingActivation
                        | BillingDoc::InGoodStanding
                        | BillingDoc::PastDue { .. }
                ) && m.cancel_effective.is_none();
            }
            ContractDoc::Return(r) => {
                add("notified_at", Some(r.notified_at));
                add("ship_by", Some(r.ship_by.ends_at));
                match &r.state {
                    ReturnStateDoc::RmaIssued { rma } => reference = Some(rma.clone()),
                    ReturnStateDoc::Received {
                        refund, refund_due, ..
                    } => {
                        add("refund_due", Some(refund_due.ends_at));
                        amounts.push(Amount {
                            name: "refund",
                            amount: refund.total.clone(),
                        });
                    }
                    ReturnStateDoc::Refunded { at } => add("refunded_at", Some(*at)),
                    _ => {}
                }
            }
        }
        if let ContractDoc::Order(o) = doc
            && let Some(w) = &o.withdrawal
        {
            amounts.push(Amount {
                name: "refund",
                amount: w.paid.clone(),
            });
        }
        let may_withdraw = deadline.is_some_and(|d| now < d);
        // Before delivery the period has not started: open-ended, no date to show.
        let withdraw_until = deadline.filter(|d| now < *d && *d != Timestamp::MAX);
        ContractView {
            id: row.id,
            kind: row.kind.as_str(),
            subject: row.subject,
            status: row.status.clone(),
            version: row.version,
            created_at: row.created_at,
            updated_at: row.updated_at,
            next_due: row.next_due,
            reference,
            key_dates,
            amounts,
            may_cancel,
            may_withdraw,
            withdraw_until,
            change_needs_acceptance,
            may_accept_change,
            may_cancel_for_change,
            state: serde_json::to_value(doc).unwrap_or(Value::Null),
        }
    }

    // --- changes ----------------------------------------------------------------------

    /// Staff act on a contract (typed action, at the clock's now).
    pub fn act_on_contract(
        &self,
        actor: &Actor,
        id: Uuid,
        action: &ContractAction,
        ctx: &RequestCtx,
    ) -> Result<ContractView, VaultError> {
        require_admin(actor)?;
        let tenant = &actor.tenant;
        let loaded = self.load(tenant, id)?;
        let terms = self.contract_terms(tenant)?;
        let now = self.clock.now();
        let gone = self.subject_gone(tenant, loaded.row.subject)?;
        let change = transition(&loaded, action, &terms, now, gone)?;
        let audit = self.audit(actor, ctx, &format!("contract.{}", action.name()));
        let (row, doc, _) = self.save(tenant, &loaded, change, &terms, audit, action.name())?;
        Ok(self.view(&row, &doc, &terms, now))
    }

    fn subject_audit(&self, subject: SubjectId, action: &str, at: Timestamp) -> AuditDraft {
        AuditDraft {
            at,
            actor: format!("subject:{subject}"),
            key_id: None,
            action: action.to_owned(),
            purpose: None,
            subject: Some(subject),
            categories: Vec::new(),
            outcome: Outcome::Allow,
            reason: String::new(),
            request_id: None,
        }
    }

    fn subjects_own(
        &self,
        tenant: &TenantId,
        subject: SubjectId,
        id: Uuid,
    ) -> Result<Loaded, VaultError> {
        let loaded = self.load(tenant, id)?;
        if loaded.row.subject != subject {
            // Never tell a person that someone else's contract exists.
            return Err(VaultError::ContractNotFound);
        }
        Ok(loaded)
    }

    /// One of the steps a person takes on their own contract: refused for anyone
    /// else's contract, audited under the subject with the step's name.
    fn subjects_step(
        &self,
        tenant: &TenantId,
        subject: SubjectId,
        id: Uuid,
        action: &ContractAction,
        at: Timestamp,
    ) -> Result<ContractView, VaultError> {
        let loaded = self.subjects_own(tenant, subject, id)?;
        let terms = self.contract_terms(tenant)?;
        let gone = self.subject_gone(tenant, subject)?;
        let change = transition(&loaded, action, &terms, at, gone)?;
        let name = action.name();
        let audit = self.subject_audit(subject, &format!("contract.{name}"), at);
        let (row, doc, _) = self.save(tenant, &loaded, change, &terms, audit, name)?;
        Ok(self.view(&row, &doc, &terms, at))
    }

    /// The person cancels their membership (T-11, T-13): effective at the period end
    /// the notice rules allow; benefits continue until then.
    pub fn cancel_membership(
        &self,
        tenant: &TenantId,
        subject: SubjectId,
        id: Uuid,
        at: Timestamp,
    ) -> Result<ContractView, VaultError> {
        self.subjects_step(tenant, subject, id, &ContractAction::Cancel, at)
    }

    /// The person withdraws from an order or a membership (T-18, statutory).
    pub fn withdraw(
        &self,
        tenant: &TenantId,
        subject: SubjectId,
        id: Uuid,
        at: Timestamp,
    ) -> Result<ContractView, VaultError> {
        self.subjects_step(tenant, subject, id, &ContractAction::Withdraw, at)
    }

    /// The person accepts the change announced for their membership (T-20): it then
    /// applies from its effective date.
    pub fn accept_change(
        &self,
        tenant: &TenantId,
        subject: SubjectId,
        id: Uuid,
        at: Timestamp,
    ) -> Result<ContractView, VaultError> {
        self.subjects_step(tenant, subject, id, &ContractAction::AcceptChange, at)
    }

    /// The person cancels their membership because of the announced change (T-4,
    /// T-21): it ends no later than the change takes effect, even inside an initial term.
    pub fn cancel_for_change(
        &self,
        tenant: &TenantId,
        subject: SubjectId,
        id: Uuid,
        at: Timestamp,
    ) -> Result<ContractView, VaultError> {
        self.subjects_step(tenant, subject, id, &ContractAction::CancelForChange, at)
    }

    // --- the clock job ------------------------------------------------------------------

    /// Advances every contract of `tenant` whose clock is due at `now`: renewal charges
    /// announced, grace expiry (termination, Basic Mode), cancellations taking effect,
    /// and refunds overdue (a reminder to staff). Each contract is one transaction.
    pub fn tick_contracts(
        &self,
        tenant: &TenantId,
        now: Timestamp,
    ) -> Result<TickReport, VaultError> {
        const BATCH: usize = 200;
        let mut report = TickReport::default();
        let rows = self.store.due_contracts(tenant, now, BATCH)?;
        if rows.is_empty() {
            return Ok(report);
        }
        let terms = self.contract_terms(tenant)?;
        let mut seen = BTreeSet::new();
        let mut rows = rows;
        loop {
            let mut progressed = false;
            for row in rows {
                if !seen.insert(row.id) {
                    continue;
                }
                progressed = true;

                let doc = match serde_json::from_str::<ContractDoc>(&row.state) {
                    Ok(d) => d,
                    Err(_) => {
                        report.failed += 1;
                        continue;
                    }
                };
                let loaded = Loaded { row, doc };
                let gone = self.subject_gone(tenant, loaded.row.subject)?;
                let change = match advance(&loaded, &terms, now, gone) {
                    Ok(c) => c,
                    Err(_) => {
                        // Left due and counted (the job logs it); not audited on every
                        // pass, which would grow the log each minute for one bad row.
                        report.failed += 1;
                        continue;
                    }
                };
                let audit = self.system_audit(now, "contract.tick");
                match self.save(tenant, &loaded, change, &terms, audit, "tick") {
                    Ok((_, _, n)) => {
                        report.advanced += 1;
                        report.notices += n;
                    }
                    Err(VaultError::Invalid(_)) => report.conflicts += 1,
                    Err(e) => return Err(e),
                }
            }
            if !progressed {
                break;
            }
            rows = self.store.due_contracts(tenant, now, BATCH)?;
            if rows.is_empty() {
                break;
            }
        }
        Ok(report)
    }

    fn system_audit(&self, at: Timestamp, action: &str) -> AuditDraft {
        AuditDraft {
            at,
            actor: "system".into(),
            key_id: None,
            action: action.to_owned(),
            purpose: None,
            subject: None,
            categories: Vec::new(),
            outcome: Outcome::Allow,
            reason: String::new(),
            request_id: None,
        }
    }
}

fn require_admin(actor: &Actor) -> Result<(), VaultError> {
    if actor.admin {
        Ok(())
    } else {
        Err(VaultError::PurposeNotPermitted {
            role: actor.role.clone(),
            purpose: "contract administration".into(),
        })
    }
}

/// The end of the statutory withdrawal period of an order (once formed) or a
/// membership, while withdrawal is still possible at all.
fn withdraw_deadline(id: Uuid, doc: &ContractDoc, terms: &Terms) -> Option<Timestamp> {
    match doc {
        ContractDoc::Order(o) => {
            let OrderStateDoc::Confirmed { at, .. } = o.state else {
                return None;
            };
            if o.withdrawal.is_some() || !o.place.consumer {
                return None;
            }
            let local = o.place.local(terms).ok()?;
            match o.possession_at {
                // Before delivery the period has not started: a withdrawal is in time.
                None => Some(Timestamp::MAX),
                Some(p) => withdrawal::deadline(
                    terms,
                    &local,
                    &o.place.jurisdiction,
                    &Purchase::Goods {
                        contract_at: at,
                        possession_of_last_item: p,
                    },
                )
                .ok()
                .map(|d| d.ends_at),
            }
        }
        ContractDoc::Membership(m) => {
            if m.withdrawal.is_some()
                || !m.place.consumer
                || matches!(m.billing, BillingDoc::Ended { .. })
            {
                return None;
            }
            let _ = id;
            let local = m.place.local(terms).ok()?;
            withdrawal::deadline(
                terms,
                &local,
                &m.place.jurisdiction,
                &Purchase::Membership {
                    contract_at: m.contract_at,
                },
            )
            .ok()
            .map(|d| d.ends_at)
        }
        ContractDoc::Return(_) => None,
    }
}

fn order_step(
    o: &OrderDoc,
    step: Result<Step<Order>, OrderError>,
) -> Result<(ContractDoc, Vec<Notice>), ContractFail> {
    let step = step.map_err(order_fail)?;
    Ok((
        ContractDoc::Order(OrderDoc::from_engine(
            &step.next,
            o.place.clone(),
            o.payment_ref.clone(),
            o.possession_at,
            o.withdrawal.clone(),
        )),
        step.notices,
    ))
}

fn membership_step(
    m: &MembershipDoc,
    step: Result<Step<Membership>, MembershipError>,
) -> Result<(ContractDoc, Vec<Notice>), ContractFail> {
    let step = step.map_err(membership_fail)?;
    Ok((
        ContractDoc::Membership(MembershipDoc::from_engine(
            &step.next,
            m.place.clone(),
            m.payment_ref.clone(),
            m.withdrawal.clone(),
        )),
        step.notices,
    ))
}

fn return_step(
    r: &ReturnDoc,
    step: Result<Step<Return>, ReturnError>,
) -> Result<(ContractDoc, Vec<Notice>), ContractFail> {
    let step = step.map_err(return_fail)?;
    Ok((
        ContractDoc::Return(ReturnDoc::from_engine(
            &step.next,
            r.place.clone(),
            r.order,
            r.delivery_confirmed_at,
            r.possession_at,
            r.reminded,
        )),
        step.notices,
    ))
}

fn exercise(
    place: &Place,
    terms: &Terms,
    purchase: &Purchase,
    paid: Money,
    at: Timestamp,
) -> Result<(WithdrawalDoc, Vec<Notice>), ContractFail> {
    if !place.consumer {
        return Err(fail(
            "/action",
            codes::STATE,
            "the statutory withdrawal right is a consumer's",
        ));
    }
    let local = place.local(terms)?;
    let step = Withdrawal::exercise(
        terms,
        &local,
        &place.jurisdiction,
        purchase,
        paid,
        &Statement::Unambiguous,
        at,
    )
    .map_err(withdrawal_fail)?;
    Ok((WithdrawalDoc::from_engine(&step.next), step.notices))
}

fn withdrawal_mut(w: &mut Option<WithdrawalDoc>) -> Result<&mut WithdrawalDoc, ContractFail> {
    w.as_mut()
        .ok_or_else(|| fail("/action", codes::STATE, "there is no withdrawal to act on"))
}

fn goods_event(w: &mut WithdrawalDoc, at: Timestamp, dispatch: bool) -> Result<(), ContractFail> {
    let e = w.engine()?;
    let step = if dispatch {
        e.dispatch_proven(at)
    } else {
        e.goods_received(at)
    }
    .map_err(withdrawal_fail)?;
    w.goods_back_at = step.next.goods_back_at;
    w.dispatch_proven_at = step.next.dispatch_proven_at;
    Ok(())
}

/// The change announced for a membership, while it is still to come at `at`.
fn open_change(e: &Membership, at: Timestamp) -> Result<PendingChange, ContractFail> {
    if matches!(e.billing, Billing::Ended { .. }) {
        return Err(fail("/action", codes::STATE, "this membership has ended"));
    }
    match &e.pending_change {
        Some(c) if at < c.effective => Ok(c.clone()),
        Some(_) => Err(fail(
            "/action",
            codes::STATE,
            "the announced change is already in effect",
        )),
        None => Err(fail("/action", codes::STATE, "no change is announced")),
    }
}

/// The seller's change offer from an `announce_change` action; the kind is parsed
/// strictly and a price change names a new price in the membership's currency.
fn change_offer(
    e: &Membership,
    kind: &str,
    effective: Date,
    new_price: Option<&str>,
    legally_mandated: bool,
    at: Timestamp,
) -> Result<ChangeOffer, ContractFail> {
    let kind = match kind {
        "price" => ChangeKind::Price,
        "features" => ChangeKind::Features,
        "terms" => ChangeKind::Terms,
        _ => {
            return Err(fail(
                "/kind",
                codes::CHANGE,
                "not a kind of change: price, features or terms",
            ));
        }
    };
    let new_price = new_price
        .map(|p| parse_money(p, "/new_price"))
        .transpose()?;
    match new_price {
        None if kind == ChangeKind::Price => {
            return Err(fail(
                "/new_price",
                codes::INPUT,
                "a price change names the new price",
            ));
        }
        Some(p) if p.currency() != e.price.currency() => {
            return Err(fail(
                "/new_price",
                codes::MONEY,
                "the new price must be in the membership's currency",
            ));
        }
        _ => {}
    }
    Ok(ChangeOffer {
        kind,
        announced_at: at,
        effective,
        new_price,
        legally_mandated,
    })
}

/// The rule of erasure every step and the clock job obey (issue 13, point 15): an
/// erased person's contracts end with them. No step applies to them any more, except
/// recording a refund as paid (money owed back is still paid back).
fn refuse_after_erasure(action: &ContractAction, subject_gone: bool) -> Result<(), ContractFail> {
    if subject_gone && !matches!(action, ContractAction::Refunded) {
        return Err(fail(
            "/subject",
            codes::SUBJECT_ERASED,
            "this contract's person was erased; the contract ended with the erasure",
        ));
    }
    Ok(())
}

/// One staff or customer action on a loaded contract, at `at`.
fn transition(
    loaded: &Loaded,
    action: &ContractAction,
    terms: &Terms,
    at: Timestamp,
    subject_gone: bool,
) -> Result<Change, ContractFail> {
    refuse_after_erasure(action, subject_gone)?;
    let id = loaded.row.id;
    let (doc, notices) = match (&loaded.doc, action) {
        (ContractDoc::Order(o), a) => {
            let order = o.engine(id, loaded.row.subject)?;
            let not_withdrawn = || {
                if o.withdrawal.is_some() {
                    Err(fail(
                        "/action",
                        codes::STATE,
                        "the customer withdrew from this order",
                    ))
                } else {
                    Ok(())
                }
            };
            match a {
                ContractAction::Acknowledge { reference } => {
                    not_blank(reference, "/reference")?;
                    order_step(o, order.acknowledge(reference.trim()))?
                }
                ContractAction::Confirm { estimated_delivery } => {
                    order_step(o, order.confirm(*estimated_delivery, at))?
                }
                ContractAction::Decline { reason } => {
                    not_blank(reason, "/reason")?;
                    order_step(o, order.decline(reason.trim(), at))?
                }
                ContractAction::Unavailable => {
                    not_withdrawn()?;
                    order_step(o, order.withdraw_unavailable(terms, at))?
                }
                ContractAction::PaymentInvalid => {
                    not_withdrawn()?;
                    order_step(o, order.payment_invalid(terms, at))?
                }
                ContractAction::Delivered => {
                    if !matches!(order.state, OrderState::Confirmed { .. })
                        || o.possession_at.is_some()
                    {
                        return Err(fail(
                            "/action",
                            codes::STATE,
                            "only a confirmed order not yet delivered can be delivered",
                        ));
                    }
                    let mut next = o.clone();
                    next.possession_at = Some(at);
                    (ContractDoc::Order(next), Vec::new())
                }
                ContractAction::Withdraw => {
                    not_withdrawn()?;
                    let OrderState::Confirmed { at: formed, .. } = order.state else {
                        return Err(fail(
                            "/action",
                            codes::STATE,
                            "only a confirmed order can be withdrawn from",
                        ));
                    };
                    let purchase = Purchase::Goods {
                        contract_at: formed,
                        possession_of_last_item: o.possession_at.unwrap_or(at),
                    };
                    let paid = order
                        .total()
                        .map_err(|e| fail("/", codes::MONEY, &e.to_string()))?;
                    let (w, notices) = exercise(&o.place, terms, &purchase, paid, at)?;
                    let mut next = o.clone();
                    next.withdrawal = Some(w);
                    (ContractDoc::Order(next), notices)
                }
                ContractAction::GoodsReturned | ContractAction::DispatchProven => {
                    let mut next = o.clone();
                    let w = withdrawal_mut(&mut next.withdrawal)?;
                    goods_event(w, at, matches!(a, ContractAction::DispatchProven))?;
                    (ContractDoc::Order(next), Vec::new())
                }
                ContractAction::Refunded => {
                    let mut next = o.clone();
                    let w = withdrawal_mut(&mut next.withdrawal)?;
                    if w.refunded_at.is_some() {
                        return Err(fail(
                            "/action",
                            codes::STATE,
                            "the refund is already recorded",
                        ));
                    }
                    w.refunded_at = Some(at);
                    (ContractDoc::Order(next), Vec::new())
                }
                other => return Err(wrong_kind(ContractKind::Order, other.name())),
            }
        }
        (ContractDoc::Membership(m), a) => {
            let e = m.engine(id, terms)?;
            match a {
                ContractAction::Activate { device } => {
                    not_blank(device, "/device")?;
                    membership_step(m, e.activate(terms, device.trim(), at))?
                }
                ContractAction::Cancel => {
                    if e.cancel_effective.is_some() {
                        return Err(fail(
                            "/action",
                            codes::STATE,
                            "this membership is already cancelled",
                        ));
                    }
                    membership_step(m, e.cancel(terms, at))?
                }
                ContractAction::PaymentFailed => membership_step(m, e.payment_failed(terms, at))?,
                ContractAction::PaymentRecovered => membership_step(m, e.payment_recovered(at))?,
                ContractAction::PaymentInvalid => {
                    membership_step(m, e.payment_method_invalid(terms, at))?
                }
                ContractAction::Terminate => membership_step(m, e.terminate_by_seller(terms, at))?,
                ContractAction::Reactivate { price } => {
                    let price = parse_money(price, "/price")?;
                    let (mut d, n) = membership_step(m, e.reactivate(terms, at, price))?;
                    if let ContractDoc::Membership(x) = &mut d {
                        x.withdrawal = None;
                    }
                    (d, n)
                }
                ContractAction::AnnounceChange {
                    kind,
                    effective,
                    new_price,
                    legally_mandated,
                } => {
                    let offer = change_offer(
                        &e,
                        kind,
                        *effective,
                        new_price.as_deref(),
                        *legally_mandated,
                        at,
                    )?;
                    membership_step(m, e.announce_change(terms, &offer))?
                }
                ContractAction::AcceptChange => {
                    let open = open_change(&e, at)?;
                    if !open.requires_acceptance {
                        return Err(fail(
                            "/action",
                            codes::STATE,
                            "the announced change needs no acceptance",
                        ));
                    }
                    if open.accepted {
                        return Err(fail(
                            "/action",
                            codes::STATE,
                            "the announced change is already accepted",
                        ));
                    }
                    membership_step(m, e.accept_change())?
                }
                ContractAction::CancelForChange => {
                    let open = open_change(&e, at)?;
                    if e.cancel_effective.is_some_and(|c| c <= open.effective) {
                        return Err(fail(
                            "/action",
                            codes::STATE,
                            "this membership already ends before the change",
                        ));
                    }
                    membership_step(m, e.cancel_for_change(terms, at))?
                }
                ContractAction::Withdraw => {
                    if m.withdrawal.is_some() {
                        return Err(fail("/action", codes::STATE, "already withdrawn"));
                    }
                    if matches!(e.billing, Billing::Ended { .. }) {
                        return Err(fail("/action", codes::STATE, "this membership has ended"));
                    }
                    let purchase = Purchase::Membership {
                        contract_at: e.contract_at,
                    };
                    // A trial not yet paid for refunds nothing.
                    let paid = if e.trial || e.billing == Billing::AwaitingActivation {
                        Money::zero(e.price.currency())
                    } else {
                        e.price
                    };
                    let (w, mut notices) = exercise(&m.place, terms, &purchase, paid, at)?;
                    let (d, more) = membership_step(m, e.withdrawn(at))?;
                    notices.extend(more);
                    let ContractDoc::Membership(mut next) = d else {
                        return Err(fail("/", codes::STATE, "unexpected state"));
                    };
                    next.withdrawal = Some(w);
                    (ContractDoc::Membership(next), notices)
                }
                ContractAction::Refunded => {
                    let mut next = m.clone();
                    let w = withdrawal_mut(&mut next.withdrawal)?;
                    if w.refunded_at.is_some() {
                        return Err(fail(
                            "/action",
                            codes::STATE,
                            "the refund is already recorded",
                        ));
                    }
                    w.refunded_at = Some(at);
                    (ContractDoc::Membership(next), Vec::new())
                }
                other => return Err(wrong_kind(ContractKind::Membership, other.name())),
            }
        }
        (ContractDoc::Return(r), a) => {
            let e = r.engine()?;
            match a {
                ContractAction::IssueRma { rma } => {
                    not_blank(rma, "/rma")?;
                    return_step(r, e.issue_rma(rma.trim()))?
                }
                ContractAction::Shipped => return_step(r, e.shipped(terms, at))?,
                ContractAction::Received {
                    items,
                    original_shipping,
                    partial_bundle_discount,
                } => {
                    let local = r.place.local(terms)?;
                    let original_shipping = parse_money(original_shipping, "/original_shipping")?;
                    let currency = original_shipping.currency();
                    let items = items
                        .iter()
                        .enumerate()
                        .map(|(i, it)| {
                            Ok(ReturnedItem {
                                price_paid: parse_money(
                                    &it.price_paid,
                                    &format!("/items/{i}/price_paid"),
                                )?,
                                deterioration: match &it.deterioration {
                                    Some(d) => {
                                        parse_money(d, &format!("/items/{i}/deterioration"))?
                                    }
                                    None => Money::zero(currency),
                                },
                            })
                        })
                        .collect::<Result<Vec<_>, ContractFail>>()?;
                    if items.is_empty() {
                        return Err(fail(
                            "/items",
                            codes::INPUT,
                            "name at least one returned item",
                        ));
                    }
                    let partial_bundle_discount = partial_bundle_discount
                        .as_deref()
                        .map(|d| parse_money(d, "/partial_bundle_discount"))
                        .transpose()?;
                    let input = RefundInput {
                        currency,
                        items,
                        original_shipping,
                        partial_bundle_discount,
                    };
                    return_step(r, e.received(terms, &local, &input, at))?
                }
                ContractAction::Refunded => return_step(r, e.refunded(at))?,
                other => return Err(wrong_kind(ContractKind::Return, other.name())),
            }
        }
    };
    Ok(Change {
        doc,
        notices,
        extra: Vec::new(),
    })
}

/// The clock job's step for one due contract. A membership whose person was erased
/// ends at once instead of renewing (no charge after the erasure, issue 13 point 15).
fn advance(
    loaded: &Loaded,
    terms: &Terms,
    now: Timestamp,
    subject_gone: bool,
) -> Result<Change, ContractFail> {
    let id = loaded.row.id;
    let mut extra = Vec::new();
    let mut remind = |amount: &str, due: Timestamp| {
        extra.push(outbox_message(
            None,
            REFUND_OVERDUE,
            json!({ "contract": id.to_string(), "kind": loaded.row.kind.as_str(),
                    "amount": amount, "due": due }),
            now,
        ));
    };
    let mut overdue = |w: &mut Option<WithdrawalDoc>| {
        if let Some(w) = w.as_mut()
            && !w.reminded
            && let Some(due) = w.refund_open_until()
            && due <= now
        {
            w.reminded = true;
            remind(&w.paid.clone(), due);
        }
    };
    let (doc, notices) = match &loaded.doc {
        ContractDoc::Order(o) => {
            let mut next = o.clone();
            overdue(&mut next.withdrawal);
            (ContractDoc::Order(next), Vec::new())
        }
        ContractDoc::Membership(m) => {
            let e = m.engine(id, terms)?;
            let step = if subject_gone {
                e.subject_erased(now)
            } else {
                e.advance(terms, now)
            };
            let (d, notices) = membership_step(m, step)?;
            let ContractDoc::Membership(mut next) = d else {
                return Err(fail("/", codes::STATE, "unexpected state"));
            };
            overdue(&mut next.withdrawal);
            (ContractDoc::Membership(next), notices)
        }
        ContractDoc::Return(r) => {
            let mut next = r.clone();
            if let ReturnStateDoc::Received {
                refund, refund_due, ..
            } = &r.state
                && !r.reminded
                && refund_due.ends_at <= now
            {
                next.reminded = true;
                remind(&refund.total, refund_due.ends_at);
            }
            (ContractDoc::Return(next), Vec::new())
        }
    };
    Ok(Change {
        doc,
        notices,
        extra,
    })
}
