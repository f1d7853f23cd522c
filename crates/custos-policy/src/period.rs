//! Lengths of time written in a policy: `"15d"`, `"72h"`, `"6w"`, `"12mo"`, `"3y"`,
//! `"1bd"` (business days), with long forms (`"15 days"`, `"1 business day"`), and
//! retention rules (`"3y after last_activity"`).
//!
//! Periods deserialize leniently (any string is accepted) so that validation can
//! report *every* malformed or impossible duration with its line, instead of serde
//! stopping at the first one.

use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Longest period a policy may state; anything longer is an authoring mistake.
pub const MAX_DAYS: u64 = 100 * 366;

/// The unit of a [`Span`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Unit {
    Hours,
    Days,
    BusinessDays,
    Weeks,
    Months,
    Years,
}

impl Unit {
    /// Upper bound of one unit in hours, used to compare and bound periods.
    fn approx_hours(self) -> u64 {
        match self {
            Unit::Hours => 1,
            Unit::Days => 24,
            // A business day can stretch over a weekend and a holiday.
            Unit::BusinessDays => 24 * 7 / 5,
            Unit::Weeks => 24 * 7,
            Unit::Months => 24 * 30,
            Unit::Years => 24 * 365,
        }
    }

    fn words(self, n: u32) -> &'static str {
        let one = n == 1;
        match (self, one) {
            (Unit::Hours, true) => "hour",
            (Unit::Hours, false) => "hours",
            (Unit::Days, true) => "day",
            (Unit::Days, false) => "days",
            (Unit::BusinessDays, true) => "business day",
            (Unit::BusinessDays, false) => "business days",
            (Unit::Weeks, true) => "week",
            (Unit::Weeks, false) => "weeks",
            (Unit::Months, true) => "month",
            (Unit::Months, false) => "months",
            (Unit::Years, true) => "year",
            (Unit::Years, false) => "years",
        }
    }
}

/// A parsed, valid length of time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Span {
    pub n: u32,
    pub unit: Unit,
}

impl Span {
    pub fn new(n: u32, unit: Unit) -> Self {
        Span { n, unit }
    }

    /// Approximate length in hours (months as 30 days, years as 365), for ordering
    /// and sanity bounds only; calendars do the exact arithmetic.
    pub fn approx_hours(&self) -> u64 {
        u64::from(self.n) * self.unit.approx_hours()
    }
}

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.n, self.unit.words(self.n))
    }
}

/// Why a period string was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PeriodError {
    #[error("`{0}` is not a length of time")]
    Malformed(String),
    #[error("unknown unit `{0}`")]
    UnknownUnit(String),
    #[error("a period of zero is never what a policy means")]
    Zero,
    #[error("longer than 100 years")]
    TooLong,
}

/// Parses `"15d"`, `"15 days"`, `"1 business day"`, `"72h"`, `"12mo"`, `"3y"`.
pub fn parse_span(raw: &str) -> Result<Span, PeriodError> {
    let s = raw.trim();
    let digits_end = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (num, rest) = s.split_at(digits_end);
    if num.is_empty() {
        return Err(PeriodError::Malformed(raw.to_owned()));
    }
    let n: u32 = num.parse().map_err(|_| PeriodError::TooLong)?;
    let unit = match rest.trim().to_ascii_lowercase().as_str() {
        "h" | "hour" | "hours" => Unit::Hours,
        "d" | "day" | "days" => Unit::Days,
        "bd" | "business day" | "business days" | "working day" | "working days" => {
            Unit::BusinessDays
        }
        "w" | "week" | "weeks" => Unit::Weeks,
        "mo" | "month" | "months" => Unit::Months,
        "y" | "year" | "years" => Unit::Years,
        "" => return Err(PeriodError::Malformed(raw.to_owned())),
        other => return Err(PeriodError::UnknownUnit(other.to_owned())),
    };
    if n == 0 {
        return Err(PeriodError::Zero);
    }
    let span = Span::new(n, unit);
    if span.approx_hours() > MAX_DAYS * 24 {
        return Err(PeriodError::TooLong);
    }
    Ok(span)
}

/// A period as written in the file, with its parse result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Period {
    raw: String,
    parsed: Result<Span, PeriodError>,
}

impl Period {
    pub fn parse(raw: &str) -> Self {
        Period {
            raw: raw.to_owned(),
            parsed: parse_span(raw),
        }
    }

    /// The valid span, or `None` when the text is malformed (validation reports it).
    pub fn span(&self) -> Option<Span> {
        self.parsed.as_ref().ok().copied()
    }

    pub fn error(&self) -> Option<&PeriodError> {
        self.parsed.as_ref().err()
    }

    pub fn raw(&self) -> &str {
        &self.raw
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.parsed {
            Ok(s) => s.fmt(f),
            Err(_) => f.write_str(&self.raw),
        }
    }
}

impl<'de> Deserialize<'de> for Period {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        Ok(Period::parse(&raw))
    }
}

impl Serialize for Period {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.raw)
    }
}

impl JsonSchema for Period {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Period".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "description": "A length of time: a positive number and a unit (h, d, bd = business days, w, mo, y), e.g. \"15d\", \"72h\", \"12mo\", \"1 business day\".",
            "pattern": "^\\s*[0-9]+\\s*(h|hours?|d|days?|bd|business days?|working days?|w|weeks?|mo|months?|y|years?)\\s*$"
        })
    }
}

/// The event a retention period counts from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Trigger {
    Collection,
    LastActivity,
    AccountClosure,
    ContractEnd,
    ConsentWithdrawal,
    PurposeEnd,
}

impl Trigger {
    pub const ALL: [Trigger; 6] = [
        Trigger::Collection,
        Trigger::LastActivity,
        Trigger::AccountClosure,
        Trigger::ContractEnd,
        Trigger::ConsentWithdrawal,
        Trigger::PurposeEnd,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Trigger::Collection => "collection",
            Trigger::LastActivity => "last_activity",
            Trigger::AccountClosure => "account_closure",
            Trigger::ContractEnd => "contract_end",
            Trigger::ConsentWithdrawal => "consent_withdrawal",
            Trigger::PurposeEnd => "purpose_end",
        }
    }

    /// Reads naturally after "N days after …" in a notice.
    pub fn phrase(self) -> &'static str {
        match self {
            Trigger::Collection => "collection",
            Trigger::LastActivity => "your last activity",
            Trigger::AccountClosure => "your account is closed",
            Trigger::ContractEnd => "the end of the contract",
            Trigger::ConsentWithdrawal => "you withdraw your consent",
            Trigger::PurposeEnd => "the purpose is fulfilled",
        }
    }
}

/// A retention rule: how long, counted from which event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RetentionRule {
    pub span: Span,
    pub after: Trigger,
}

impl fmt::Display for RetentionRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.after {
            Trigger::Collection => write!(f, "{} after collection", self.span),
            t => write!(f, "{} after {}", self.span, t.phrase()),
        }
    }
}

/// Why a retention string was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RetentionError {
    #[error(transparent)]
    Period(#[from] PeriodError),
    #[error("unknown retention trigger `{0}`")]
    UnknownTrigger(String),
}

pub fn parse_retention(raw: &str) -> Result<RetentionRule, RetentionError> {
    let (period, after) = match raw.split_once(" after ") {
        Some((p, t)) => {
            let t = t.trim();
            let trigger = Trigger::ALL
                .into_iter()
                .find(|x| x.as_str() == t)
                .ok_or_else(|| RetentionError::UnknownTrigger(t.to_owned()))?;
            (p, trigger)
        }
        None => (raw, Trigger::Collection),
    };
    Ok(RetentionRule {
        span: parse_span(period)?,
        after,
    })
}

/// A retention rule as written, with its parse result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Retention {
    raw: String,
    parsed: Result<RetentionRule, RetentionError>,
}

impl Retention {
    pub fn parse(raw: &str) -> Self {
        Retention {
            raw: raw.to_owned(),
            parsed: parse_retention(raw),
        }
    }

    pub fn rule(&self) -> Option<RetentionRule> {
        self.parsed.as_ref().ok().copied()
    }

    pub fn error(&self) -> Option<&RetentionError> {
        self.parsed.as_ref().err()
    }

    pub fn raw(&self) -> &str {
        &self.raw
    }
}

impl fmt::Display for Retention {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.parsed {
            Ok(r) => r.fmt(f),
            Err(_) => f.write_str(&self.raw),
        }
    }
}

impl<'de> Deserialize<'de> for Retention {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        Ok(Retention::parse(&raw))
    }
}

impl Serialize for Retention {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.raw)
    }
}

impl JsonSchema for Retention {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Retention".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "description": "How long a category is kept: a period, optionally counted from an event: \"3y after last_activity\". Events: collection (default), last_activity, account_closure, contract_end, consent_withdrawal, purpose_end.",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_and_long_forms_agree() {
        assert_eq!(parse_span("15d"), parse_span("15 days"));
        assert_eq!(parse_span("1bd"), parse_span("1 business day"));
        assert_eq!(parse_span("12mo"), Ok(Span::new(12, Unit::Months)));
        assert_eq!(parse_span(" 72h "), Ok(Span::new(72, Unit::Hours)));
    }

    #[test]
    fn impossible_periods_are_refused() {
        assert_eq!(parse_span("0d"), Err(PeriodError::Zero));
        assert_eq!(parse_span("101y"), Err(PeriodError::TooLong));
        assert_eq!(parse_span("99999999999d"), Err(PeriodError::TooLong));
        assert!(matches!(parse_span("d"), Err(PeriodError::Malformed(_))));
        assert!(matches!(parse_span("-3d"), Err(PeriodError::Malformed(_))));
        assert!(matches!(
            parse_span("3 fortnights"),
            Err(PeriodError::UnknownUnit(_))
        ));
        assert!(matches!(parse_span("3"), Err(PeriodError::Malformed(_))));
    }

    #[test]
    fn retention_reads_its_trigger() {
        let r = parse_retention("3y after last_activity").unwrap();
        assert_eq!(r.after, Trigger::LastActivity);
        assert_eq!(r.to_string(), "3 years after your last activity");
        assert_eq!(parse_retention("30d").unwrap().after, Trigger::Collection);
        assert!(matches!(
            parse_retention("3y after lunch"),
            Err(RetentionError::UnknownTrigger(_))
        ));
    }
}
