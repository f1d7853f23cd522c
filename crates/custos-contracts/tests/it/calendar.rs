use custos_contracts::calendar::{Calendar, add_months, easter};
use custos_policy::period::{Span, Unit};

use crate::{at, d, local};

fn has(cal: Calendar, day: &str) -> bool {
    cal.is_holiday(d(day))
}

#[test]
fn easter_matches_known_dates() {
    assert_eq!(easter(2024), Some(d("2024-03-31")));
    assert_eq!(easter(2025), Some(d("2025-04-20")));
    assert_eq!(easter(2026), Some(d("2026-04-05")));
    assert_eq!(easter(2038), Some(d("2038-04-25")));
    assert_eq!(easter(2285), Some(d("2285-03-22")));
}

#[test]
fn uk_2027_christmas_and_new_year_move_to_substitute_days() {
    let eng = Calendar::parse("UK", Some("ENG")).unwrap();
    // 25 Dec 2027 is a Saturday, 26 Dec a Sunday.
    assert!(has(eng, "2027-12-27") && has(eng, "2027-12-28"));
    assert!(!eng.is_working_day(d("2027-12-27")));
    let hols = eng.holidays(2027);
    let names: Vec<_> = hols
        .iter()
        .filter(|h| h.date >= d("2027-12-27"))
        .map(|h| h.name)
        .collect();
    assert_eq!(
        names,
        [
            "Christmas Day (substitute day)",
            "Boxing Day (substitute day)"
        ]
    );
    // 1 Jan 2028 is a Saturday: Monday 3 January.
    assert!(has(eng, "2028-01-03"));
    // Scotland keeps 2 January too: 2022 (Sat/Sun) → Monday 3 and Tuesday 4.
    let sct = Calendar::parse("UK", Some("SCT")).unwrap();
    assert!(has(sct, "2022-01-03") && has(sct, "2022-01-04"));
    assert!(!has(eng, "2022-01-04"));
    // Nations differ: Easter Monday not in Scotland, St Patrick's Day only in NI.
    let nir = Calendar::parse("UK", Some("NIR")).unwrap();
    assert!(has(eng, "2024-04-01") && !has(sct, "2024-04-01"));
    assert!(
        has(nir, "2024-03-18"),
        "17 March 2024 is a Sunday: substitute Monday"
    );
    assert!(has(sct, "2024-08-05") && has(eng, "2024-08-26") && !has(eng, "2024-08-05"));
    // One-offs by proclamation.
    assert!(has(eng, "2023-05-08") && has(eng, "2022-09-19"));
}

#[test]
fn germany_by_state() {
    let by = Calendar::parse("DE", Some("BY")).unwrap();
    let hh = Calendar::parse("DE", Some("DE-HH")).unwrap();
    let be = Calendar::parse("DE", Some("BE")).unwrap();
    let sn = Calendar::parse("DE", Some("SN")).unwrap();
    let nw = Calendar::parse("DE", Some("NW")).unwrap();
    // Fronleichnam 2024 (30 May) in Bavaria and NRW, not in Hamburg.
    assert!(has(by, "2024-05-30") && has(nw, "2024-05-30") && !has(hh, "2024-05-30"));
    assert!(has(hh, "2024-10-31") && !has(by, "2024-10-31"));
    assert!(has(be, "2024-03-08") && !has(by, "2024-03-08"));
    assert!(has(sn, "2024-11-20"), "Buß- und Bettag 2024");
    assert!(has(sn, "2025-11-19"));
    assert!(has(by, "2024-01-06") && has(by, "2024-08-15"));
    for cal in [by, hh, be, sn, nw, Calendar::parse("DE", None).unwrap()] {
        assert!(has(cal, "2024-10-03") && has(cal, "2024-03-29") && has(cal, "2024-12-26"));
    }
    assert!(Calendar::parse("DE", Some("XX")).is_err());
}

#[test]
fn switzerland_by_canton() {
    let zh = Calendar::parse("CH", Some("ZH")).unwrap();
    let ge = Calendar::parse("CH", Some("GE")).unwrap();
    let vd = Calendar::parse("CH", Some("VD")).unwrap();
    let be = Calendar::parse("CH", Some("BE")).unwrap();
    assert!(has(zh, "2024-01-02") && has(vd, "2024-01-02") && has(be, "2024-01-02"));
    assert!(!has(ge, "2024-01-02"), "no Berchtoldstag in Geneva");
    assert!(has(ge, "2024-09-05"), "Jeûne genevois");
    assert!(has(ge, "2024-12-31"));
    assert!(has(vd, "2024-09-16"), "Lundi du Jeûne fédéral");
    assert!(has(zh, "2024-05-01") && !has(ge, "2024-05-01"));
    for cal in [zh, ge, vd, be, Calendar::parse("CH", None).unwrap()] {
        assert!(has(cal, "2024-08-01") && has(cal, "2024-05-09") && has(cal, "2024-12-25"));
    }
}

#[test]
fn belgium() {
    let b = Calendar::parse("BE", None).unwrap();
    for day in [
        "2024-01-01",
        "2024-04-01",
        "2024-05-09",
        "2024-05-20",
        "2024-07-21",
        "2024-11-11",
    ] {
        assert!(has(b, day), "{day}");
    }
    assert!(
        !has(b, "2024-03-29"),
        "Good Friday is no public holiday in Belgium"
    );
}

#[test]
fn statutory_period_starts_next_day_and_skips_weekend_and_holiday() {
    let be = local("BE", None);
    // Event on Friday 1 March 2024: 30 days → Sunday 31 March (Easter), then Easter
    // Monday: the period runs to the end of Tuesday 2 April.
    let dl = be
        .statutory(at("BE", "2024-03-01 15:00"), Span::new(30, Unit::Days))
        .unwrap();
    assert_eq!(dl.last_day, d("2024-04-02"));
    assert_eq!(dl.ends_at, at("BE", "2024-04-03 00:00"));
    // Months: 31 January + 1 month = 29 February (2024 is a leap year), a Thursday.
    let dl = be
        .statutory(at("BE", "2024-01-31 09:00"), Span::new(1, Unit::Months))
        .unwrap();
    assert_eq!(dl.last_day, d("2024-02-29"));
    // Art. 3(5): two days from a Thursday before a weekend hold two working days.
    let dl = be
        .statutory(at("BE", "2024-06-13 09:00"), Span::new(2, Unit::Days))
        .unwrap();
    assert_eq!(dl.last_day, d("2024-06-17"));
    // Business days skip weekends and holidays.
    let de = local("DE", Some("BY"));
    let dl = de
        .statutory(
            at("DE", "2024-05-29 10:00"),
            Span::new(1, Unit::BusinessDays),
        )
        .unwrap();
    assert_eq!(dl.last_day, d("2024-05-31"), "Fronleichnam in Bavaria");
    let hh = local("DE", Some("HH"));
    let dl = hh
        .statutory(
            at("DE", "2024-05-29 10:00"),
            Span::new(1, Unit::BusinessDays),
        )
        .unwrap();
    assert_eq!(dl.last_day, d("2024-05-30"));
}

#[test]
fn the_customer_zone_decides_the_day() {
    // 23:30 in Berlin on the day summer time ends is still 27 October there.
    let de = local("DE", None);
    let t = at("DE", "2024-10-27 23:30");
    assert_eq!(de.date_of(t), d("2024-10-27"));
    // 00:30 on 31 March 2024 (the spring-forward day) is 30 March in UTC.
    let t = at("DE", "2024-03-31 00:30");
    assert_eq!(t.to_string(), "2024-03-30T23:30:00Z");
    assert_eq!(de.date_of(t), d("2024-03-31"));
    // The end of a day is the customer's midnight, whatever its UTC offset.
    assert_eq!(
        de.end_of(d("2024-03-30")).unwrap().to_string(),
        "2024-03-30T23:00:00Z"
    );
    assert_eq!(
        de.end_of(d("2024-03-31")).unwrap().to_string(),
        "2024-03-31T22:00:00Z"
    );
}

#[test]
fn anchored_months_never_drift() {
    let a = d("2024-01-31");
    let chained = add_months(add_months(a, 1).unwrap(), 1).unwrap();
    assert_eq!(chained, d("2024-03-29"));
    assert_eq!(add_months(a, 2).unwrap(), d("2024-03-31"));
    assert_eq!(add_months(d("2024-02-29"), 12).unwrap(), d("2025-02-28"));
    assert_eq!(add_months(d("2024-02-29"), 48).unwrap(), d("2028-02-29"));
}
