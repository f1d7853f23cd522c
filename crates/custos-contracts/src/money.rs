//! Money: an exact decimal amount and its currency.
//!
//! Arithmetic never mixes currencies (a typed [`MoneyError::CurrencyMismatch`]) and
//! never rounds on its own. Rounding to the currency's 2 decimals happens once, at
//! line level ([`Money::round_line`], [`line_total`]): totals are sums of rounded
//! lines, so the amounts a customer sees on each line always add up to the total.
//!
//! Rounding is **half-up** (midpoint away from zero), not banker's rounding.
//! Banker's rounding removes bias when many intermediate values are rounded and
//! summed; here each line is rounded exactly once, so there is no bias to remove, and
//! half-up is what a customer (and the commercial-rounding rules of the four
//! jurisdictions, e.g. the euro conversion rule of Regulation 1103/97 Art. 5) expects
//! when checking an invoice or a refund by hand.

use std::fmt;
use std::str::FromStr;

use rust_decimal::{Decimal, RoundingStrategy};

/// The currencies the terms sell in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Currency {
    Eur,
    Gbp,
    Chf,
}

impl Currency {
    pub fn code(self) -> &'static str {
        match self {
            Currency::Eur => "EUR",
            Currency::Gbp => "GBP",
            Currency::Chf => "CHF",
        }
    }

    /// Minor-unit decimals (all three have cents/pence/Rappen).
    pub fn decimals(self) -> u32 {
        2
    }
}

impl FromStr for Currency {
    type Err = MoneyError;
    fn from_str(s: &str) -> Result<Self, MoneyError> {
        match s.trim().to_ascii_uppercase().as_str() {
            "EUR" | "€" => Ok(Currency::Eur),
            "GBP" | "£" => Ok(Currency::Gbp),
            "CHF" => Ok(Currency::Chf),
            other => Err(MoneyError::UnknownCurrency(other.to_owned())),
        }
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// Why a money operation was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("cannot combine {left} with {right}")]
    CurrencyMismatch { left: Currency, right: Currency },
    #[error("unknown currency `{0}` (EUR, GBP, CHF)")]
    UnknownCurrency(String),
    #[error("`{0}` is not an amount (write it as \"20 EUR\")")]
    Malformed(String),
    #[error("amount out of range")]
    Overflow,
}

/// An amount of one currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Money {
    amount: Decimal,
    currency: Currency,
}

impl Money {
    pub fn new(amount: Decimal, currency: Currency) -> Self {
        Money { amount, currency }
    }

    /// `Money::cents(1999, Currency::Eur)` is EUR 19.99.
    pub fn cents(minor: i64, currency: Currency) -> Self {
        Money::new(Decimal::new(minor, 2), currency)
    }

    pub fn zero(currency: Currency) -> Self {
        Money::new(Decimal::ZERO, currency)
    }

    pub fn amount(&self) -> Decimal {
        self.amount
    }

    pub fn currency(&self) -> Currency {
        self.currency
    }

    pub fn is_negative(&self) -> bool {
        self.amount.is_sign_negative() && !self.amount.is_zero()
    }

    pub fn is_zero(&self) -> bool {
        self.amount.is_zero()
    }

    fn same(&self, other: &Money) -> Result<(), MoneyError> {
        if self.currency == other.currency {
            Ok(())
        } else {
            Err(MoneyError::CurrencyMismatch {
                left: self.currency,
                right: other.currency,
            })
        }
    }

    pub fn checked_add(self, other: Money) -> Result<Money, MoneyError> {
        self.same(&other)?;
        let amount = self
            .amount
            .checked_add(other.amount)
            .ok_or(MoneyError::Overflow)?;
        Ok(Money::new(amount, self.currency))
    }

    pub fn checked_sub(self, other: Money) -> Result<Money, MoneyError> {
        self.same(&other)?;
        let amount = self
            .amount
            .checked_sub(other.amount)
            .ok_or(MoneyError::Overflow)?;
        Ok(Money::new(amount, self.currency))
    }

    /// `self × quantity`, unrounded.
    pub fn times(self, quantity: u32) -> Result<Money, MoneyError> {
        let amount = self
            .amount
            .checked_mul(Decimal::from(quantity))
            .ok_or(MoneyError::Overflow)?;
        Ok(Money::new(amount, self.currency))
    }

    /// The smaller of two amounts of the same currency.
    pub fn min(self, other: Money) -> Result<Money, MoneyError> {
        self.same(&other)?;
        Ok(if other.amount < self.amount {
            other
        } else {
            self
        })
    }

    /// The larger of two amounts of the same currency.
    pub fn max(self, other: Money) -> Result<Money, MoneyError> {
        self.same(&other)?;
        Ok(if other.amount > self.amount {
            other
        } else {
            self
        })
    }

    /// Zero when negative.
    pub fn floor_zero(self) -> Money {
        if self.is_negative() {
            Money::zero(self.currency)
        } else {
            self
        }
    }

    /// Rounded to the currency's decimals, half-up (see the module documentation).
    pub fn round_line(self) -> Money {
        let amount = self.amount.round_dp_with_strategy(
            self.currency.decimals(),
            RoundingStrategy::MidpointAwayFromZero,
        );
        Money::new(amount, self.currency)
    }

    /// Sum of amounts of one currency; `currency` is the result's when `items` is empty.
    pub fn sum<I: IntoIterator<Item = Money>>(
        currency: Currency,
        items: I,
    ) -> Result<Money, MoneyError> {
        items
            .into_iter()
            .try_fold(Money::zero(currency), Money::checked_add)
    }
}

/// `unit × quantity`, rounded once for the line.
pub fn line_total(unit: Money, quantity: u32) -> Result<Money, MoneyError> {
    Ok(unit.times(quantity)?.round_line())
}

impl FromStr for Money {
    type Err = MoneyError;
    /// `"20 EUR"`, `"EUR 20"`, `"19.99 GBP"`.
    fn from_str(s: &str) -> Result<Self, MoneyError> {
        let mut parts = s.split_whitespace();
        let (Some(a), Some(b), None) = (parts.next(), parts.next(), parts.next()) else {
            return Err(MoneyError::Malformed(s.to_owned()));
        };
        let (num, cur) = if a
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_digit() || c == '-')
        {
            (a, b)
        } else {
            (b, a)
        };
        let amount =
            Decimal::from_str_exact(num).map_err(|_| MoneyError::Malformed(s.to_owned()))?;
        Ok(Money::new(amount, cur.parse()?))
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown = self.amount.round_dp_with_strategy(
            self.currency.decimals(),
            RoundingStrategy::MidpointAwayFromZero,
        );
        write!(f, "{} {:.2}", self.currency, shown)
    }
}
