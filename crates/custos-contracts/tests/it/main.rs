//! Integration tests of the contract engine: one binary (STYLE.md habit 3).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod calendar;
mod money;
mod promises;
mod props;

use custos_contracts::{Currency, Customer, Local, Money, Terms};
use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;

pub const POLICY: &str = include_str!("../../../../policies/plume-design-terms.toml");

/// The terms of the Plume policy, loaded and validated as the server would.
pub fn terms() -> Terms {
    let loaded = custos_policy::load(POLICY, "plume-design-terms.toml").expect("policy loads");
    Terms::new(&loaded.policy).unwrap()
}

pub fn zone(j: &str) -> &'static str {
    match j {
        "BE" => "Europe/Brussels",
        "DE" => "Europe/Berlin",
        "CH" => "Europe/Zurich",
        _ => "Europe/London",
    }
}

pub fn customer(j: &str, sub: Option<&str>) -> Customer {
    Customer::new(j, sub, TimeZone::get(zone(j)).unwrap())
}

pub fn local(j: &str, sub: Option<&str>) -> Local {
    terms().local(&customer(j, sub)).unwrap()
}

/// A local wall-clock time in the customer's zone: `at("DE", "2024-03-15 12:00")`.
pub fn at(j: &str, civil: &str) -> Timestamp {
    let dt: jiff::civil::DateTime = civil.replace(' ', "T").parse().unwrap();
    dt.to_zoned(TimeZone::get(zone(j)).unwrap())
        .unwrap()
        .timestamp()
}

/// The first instant of a local day.
pub fn midnight(j: &str, day: &str) -> Timestamp {
    at(j, &format!("{day} 00:00"))
}

pub fn d(s: &str) -> Date {
    s.parse().unwrap()
}

pub fn eur(cents: i64) -> Money {
    Money::cents(cents, Currency::Eur)
}

pub fn gbp(cents: i64) -> Money {
    Money::cents(cents, Currency::Gbp)
}
