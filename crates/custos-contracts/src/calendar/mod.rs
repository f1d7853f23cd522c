//! Dates and deadlines as the law counts them.
//!
//! **Statutory periods (EU Regulation 1182/71).** A period in days, weeks, months or
//! years starts on the day *after* the event (Art. 3(1)) and ends with the last hour of
//! its last day (Art. 3(2)(b),(c)): for weeks, months and years the last day is the
//! same weekday or date as the event's, or the last day of the month when that date
//! does not exist. If the last day is a Saturday, Sunday or public holiday the period
//! runs to the end of the next working day (Art. 3(4)), and a period of two days or
//! more contains at least two working days (Art. 3(5)). A period in hours starts at
//! the beginning of the hour after the event and is never moved (Art. 3(1),(2)(a)).
//! A period in business days counts working days only (Art. 3(3)).
//!
//! **Which day.** An event happens on the date it has in the *customer's* time zone,
//! and a day ends at the customer's midnight, so a customer in Berlin who sends a
//! notice at 23:30 local time on the last day is in time.
//!
//! **Months.** The Nth monthly date is `anchor + N months`, clamped to the month's
//! end, never `N` single-month steps: chaining would let 31 January → 28 February →
//! 28 March drift away from the anchor forever.
//!
//! **Notice before a date** ("at least one month before the term ends") is counted
//! backwards from the boundary and is *not* moved for weekends: moving it earlier
//! would shorten the consumer's time, moving it later would break the notice.

mod holidays;

pub use holidays::{Calendar, CalendarError, Canton, DeState, Holiday, UkNation, easter};

use custos_policy::period::{Span, Unit};
use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};

/// The end of a period: the last day the customer (or the seller) may act on, and
/// the first instant that is too late. An act at `t` is in time iff `t < ends_at`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deadline {
    pub last_day: Date,
    pub ends_at: Timestamp,
}

impl Deadline {
    pub fn is_met_by(&self, at: Timestamp) -> bool {
        at < self.ends_at
    }
}

/// `anchor + n months`, clamped to the end of the month (31 Jan + 1 = 28/29 Feb).
pub fn add_months(anchor: Date, n: i32) -> Result<Date, CalendarError> {
    Ok(anchor.checked_add(n.months())?)
}

/// Adds a calendar span to a date: months and years by month arithmetic from the
/// date itself, weeks as 7 days. Hours and business days are not calendar spans here
/// (hours are whole days rounded up; business days as days); callers that need them
/// use [`Local::statutory`] or [`Calendar`] helpers.
pub fn add_span(date: Date, span: Span, times: i32) -> Result<Date, CalendarError> {
    let n = i32::try_from(span.n)
        .ok()
        .and_then(|n| n.checked_mul(times))
        .ok_or(CalendarError::OutOfRange)?;
    let out = match span.unit {
        Unit::Days | Unit::BusinessDays => date.checked_add(n.days())?,
        Unit::Hours => date.checked_add(n.div_euclid(24).days())?,
        Unit::Weeks => {
            date.checked_add(n.checked_mul(7).ok_or(CalendarError::OutOfRange)?.days())?
        }
        Unit::Months => add_months(date, n)?,
        Unit::Years => add_months(date, n.checked_mul(12).ok_or(CalendarError::OutOfRange)?)?,
    };
    Ok(out)
}

/// A span in whole months when it is one (months or years), for anchored arithmetic.
pub fn span_months(span: Span) -> Option<i32> {
    let n = i32::try_from(span.n).ok()?;
    match span.unit {
        Unit::Months => Some(n),
        Unit::Years => n.checked_mul(12),
        _ => None,
    }
}

impl Calendar {
    /// The first working day on or after `date`.
    pub fn working_day_on_or_after(&self, date: Date) -> Result<Date, CalendarError> {
        let mut d = date;
        while !self.is_working_day(d) {
            d = d.tomorrow()?;
        }
        Ok(d)
    }

    /// The `n`th working day after `date` (not counting `date`).
    pub fn add_business_days(&self, date: Date, n: u32) -> Result<Date, CalendarError> {
        let mut d = date;
        let mut left = n;
        while left > 0 {
            d = d.tomorrow()?;
            if self.is_working_day(d) {
                left -= 1;
            }
        }
        Ok(d)
    }

    /// The `n`th working day before `date` (not counting `date`).
    pub fn sub_business_days(&self, date: Date, n: u32) -> Result<Date, CalendarError> {
        let mut d = date;
        let mut left = n;
        while left > 0 {
            d = d.yesterday()?;
            if self.is_working_day(d) {
                left -= 1;
            }
        }
        Ok(d)
    }

    /// Working days in `from ..= to`.
    pub fn working_days_between(&self, from: Date, to: Date) -> Result<u32, CalendarError> {
        let mut d = from;
        let mut count = 0u32;
        while d <= to {
            if self.is_working_day(d) {
                count += 1;
            }
            d = d.tomorrow()?;
        }
        Ok(count)
    }
}

/// A customer's place in time: the zone that decides which day an event happened on
/// and the holiday calendar that decides which days are working days.
#[derive(Debug, Clone, PartialEq)]
pub struct Local {
    pub tz: TimeZone,
    pub calendar: Calendar,
}

impl Local {
    pub fn new(tz: TimeZone, calendar: Calendar) -> Self {
        Local { tz, calendar }
    }

    /// The customer's calendar date at `t`.
    pub fn date_of(&self, t: Timestamp) -> Date {
        t.to_zoned(self.tz.clone()).date()
    }

    /// The first instant of `date` in the customer's zone.
    pub fn start_of(&self, date: Date) -> Result<Timestamp, CalendarError> {
        Ok(date.to_zoned(self.tz.clone())?.timestamp())
    }

    /// The first instant after `date` ends (the customer's next midnight).
    pub fn end_of(&self, date: Date) -> Result<Timestamp, CalendarError> {
        self.start_of(date.tomorrow()?)
    }

    /// A deadline whose last day is `date`.
    pub fn deadline_on(&self, date: Date) -> Result<Deadline, CalendarError> {
        Ok(Deadline {
            last_day: date,
            ends_at: self.end_of(date)?,
        })
    }

    /// The end of a period of `span` counted from an event at `event`, under
    /// Regulation 1182/71 (see the module documentation).
    pub fn statutory(&self, event: Timestamp, span: Span) -> Result<Deadline, CalendarError> {
        if span.unit == Unit::Hours {
            // Art. 3(1): the hour in which the event happens is not counted.
            let zoned = event.to_zoned(self.tz.clone());
            let hour_start = zoned
                .with()
                .minute(0)
                .second(0)
                .subsec_nanosecond(0)
                .build()?
                .timestamp();
            let ends_at = hour_start.checked_add(
                i64::from(span.n)
                    .checked_add(1)
                    .ok_or(CalendarError::OutOfRange)?
                    .hours(),
            )?;
            let last_day = self.date_of(ends_at.checked_sub(1.nanosecond())?);
            return Ok(Deadline { last_day, ends_at });
        }
        let event_day = self.date_of(event);
        self.statutory_from_date(event_day, span)
    }

    /// As [`Local::statutory`], for an event known only by its date.
    pub fn statutory_from_date(
        &self,
        event_day: Date,
        span: Span,
    ) -> Result<Deadline, CalendarError> {
        let cal = &self.calendar;
        let last = match span.unit {
            Unit::BusinessDays => cal.add_business_days(event_day, span.n)?,
            _ => {
                let nominal = add_span(event_day, span, 1)?;
                // Art. 3(4): a last day that is not a working day moves to the next one.
                let mut last = cal.working_day_on_or_after(nominal)?;
                // Art. 3(5): a period of two days or more holds at least two working days.
                let first = event_day.tomorrow()?;
                if nominal >= first.tomorrow()? && cal.working_days_between(first, last)? < 2 {
                    last = cal.add_business_days(event_day, 2)?;
                }
                last
            }
        };
        self.deadline_on(last)
    }

    /// The last day on which notice of `span` can be given before `boundary` (the day a
    /// term ends or a period starts, at its first instant). For business days this is
    /// the `n`th working day before the boundary; otherwise the boundary less the span.
    pub fn notice_by(&self, boundary: Date, span: Span) -> Result<Deadline, CalendarError> {
        let last = match span.unit {
            Unit::BusinessDays => self.calendar.sub_business_days(boundary, span.n)?,
            Unit::Months | Unit::Years => {
                let months = span_months(span).ok_or(CalendarError::OutOfRange)?;
                add_months(boundary, -months)?
            }
            Unit::Hours => {
                let start = self.start_of(boundary)?;
                let at = start.checked_sub(i64::from(span.n).hours())?;
                // The last day is the one holding the final instant before `at`.
                return Ok(Deadline {
                    last_day: self.date_of(at.checked_sub(1.nanosecond())?),
                    ends_at: at,
                });
            }
            Unit::Days | Unit::Weeks => add_span(boundary, span, -1)?,
        };
        // A notice given on `boundary - span` gives exactly the span (whole days), so
        // that day is still in time.
        self.deadline_on(last)
    }
}
