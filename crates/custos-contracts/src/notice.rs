//! What the engines owe a person, as values. A caller writes each into the outbox in
//! the same transaction as the state change that caused it (DESIGN.md §2).

use jiff::Timestamp;
use jiff::civil::Date;

use crate::money::Money;

/// One notice owed to the customer (or, for `Internal…`, to the seller's staff).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    // Orders (T-3, T-6 … T-9)
    OrderAcknowledged {
        reference: String,
    },
    /// A change before confirmation: the customer must re-confirm on the new terms (T-3).
    ReconfirmationRequested {
        reference: String,
        old_total: Money,
        new_total: Money,
    },
    OrderConfirmed {
        reference: String,
        total: Money,
        estimated_delivery: Date,
        contract_formed_at: Timestamp,
    },
    OrderDeclined {
        reference: Option<String>,
        reason: String,
    },
    /// Products unavailable: the seller withdraws and refunds (T-8).
    OrderWithdrawnUnavailable {
        reference: String,
    },
    OrderTerminatedInvalidPayment {
        reference: Option<String>,
    },
    /// A refund the seller must pay by `due` (immediately when `due` is the event time).
    RefundDue {
        amount: Money,
        due: Timestamp,
    },

    // Memberships (T-4, T-10 … T-14, T-20)
    MembershipActivated {
        free_until: Option<Date>,
    },
    /// A renewal charge may be taken from `earliest` and is due at `period_start`.
    RenewalCharge {
        period: u32,
        amount: Money,
        earliest: Timestamp,
        period_start: Timestamp,
    },
    CancellationConfirmed {
        effective: Timestamp,
    },
    PaymentFailed {
        grace_ends: Timestamp,
    },
    MembershipTerminated {
        at: Timestamp,
        basic_mode: bool,
    },
    MembershipEnded {
        at: Timestamp,
        basic_mode: bool,
    },
    MembershipReactivated {
        at: Timestamp,
    },
    /// A device moved to another account needs a new membership there (T-12).
    NewMembershipRequired {
        device: String,
        account: String,
    },
    /// A price or feature change announced with its notice (T-4, T-20).
    ChangeAnnounced {
        effective: Timestamp,
        new_price: Option<Money>,
        requires_acceptance: bool,
        cancel_free_until: Timestamp,
    },
    /// The change did not reach this membership: acceptance was needed and not given.
    ChangeNotApplied {
        effective: Timestamp,
    },
    ChangeApplied {
        effective: Timestamp,
    },

    // Returns and withdrawal (T-15, T-18)
    ReturnAccepted {
        ship_by: Timestamp,
    },
    RmaIssued {
        rma: String,
        ship_by: Timestamp,
    },
    PromotionalPeriodForfeited,
    WithdrawalAcknowledged {
        refund_by: Timestamp,
        return_by: Option<Timestamp>,
    },
}
