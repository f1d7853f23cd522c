//! Property tests: date arithmetic and refunds.

use custos_contracts::Currency;
use custos_contracts::calendar::{Calendar, Local, add_months};
use custos_contracts::returns::{self, RefundInput, ReturnedItem};
use custos_policy::period::{Span, Unit};
use jiff::ToSpan;
use jiff::civil::{Date, DateTime};
use jiff::tz::TimeZone;
use proptest::prelude::*;

use crate::{eur, terms};

fn date() -> impl Strategy<Value = Date> {
    (0i32..(366 * 30)).prop_map(|n| {
        Date::new(2010, 1, 1)
            .unwrap()
            .checked_add(n.days())
            .unwrap()
    })
}

fn calendar() -> impl Strategy<Value = Calendar> {
    prop::sample::select(vec![
        Calendar::parse("BE", None).unwrap(),
        Calendar::parse("DE", Some("BY")).unwrap(),
        Calendar::parse("DE", Some("SN")).unwrap(),
        Calendar::parse("CH", Some("GE")).unwrap(),
        Calendar::parse("CH", Some("ZH")).unwrap(),
        Calendar::parse("UK", Some("SCT")).unwrap(),
        Calendar::parse("UK", Some("NIR")).unwrap(),
    ])
}

fn span() -> impl Strategy<Value = Span> {
    prop_oneof![
        (1u32..60).prop_map(|n| Span::new(n, Unit::Days)),
        (1u32..10).prop_map(|n| Span::new(n, Unit::Weeks)),
        (1u32..30).prop_map(|n| Span::new(n, Unit::Months)),
        (1u32..7).prop_map(|n| Span::new(n, Unit::Years)),
        (1u32..15).prop_map(|n| Span::new(n, Unit::BusinessDays)),
    ]
}

fn zone() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        "Europe/Berlin",
        "Europe/London",
        "Europe/Zurich",
        "Pacific/Auckland",
        "America/New_York",
    ])
}

proptest! {
    #[test]
    fn month_end_is_clamped_and_never_chained(anchor in date(), n in 0i32..48) {
        let got = add_months(anchor, n).unwrap();
        let first = Date::new(anchor.year(), anchor.month(), 1).unwrap().checked_add(n.months()).unwrap();
        prop_assert_eq!(got.year(), first.year());
        prop_assert_eq!(got.month(), first.month());
        prop_assert_eq!(got.day(), anchor.day().min(first.days_in_month()));
    }

    #[test]
    fn leap_day_plus_a_year(years in 1i32..20) {
        let got = add_months(Date::new(2024, 2, 29).unwrap(), 12 * years).unwrap();
        let expect = if got.in_leap_year() { 29 } else { 28 };
        prop_assert_eq!((got.month(), got.day()), (2, expect));
    }

    #[test]
    fn a_period_never_ends_on_a_weekend_or_holiday(event in date(), s in span(), cal in calendar()) {
        let local = Local::new(TimeZone::get("Europe/Berlin").unwrap(), cal);
        let dl = local.statutory_from_date(event, s).unwrap();
        prop_assert!(cal.is_working_day(dl.last_day), "{} ends on {}", s, dl.last_day);
        prop_assert!(dl.last_day > event);
    }

    #[test]
    fn a_later_event_never_ends_earlier(a in date(), gap in 0i32..40, s in span(), cal in calendar()) {
        let local = Local::new(TimeZone::get("Europe/Berlin").unwrap(), cal);
        let b = a.checked_add(gap.days()).unwrap();
        let da = local.statutory_from_date(a, s).unwrap();
        let db = local.statutory_from_date(b, s).unwrap();
        prop_assert!(da.last_day <= db.last_day);
    }

    #[test]
    fn late_evening_on_any_day_stays_on_that_local_day(day in date(), tz in zone(), minute in 0i8..60) {
        // Includes the DST change days of every zone in the list.
        let tz = TimeZone::get(tz).unwrap();
        let local = Local::new(tz.clone(), Calendar::WeekendsOnly);
        let t = DateTime::from_parts(day, jiff::civil::time(23, minute, 0, 0)).to_zoned(tz).unwrap().timestamp();
        prop_assert_eq!(local.date_of(t), day);
        let dl = local.statutory(t, Span::new(14, Unit::Days)).unwrap();
        prop_assert!(dl.last_day >= day.checked_add(14.days()).unwrap());
        prop_assert_eq!(local.date_of(dl.ends_at), dl.last_day.tomorrow().unwrap());
    }

    #[test]
    fn refund_is_bounded(
        items in prop::collection::vec((0i64..100_000, 0i64..200_000), 1..5),
        shipping in 0i64..5_000,
        bundle in prop::option::of(0i64..50_000),
    ) {
        let t = terms();
        let input = RefundInput {
            currency: Currency::Eur,
            items: items.iter().map(|&(p, d)| ReturnedItem { price_paid: eur(p), deterioration: eur(d) }).collect(),
            original_shipping: eur(shipping),
            partial_bundle_discount: bundle.map(eur),
        };
        let r = returns::refund(&t, &input).unwrap();
        let paid: i64 = items.iter().map(|&(p, _)| p).sum();
        let prices = eur(paid);
        prop_assert!(!r.total.is_negative());
        prop_assert!(r.total.amount() <= prices.checked_add(eur(shipping)).unwrap().amount());
        prop_assert!(r.deterioration.amount() <= prices.amount());
    }
}
