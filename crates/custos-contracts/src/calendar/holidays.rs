//! Public-holiday calendars for Belgium, Germany (national and per state),
//! Switzerland (common and per canton) and the United Kingdom (per nation).
//!
//! Every regular holiday is *computed* (a fixed date, a date relative to Easter, or
//! "the nth weekday of a month"), so a calendar works for any year. Only one-off
//! proclamations (a jubilee, a state funeral, an anniversary) are listed by year,
//! because no rule produces them.

use std::fmt;
use std::str::FromStr;

use jiff::ToSpan;
use jiff::civil::{Date, Weekday};

/// Gregorian Easter Sunday (the anonymous Gregorian computus, "Meeus/Jones/Butcher").
pub fn easter(year: i16) -> Option<Date> {
    let y = i32::from(year);
    let a = y % 19;
    let b = y / 100;
    let c = y % 100;
    let d = b / 4;
    let e = b % 4;
    let f = (b + 8) / 25;
    let g = (b - f + 1) / 3;
    let h = (19 * a + b - d - g + 15) % 30;
    let i = c / 4;
    let k = c % 4;
    let l = (32 + 2 * e + 2 * i - h - k) % 7;
    let m = (a + 11 * h + 22 * l) / 451;
    let month = (h + l - 7 * m + 114) / 31;
    let day = (h + l - 7 * m + 114) % 31 + 1;
    Date::new(year, i8::try_from(month).ok()?, i8::try_from(day).ok()?).ok()
}

/// A German federal state (ISO 3166-2:DE suffix).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeState {
    BW,
    BY,
    BE,
    BB,
    HB,
    HH,
    HE,
    MV,
    NI,
    NW,
    RP,
    SL,
    SN,
    ST,
    SH,
    TH,
}

/// A Swiss canton (ISO 3166-2:CH suffix). Cantons not listed use the common set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Canton {
    ZH,
    BE,
    GE,
    VD,
}

/// A nation of the United Kingdom; bank holidays differ between them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UkNation {
    /// England and Wales share one list.
    EnglandWales,
    Scotland,
    NorthernIreland,
}

/// The public-holiday calendar a customer's business days and period ends use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Calendar {
    Belgium,
    /// National holidays, plus the state's when known.
    Germany(Option<DeState>),
    /// Holidays kept in every canton, plus the canton's when known.
    Switzerland(Option<Canton>),
    Uk(UkNation),
    /// Weekends only (a jurisdiction without a holiday calendar).
    WeekendsOnly,
}

/// Why a calendar name was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    #[error("no holiday calendar `{0}` (known: BE, DE, CH, UK)")]
    UnknownCalendar(String),
    #[error("`{subdivision}` is not a subdivision of calendar `{calendar}`")]
    UnknownSubdivision {
        calendar: String,
        subdivision: String,
    },
    #[error("date arithmetic left the supported range")]
    OutOfRange,
}

impl From<jiff::Error> for CalendarError {
    fn from(_: jiff::Error) -> Self {
        CalendarError::OutOfRange
    }
}

impl Calendar {
    /// The calendar named in a policy (`holidays = "DE"`), refined by the customer's
    /// subdivision (`"BY"`, `"ZH"`, `"SCT"`, or the ISO form `"DE-BY"`).
    /// A UK customer without a nation uses England and Wales, the largest.
    pub fn parse(code: &str, subdivision: Option<&str>) -> Result<Calendar, CalendarError> {
        let sub = subdivision.map(|s| {
            let s = s.trim().to_ascii_uppercase();
            match s.split_once('-') {
                Some((_, tail)) => tail.to_owned(),
                None => s,
            }
        });
        let bad = |s: &str| CalendarError::UnknownSubdivision {
            calendar: code.to_owned(),
            subdivision: s.to_owned(),
        };
        match code.trim().to_ascii_uppercase().as_str() {
            "BE" => Ok(Calendar::Belgium),
            "DE" => match sub {
                None => Ok(Calendar::Germany(None)),
                Some(s) => DeState::from_str(&s)
                    .map(|st| Calendar::Germany(Some(st)))
                    .map_err(|()| bad(&s)),
            },
            "CH" => match sub {
                None => Ok(Calendar::Switzerland(None)),
                Some(s) => Canton::from_str(&s)
                    .map(|c| Calendar::Switzerland(Some(c)))
                    .map_err(|()| bad(&s)),
            },
            "UK" | "GB" => match sub.as_deref() {
                None | Some("ENG" | "WLS" | "EAW") => Ok(Calendar::Uk(UkNation::EnglandWales)),
                Some("SCT") => Ok(Calendar::Uk(UkNation::Scotland)),
                Some("NIR") => Ok(Calendar::Uk(UkNation::NorthernIreland)),
                Some(s) => Err(bad(s)),
            },
            "" | "NONE" => Ok(Calendar::WeekendsOnly),
            other => Err(CalendarError::UnknownCalendar(other.to_owned())),
        }
    }

    /// Every public holiday of `year`, sorted, with the name the day is known by.
    /// UK substitute days appear as their own entries ("Christmas Day (substitute day)").
    pub fn holidays(&self, year: i16) -> Vec<Holiday> {
        let mut b = Builder::new(year);
        match *self {
            Calendar::Belgium => belgium(&mut b),
            Calendar::Germany(state) => germany(&mut b, state),
            Calendar::Switzerland(canton) => switzerland(&mut b, canton),
            Calendar::Uk(nation) => uk(&mut b, nation),
            Calendar::WeekendsOnly => {}
        }
        let mut out = b.out;
        out.sort_by_key(|h| h.date);
        out.dedup_by_key(|h| h.date);
        out
    }

    pub fn is_holiday(&self, date: Date) -> bool {
        self.holidays(date.year()).iter().any(|h| h.date == date)
    }

    /// Not a Saturday, Sunday or public holiday.
    pub fn is_working_day(&self, date: Date) -> bool {
        !matches!(date.weekday(), Weekday::Saturday | Weekday::Sunday) && !self.is_holiday(date)
    }
}

/// One public holiday.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holiday {
    pub date: Date,
    pub name: &'static str,
}

struct Builder {
    year: i16,
    easter: Option<Date>,
    out: Vec<Holiday>,
}

impl Builder {
    fn new(year: i16) -> Self {
        Builder {
            year,
            easter: easter(year),
            out: Vec::new(),
        }
    }

    fn fixed(&mut self, month: i8, day: i8, name: &'static str) {
        if let Ok(date) = Date::new(self.year, month, day) {
            self.out.push(Holiday { date, name });
        }
    }

    fn easter(&mut self, offset: i32, name: &'static str) {
        if let Some(date) = self.easter.and_then(|e| e.checked_add(offset.days()).ok()) {
            self.out.push(Holiday { date, name });
        }
    }

    /// `nth` weekday of a month; negative counts from the end (`-1` = last).
    fn nth(&mut self, month: i8, nth: i8, weekday: Weekday, name: &'static str) {
        let date =
            Date::new(self.year, month, 1).and_then(|d| d.nth_weekday_of_month(nth, weekday));
        if let Ok(date) = date {
            self.out.push(Holiday { date, name });
        }
    }

    /// The date `days` after the `nth` `weekday` of a month (Swiss fasting days).
    fn after_nth(&mut self, month: i8, nth: i8, weekday: Weekday, days: i32, name: &'static str) {
        let date = Date::new(self.year, month, 1)
            .and_then(|d| d.nth_weekday_of_month(nth, weekday))
            .and_then(|d| d.checked_add(days.days()));
        if let Ok(date) = date {
            self.out.push(Holiday { date, name });
        }
    }

    fn in_years(&mut self, years: &[i16], month: i8, day: i8, name: &'static str) {
        if years.contains(&self.year) {
            self.fixed(month, day, name);
        }
    }

    fn since(&mut self, first_year: i16, month: i8, day: i8, name: &'static str) {
        if self.year >= first_year {
            self.fixed(month, day, name);
        }
    }
}

fn belgium(b: &mut Builder) {
    b.fixed(1, 1, "Nieuwjaar / Jour de l'An");
    b.easter(1, "Paasmaandag / Lundi de Pâques");
    b.fixed(5, 1, "Dag van de Arbeid / Fête du Travail");
    b.easter(39, "O.L.H. Hemelvaart / Ascension");
    b.easter(50, "Pinkstermaandag / Lundi de Pentecôte");
    b.fixed(7, 21, "Nationale feestdag / Fête nationale");
    b.fixed(8, 15, "O.L.V. Hemelvaart / Assomption");
    b.fixed(11, 1, "Allerheiligen / Toussaint");
    b.fixed(11, 11, "Wapenstilstand / Armistice");
    b.fixed(12, 25, "Kerstmis / Noël");
}

fn germany(b: &mut Builder, state: Option<DeState>) {
    use DeState::*;
    b.fixed(1, 1, "Neujahr");
    b.easter(-2, "Karfreitag");
    b.easter(1, "Ostermontag");
    b.fixed(5, 1, "Tag der Arbeit");
    b.easter(39, "Christi Himmelfahrt");
    b.easter(50, "Pfingstmontag");
    b.fixed(10, 3, "Tag der Deutschen Einheit");
    b.fixed(12, 25, "1. Weihnachtstag");
    b.fixed(12, 26, "2. Weihnachtstag");
    b.in_years(&[2017], 10, 31, "Reformationstag (500. Jahrestag)");
    let Some(s) = state else { return };
    if matches!(s, BW | BY | ST) {
        b.fixed(1, 6, "Heilige Drei Könige");
    }
    if matches!(s, BE) {
        b.since(2019, 3, 8, "Internationaler Frauentag");
        b.in_years(&[2020, 2025], 5, 8, "Tag der Befreiung");
    }
    if matches!(s, MV) {
        b.since(2023, 3, 8, "Internationaler Frauentag");
    }
    // Fronleichnam: statewide only where the law says so (in SN and TH it is kept in
    // some municipalities only, which a state calendar cannot know).
    if matches!(s, BW | BY | HE | NW | RP | SL) {
        b.easter(60, "Fronleichnam");
    }
    // Mariä Himmelfahrt: statewide in SL; in BY in the (Catholic-majority) municipalities,
    // which are most of them, so the state calendar keeps it.
    if matches!(s, BY | SL) {
        b.fixed(8, 15, "Mariä Himmelfahrt");
    }
    if matches!(s, TH) {
        b.since(2019, 9, 20, "Weltkindertag");
    }
    if matches!(s, BB | MV | SN | ST | TH) {
        b.fixed(10, 31, "Reformationstag");
    }
    if matches!(s, HB | HH | NI | SH) {
        b.since(2018, 10, 31, "Reformationstag");
    }
    if matches!(s, BW | BY | NW | RP | SL) {
        b.fixed(11, 1, "Allerheiligen");
    }
    if matches!(s, SN) {
        // Buß- und Bettag: the Wednesday before 23 November.
        if let Some(date) = buss_und_bettag(b.year) {
            b.out.push(Holiday {
                date,
                name: "Buß- und Bettag",
            });
        }
    }
}

fn buss_und_bettag(year: i16) -> Option<Date> {
    // The last Wednesday strictly before 23 November (16–22 November).
    let nov22 = Date::new(year, 11, 22).ok()?;
    let back =
        (nov22.weekday().to_monday_zero_offset() - Weekday::Wednesday.to_monday_zero_offset() + 7)
            % 7;
    nov22.checked_sub(i32::from(back).days()).ok()
}

fn switzerland(b: &mut Builder, canton: Option<Canton>) {
    use Canton::*;
    // Kept in every canton: New Year, Ascension, the National Day and Christmas
    // (the days Art. 20a ArG treats like Sundays everywhere, plus 1 August, Art. 110 BV).
    b.fixed(1, 1, "Neujahr / Nouvel An");
    b.easter(39, "Auffahrt / Ascension");
    b.fixed(8, 1, "Bundesfeier / Fête nationale");
    b.fixed(12, 25, "Weihnachten / Noël");
    let Some(c) = canton else { return };
    b.easter(-2, "Karfreitag / Vendredi saint");
    b.easter(1, "Ostermontag / Lundi de Pâques");
    b.easter(50, "Pfingstmontag / Lundi de Pentecôte");
    if matches!(c, ZH | BE | VD) {
        b.fixed(1, 2, "Berchtoldstag / Lendemain du Nouvel An");
    }
    if matches!(c, ZH) {
        b.fixed(5, 1, "Tag der Arbeit");
    }
    if matches!(c, ZH | BE) {
        b.fixed(12, 26, "Stephanstag");
    }
    if matches!(c, GE) {
        // Jeûne genevois: the Thursday after the first Sunday of September.
        b.after_nth(9, 1, Weekday::Sunday, 4, "Jeûne genevois");
        b.fixed(12, 31, "Restauration de la République");
    }
    if matches!(c, VD) {
        // Lundi du Jeûne fédéral: the Monday after the third Sunday of September.
        b.after_nth(9, 3, Weekday::Sunday, 1, "Lundi du Jeûne fédéral");
    }
}

fn uk(b: &mut Builder, nation: UkNation) {
    use UkNation::*;
    // Fixed-date bank holidays move to the next free weekday when they fall on a
    // weekend (the "substitute day"), in date order, so that 25 and 26 December on a
    // weekend become Monday 27 and Tuesday 28.
    let mut fixed: Vec<(i8, i8, &'static str)> = vec![(1, 1, "New Year's Day")];
    if nation == Scotland {
        fixed.push((1, 2, "2nd January"));
    }
    if nation == NorthernIreland {
        fixed.push((3, 17, "St Patrick's Day"));
        fixed.push((7, 12, "Battle of the Boyne (Orangemen's Day)"));
    }
    if nation == Scotland && b.year >= 2007 {
        fixed.push((11, 30, "St Andrew's Day"));
    }
    fixed.push((12, 25, "Christmas Day"));
    fixed.push((12, 26, "Boxing Day"));
    let mut taken: Vec<Date> = Vec::new();
    for (m, d, name) in fixed {
        let Ok(mut date) = Date::new(b.year, m, d) else {
            continue;
        };
        let mut substitute = false;
        while matches!(date.weekday(), Weekday::Saturday | Weekday::Sunday) || taken.contains(&date)
        {
            substitute = true;
            match date.tomorrow() {
                Ok(next) => date = next,
                Err(_) => break,
            }
        }
        taken.push(date);
        let name = if substitute {
            substitute_name(name)
        } else {
            name
        };
        b.out.push(Holiday { date, name });
    }
    b.easter(-2, "Good Friday");
    if nation != Scotland {
        b.easter(1, "Easter Monday");
    }
    // Early May: first Monday, moved by proclamation for VE Day anniversaries.
    match b.year {
        1995 | 2020 => b.fixed(5, 8, "Early May bank holiday (VE Day)"),
        _ => b.nth(5, 1, Weekday::Monday, "Early May bank holiday"),
    }
    // Spring: last Monday of May, moved for the 2002, 2012 and 2022 jubilees.
    match b.year {
        2002 | 2012 => b.fixed(6, 4, "Spring bank holiday"),
        2022 => b.fixed(6, 2, "Spring bank holiday"),
        _ => b.nth(5, -1, Weekday::Monday, "Spring bank holiday"),
    }
    if nation == Scotland {
        b.nth(8, 1, Weekday::Monday, "Summer bank holiday");
    } else {
        b.nth(8, -1, Weekday::Monday, "Summer bank holiday");
    }
    // One-off proclamations (no rule produces them).
    b.in_years(&[2002], 6, 3, "Golden Jubilee");
    b.in_years(&[2011], 4, 29, "Royal Wedding");
    b.in_years(&[2012], 6, 5, "Diamond Jubilee");
    b.in_years(&[2022], 6, 3, "Platinum Jubilee");
    b.in_years(&[2022], 9, 19, "State Funeral of Queen Elizabeth II");
    b.in_years(&[2023], 5, 8, "Coronation of King Charles III");
}

fn substitute_name(name: &'static str) -> &'static str {
    match name {
        "New Year's Day" => "New Year's Day (substitute day)",
        "2nd January" => "2nd January (substitute day)",
        "St Patrick's Day" => "St Patrick's Day (substitute day)",
        "Battle of the Boyne (Orangemen's Day)" => "Battle of the Boyne (substitute day)",
        "St Andrew's Day" => "St Andrew's Day (substitute day)",
        "Christmas Day" => "Christmas Day (substitute day)",
        "Boxing Day" => "Boxing Day (substitute day)",
        other => other,
    }
}

impl FromStr for DeState {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        use DeState::*;
        Ok(match s {
            "BW" => BW,
            "BY" => BY,
            "BE" => BE,
            "BB" => BB,
            "HB" => HB,
            "HH" => HH,
            "HE" => HE,
            "MV" => MV,
            "NI" => NI,
            "NW" => NW,
            "RP" => RP,
            "SL" => SL,
            "SN" => SN,
            "ST" => ST,
            "SH" => SH,
            "TH" => TH,
            _ => return Err(()),
        })
    }
}

impl FromStr for Canton {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        Ok(match s {
            "ZH" => Canton::ZH,
            "BE" => Canton::BE,
            "GE" => Canton::GE,
            "VD" => Canton::VD,
            _ => return Err(()),
        })
    }
}

impl fmt::Display for Calendar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Calendar::Belgium => f.write_str("BE"),
            Calendar::Germany(None) => f.write_str("DE"),
            Calendar::Germany(Some(s)) => write!(f, "DE-{s:?}"),
            Calendar::Switzerland(None) => f.write_str("CH"),
            Calendar::Switzerland(Some(c)) => write!(f, "CH-{c:?}"),
            Calendar::Uk(UkNation::EnglandWales) => f.write_str("UK-ENG"),
            Calendar::Uk(UkNation::Scotland) => f.write_str("UK-SCT"),
            Calendar::Uk(UkNation::NorthernIreland) => f.write_str("UK-NIR"),
            Calendar::WeekendsOnly => f.write_str("none"),
        }
    }
}
