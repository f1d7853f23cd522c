//! Scenarios: one customer's story run on a test clock (`custos simulate`).
//!
//! A scenario (TOML, documented in `docs/simulate.md`) names a policy, a customer and
//! a list of timed events (`buy_membership`, `activate`, `cancel`, `place_order`,
//! `deliver`, `notify_return`, …) and optional checks. [`parse`] reads it without
//! touching the file system (the caller loads the policy it names); [`run`] drives the
//! engines of this crate: each event is one transition, and between events the clock
//! moves through every instant the membership engine has something to do (a renewal
//! charge window opening, a change taking effect, a grace period or a cancellation
//! running out), calling [`Membership::advance`] there. Each transition becomes one
//! [`Entry`] of the [`Timeline`]: its time, what happened, the state after it, the
//! notices owed and the amounts they name.
//!
//! Nothing here panics on bad input: every problem is a [`ScenarioError`] naming the
//! event (or check) by its number, counted from 1 in file order, and the field.

use std::fmt;

use jiff::Timestamp;
use jiff::civil::{Date, DateTime};
use jiff::tz::TimeZone;

use crate::calendar::Local;
use crate::changes::{ChangeKind, ChangeOffer};
use crate::membership::{Billing, Entitlement, Membership};
use crate::money::{Currency, Money};
use crate::notice::Notice;
use crate::orders::{BuyerKeys, Order, OrderLine, OrderState};
use crate::returns::{RefundInput, Return, ReturnState, ReturnedItem};
use crate::terms::{Customer, Terms};
use crate::withdrawal::{self, Purchase, Statement, Withdrawal};

/// The clock never takes more steps than this in one scenario (a guard, not a limit
/// any real story reaches: ten years of monthly renewals are ~240 steps).
const MAX_CLOCK_STEPS: usize = 10_000;

/// Where in the scenario a problem is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    Scenario,
    Customer,
    /// An `[[event]]`, numbered from 1 in file order.
    Event(usize),
    /// A `[[check]]`, numbered from 1 in file order.
    Check(usize),
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Place::Scenario => f.write_str("scenario"),
            Place::Customer => f.write_str("[customer]"),
            Place::Event(n) => write!(f, "event {n}"),
            Place::Check(n) => write!(f, "check {n}"),
        }
    }
}

/// Why a scenario cannot be read or run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScenarioError {
    #[error("the scenario is not valid TOML: {0}")]
    Syntax(String),
    /// A field is missing, unknown or malformed.
    #[error("{place}: `{field}`: {reason}")]
    Field {
        place: Place,
        field: String,
        reason: String,
    },
    /// The engine refused an event (the customer's story is impossible under the terms).
    #[error("event {event} (`{action}`, {at}): {reason}")]
    Refused {
        event: usize,
        action: &'static str,
        at: String,
        reason: String,
    },
    /// The policy cannot serve this customer (unknown jurisdiction, missing section).
    #[error("the policy cannot run this scenario: {0}")]
    Terms(String),
    /// The engine failed while the clock moved between events.
    #[error("the clock at {at}: {reason}")]
    Clock { at: String, reason: String },
}

fn field_err(place: Place, field: &str, reason: impl Into<String>) -> ScenarioError {
    ScenarioError::Field {
        place,
        field: field.to_owned(),
        reason: reason.into(),
    }
}

/// The customer of a scenario.
#[derive(Debug, Clone, PartialEq)]
pub struct ScenarioCustomer {
    pub jurisdiction: String,
    pub subdivision: Option<String>,
    /// IANA zone name, as written.
    pub timezone: String,
    pub tz: TimeZone,
    pub consumer: bool,
    pub first_time: bool,
}

/// What to withdraw from (`withdraw = "membership"` or `"order"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Membership,
    Order,
}

/// One action of an event. The TOML key of each is [`Action::name`].
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    BuyMembership {
        plan: String,
        price: Money,
    },
    Activate {
        device: String,
    },
    PayFails,
    PayRecovers,
    PaymentInvalid,
    Cancel,
    CancelForChange,
    SellerTerminates,
    Reactivate {
        price: Option<Money>,
    },
    MoveDevice {
        device: String,
        to_account: String,
    },
    AnnounceChange {
        effective: Date,
        price: Option<Money>,
        legally_mandated: bool,
    },
    AcceptChange,
    PlaceOrder {
        lines: Vec<OrderLine>,
        shipping: Option<Money>,
    },
    AcknowledgeOrder {
        reference: String,
    },
    ConfirmOrder {
        estimated_delivery: Date,
    },
    DeclineOrder {
        reason: String,
    },
    OrderUnavailable,
    Deliver {
        possession: Option<Timestamp>,
    },
    NotifyReturn,
    IssueRma {
        rma: String,
    },
    ShipReturn,
    ReceiveReturn {
        items: Option<Vec<ReturnedItem>>,
        bundle_discount: Option<Money>,
    },
    RefundReturn,
    Withdraw {
        target: Option<Target>,
        form: bool,
    },
    GoodsBack,
    DispatchProven,
}

/// Every action key, in the order the documentation lists them.
pub const ACTIONS: &[&str] = &[
    "buy_membership",
    "activate",
    "pay_fails",
    "pay_recovers",
    "payment_invalid",
    "cancel",
    "cancel_for_change",
    "seller_terminates",
    "reactivate",
    "move_device",
    "announce_change",
    "accept_change",
    "place_order",
    "acknowledge_order",
    "confirm_order",
    "decline_order",
    "order_unavailable",
    "deliver",
    "notify_return",
    "issue_rma",
    "ship_return",
    "receive_return",
    "refund_return",
    "withdraw",
    "goods_back",
    "dispatch_proven",
];

/// Keys an event may carry besides its action.
const EVENT_FIELDS: &[&str] = &["at", "price", "note"];

impl Action {
    pub fn name(&self) -> &'static str {
        match self {
            Action::BuyMembership { .. } => "buy_membership",
            Action::Activate { .. } => "activate",
            Action::PayFails => "pay_fails",
            Action::PayRecovers => "pay_recovers",
            Action::PaymentInvalid => "payment_invalid",
            Action::Cancel => "cancel",
            Action::CancelForChange => "cancel_for_change",
            Action::SellerTerminates => "seller_terminates",
            Action::Reactivate { .. } => "reactivate",
            Action::MoveDevice { .. } => "move_device",
            Action::AnnounceChange { .. } => "announce_change",
            Action::AcceptChange => "accept_change",
            Action::PlaceOrder { .. } => "place_order",
            Action::AcknowledgeOrder { .. } => "acknowledge_order",
            Action::ConfirmOrder { .. } => "confirm_order",
            Action::DeclineOrder { .. } => "decline_order",
            Action::OrderUnavailable => "order_unavailable",
            Action::Deliver { .. } => "deliver",
            Action::NotifyReturn => "notify_return",
            Action::IssueRma { .. } => "issue_rma",
            Action::ShipReturn => "ship_return",
            Action::ReceiveReturn { .. } => "receive_return",
            Action::RefundReturn => "refund_return",
            Action::Withdraw { .. } => "withdraw",
            Action::GoodsBack => "goods_back",
            Action::DispatchProven => "dispatch_proven",
        }
    }
}

/// One `[[event]]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// Position in the file, from 1.
    pub number: usize,
    pub at: Timestamp,
    pub action: Action,
    pub note: Option<String>,
}

/// One `[[check]]`: what must hold at `at`.
#[derive(Debug, Clone, PartialEq)]
pub struct Check {
    pub number: usize,
    pub at: Timestamp,
    pub entitlement: Option<Entitlement>,
    /// Billing state of the membership (`in_good_standing`, `past_due`, …).
    pub membership: Option<String>,
    /// State of the order (`confirmed`, …).
    pub order: Option<String>,
    /// State of the return (`rma_issued`, `received`, …).
    pub return_state: Option<String>,
    /// Price of the membership period running at `at`.
    pub price: Option<Money>,
}

/// A parsed scenario.
#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    /// Path of the policy, relative to the scenario file.
    pub policy: String,
    pub customer: ScenarioCustomer,
    /// Keep the clock running to here after the last event and check.
    pub until: Option<Timestamp>,
    pub events: Vec<Event>,
    pub checks: Vec<Check>,
}

// ---------------------------------------------------------------- parsing

fn known(place: Place, table: &toml::Table, allowed: &[&str]) -> Result<(), ScenarioError> {
    for key in table.keys() {
        if !allowed.contains(&key.as_str()) {
            return Err(field_err(
                place,
                key,
                format!("unknown field (expected one of: {})", allowed.join(", ")),
            ));
        }
    }
    Ok(())
}

fn type_name(v: &toml::Value) -> &'static str {
    v.type_str()
}

fn opt_str(place: Place, t: &toml::Table, key: &str) -> Result<Option<String>, ScenarioError> {
    match t.get(key) {
        None => Ok(None),
        Some(toml::Value::String(s)) => Ok(Some(s.clone())),
        Some(v) => Err(field_err(
            place,
            key,
            format!("expected a string, found {}", type_name(v)),
        )),
    }
}

fn req_str(place: Place, t: &toml::Table, key: &str) -> Result<String, ScenarioError> {
    opt_str(place, t, key)?.ok_or_else(|| field_err(place, key, "missing"))
}

fn opt_bool(place: Place, t: &toml::Table, key: &str) -> Result<Option<bool>, ScenarioError> {
    match t.get(key) {
        None => Ok(None),
        Some(toml::Value::Boolean(b)) => Ok(Some(*b)),
        Some(v) => Err(field_err(
            place,
            key,
            format!("expected true or false, found {}", type_name(v)),
        )),
    }
}

fn money(place: Place, key: &str, s: &str) -> Result<Money, ScenarioError> {
    let m: Money = s
        .parse()
        .map_err(|e| field_err(place, key, format!("{e}")))?;
    if m.is_negative() {
        return Err(field_err(place, key, format!("`{s}` is negative")));
    }
    Ok(m)
}

fn opt_money(place: Place, t: &toml::Table, key: &str) -> Result<Option<Money>, ScenarioError> {
    opt_str(place, t, key)?
        .map(|s| money(place, key, &s))
        .transpose()
}

fn date(place: Place, key: &str, v: &toml::Value) -> Result<Date, ScenarioError> {
    let text = match v {
        toml::Value::String(s) => s.clone(),
        toml::Value::Datetime(d) => d.to_string(),
        other => {
            return Err(field_err(
                place,
                key,
                format!("expected a date, found {}", type_name(other)),
            ));
        }
    };
    text.parse::<Date>().map_err(|_| {
        field_err(
            place,
            key,
            format!("`{text}` is not a date (write it as 2026-03-01)"),
        )
    })
}

fn req_date(place: Place, t: &toml::Table, key: &str) -> Result<Date, ScenarioError> {
    let v = t.get(key).ok_or_else(|| field_err(place, key, "missing"))?;
    date(place, key, v)
}

/// An instant: RFC 3339 with an offset (`2026-03-01T10:00:00+01:00`), or a local
/// date-time in the customer's zone (`2026-03-01 10:00`).
fn instant(
    place: Place,
    key: &str,
    v: &toml::Value,
    tz: &TimeZone,
) -> Result<Timestamp, ScenarioError> {
    let text = match v {
        toml::Value::String(s) => s.clone(),
        toml::Value::Datetime(d) => d.to_string(),
        other => {
            return Err(field_err(
                place,
                key,
                format!("expected a date-time, found {}", type_name(other)),
            ));
        }
    };
    if let Ok(ts) = text.parse::<Timestamp>() {
        return Ok(ts);
    }
    let bad = || {
        field_err(
            place,
            key,
            format!(
                "`{text}` is not a date-time (write 2026-03-01T10:00:00+01:00, or 2026-03-01 10:00 in the customer's zone)"
            ),
        )
    };
    let civil: DateTime = text.replace(' ', "T").parse().map_err(|_| bad())?;
    civil
        .to_zoned(tz.clone())
        .map(|z| z.timestamp())
        .map_err(|_| bad())
}

fn req_instant(
    place: Place,
    t: &toml::Table,
    key: &str,
    tz: &TimeZone,
) -> Result<Timestamp, ScenarioError> {
    let v = t.get(key).ok_or_else(|| field_err(place, key, "missing"))?;
    instant(place, key, v, tz)
}

fn table<'v>(
    place: Place,
    key: &str,
    v: &'v toml::Value,
) -> Result<&'v toml::Table, ScenarioError> {
    v.as_table().ok_or_else(|| {
        field_err(
            place,
            key,
            format!("expected a table, found {}", type_name(v)),
        )
    })
}

/// `key = true` (the only value a flag action takes).
fn flag(place: Place, key: &str, v: &toml::Value) -> Result<(), ScenarioError> {
    match v {
        toml::Value::Boolean(true) => Ok(()),
        _ => Err(field_err(
            place,
            key,
            format!("write `{key} = true` (or leave the event out)"),
        )),
    }
}

/// `key = true` or `key = "name"`: the name, or `default` for `true`.
fn flag_or_name(
    place: Place,
    key: &str,
    v: &toml::Value,
    default: &str,
) -> Result<String, ScenarioError> {
    match v {
        toml::Value::String(s) if !s.trim().is_empty() => Ok(s.clone()),
        toml::Value::Boolean(true) => Ok(default.to_owned()),
        _ => Err(field_err(
            place,
            key,
            format!("write `{key} = true` or `{key} = \"name\"`"),
        )),
    }
}

fn array<'v>(
    place: Place,
    key: &str,
    v: &'v toml::Value,
) -> Result<&'v Vec<toml::Value>, ScenarioError> {
    v.as_array().ok_or_else(|| {
        field_err(
            place,
            key,
            format!("expected an array, found {}", type_name(v)),
        )
    })
}

fn parse_lines(
    place: Place,
    v: &toml::Value,
) -> Result<(Vec<OrderLine>, Option<Money>), ScenarioError> {
    let t = table(place, "place_order", v)?;
    known(place, t, &["items", "shipping"])?;
    let items = t
        .get("items")
        .ok_or_else(|| field_err(place, "place_order.items", "missing"))?;
    let mut lines = Vec::new();
    for (i, item) in array(place, "place_order.items", items)?.iter().enumerate() {
        let key = format!("place_order.items[{i}]");
        let it = table(place, &key, item)?;
        known(place, it, &["sku", "quantity", "price"])?;
        let sku = req_str(place, it, "sku")?;
        let quantity = match it.get("quantity") {
            None => 1,
            Some(toml::Value::Integer(n)) => u32::try_from(*n)
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| field_err(place, &format!("{key}.quantity"), "must be 1 or more"))?,
            Some(other) => {
                return Err(field_err(
                    place,
                    &format!("{key}.quantity"),
                    format!("expected an integer, found {}", type_name(other)),
                ));
            }
        };
        let price = money(
            place,
            &format!("{key}.price"),
            &req_str(place, it, "price")?,
        )?;
        lines.push(OrderLine {
            sku,
            quantity,
            unit_price: price,
        });
    }
    if lines.is_empty() {
        return Err(field_err(
            place,
            "place_order.items",
            "an order needs at least one item",
        ));
    }
    let shipping = opt_money(place, t, "shipping")?;
    Ok((lines, shipping))
}

fn parse_action(
    place: Place,
    key: &str,
    v: &toml::Value,
    event: &toml::Table,
    tz: &TimeZone,
) -> Result<Action, ScenarioError> {
    let price = opt_money(place, event, "price")?;
    let action = match key {
        "buy_membership" => {
            let plan = match v {
                toml::Value::String(s) => s.clone(),
                _ => {
                    return Err(field_err(
                        place,
                        key,
                        "name the plan: `buy_membership = \"homepass\"`",
                    ));
                }
            };
            let price = price.ok_or_else(|| {
                field_err(
                    place,
                    "price",
                    "buy_membership needs the price of one period (`price = \"9.99 EUR\"`)",
                )
            })?;
            Action::BuyMembership { plan, price }
        }
        "activate" => Action::Activate {
            device: flag_or_name(place, key, v, "device-1")?,
        },
        "pay_fails" => flag(place, key, v).map(|()| Action::PayFails)?,
        "pay_recovers" => flag(place, key, v).map(|()| Action::PayRecovers)?,
        "payment_invalid" => flag(place, key, v).map(|()| Action::PaymentInvalid)?,
        "cancel" => flag(place, key, v).map(|()| Action::Cancel)?,
        "cancel_for_change" => flag(place, key, v).map(|()| Action::CancelForChange)?,
        "seller_terminates" => flag(place, key, v).map(|()| Action::SellerTerminates)?,
        "reactivate" => flag(place, key, v).map(|()| Action::Reactivate { price })?,
        "move_device" => {
            let t = table(place, key, v)?;
            known(place, t, &["device", "to_account"])?;
            Action::MoveDevice {
                device: req_str(place, t, "device")?,
                to_account: req_str(place, t, "to_account")?,
            }
        }
        "announce_change" => {
            let t = table(place, key, v)?;
            known(place, t, &["effective", "price", "legally_mandated"])?;
            Action::AnnounceChange {
                effective: req_date(place, t, "effective").map_err(|_| {
                    field_err(
                        place,
                        "announce_change.effective",
                        "missing or not a date (write it as 2026-06-01)",
                    )
                })?,
                price: opt_money(place, t, "price")?,
                legally_mandated: opt_bool(place, t, "legally_mandated")?.unwrap_or(false),
            }
        }
        "accept_change" => flag(place, key, v).map(|()| Action::AcceptChange)?,
        "place_order" => {
            let (lines, shipping) = parse_lines(place, v)?;
            Action::PlaceOrder { lines, shipping }
        }
        "acknowledge_order" => Action::AcknowledgeOrder {
            reference: flag_or_name(place, key, v, "ORDER-1")?,
        },
        "confirm_order" => {
            let t = table(place, key, v)?;
            known(place, t, &["estimated_delivery"])?;
            Action::ConfirmOrder {
                estimated_delivery: req_date(place, t, "estimated_delivery")?,
            }
        }
        "decline_order" => Action::DeclineOrder {
            reason: flag_or_name(place, key, v, "declined")?,
        },
        "order_unavailable" => flag(place, key, v).map(|()| Action::OrderUnavailable)?,
        "deliver" => match v {
            toml::Value::Boolean(true) => Action::Deliver { possession: None },
            toml::Value::Table(t) => {
                known(place, t, &["possession"])?;
                Action::Deliver {
                    possession: Some(req_instant(place, t, "possession", tz)?),
                }
            }
            _ => {
                return Err(field_err(
                    place,
                    key,
                    "write `deliver = true` or `deliver = { possession = \"…\" }`",
                ));
            }
        },
        "notify_return" => flag(place, key, v).map(|()| Action::NotifyReturn)?,
        "issue_rma" => Action::IssueRma {
            rma: flag_or_name(place, key, v, "RMA-1")?,
        },
        "ship_return" => flag(place, key, v).map(|()| Action::ShipReturn)?,
        "receive_return" => match v {
            toml::Value::Boolean(true) => Action::ReceiveReturn {
                items: None,
                bundle_discount: None,
            },
            toml::Value::Table(t) => {
                known(place, t, &["items", "bundle_discount"])?;
                let items = match t.get("items") {
                    None => None,
                    Some(list) => {
                        let mut items = Vec::new();
                        for (i, item) in array(place, "receive_return.items", list)?
                            .iter()
                            .enumerate()
                        {
                            let k = format!("receive_return.items[{i}]");
                            let it = table(place, &k, item)?;
                            known(place, it, &["price", "deterioration"])?;
                            let price_paid =
                                money(place, &format!("{k}.price"), &req_str(place, it, "price")?)?;
                            let deterioration = opt_money(place, it, "deterioration")?
                                .unwrap_or(Money::zero(price_paid.currency()));
                            items.push(ReturnedItem {
                                price_paid,
                                deterioration,
                            });
                        }
                        Some(items)
                    }
                };
                Action::ReceiveReturn {
                    items,
                    bundle_discount: opt_money(place, t, "bundle_discount")?,
                }
            }
            _ => {
                return Err(field_err(
                    place,
                    key,
                    "write `receive_return = true` or a table with `items`",
                ));
            }
        },
        "refund_return" => flag(place, key, v).map(|()| Action::RefundReturn)?,
        "withdraw" => match v {
            toml::Value::Boolean(true) => Action::Withdraw {
                target: None,
                form: false,
            },
            toml::Value::String(s) => Action::Withdraw {
                target: Some(match s.as_str() {
                    "membership" => Target::Membership,
                    "order" => Target::Order,
                    _ => {
                        return Err(field_err(
                            place,
                            key,
                            "write `withdraw = \"membership\"` or `withdraw = \"order\"`",
                        ));
                    }
                }),
                form: false,
            },
            toml::Value::Table(t) => {
                known(place, t, &["from", "form"])?;
                let target = match opt_str(place, t, "from")?.as_deref() {
                    None => None,
                    Some("membership") => Some(Target::Membership),
                    Some("order") => Some(Target::Order),
                    Some(_) => {
                        return Err(field_err(place, "withdraw.from", "`membership` or `order`"));
                    }
                };
                Action::Withdraw {
                    target,
                    form: opt_bool(place, t, "form")?.unwrap_or(false),
                }
            }
            _ => {
                return Err(field_err(
                    place,
                    key,
                    "write `withdraw = true`, `\"membership\"` or `\"order\"`",
                ));
            }
        },
        "goods_back" => flag(place, key, v).map(|()| Action::GoodsBack)?,
        "dispatch_proven" => flag(place, key, v).map(|()| Action::DispatchProven)?,
        _ => {
            return Err(field_err(
                place,
                key,
                format!("unknown action (actions: {})", ACTIONS.join(", ")),
            ));
        }
    };
    if price.is_some()
        && !matches!(
            action,
            Action::BuyMembership { .. } | Action::Reactivate { .. }
        )
    {
        return Err(field_err(place, "price", format!("`{key}` takes no price")));
    }
    Ok(action)
}

fn parse_event(number: usize, v: &toml::Value, tz: &TimeZone) -> Result<Event, ScenarioError> {
    let place = Place::Event(number);
    let t = v.as_table().ok_or_else(|| {
        field_err(
            Place::Scenario,
            "event",
            "each event is a table (`[[event]]`)",
        )
    })?;
    let at = req_instant(place, t, "at", tz)?;
    let note = opt_str(place, t, "note")?;
    let mut action = None;
    for (key, value) in t {
        if EVENT_FIELDS.contains(&key.as_str()) {
            continue;
        }
        if action.is_some() {
            return Err(field_err(
                place,
                key,
                "an event has one action; write another [[event]]",
            ));
        }
        action = Some(parse_action(place, key, value, t, tz)?);
    }
    let action = action.ok_or_else(|| {
        field_err(
            place,
            "action",
            format!("missing (one of: {})", ACTIONS.join(", ")),
        )
    })?;
    Ok(Event {
        number,
        at,
        action,
        note,
    })
}

fn parse_check(number: usize, v: &toml::Value, tz: &TimeZone) -> Result<Check, ScenarioError> {
    let place = Place::Check(number);
    let t = v.as_table().ok_or_else(|| {
        field_err(
            Place::Scenario,
            "check",
            "each check is a table (`[[check]]`)",
        )
    })?;
    known(
        place,
        t,
        &[
            "at",
            "expect_entitlement",
            "expect_membership",
            "expect_order",
            "expect_return",
            "expect_price",
            "note",
        ],
    )?;
    let at = req_instant(place, t, "at", tz)?;
    let entitlement = match opt_str(place, t, "expect_entitlement")?.as_deref() {
        None => None,
        Some("full") => Some(Entitlement::Full),
        Some("basic") => Some(Entitlement::Basic),
        Some("none") => Some(Entitlement::None),
        Some(other) => {
            return Err(field_err(
                place,
                "expect_entitlement",
                format!("`{other}`: expected \"full\", \"basic\" or \"none\""),
            ));
        }
    };
    let check = Check {
        number,
        at,
        entitlement,
        membership: opt_str(place, t, "expect_membership")?,
        order: opt_str(place, t, "expect_order")?,
        return_state: opt_str(place, t, "expect_return")?,
        price: opt_money(place, t, "expect_price")?,
    };
    if check.entitlement.is_none()
        && check.membership.is_none()
        && check.order.is_none()
        && check.return_state.is_none()
        && check.price.is_none()
    {
        return Err(field_err(
            place,
            "expect_entitlement",
            "a check expects something (expect_entitlement, expect_membership, expect_order, expect_return or expect_price)",
        ));
    }
    Ok(check)
}

fn parse_customer(v: Option<&toml::Value>) -> Result<ScenarioCustomer, ScenarioError> {
    let place = Place::Customer;
    let v = v.ok_or_else(|| {
        field_err(
            Place::Scenario,
            "customer",
            "missing ([customer] with jurisdiction and timezone)",
        )
    })?;
    let t = table(Place::Scenario, "customer", v)?;
    known(
        place,
        t,
        &[
            "jurisdiction",
            "subdivision",
            "timezone",
            "consumer",
            "first_time",
        ],
    )?;
    let timezone = req_str(place, t, "timezone")?;
    let tz = TimeZone::get(&timezone).map_err(|_| {
        field_err(
            place,
            "timezone",
            format!("`{timezone}` is not a time zone (write e.g. Europe/Berlin)"),
        )
    })?;
    Ok(ScenarioCustomer {
        jurisdiction: req_str(place, t, "jurisdiction")?,
        subdivision: opt_str(place, t, "subdivision")?,
        timezone,
        tz,
        consumer: opt_bool(place, t, "consumer")?.unwrap_or(true),
        first_time: opt_bool(place, t, "first_time")?.unwrap_or(true),
    })
}

/// Reads a scenario. Events and checks must each be in time order.
pub fn parse(text: &str) -> Result<Scenario, ScenarioError> {
    let root: toml::Table = text
        .parse()
        .map_err(|e: toml::de::Error| ScenarioError::Syntax(e.to_string().trim_end().to_owned()))?;
    known(
        Place::Scenario,
        &root,
        &["policy", "customer", "until", "event", "check"],
    )?;
    let policy = req_str(Place::Scenario, &root, "policy")?;
    let customer = parse_customer(root.get("customer"))?;
    let until = root
        .get("until")
        .map(|v| instant(Place::Scenario, "until", v, &customer.tz))
        .transpose()?;
    let mut events: Vec<Event> = Vec::new();
    if let Some(list) = root.get("event") {
        for (i, v) in array(Place::Scenario, "event", list)?.iter().enumerate() {
            let e = parse_event(i + 1, v, &customer.tz)?;
            if let Some(prev) = events.last()
                && e.at < prev.at
            {
                return Err(field_err(
                    Place::Event(e.number),
                    "at",
                    format!(
                        "{} is before event {} ({}): events must be in time order",
                        e.at, prev.number, prev.at
                    ),
                ));
            }
            events.push(e);
        }
    }
    if events.is_empty() {
        return Err(field_err(
            Place::Scenario,
            "event",
            "a scenario needs at least one [[event]]",
        ));
    }
    let mut checks: Vec<Check> = Vec::new();
    if let Some(list) = root.get("check") {
        for (i, v) in array(Place::Scenario, "check", list)?.iter().enumerate() {
            let c = parse_check(i + 1, v, &customer.tz)?;
            if let Some(prev) = checks.last()
                && c.at < prev.at
            {
                return Err(field_err(
                    Place::Check(c.number),
                    "at",
                    format!(
                        "{} is before check {} ({}): checks must be in time order",
                        c.at, prev.number, prev.at
                    ),
                ));
            }
            checks.push(c);
        }
    }
    Ok(Scenario {
        policy,
        customer,
        until,
        events,
        checks,
    })
}

// ---------------------------------------------------------------- the timeline

/// An amount a notice names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Amount {
    pub label: String,
    pub money: Money,
}

/// A deadline worth knowing at this point of the story.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dated {
    pub label: String,
    /// The first instant that is too late.
    pub ends_at: Timestamp,
    /// The last day to act on, in the customer's calendar.
    pub last_day: Date,
}

/// One line of the timeline.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub at: Timestamp,
    /// The event's number; `None` for a step of the clock between events.
    pub event: Option<usize>,
    /// The action's name, or `clock`.
    pub what: String,
    pub note: Option<String>,
    /// The state after this step, e.g. `membership homepass in_good_standing`.
    pub state: String,
    /// What the customer can use right after this step (`None` without a membership).
    pub entitlement: Option<Entitlement>,
    pub notices: Vec<Notice>,
    pub amounts: Vec<Amount>,
    pub deadlines: Vec<Dated>,
}

/// The outcome of one `[[check]]`.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckOutcome {
    pub number: usize,
    pub at: Timestamp,
    /// Each expectation: (what, expected, actual).
    pub expectations: Vec<(String, String, String)>,
}

impl CheckOutcome {
    pub fn passed(&self) -> bool {
        self.expectations.iter().all(|(_, e, a)| e == a)
    }
}

impl fmt::Display for CheckOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "check {} at {}: ", self.number, self.at)?;
        let parts: Vec<String> = self
            .expectations
            .iter()
            .map(|(what, e, a)| {
                if e == a {
                    format!("{what} {a} (ok)")
                } else {
                    format!("{what} expected {e}, got {a}")
                }
            })
            .collect();
        f.write_str(&parts.join("; "))
    }
}

/// What happened, in order.
#[derive(Debug, Clone, PartialEq)]
pub struct Timeline {
    pub tz: TimeZone,
    pub timezone: String,
    pub policy_version: String,
    pub entries: Vec<Entry>,
    pub checks: Vec<CheckOutcome>,
}

impl Timeline {
    /// The first check that failed, if any.
    pub fn failed_check(&self) -> Option<&CheckOutcome> {
        self.checks.iter().find(|c| !c.passed())
    }

    /// `2026-04-01 00:00 CEST`: a time on the customer's wall clock.
    pub fn local(&self, t: Timestamp) -> String {
        local_time(&self.tz, t)
    }

    /// The notice in words, times in the customer's zone.
    pub fn describe(&self, n: &Notice) -> String {
        describe(&self.tz, n)
    }
}

fn local_time(tz: &TimeZone, t: Timestamp) -> String {
    t.to_zoned(tz.clone())
        .strftime("%Y-%m-%d %H:%M %Z")
        .to_string()
}

/// A stable snake_case name of a notice (the JSON `kind`).
pub fn notice_kind(n: &Notice) -> &'static str {
    match n {
        Notice::OrderAcknowledged { .. } => "order_acknowledged",
        Notice::ReconfirmationRequested { .. } => "reconfirmation_requested",
        Notice::OrderConfirmed { .. } => "order_confirmed",
        Notice::OrderDeclined { .. } => "order_declined",
        Notice::OrderWithdrawnUnavailable { .. } => "order_withdrawn_unavailable",
        Notice::OrderTerminatedInvalidPayment { .. } => "order_terminated_invalid_payment",
        Notice::RefundDue { .. } => "refund_due",
        Notice::MembershipActivated { .. } => "membership_activated",
        Notice::RenewalCharge { .. } => "renewal_charge",
        Notice::CancellationConfirmed { .. } => "cancellation_confirmed",
        Notice::PaymentFailed { .. } => "payment_failed",
        Notice::MembershipTerminated { .. } => "membership_terminated",
        Notice::MembershipEnded { .. } => "membership_ended",
        Notice::MembershipReactivated { .. } => "membership_reactivated",
        Notice::NewMembershipRequired { .. } => "new_membership_required",
        Notice::ChangeAnnounced { .. } => "change_announced",
        Notice::ChangeNotApplied { .. } => "change_not_applied",
        Notice::ChangeApplied { .. } => "change_applied",
        Notice::ReturnAccepted { .. } => "return_accepted",
        Notice::RmaIssued { .. } => "rma_issued",
        Notice::PromotionalPeriodForfeited => "promotional_period_forfeited",
        Notice::WithdrawalAcknowledged { .. } => "withdrawal_acknowledged",
    }
}

/// A notice in words, with times on the customer's wall clock.
pub fn describe(tz: &TimeZone, n: &Notice) -> String {
    let t = |ts: &Timestamp| local_time(tz, *ts);
    match n {
        Notice::OrderAcknowledged { reference } => {
            format!("order acknowledged, reference {reference}")
        }
        Notice::ReconfirmationRequested {
            old_total,
            new_total,
            ..
        } => {
            format!("prices changed before confirmation: re-confirm {new_total} (was {old_total})")
        }
        Notice::OrderConfirmed {
            reference,
            total,
            estimated_delivery,
            contract_formed_at,
        } => format!(
            "order {reference} confirmed: contract formed {}, total {total}, estimated delivery {estimated_delivery}",
            t(contract_formed_at)
        ),
        Notice::OrderDeclined { reason, .. } => format!("order declined: {reason}"),
        Notice::OrderWithdrawnUnavailable { reference } => {
            format!("order {reference} withdrawn: products unavailable")
        }
        Notice::OrderTerminatedInvalidPayment { .. } => {
            "order terminated: invalid payment method".to_owned()
        }
        Notice::RefundDue { amount, due } => format!("refund {amount} due by {}", t(due)),
        Notice::MembershipActivated {
            free_until: Some(d),
        } => {
            format!("membership activated, free until {d}")
        }
        Notice::MembershipActivated { free_until: None } => "membership activated".to_owned(),
        Notice::RenewalCharge {
            period,
            amount,
            earliest,
            period_start,
        } => format!(
            "renewal charge for period {period}: {amount}, may be taken from {}, period starts {}",
            t(earliest),
            t(period_start)
        ),
        Notice::CancellationConfirmed { effective } => {
            format!("cancellation confirmed, effective {}", t(effective))
        }
        Notice::PaymentFailed { grace_ends } => {
            format!("payment failed, grace period until {}", t(grace_ends))
        }
        Notice::MembershipTerminated { at, basic_mode } => format!(
            "membership terminated for non-payment at {}{}",
            t(at),
            if *basic_mode { ", Basic Mode" } else { "" }
        ),
        Notice::MembershipEnded { at, basic_mode } => format!(
            "membership ended at {}{}",
            t(at),
            if *basic_mode { ", Basic Mode" } else { "" }
        ),
        Notice::MembershipReactivated { at } => format!("membership reactivated at {}", t(at)),
        Notice::NewMembershipRequired { device, account } => {
            format!("device {device} needs a new membership on account {account}")
        }
        Notice::ChangeAnnounced {
            effective,
            new_price,
            requires_acceptance,
            cancel_free_until,
        } => format!(
            "change announced for {}{}{}; may cancel free of charge until {}",
            t(effective),
            new_price
                .map(|p| format!(", new price {p}"))
                .unwrap_or_default(),
            if *requires_acceptance {
                ", applies only if accepted"
            } else {
                ""
            },
            t(cancel_free_until)
        ),
        Notice::ChangeNotApplied { effective } => {
            format!("change of {} not applied: not accepted", t(effective))
        }
        Notice::ChangeApplied { effective } => format!("change of {} applied", t(effective)),
        Notice::ReturnAccepted { ship_by } => format!("return accepted, ship by {}", t(ship_by)),
        Notice::RmaIssued { rma, ship_by } => format!("RMA {rma} issued, ship by {}", t(ship_by)),
        Notice::PromotionalPeriodForfeited => "unused promotional period forfeited".to_owned(),
        Notice::WithdrawalAcknowledged {
            refund_by,
            return_by,
        } => format!(
            "withdrawal acknowledged, refund by {}{}",
            t(refund_by),
            return_by
                .map(|r| format!(", goods back by {}", t(&r)))
                .unwrap_or_default()
        ),
    }
}

fn amounts_of(notices: &[Notice]) -> Vec<Amount> {
    let mut out = Vec::new();
    let mut push = |label: String, money: Money| out.push(Amount { label, money });
    for n in notices {
        match n {
            Notice::RenewalCharge { period, amount, .. } => {
                push(format!("renewal charge, period {period}"), *amount);
            }
            Notice::RefundDue { amount, .. } => push("refund".to_owned(), *amount),
            Notice::OrderConfirmed { total, .. } => push("order total".to_owned(), *total),
            Notice::ReconfirmationRequested { new_total, .. } => {
                push("new total".to_owned(), *new_total)
            }
            Notice::ChangeAnnounced {
                new_price: Some(p), ..
            } => push("announced price".to_owned(), *p),
            _ => {}
        }
    }
    out
}

// ---------------------------------------------------------------- running

struct World<'t> {
    terms: &'t Terms,
    local: Local,
    customer: ScenarioCustomer,
    membership: Option<Membership>,
    /// Renewal charges announced so far (what a withdrawal refunds).
    membership_paid: Option<Money>,
    order: Option<Order>,
    /// (delivery confirmed, possession of the last item)
    delivered: Option<(Timestamp, Timestamp)>,
    ret: Option<Return>,
    withdrawal: Option<Withdrawal>,
    now: Option<Timestamp>,
    entries: Vec<Entry>,
}

fn billing_state(b: &Billing) -> &'static str {
    match b {
        Billing::AwaitingActivation => "awaiting_activation",
        Billing::InGoodStanding => "in_good_standing",
        Billing::PastDue { .. } => "past_due",
        Billing::Ended { .. } => "ended",
    }
}

fn return_state(r: &ReturnState) -> &'static str {
    match r {
        ReturnState::Notified => "notified",
        ReturnState::RmaIssued { .. } => "rma_issued",
        ReturnState::Shipped { .. } => "shipped",
        ReturnState::Received { .. } => "received",
        ReturnState::Refunded { .. } => "refunded",
    }
}

fn entitlement_name(e: Entitlement) -> &'static str {
    match e {
        Entitlement::Full => "full",
        Entitlement::Basic => "basic",
        Entitlement::None => "none",
    }
}

impl fmt::Display for Entitlement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(entitlement_name(*self))
    }
}

/// Every error of a transition becomes a refusal naming the event.
struct Ev<'e> {
    number: usize,
    action: &'static str,
    at: Timestamp,
    tz: &'e TimeZone,
}

impl Ev<'_> {
    fn refuse(&self, reason: impl fmt::Display) -> ScenarioError {
        ScenarioError::Refused {
            event: self.number,
            action: self.action,
            at: local_time(self.tz, self.at),
            reason: reason.to_string(),
        }
    }
}

impl World<'_> {
    fn state(&self) -> String {
        let mut parts = Vec::new();
        if let Some(m) = &self.membership {
            let mut s = format!("{} {}", m.plan, billing_state(&m.billing));
            if let (Some(end), false) = (
                m.cancel_effective,
                matches!(m.billing, Billing::Ended { .. }),
            ) {
                s.push_str(&format!(" (ends {})", local_time(&self.customer.tz, end)));
            }
            parts.push(s);
        }
        if let Some(o) = &self.order {
            parts.push(format!("order {}", o.state.name()));
        }
        if let Some(r) = &self.ret {
            parts.push(format!("return {}", return_state(&r.state)));
        }
        if let Some(w) = &self.withdrawal {
            parts.push(if w.goods_back_at.is_some() {
                "withdrawal goods_back".to_owned()
            } else {
                "withdrawal declared".to_owned()
            });
        }
        if parts.is_empty() {
            "-".to_owned()
        } else {
            parts.join(", ")
        }
    }

    fn entitlement(&self, at: Timestamp) -> Result<Entitlement, String> {
        match &self.membership {
            Some(m) => m.entitlement(self.terms, at).map_err(|e| e.to_string()),
            None => Ok(Entitlement::None),
        }
    }

    fn record(
        &mut self,
        at: Timestamp,
        event: Option<&Event>,
        notices: Vec<Notice>,
        mut amounts: Vec<Amount>,
        deadlines: Vec<Dated>,
    ) -> Result<(), String> {
        for n in &notices {
            if let Notice::RenewalCharge { amount, .. } = n {
                let paid = match self.membership_paid {
                    Some(p) => p.checked_add(*amount).map_err(|e| e.to_string())?,
                    None => *amount,
                };
                self.membership_paid = Some(paid);
            }
        }
        let mut all = amounts_of(&notices);
        all.append(&mut amounts);
        let entitlement = match self.membership {
            Some(_) => Some(self.entitlement(at)?),
            None => None,
        };
        self.entries.push(Entry {
            at,
            event: event.map(|e| e.number),
            what: event.map_or("clock", |e| e.action.name()).to_owned(),
            note: event.and_then(|e| e.note.clone()),
            state: self.state(),
            entitlement,
            notices,
            amounts: all,
            deadlines,
        });
        Ok(())
    }

    /// The next instant after `after` at which the membership engine has work.
    fn next_wake(&self, after: Timestamp) -> Result<Option<Timestamp>, String> {
        let Some(m) = &self.membership else {
            return Ok(None);
        };
        let e = |x: crate::membership::MembershipError| x.to_string();
        let mut candidates = Vec::new();
        let end = match &m.billing {
            Billing::Ended { .. } | Billing::AwaitingActivation => return Ok(None),
            Billing::PastDue { grace_ends, .. } => {
                candidates.push(*grace_ends);
                Some(
                    m.cancel_effective
                        .map_or(*grace_ends, |c| c.min(*grace_ends)),
                )
            }
            Billing::InGoodStanding => {
                let k = m.charged_periods;
                let start = m.period_start(self.terms, k).map_err(e)?;
                if m.cancel_effective.is_none_or(|c| start < c) {
                    candidates.push(m.charge_window_opens(self.terms, k).map_err(e)?);
                }
                m.cancel_effective
            }
        };
        if let Some(end) = end {
            candidates.push(end);
        }
        if let Some(c) = &m.pending_change {
            candidates.push(c.effective);
        }
        Ok(candidates.into_iter().filter(|t| *t > after).min())
    }

    /// Moves the clock to `to`, stopping wherever the membership engine has work.
    fn run_clock(&mut self, to: Timestamp) -> Result<(), ScenarioError> {
        let mut steps = 0;
        loop {
            let Some(now) = self.now else { return Ok(()) };
            let tz = self.customer.tz.clone();
            let clock_err = |at: Timestamp, reason: String| ScenarioError::Clock {
                at: local_time(&tz, at),
                reason,
            };
            let wake = self.next_wake(now).map_err(|r| clock_err(now, r))?;
            let Some(wake) = wake.filter(|w| *w <= to) else {
                break;
            };
            steps += 1;
            if steps > MAX_CLOCK_STEPS {
                return Err(clock_err(
                    wake,
                    format!("more than {MAX_CLOCK_STEPS} steps"),
                ));
            }
            if let Some(m) = &self.membership {
                let step = m
                    .advance(self.terms, wake)
                    .map_err(|e| clock_err(wake, e.to_string()))?;
                let changed = step.next != *m;
                self.membership = Some(step.next);
                if changed || !step.notices.is_empty() {
                    self.record(wake, None, step.notices, Vec::new(), Vec::new())
                        .map_err(|r| clock_err(wake, r))?;
                }
            }
            self.now = Some(wake);
        }
        if self.now.is_some_and(|n| n < to) {
            self.now = Some(to);
        }
        Ok(())
    }

    fn membership(&self, ev: &Ev) -> Result<&Membership, ScenarioError> {
        self.membership
            .as_ref()
            .ok_or_else(|| ev.refuse("there is no membership yet (buy_membership first)"))
    }

    fn order(&self, ev: &Ev) -> Result<&Order, ScenarioError> {
        self.order
            .as_ref()
            .ok_or_else(|| ev.refuse("there is no order yet (place_order first)"))
    }

    fn ret(&self, ev: &Ev) -> Result<&Return, ScenarioError> {
        self.ret
            .as_ref()
            .ok_or_else(|| ev.refuse("there is no return yet (notify_return first)"))
    }

    fn withdrawal(&self, ev: &Ev) -> Result<&Withdrawal, ScenarioError> {
        self.withdrawal
            .as_ref()
            .ok_or_else(|| ev.refuse("there is no withdrawal yet (withdraw first)"))
    }

    fn deadline(&self, label: &str, d: &crate::calendar::Deadline) -> Dated {
        Dated {
            label: label.to_owned(),
            ends_at: d.ends_at,
            last_day: d.last_day,
        }
    }

    fn apply(&mut self, event: &Event) -> Result<(), ScenarioError> {
        let at = event.at;
        let tz = self.customer.tz.clone();
        let ev = Ev {
            number: event.number,
            action: event.action.name(),
            at,
            tz: &tz,
        };
        let r = |e: &dyn fmt::Display| ev.refuse(e);
        let terms = self.terms;
        let mut notices = Vec::new();
        let mut amounts = Vec::new();
        let mut deadlines = Vec::new();
        match &event.action {
            Action::BuyMembership { plan, price } => {
                if self.membership.is_some() {
                    return Err(
                        ev.refuse("a scenario follows one membership; this one already has it")
                    );
                }
                let step = Membership::purchase(
                    terms,
                    "membership-1",
                    plan,
                    "account-1",
                    &self.customer.jurisdiction,
                    self.local.clone(),
                    *price,
                    at,
                    self.customer.first_time,
                )
                .map_err(|e| r(&e))?;
                if self.customer.consumer {
                    let d = withdrawal::deadline(
                        terms,
                        &self.local,
                        &self.customer.jurisdiction,
                        &Purchase::Membership { contract_at: at },
                    )
                    .map_err(|e| r(&e))?;
                    deadlines.push(self.deadline("statutory withdrawal period ends", &d));
                }
                notices = step.notices;
                self.membership = Some(step.next);
            }
            Action::Activate { device } => {
                let step = self
                    .membership(&ev)?
                    .activate(terms, device, at)
                    .map_err(|e| r(&e))?;
                notices = step.notices;
                self.membership = Some(step.next);
            }
            Action::PayFails => {
                let step = self
                    .membership(&ev)?
                    .payment_failed(terms, at)
                    .map_err(|e| r(&e))?;
                notices = step.notices;
                self.membership = Some(step.next);
            }
            Action::PayRecovers => {
                let step = self
                    .membership(&ev)?
                    .payment_recovered(at)
                    .map_err(|e| r(&e))?;
                notices = step.notices;
                self.membership = Some(step.next);
            }
            Action::PaymentInvalid => {
                let mut any = false;
                if let Some(m) = &self.membership
                    && !matches!(m.billing, Billing::Ended { .. })
                {
                    let step = m.payment_method_invalid(terms, at).map_err(|e| r(&e))?;
                    notices.extend(step.notices);
                    self.membership = Some(step.next);
                    any = true;
                }
                if let Some(o) = &self.order
                    && !o.state.is_final()
                {
                    let step = o.payment_invalid(terms, at).map_err(|e| r(&e))?;
                    notices.extend(step.notices);
                    self.order = Some(step.next);
                    any = true;
                }
                if !any {
                    return Err(ev.refuse("there is no running membership or order to end"));
                }
            }
            Action::Cancel => {
                let step = self.membership(&ev)?.cancel(terms, at).map_err(|e| r(&e))?;
                notices = step.notices;
                self.membership = Some(step.next);
            }
            Action::CancelForChange => {
                let step = self
                    .membership(&ev)?
                    .cancel_for_change(terms, at)
                    .map_err(|e| r(&e))?;
                notices = step.notices;
                self.membership = Some(step.next);
            }
            Action::SellerTerminates => {
                let step = self
                    .membership(&ev)?
                    .terminate_by_seller(terms, at)
                    .map_err(|e| r(&e))?;
                notices = step.notices;
                self.membership = Some(step.next);
            }
            Action::Reactivate { price } => {
                let m = self.membership(&ev)?;
                let step = m
                    .reactivate(terms, at, price.unwrap_or(m.price))
                    .map_err(|e| r(&e))?;
                notices = step.notices;
                self.membership = Some(step.next);
            }
            Action::MoveDevice { device, to_account } => {
                let step = self
                    .membership(&ev)?
                    .move_device(terms, device, to_account)
                    .map_err(|e| r(&e))?;
                notices = step.notices;
                self.membership = Some(step.next);
            }
            Action::AnnounceChange {
                effective,
                price,
                legally_mandated,
            } => {
                let offer = ChangeOffer {
                    kind: if price.is_some() {
                        ChangeKind::Price
                    } else {
                        ChangeKind::Features
                    },
                    announced_at: at,
                    effective: *effective,
                    new_price: *price,
                    legally_mandated: *legally_mandated,
                };
                let step = self
                    .membership(&ev)?
                    .announce_change(terms, &offer)
                    .map_err(|e| r(&e))?;
                notices = step.notices;
                self.membership = Some(step.next);
            }
            Action::AcceptChange => {
                let step = self.membership(&ev)?.accept_change().map_err(|e| r(&e))?;
                notices = step.notices;
                self.membership = Some(step.next);
            }
            Action::PlaceOrder { lines, shipping } => {
                if self.order.is_some() {
                    return Err(ev.refuse("a scenario follows one order; this one already has it"));
                }
                let currency = lines
                    .first()
                    .map_or(Currency::Eur, |l| l.unit_price.currency());
                let keys = BuyerKeys {
                    person: "customer".to_owned(),
                    email: "customer".to_owned(),
                    household: "customer".to_owned(),
                    card: "customer".to_owned(),
                    address: "customer".to_owned(),
                };
                let step = Order::place(
                    terms,
                    "order-1",
                    keys,
                    lines.clone(),
                    shipping.unwrap_or(Money::zero(currency)),
                    at,
                    &[],
                )
                .map_err(|e| r(&e))?;
                let total = step.next.total().map_err(|e| r(&e))?;
                amounts.push(Amount {
                    label: "order total".to_owned(),
                    money: total,
                });
                notices = step.notices;
                self.order = Some(step.next);
            }
            Action::AcknowledgeOrder { reference } => {
                let step = self.order(&ev)?.acknowledge(reference).map_err(|e| r(&e))?;
                notices = step.notices;
                self.order = Some(step.next);
            }
            Action::ConfirmOrder { estimated_delivery } => {
                let step = self
                    .order(&ev)?
                    .confirm(*estimated_delivery, at)
                    .map_err(|e| r(&e))?;
                notices = step.notices;
                self.order = Some(step.next);
            }
            Action::DeclineOrder { reason } => {
                let step = self.order(&ev)?.decline(reason, at).map_err(|e| r(&e))?;
                notices = step.notices;
                self.order = Some(step.next);
            }
            Action::OrderUnavailable => {
                let step = self
                    .order(&ev)?
                    .withdraw_unavailable(terms, at)
                    .map_err(|e| r(&e))?;
                notices = step.notices;
                self.order = Some(step.next);
            }
            Action::Deliver { possession } => {
                let o = self.order(&ev)?;
                let OrderState::Confirmed {
                    at: contract_at, ..
                } = o.state
                else {
                    return Err(ev.refuse(format!(
                        "only a confirmed order is delivered (the order is {})",
                        o.state.name()
                    )));
                };
                let possession = possession.unwrap_or(at);
                if possession < at {
                    return Err(ev.refuse("possession cannot come before delivery"));
                }
                let w = crate::returns::window(terms, &self.local, at, possession)
                    .map_err(|e| r(&e))?;
                deadlines.push(self.deadline("return notice window ends", &w));
                if self.customer.consumer {
                    let d = withdrawal::deadline(
                        terms,
                        &self.local,
                        &self.customer.jurisdiction,
                        &Purchase::Goods {
                            contract_at,
                            possession_of_last_item: possession,
                        },
                    )
                    .map_err(|e| r(&e))?;
                    deadlines.push(self.deadline("statutory withdrawal period ends", &d));
                }
                self.delivered = Some((at, possession));
            }
            Action::NotifyReturn => {
                if self.ret.is_some() {
                    return Err(ev.refuse("a scenario follows one return; this one already has it"));
                }
                let (delivered, possession) = self
                    .delivered
                    .ok_or_else(|| ev.refuse("nothing was delivered yet (deliver first)"))?;
                let step = Return::notify(terms, &self.local, delivered, possession, at)
                    .map_err(|e| r(&e))?;
                notices = step.notices;
                self.ret = Some(step.next);
            }
            Action::IssueRma { rma } => {
                let step = self.ret(&ev)?.issue_rma(rma).map_err(|e| r(&e))?;
                notices = step.notices;
                self.ret = Some(step.next);
            }
            Action::ShipReturn => {
                let step = self.ret(&ev)?.shipped(terms, at).map_err(|e| r(&e))?;
                notices = step.notices;
                self.ret = Some(step.next);
            }
            Action::ReceiveReturn {
                items,
                bundle_discount,
            } => {
                let o = self.order(&ev)?;
                let items = match items {
                    Some(i) => i.clone(),
                    None => o
                        .lines
                        .iter()
                        .flat_map(|l| {
                            (0..l.quantity).map(|_| ReturnedItem {
                                price_paid: l.unit_price,
                                deterioration: Money::zero(l.unit_price.currency()),
                            })
                        })
                        .collect(),
                };
                let input = RefundInput {
                    currency: o.currency(),
                    items,
                    original_shipping: o.shipping,
                    partial_bundle_discount: *bundle_discount,
                };
                let step = self
                    .ret(&ev)?
                    .received(terms, &self.local, &input, at)
                    .map_err(|e| r(&e))?;
                notices = step.notices;
                self.ret = Some(step.next);
            }
            Action::RefundReturn => {
                let step = self.ret(&ev)?.refunded(at).map_err(|e| r(&e))?;
                notices = step.notices;
                self.ret = Some(step.next);
            }
            Action::Withdraw { target, form } => {
                if self.withdrawal.is_some() {
                    return Err(
                        ev.refuse("a scenario follows one withdrawal; this one already has it")
                    );
                }
                if !self.customer.consumer {
                    return Err(ev.refuse("the statutory withdrawal is a consumer's right (customer.consumer = false)"));
                }
                let target = match (target, &self.membership, &self.order) {
                    (Some(t), _, _) => *t,
                    (None, Some(_), None) => Target::Membership,
                    (None, None, Some(_)) => Target::Order,
                    (None, Some(_), Some(_)) => {
                        return Err(ev.refuse(
                            "say what to withdraw from: `withdraw = \"membership\"` or `\"order\"`",
                        ));
                    }
                    (None, None, None) => {
                        return Err(ev.refuse("there is nothing to withdraw from"));
                    }
                };
                let statement = if *form {
                    Statement::StandardForm(crate::withdrawal::StandardForm {
                        order_date: self.local.date_of(at),
                        goods_or_services: "as ordered".to_owned(),
                        consumer_names: "the customer".to_owned(),
                        consumer_address: "on file".to_owned(),
                        signed_on: self.local.date_of(at),
                    })
                } else {
                    Statement::Unambiguous
                };
                let (purchase, paid) = match target {
                    Target::Membership => {
                        let m = self.membership(&ev)?;
                        let paid = self
                            .membership_paid
                            .unwrap_or(Money::zero(m.price.currency()));
                        (
                            Purchase::Membership {
                                contract_at: m.contract_at,
                            },
                            paid,
                        )
                    }
                    Target::Order => {
                        let o = self.order(&ev)?;
                        let OrderState::Confirmed {
                            at: contract_at, ..
                        } = o.state
                        else {
                            return Err(ev.refuse(format!(
                                "only a confirmed order can be withdrawn from (the order is {})",
                                o.state.name()
                            )));
                        };
                        let (_, possession) = self.delivered.ok_or_else(|| {
                            ev.refuse("the goods were not delivered yet (deliver first)")
                        })?;
                        (
                            Purchase::Goods {
                                contract_at,
                                possession_of_last_item: possession,
                            },
                            o.total().map_err(|e| r(&e))?,
                        )
                    }
                };
                let step = Withdrawal::exercise(
                    terms,
                    &self.local,
                    &self.customer.jurisdiction,
                    &purchase,
                    paid,
                    &statement,
                    at,
                )
                .map_err(|e| r(&e))?;
                amounts.push(Amount {
                    label: "refund owed".to_owned(),
                    money: paid.round_line(),
                });
                notices = step.notices;
                if target == Target::Membership {
                    let m = self.membership(&ev)?.withdrawn(at).map_err(|e| r(&e))?;
                    notices.extend(m.notices);
                    self.membership = Some(m.next);
                }
                self.withdrawal = Some(step.next);
            }
            Action::GoodsBack => {
                let step = self
                    .withdrawal(&ev)?
                    .goods_received(at)
                    .map_err(|e| r(&e))?;
                notices = step.notices;
                self.withdrawal = Some(step.next);
            }
            Action::DispatchProven => {
                let step = self
                    .withdrawal(&ev)?
                    .dispatch_proven(at)
                    .map_err(|e| r(&e))?;
                notices = step.notices;
                self.withdrawal = Some(step.next);
            }
        }
        self.now = Some(self.now.map_or(at, |n| n.max(at)));
        self.record(at, Some(event), notices, amounts, deadlines)
            .map_err(|e| ev.refuse(e))
    }

    fn check(&self, c: &Check) -> Result<CheckOutcome, ScenarioError> {
        let err = |reason: String| field_err(Place::Check(c.number), "at", reason);
        let mut expectations = Vec::new();
        if let Some(e) = c.entitlement {
            let actual = self.entitlement(c.at).map_err(err)?;
            expectations.push(("entitlement".to_owned(), e.to_string(), actual.to_string()));
        }
        if let Some(e) = &c.membership {
            let actual = self
                .membership
                .as_ref()
                .map_or("none", |m| billing_state(&m.billing));
            expectations.push(("membership".to_owned(), e.clone(), actual.to_owned()));
        }
        if let Some(e) = &c.order {
            let actual = self.order.as_ref().map_or("none", |o| o.state.name());
            expectations.push(("order".to_owned(), e.clone(), actual.to_owned()));
        }
        if let Some(e) = &c.return_state {
            let actual = self.ret.as_ref().map_or("none", |r| return_state(&r.state));
            expectations.push(("return".to_owned(), e.clone(), actual.to_owned()));
        }
        if let Some(e) = &c.price {
            let actual = match &self.membership {
                Some(m) => {
                    let k = m
                        .period_at(self.terms, c.at)
                        .map_err(|x| err(x.to_string()))?;
                    m.price_of(self.terms, k)
                        .map_err(|x| err(x.to_string()))?
                        .to_string()
                }
                None => "none".to_owned(),
            };
            expectations.push(("price".to_owned(), e.to_string(), actual));
        }
        Ok(CheckOutcome {
            number: c.number,
            at: c.at,
            expectations,
        })
    }
}

/// Runs a scenario under `terms`. A failed check does not stop the run: it is in
/// [`Timeline::checks`] (see [`Timeline::failed_check`]); an event the engine refuses
/// does, with [`ScenarioError::Refused`] naming it.
pub fn run(scenario: &Scenario, terms: &Terms) -> Result<Timeline, ScenarioError> {
    let c = &scenario.customer;
    let mut customer = Customer::new(&c.jurisdiction, c.subdivision.as_deref(), c.tz.clone());
    customer.consumer = c.consumer;
    let local = terms
        .local(&customer)
        .map_err(|e| ScenarioError::Terms(e.to_string()))?;
    let mut world = World {
        terms,
        local,
        customer: c.clone(),
        membership: None,
        membership_paid: None,
        order: None,
        delivered: None,
        ret: None,
        withdrawal: None,
        now: None,
        entries: Vec::new(),
    };
    let mut outcomes = Vec::new();
    let mut events = scenario.events.iter().peekable();
    let mut checks = scenario.checks.iter().peekable();
    loop {
        // At the same instant an event comes before a check.
        let take_event = match (events.peek(), checks.peek()) {
            (Some(e), Some(c)) => e.at <= c.at,
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (None, None) => break,
        };
        if take_event {
            if let Some(e) = events.next() {
                world.run_clock(e.at)?;
                world.apply(e)?;
            }
        } else if let Some(c) = checks.next() {
            world.run_clock(c.at)?;
            outcomes.push(world.check(c)?);
        }
    }
    if let Some(until) = scenario.until {
        world.run_clock(until)?;
    }
    Ok(Timeline {
        tz: c.tz.clone(),
        timezone: c.timezone.clone(),
        policy_version: terms.version().to_owned(),
        entries: world.entries,
        checks: outcomes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: &str = include_str!("../../../policies/plume-design-terms.toml");
    const EXAMPLES: [(&str, &str); 4] = [
        (
            "homepass-first-month-free-then-cancel",
            include_str!("../../../scenarios/homepass-first-month-free-then-cancel.toml"),
        ),
        (
            "workpass-cancel-in-initial-term",
            include_str!("../../../scenarios/workpass-cancel-in-initial-term.toml"),
        ),
        (
            "german-price-change-needs-acceptance",
            include_str!("../../../scenarios/german-price-change-needs-acceptance.toml"),
        ),
        (
            "return-after-easter",
            include_str!("../../../scenarios/return-after-easter.toml"),
        ),
    ];

    fn terms() -> Terms {
        let loaded = custos_policy::load(POLICY, "plume-design-terms.toml").unwrap();
        Terms::new(&loaded.policy).unwrap()
    }

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    const HEAD: &str = r#"
policy = "../policies/plume-design-terms.toml"
[customer]
jurisdiction = "DE"
timezone = "Europe/Berlin"
"#;

    fn with_events(events: &str) -> String {
        format!("{HEAD}\n{events}")
    }

    #[test]
    fn every_example_scenario_runs_and_its_checks_hold() {
        let t = terms();
        for (name, text) in EXAMPLES {
            let s = parse(text).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(s.policy, "../policies/plume-design-terms.toml", "{name}");
            let timeline = run(&s, &t).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(!timeline.checks.is_empty(), "{name} asserts something");
            assert_eq!(timeline.failed_check(), None, "{name}");
        }
    }

    #[test]
    fn homepass_timeline_has_the_free_month_the_renewal_charge_and_the_end() {
        let (_, text) = EXAMPLES[0];
        let timeline = run(&parse(text).unwrap(), &terms()).unwrap();
        let charge = timeline
            .entries
            .iter()
            .find(|e| {
                e.notices
                    .iter()
                    .any(|n| matches!(n, Notice::RenewalCharge { .. }))
            })
            .unwrap();
        // Activated 5 March: free until 5 April, charged from 24 h before.
        assert_eq!(
            charge.event, None,
            "the clock, not an event, opens the window"
        );
        assert_eq!(charge.at, ts("2026-04-04T00:00:00+02:00"));
        assert_eq!(charge.amounts[0].money, Money::cents(999, Currency::Eur));
        let last = timeline.entries.last().unwrap();
        assert_eq!(last.at, ts("2026-05-05T00:00:00+02:00"));
        assert_eq!(last.entitlement, Some(Entitlement::Basic));
        assert!(matches!(
            last.notices[..],
            [Notice::MembershipEnded {
                basic_mode: true,
                ..
            }]
        ));
        assert!(
            timeline
                .describe(&charge.notices[0])
                .contains("2026-04-04 00:00 CEST"),
            "local time in the customer's zone"
        );
    }

    #[test]
    fn a_bad_date_names_the_event_and_field() {
        let text = with_events(
            r#"
[[event]]
at = "2026-03-01T10:00:00+01:00"
buy_membership = "homepass"
price = "9.99 EUR"

[[event]]
at = "2026-02-30T10:00:00+01:00"
activate = true
"#,
        );
        let err = parse(&text).unwrap_err();
        assert!(
            matches!(&err, ScenarioError::Field { place: Place::Event(2), field, .. } if field == "at"),
            "{err}"
        );
        assert!(err.to_string().starts_with("event 2: `at`:"), "{err}");
    }

    #[test]
    fn an_unknown_action_names_the_event_and_lists_the_actions() {
        let text = with_events(
            r#"
[[event]]
at = "2026-03-01T10:00:00+01:00"
teleport = true
"#,
        );
        let err = parse(&text).unwrap_err();
        assert!(
            matches!(&err, ScenarioError::Field { place: Place::Event(1), field, .. } if field == "teleport"),
            "{err}"
        );
        assert!(err.to_string().contains("buy_membership"), "{err}");
    }

    #[test]
    fn an_event_out_of_order_names_both_events() {
        let text = with_events(
            r#"
[[event]]
at = "2026-03-01T10:00:00+01:00"
buy_membership = "homepass"
price = "9.99 EUR"

[[event]]
at = "2026-03-05 10:00"
activate = true

[[event]]
at = "2026-03-04T10:00:00+01:00"
cancel = true
"#,
        );
        let err = parse(&text).unwrap_err();
        assert!(
            matches!(&err, ScenarioError::Field { place: Place::Event(3), field, .. } if field == "at"),
            "{err}"
        );
        assert!(err.to_string().contains("before event 2"), "{err}");
    }

    #[test]
    fn other_mistakes_are_named_too() {
        let cases = [
            // Two actions in one event.
            (
                "[[event]]\nat = \"2026-03-01 10:00\"\ncancel = true\nactivate = true\n",
                "event 1",
            ),
            // No action.
            (
                "[[event]]\nat = \"2026-03-01 10:00\"\n",
                "event 1: `action`",
            ),
            // A membership needs a price.
            (
                "[[event]]\nat = \"2026-03-01 10:00\"\nbuy_membership = \"homepass\"\n",
                "event 1: `price`",
            ),
            // A flag is true.
            (
                "[[event]]\nat = \"2026-03-01 10:00\"\ncancel = false\n",
                "event 1: `cancel`",
            ),
            // Bad money.
            (
                "[[event]]\nat = \"2026-03-01 10:00\"\nbuy_membership = \"homepass\"\nprice = \"9.99 USD\"\n",
                "event 1: `price`",
            ),
            // A check expects a known entitlement.
            (
                "[[event]]\nat = \"2026-03-01 10:00\"\ncancel = true\n[[check]]\nat = \"2026-03-02 10:00\"\nexpect_entitlement = \"gold\"\n",
                "check 1: `expect_entitlement`",
            ),
        ];
        for (events, expected) in cases {
            let err = parse(&with_events(events)).unwrap_err();
            assert!(err.to_string().starts_with(expected), "{events}: {err}");
        }
        let err = parse(
            "policy = \"p.toml\"\n[customer]\njurisdiction = \"DE\"\ntimezone = \"Mars/Olympus\"\n",
        )
        .unwrap_err();
        assert!(
            err.to_string().starts_with("[customer]: `timezone`"),
            "{err}"
        );
        assert!(matches!(parse("[[event]\n"), Err(ScenarioError::Syntax(_))));
    }

    #[test]
    fn an_event_the_engine_refuses_names_the_event() {
        let text = with_events(
            r#"
[[event]]
at = "2026-03-01T10:00:00+01:00"
buy_membership = "homepass"
price = "9.99 EUR"

[[event]]
at = "2026-03-02T10:00:00+01:00"
pay_fails = true
"#,
        );
        let err = run(&parse(&text).unwrap(), &terms()).unwrap_err();
        assert!(
            matches!(
                &err,
                ScenarioError::Refused {
                    event: 2,
                    action: "pay_fails",
                    ..
                }
            ),
            "{err}"
        );
        let text = with_events("[[event]]\nat = \"2026-03-01 10:00\"\ncancel = true\n");
        let err = run(&parse(&text).unwrap(), &terms()).unwrap_err();
        assert!(err.to_string().contains("no membership"), "{err}");
    }

    #[test]
    fn a_failed_check_is_reported_not_thrown() {
        let text = with_events(
            r#"
[[event]]
at = "2026-03-01T10:00:00+01:00"
buy_membership = "homepass"
price = "9.99 EUR"

[[check]]
at = "2026-03-02T10:00:00+01:00"
expect_entitlement = "full"
"#,
        );
        let timeline = run(&parse(&text).unwrap(), &terms()).unwrap();
        let failed = timeline.failed_check().unwrap();
        assert_eq!(failed.number, 1);
        assert!(
            failed.to_string().contains("expected full, got none"),
            "{failed}"
        );
    }

    #[test]
    fn grace_period_then_termination_then_basic_mode() {
        let text = with_events(
            r#"
[[event]]
at = "2026-03-01T10:00:00+01:00"
buy_membership = "homepass"
price = "9.99 EUR"

[[event]]
at = "2026-03-01T10:05:00+01:00"
activate = true

[[event]]
at = "2026-04-01T00:30:00+02:00"
pay_fails = true

[[check]]
at = "2026-04-10T00:00:00+02:00"
expect_membership = "past_due"
expect_entitlement = "full"

[[check]]
at = "2026-05-01T00:00:00+02:00"
expect_membership = "ended"
expect_entitlement = "basic"
"#,
        );
        let timeline = run(&parse(&text).unwrap(), &terms()).unwrap();
        assert_eq!(timeline.failed_check(), None, "{:?}", timeline.checks);
        assert!(
            timeline
                .entries
                .iter()
                .any(|e| e.notices.iter().any(|n| matches!(
                    n,
                    Notice::MembershipTerminated {
                        basic_mode: true,
                        ..
                    }
                )))
        );
    }

    proptest::proptest! {
        #[test]
        fn parse_never_panics(text in "\\PC{0,200}") {
            let _ = parse(&text);
        }
    }
}
