//! Memberships (HomePass, WorkPass): periods, renewals, cancellation, non-payment,
//! Basic Mode, reactivation, transfers and changes (T-4, T-9 … T-14, T-20).
//!
//! **Billing and entitlement are apart.** [`Billing`] says where the money stands;
//! [`Membership::entitlement`] says what the customer can use at a given instant, and
//! is a pure function of the state and that instant (a cancellation that has taken
//! effect ends the benefits even before [`Membership::advance`] records it).
//!
//! **Periods.** Period 0 starts on the anchor day: activation for a plan with a free
//! trial (T-10), else the contract date. Its length is the free trial (first-time
//! customers), the initial term (WorkPass, T-11) or one period; later periods follow
//! each other. The start of period `k` is computed from the anchor in one step
//! (`anchor + first + (k-1) × period` in months), never by chaining.
//!
//! **Cancellation** (T-11, T-13) takes effect at the first period boundary whose
//! notice rule the request meets: the initial-term rule for the end of the initial
//! term, `cancel_notice` (business days on the customer's calendar) for later
//! boundaries, and "before the period starts" when the plan has no notice rule. No
//! refund for the current period; benefits continue until the boundary.
//!
//! Decisions where the terms are silent: during the grace period the benefits
//! continue (a failed charge is not yet a termination); the seller's termination on
//! `termination_notice` takes effect at the first boundary at least that long after
//! the notice and never inside the initial term; a reactivated membership starts a new
//! contract on the reactivation day, without a free trial.

use custos_policy::model::{AfterEnd, Plan};
use custos_policy::period::Span;
use jiff::civil::Date;
use jiff::{Timestamp, ToSpan};

use crate::Step;
use crate::calendar::{CalendarError, Local, add_span, span_months};
use crate::changes::{self, ChangeError, ChangeOffer};
use crate::money::Money;
use crate::notice::Notice;
use crate::terms::{Terms, TermsError, opt_span, span};

/// Where the money stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Billing {
    /// Bought, not yet activated on a device (a trial plan starts at activation).
    AwaitingActivation,
    InGoodStanding,
    /// A charge failed; benefits continue until `grace_ends`.
    PastDue {
        since: Timestamp,
        grace_ends: Timestamp,
    },
    Ended {
        at: Timestamp,
        reason: EndReason,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndReason {
    Cancelled,
    NonPayment,
    InvalidPayment,
    SellerTermination,
    Withdrawn,
    /// The person was erased (issue 13, point 15): the membership ends with them.
    SubjectErased,
}

/// What the customer can use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entitlement {
    None,
    Full,
    /// HomePass Basic Mode: reduced features, firmware updates continue (T-14).
    Basic,
}

/// A change announced and not yet in effect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingChange {
    pub effective: Timestamp,
    pub new_price: Option<Money>,
    pub requires_acceptance: bool,
    pub accepted: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MembershipError {
    #[error("a membership in state `{from}` cannot be {action}")]
    IllegalTransition {
        from: &'static str,
        action: &'static str,
    },
    #[error("memberships are not transferable to another account")]
    NotTransferable,
    #[error("a membership needs an account")]
    AccountRequired,
    #[error("this plan cannot be reactivated")]
    NoReactivation,
    #[error("the plan has no seller termination notice")]
    NoTermination,
    #[error(transparent)]
    Terms(#[from] TermsError),
    #[error(transparent)]
    Calendar(#[from] CalendarError),
    #[error(transparent)]
    Change(#[from] ChangeError),
}

/// One membership of one account.
#[derive(Debug, Clone, PartialEq)]
pub struct Membership {
    pub id: String,
    pub plan: String,
    pub account: String,
    pub jurisdiction: String,
    pub local: Local,
    pub devices: Vec<String>,
    /// Price of one paid period, as confirmed.
    pub price: Money,
    /// Contract date (Order Confirmation, or the in-app purchase).
    pub contract_at: Timestamp,
    pub first_time: bool,
    pub activated_at: Option<Timestamp>,
    /// Local day period 0 starts.
    pub anchor: Option<Date>,
    /// Period 0 is a free trial.
    pub trial: bool,
    pub billing: Billing,
    pub cancel_effective: Option<Timestamp>,
    pub pending_change: Option<PendingChange>,
    /// Periods whose renewal charge has been announced (or that were free).
    pub charged_periods: u32,
}

fn billing_name(b: &Billing) -> &'static str {
    match b {
        Billing::AwaitingActivation => "awaiting_activation",
        Billing::InGoodStanding => "in_good_standing",
        Billing::PastDue { .. } => "past_due",
        Billing::Ended { .. } => "ended",
    }
}

impl Membership {
    fn illegal(&self, action: &'static str) -> MembershipError {
        MembershipError::IllegalTransition {
            from: billing_name(&self.billing),
            action,
        }
    }

    fn plan<'t>(&self, terms: &'t Terms) -> Result<&'t Plan, MembershipError> {
        Ok(terms.plan(&self.plan)?)
    }

    /// A membership bought at `contract_at`. A plan with a free trial waits for
    /// activation (T-10); any other starts billing on the contract day (T-11).
    #[allow(clippy::too_many_arguments)]
    pub fn purchase(
        terms: &Terms,
        id: &str,
        plan: &str,
        account: &str,
        jurisdiction: &str,
        local: Local,
        price: Money,
        contract_at: Timestamp,
        first_time: bool,
    ) -> Result<Step<Membership>, MembershipError> {
        if terms.contract().account_required_for_membership && account.trim().is_empty() {
            return Err(MembershipError::AccountRequired);
        }
        let p = terms.plan(plan)?;
        let mut m = Membership {
            id: id.to_owned(),
            plan: plan.to_owned(),
            account: account.to_owned(),
            jurisdiction: jurisdiction.to_owned(),
            local,
            devices: Vec::new(),
            price,
            contract_at,
            first_time,
            activated_at: None,
            anchor: None,
            trial: false,
            billing: Billing::AwaitingActivation,
            cancel_effective: None,
            pending_change: None,
            charged_periods: 0,
        };
        if p.free_trial.is_some() {
            return Ok(Step::quiet(m));
        }
        m.anchor = Some(m.local.date_of(contract_at));
        m.billing = Billing::InGoodStanding;
        let notices = vec![m.charge_notice(terms, 0, contract_at)?];
        m.charged_periods = 1;
        Ok(Step::new(m, notices))
    }

    /// The customer connects the account to a device (T-10: a trial starts here).
    pub fn activate(
        &self,
        terms: &Terms,
        device: &str,
        at: Timestamp,
    ) -> Result<Step<Membership>, MembershipError> {
        if matches!(self.billing, Billing::Ended { .. }) {
            return Err(self.illegal("activated"));
        }
        let mut m = self.clone();
        if !m.devices.iter().any(|d| d == device) {
            m.devices.push(device.to_owned());
        }
        if m.activated_at.is_none() {
            m.activated_at = Some(at);
        }
        let mut notices = Vec::new();
        if m.billing == Billing::AwaitingActivation {
            let p = self.plan(terms)?;
            m.anchor = Some(m.local.date_of(at));
            m.trial = self.first_time && p.free_trial.is_some();
            m.billing = Billing::InGoodStanding;
            if m.trial {
                notices.push(Notice::MembershipActivated {
                    free_until: Some(m.boundary(terms, 1)?),
                });
            } else {
                notices.push(Notice::MembershipActivated { free_until: None });
                notices.push(m.charge_notice(terms, 0, at)?);
            }
            m.charged_periods = 1;
        }
        Ok(Step::new(m, notices))
    }

    /// Length of period 0.
    fn first_span(&self, p: &Plan) -> Result<Span, TermsError> {
        if self.trial
            && let Some(s) = opt_span(p.free_trial.as_ref(), "plan.free_trial")?
        {
            return Ok(s);
        }
        if let Some(s) = opt_span(p.initial_term.as_ref(), "plan.initial_term")? {
            return Ok(s);
        }
        span(&p.period, "plan.period")
    }

    /// The local day period `k` starts (period 0 on the anchor).
    pub fn boundary(&self, terms: &Terms, k: u32) -> Result<Date, MembershipError> {
        let anchor = self
            .anchor
            .ok_or_else(|| self.illegal("scheduled before activation"))?;
        if k == 0 {
            return Ok(anchor);
        }
        let p = self.plan(terms)?;
        let first = self.first_span(p)?;
        let every = span(&p.period, "plan.period")?;
        let later = i32::try_from(k - 1).map_err(|_| CalendarError::OutOfRange)?;
        // One addition from the anchor when both are months: never chained.
        if let (Some(f), Some(e)) = (span_months(first), span_months(every)) {
            let total = e
                .checked_mul(later)
                .and_then(|x| x.checked_add(f))
                .ok_or(CalendarError::OutOfRange)?;
            return Ok(crate::calendar::add_months(anchor, total)?);
        }
        let after_first = add_span(anchor, first, 1)?;
        Ok(add_span(after_first, every, later)?)
    }

    /// The instant period `k` starts.
    pub fn period_start(&self, terms: &Terms, k: u32) -> Result<Timestamp, MembershipError> {
        Ok(self.local.start_of(self.boundary(terms, k)?)?)
    }

    /// The period running at `t` (0 before the anchor).
    pub fn period_at(&self, terms: &Terms, t: Timestamp) -> Result<u32, MembershipError> {
        let mut k = 0;
        while self.period_start(terms, k + 1)? <= t {
            k += 1;
        }
        Ok(k)
    }

    /// Price of period `k`: a pending change reaches it only if it starts on or after
    /// the change and the change needs no acceptance or was accepted.
    pub fn price_of(&self, terms: &Terms, k: u32) -> Result<Money, MembershipError> {
        if let Some(c) = &self.pending_change
            && let Some(new) = c.new_price
            && (!c.requires_acceptance || c.accepted)
            && self.period_start(terms, k)? >= c.effective
        {
            return Ok(new);
        }
        Ok(self.price)
    }

    fn charge_notice(
        &self,
        terms: &Terms,
        k: u32,
        not_before: Timestamp,
    ) -> Result<Notice, MembershipError> {
        let p = self.plan(terms)?;
        let start = self.period_start(terms, k)?;
        let before = opt_span(p.charge_before.as_ref(), "plan.charge_before")?;
        let earliest = match before {
            Some(s) => start
                .checked_sub(i64::from(s.n).hours())
                .map_err(CalendarError::from)?,
            None => start,
        };
        Ok(Notice::RenewalCharge {
            period: k,
            amount: self.price_of(terms, k)?,
            earliest: earliest.max(not_before),
            period_start: start.max(not_before),
        })
    }

    /// When the charge for period `k` may first be taken (T-10: up to 24 h before).
    pub fn charge_window_opens(&self, terms: &Terms, k: u32) -> Result<Timestamp, MembershipError> {
        match self.charge_notice(terms, k, self.contract_at)? {
            Notice::RenewalCharge { earliest, .. } => Ok(earliest),
            _ => Err(self.illegal("charged")),
        }
    }

    /// The instant the membership ends (or ended) by cancellation or non-payment, if set.
    fn end_at(&self) -> Option<Timestamp> {
        match &self.billing {
            Billing::Ended { at, .. } => Some(*at),
            Billing::PastDue { grace_ends, .. } => Some(match self.cancel_effective {
                Some(c) => c.min(*grace_ends),
                None => *grace_ends,
            }),
            _ => self.cancel_effective,
        }
    }

    /// What the customer can use at `now` (T-13, T-14).
    pub fn entitlement(
        &self,
        terms: &Terms,
        now: Timestamp,
    ) -> Result<Entitlement, MembershipError> {
        if self.billing == Billing::AwaitingActivation {
            return Ok(Entitlement::None);
        }
        match self.end_at() {
            Some(end) if end <= now => {
                let p = self.plan(terms)?;
                let basic = p.after_end == AfterEnd::BasicMode
                    && (!p.after_end_requires_activation || self.activated_at.is_some());
                Ok(if basic {
                    Entitlement::Basic
                } else {
                    Entitlement::None
                })
            }
            _ => Ok(Entitlement::Full),
        }
    }

    /// Entitlement of one device on one account: a device moved to another account is
    /// not covered there (T-12).
    pub fn entitlement_for(
        &self,
        terms: &Terms,
        device: &str,
        account: &str,
        now: Timestamp,
    ) -> Result<Entitlement, MembershipError> {
        if account != self.account || !self.devices.iter().any(|d| d == device) {
            return Ok(Entitlement::None);
        }
        self.entitlement(terms, now)
    }

    fn basic_after_end(&self, terms: &Terms) -> Result<bool, MembershipError> {
        Ok(self.entitlement(terms, Timestamp::MAX)? == Entitlement::Basic)
    }

    /// The boundary at which a cancellation requested at `at` takes effect.
    pub fn cancellation_effective(
        &self,
        terms: &Terms,
        at: Timestamp,
    ) -> Result<Timestamp, MembershipError> {
        let p = self.plan(terms)?;
        let initial = opt_span(
            p.cancel_notice_initial_term.as_ref(),
            "plan.cancel_notice_initial_term",
        )?;
        let regular = opt_span(p.cancel_notice.as_ref(), "plan.cancel_notice")?;
        let has_initial = p.initial_term.is_some();
        let mut k = self.period_at(terms, at)? + 1;
        loop {
            let b = self.boundary(terms, k)?;
            let rule = if has_initial && k == 1 {
                initial
            } else {
                regular
            };
            let in_time = match rule {
                Some(s) => self.local.notice_by(b, s)?.is_met_by(at),
                None => at < self.local.start_of(b)?,
            };
            if in_time {
                return Ok(self.local.start_of(b)?);
            }
            k += 1;
        }
    }

    /// The customer cancels (T-11, T-13). Effective at a period end; no refund.
    pub fn cancel(
        &self,
        terms: &Terms,
        at: Timestamp,
    ) -> Result<Step<Membership>, MembershipError> {
        let mut m = self.clone();
        match self.billing {
            Billing::Ended { .. } => return Err(self.illegal("cancelled")),
            Billing::AwaitingActivation => {
                m.billing = Billing::Ended {
                    at,
                    reason: EndReason::Cancelled,
                };
                m.cancel_effective = Some(at);
                return Ok(Step::new(
                    m,
                    vec![Notice::CancellationConfirmed { effective: at }],
                ));
            }
            _ => {}
        }
        let effective = self.cancellation_effective(terms, at)?;
        m.cancel_effective = Some(effective);
        Ok(Step::new(
            m,
            vec![Notice::CancellationConfirmed { effective }],
        ))
    }

    /// The seller ends the membership on `termination_notice` (T-11): at the first
    /// boundary at least that long after the notice, not inside the initial term.
    pub fn terminate_by_seller(
        &self,
        terms: &Terms,
        at: Timestamp,
    ) -> Result<Step<Membership>, MembershipError> {
        if matches!(
            self.billing,
            Billing::Ended { .. } | Billing::AwaitingActivation
        ) {
            return Err(self.illegal("terminated by the seller"));
        }
        let p = self.plan(terms)?;
        let notice = opt_span(p.termination_notice.as_ref(), "plan.termination_notice")?
            .ok_or(MembershipError::NoTermination)?;
        let earliest = add_span(self.local.date_of(at), notice, 1)?;
        let mut k = (self.period_at(terms, at)? + 1).max(1);
        while self.boundary(terms, k)? < earliest {
            k += 1;
        }
        let effective = self.period_start(terms, k)?;
        let mut m = self.clone();
        m.cancel_effective = Some(effective);
        Ok(Step::new(
            m,
            vec![Notice::CancellationConfirmed { effective }],
        ))
    }

    /// A renewal charge failed: grace period, then termination (T-13).
    pub fn payment_failed(
        &self,
        terms: &Terms,
        at: Timestamp,
    ) -> Result<Step<Membership>, MembershipError> {
        if self.billing != Billing::InGoodStanding {
            return Err(self.illegal("marked unpaid"));
        }
        let p = self.plan(terms)?;
        let mut m = self.clone();
        match opt_span(p.grace.as_ref(), "plan.grace")? {
            Some(g) => {
                let grace_ends = self.local.statutory(at, g)?.ends_at;
                m.billing = Billing::PastDue {
                    since: at,
                    grace_ends,
                };
                Ok(Step::new(m, vec![Notice::PaymentFailed { grace_ends }]))
            }
            None => {
                m.billing = Billing::Ended {
                    at,
                    reason: EndReason::NonPayment,
                };
                let basic_mode = m.basic_after_end(terms)?;
                Ok(Step::new(
                    m,
                    vec![Notice::MembershipTerminated { at, basic_mode }],
                ))
            }
        }
    }

    /// The overdue charge was paid within the grace period.
    pub fn payment_recovered(&self, at: Timestamp) -> Result<Step<Membership>, MembershipError> {
        match self.billing {
            Billing::PastDue { grace_ends, .. } if at < grace_ends => {
                let mut m = self.clone();
                m.billing = Billing::InGoodStanding;
                Ok(Step::quiet(m))
            }
            _ => Err(self.illegal("paid up")),
        }
    }

    /// The payment method is invalid: the membership ends at once (T-9).
    pub fn payment_method_invalid(
        &self,
        terms: &Terms,
        at: Timestamp,
    ) -> Result<Step<Membership>, MembershipError> {
        if matches!(self.billing, Billing::Ended { .. }) {
            return Err(self.illegal("terminated"));
        }
        if !terms.orders()?.invalid_payment_terminates {
            return Ok(Step::quiet(self.clone()));
        }
        let mut m = self.clone();
        m.billing = Billing::Ended {
            at,
            reason: EndReason::InvalidPayment,
        };
        let basic_mode = m.basic_after_end(terms)?;
        Ok(Step::new(
            m,
            vec![Notice::MembershipTerminated { at, basic_mode }],
        ))
    }

    /// Moves the clock to `now`: announces the renewal charges whose window has
    /// opened, applies or drops a change that has come into effect, and records an end
    /// (cancellation, or grace run out) that has come.
    pub fn advance(
        &self,
        terms: &Terms,
        now: Timestamp,
    ) -> Result<Step<Membership>, MembershipError> {
        let mut m = self.clone();
        let mut notices = Vec::new();
        if matches!(
            m.billing,
            Billing::Ended { .. } | Billing::AwaitingActivation
        ) {
            return Ok(Step::quiet(m));
        }
        let end = m.end_at();
        if m.billing == Billing::InGoodStanding {
            loop {
                let k = m.charged_periods;
                let start = m.period_start(terms, k)?;
                if end.is_some_and(|e| start >= e) || m.charge_window_opens(terms, k)? > now {
                    break;
                }
                notices.push(m.charge_notice(terms, k, m.contract_at)?);
                m.charged_periods += 1;
            }
        }
        if let Some(c) = m.pending_change.clone()
            && c.effective <= now
            && end.is_none_or(|e| c.effective < e)
        {
            if c.requires_acceptance && !c.accepted {
                notices.push(Notice::ChangeNotApplied {
                    effective: c.effective,
                });
            } else {
                if let Some(p) = c.new_price {
                    m.price = p;
                }
                notices.push(Notice::ChangeApplied {
                    effective: c.effective,
                });
            }
            m.pending_change = None;
        }
        if let Some(e) = end
            && e <= now
        {
            let reason = match m.billing {
                Billing::PastDue { grace_ends, .. }
                    if m.cancel_effective.is_none_or(|c| grace_ends < c) =>
                {
                    EndReason::NonPayment
                }
                _ => EndReason::Cancelled,
            };
            m.billing = Billing::Ended { at: e, reason };
            let basic_mode = m.basic_after_end(terms)?;
            notices.push(match reason {
                EndReason::NonPayment => Notice::MembershipTerminated { at: e, basic_mode },
                _ => Notice::MembershipEnded { at: e, basic_mode },
            });
        }
        Ok(Step::new(m, notices))
    }

    /// Reactivation after the end (T-13): a new contract from `at`, no free trial.
    pub fn reactivate(
        &self,
        terms: &Terms,
        at: Timestamp,
        price: Money,
    ) -> Result<Step<Membership>, MembershipError> {
        if !matches!(self.billing, Billing::Ended { .. }) {
            return Err(self.illegal("reactivated"));
        }
        if !self.plan(terms)?.reactivation {
            return Err(MembershipError::NoReactivation);
        }
        let mut m = self.clone();
        m.price = price;
        m.contract_at = at;
        m.anchor = Some(m.local.date_of(at));
        m.trial = false;
        m.first_time = false;
        m.billing = Billing::InGoodStanding;
        m.cancel_effective = None;
        m.pending_change = None;
        let charge = m.charge_notice(terms, 0, at)?;
        m.charged_periods = 1;
        Ok(Step::new(
            m,
            vec![Notice::MembershipReactivated { at }, charge],
        ))
    }

    /// Memberships stay with their account (T-12).
    pub fn transfer(
        &self,
        terms: &Terms,
        to_account: &str,
    ) -> Result<Step<Membership>, MembershipError> {
        if !self.plan(terms)?.transferable {
            return Err(MembershipError::NotTransferable);
        }
        let mut m = self.clone();
        m.account = to_account.to_owned();
        Ok(Step::quiet(m))
    }

    /// A device leaves this account for another: it is no longer covered here, and
    /// the other account needs its own membership (T-12).
    pub fn move_device(
        &self,
        terms: &Terms,
        device: &str,
        to_account: &str,
    ) -> Result<Step<Membership>, MembershipError> {
        let mut m = self.clone();
        m.devices.retain(|d| d != device);
        let notices = if self.plan(terms)?.transferable {
            Vec::new()
        } else {
            vec![Notice::NewMembershipRequired {
                device: device.to_owned(),
                account: to_account.to_owned(),
            }]
        };
        Ok(Step::new(m, notices))
    }

    /// The seller announces a price or feature change (T-4, T-20, T-21).
    pub fn announce_change(
        &self,
        terms: &Terms,
        offer: &ChangeOffer,
    ) -> Result<Step<Membership>, MembershipError> {
        if matches!(self.billing, Billing::Ended { .. }) {
            return Err(self.illegal("changed"));
        }
        let rules = changes::check(
            terms,
            &self.local,
            &self.jurisdiction,
            Some(&self.plan),
            offer,
        )?;
        let effective = self.local.start_of(offer.effective)?;
        let mut m = self.clone();
        m.pending_change = Some(PendingChange {
            effective,
            new_price: offer.new_price,
            requires_acceptance: rules.requires_acceptance,
            accepted: false,
        });
        Ok(Step::new(
            m,
            vec![Notice::ChangeAnnounced {
                effective,
                new_price: offer.new_price,
                requires_acceptance: rules.requires_acceptance,
                cancel_free_until: effective,
            }],
        ))
    }

    pub fn accept_change(&self) -> Result<Step<Membership>, MembershipError> {
        let mut m = self.clone();
        match &mut m.pending_change {
            Some(c) => c.accepted = true,
            None => return Err(self.illegal("asked to accept a change")),
        }
        Ok(Step::quiet(m))
    }

    /// Cancels because of an announced change: ends no later than the change takes
    /// effect, even inside an initial term (Addendum; T-4, T-21).
    pub fn cancel_for_change(
        &self,
        terms: &Terms,
        at: Timestamp,
    ) -> Result<Step<Membership>, MembershipError> {
        let Some(c) = &self.pending_change else {
            return self.cancel(terms, at);
        };
        if at >= c.effective {
            return self.cancel(terms, at);
        }
        let effective = self.cancellation_effective(terms, at)?.min(c.effective);
        let mut m = self.clone();
        m.cancel_effective = Some(effective);
        m.pending_change = None;
        Ok(Step::new(
            m,
            vec![Notice::CancellationConfirmed { effective }],
        ))
    }

    /// Ends the membership at once because its person was erased (issue 13, point 15):
    /// no activation, charge or notice afterwards. Quiet, since there is nobody left to
    /// tell; nothing is refunded here because nothing is charged for the ended time.
    pub fn subject_erased(&self, at: Timestamp) -> Result<Step<Membership>, MembershipError> {
        if matches!(self.billing, Billing::Ended { .. }) {
            return Ok(Step::quiet(self.clone()));
        }
        let mut m = self.clone();
        m.billing = Billing::Ended {
            at,
            reason: EndReason::SubjectErased,
        };
        m.cancel_effective = Some(at);
        m.pending_change = None;
        Ok(Step::quiet(m))
    }

    /// Ends the membership at once after a statutory withdrawal (T-18).
    pub fn withdrawn(&self, at: Timestamp) -> Result<Step<Membership>, MembershipError> {
        if matches!(self.billing, Billing::Ended { .. }) {
            return Err(self.illegal("withdrawn from"));
        }
        let mut m = self.clone();
        m.billing = Billing::Ended {
            at,
            reason: EndReason::Withdrawn,
        };
        m.cancel_effective = Some(at);
        Ok(Step::quiet(m))
    }
}
