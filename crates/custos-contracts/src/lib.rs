//! The consumer-contract engine: the terms of sale (T-1 … T-21 of SEED-PROMISES.md)
//! as pure functions of the policy, the customer and the time passed in.
//!
//! - [`calendar`] — statutory periods (EU Regulation 1182/71), holiday calendars for
//!   BE, DE, CH and the UK, month arithmetic, business days, the customer's zone.
//! - [`money`] — exact amounts with a currency; rounding only per line.
//! - [`orders`], [`membership`], [`returns`], [`withdrawal`], [`warranty`],
//!   [`changes`] — state machines and clocks. Each transition returns the next state
//!   and the [`notice::Notice`]s owed, or a typed error.
//! - [`terms`] — the numbers, read from the loaded policy; there are no constants.
//! - [`simulate`] — scenarios: one customer's story on a test clock, as a timeline.
//!
//! No IO, no clock: every function that depends on time takes it as an argument.
#![forbid(unsafe_code)]

pub mod calendar;
pub mod changes;
pub mod membership;
pub mod money;
pub mod notice;
pub mod orders;
pub mod returns;
pub mod simulate;
pub mod terms;
pub mod warranty;
pub mod withdrawal;

pub use calendar::{Calendar, Deadline, Local};
pub use money::{Currency, Money, MoneyError};
pub use notice::Notice;
pub use terms::{Customer, Terms, TermsError};

/// The result of a transition: the next state and the notices it owes.
#[derive(Debug, Clone, PartialEq)]
pub struct Step<T> {
    pub next: T,
    pub notices: Vec<Notice>,
}

impl<T> Step<T> {
    pub fn new(next: T, notices: Vec<Notice>) -> Self {
        Step { next, notices }
    }

    /// A transition that owes nobody anything.
    pub fn quiet(next: T) -> Self {
        Step {
            next,
            notices: Vec::new(),
        }
    }
}
