//! Payment card numbers (PANs) in text.
//!
//! A PAN is 13–19 digits, possibly grouped by short runs of separators, that pass
//! the Luhn check *and* start with a known issuer prefix for a length that issuer
//! uses. Luhn alone would flag one in ten random digit strings (order numbers,
//! tracking codes); the issuer ranges bring false positives down to numbers that
//! look like cards to any payment system too, which is the right side to err on.

use crate::norm::{self, Ch, MAX_SEPARATOR_RUN};
use std::ops::Range;

/// One maximal run of ASCII digits in the normalised text.
#[derive(Debug)]
pub(crate) struct Group {
    /// Normalised char index range.
    pub at: Range<usize>,
    /// The separators between the previous group of the run and this one.
    pub sep_before: String,
}

/// Digit groups joined by short runs of separators: the shape a number takes
/// when a person (or someone hiding it) writes it down.
#[derive(Debug)]
pub(crate) struct Run {
    pub groups: Vec<Group>,
    /// The first group is glued to a letter or digit-like character before it.
    pub glued_before: bool,
    /// The last group is glued to a letter after it.
    pub glued_after: bool,
}

fn is_digit(chars: &[Ch], i: usize) -> bool {
    chars.get(i).is_some_and(|c| c.c.is_ascii_digit())
}

/// Every run of digit groups in the normalised text.
pub(crate) fn runs(chars: &[Ch]) -> Vec<Run> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if !is_digit(chars, i) {
            i += 1;
            continue;
        }
        let glued_before = i
            .checked_sub(1)
            .and_then(|p| chars.get(p))
            .is_some_and(|c| c.c.is_alphanumeric());
        let mut groups = Vec::new();
        let mut sep_before = String::new();
        let mut j = i;
        loop {
            let start = j;
            while is_digit(chars, j) {
                j += 1;
            }
            groups.push(Group {
                at: start..j,
                sep_before: std::mem::take(&mut sep_before),
            });
            // A short run of separators followed by a digit continues the number.
            let mut k = j;
            while k < chars.len()
                && k - j < MAX_SEPARATOR_RUN
                && chars.get(k).is_some_and(|c| norm::is_separator(c.c))
            {
                k += 1;
            }
            if k > j && is_digit(chars, k) {
                sep_before = chars
                    .get(j..k)
                    .map(|s| s.iter().map(|c| c.c).collect())
                    .unwrap_or_default();
                j = k;
            } else {
                break;
            }
        }
        let glued_after = chars.get(j).is_some_and(|c| c.c.is_alphanumeric());
        out.push(Run {
            groups,
            glued_before,
            glued_after,
        });
        i = j.max(i + 1);
    }
    out
}

fn digits_of(chars: &[Ch], groups: &[Group]) -> Vec<u8> {
    groups
        .iter()
        .flat_map(|g| chars.get(g.at.clone()).unwrap_or_default())
        .filter_map(|c| c.c.to_digit(10))
        .filter_map(|d| u8::try_from(d).ok())
        .collect()
}

/// Whether groups `a..=b` of `run` stand as one number of their own. The whole
/// run always does. A part of a longer run does when it is one block of digits,
/// or when its groups are joined by one and the same separator and set apart from
/// the rest of the run by a different one (`qty 2, 4111 1111 1111 1111`); a part
/// of a longer uniformly written number (an IBAN's `3000 6000 0112 3456 …`, a list
/// of phone numbers) does not, which keeps those from reading as cards.
fn stands_alone(run: &Run, a: usize, b: usize) -> bool {
    let last = run.groups.len().saturating_sub(1);
    if (a == 0 && run.glued_before) || (b == last && run.glued_after) {
        return false;
    }
    let Some(inner_all) = run.groups.get(a + 1..=b) else {
        return a == b;
    };
    let uniform = inner_all
        .first()
        .is_none_or(|f| inner_all.iter().all(|g| g.sep_before == f.sep_before));
    if a == 0 && b == last {
        // A whole run may mix separators (`4111 1111-1111.1111`) but only one
        // character at a time: `51234567, 05/12/2026` is an order and a date.
        return uniform || inner_all.iter().all(|g| g.sep_before.chars().count() == 1);
    }
    let Some(inner) = run.groups.get(a + 1..=b) else {
        return a == b;
    };
    let Some(first) = inner.first() else {
        return true; // one block of digits
    };
    let sep = &first.sep_before;
    if inner.iter().any(|g| &g.sep_before != sep) {
        return false;
    }
    let before_differs = a == 0 || run.groups.get(a).is_some_and(|g| &g.sep_before != sep);
    let after_differs = b == last || run.groups.get(b + 1).is_some_and(|g| &g.sep_before != sep);
    before_differs && after_differs
}

/// Card numbers as normalised char ranges.
pub(crate) fn find_in(chars: &[Ch]) -> Vec<Range<usize>> {
    let mut found = Vec::new();
    for run in runs(chars) {
        let mut a = 0;
        while a < run.groups.len() {
            let mut best = None;
            let mut count = 0;
            for b in a..run.groups.len() {
                count += run.groups.get(b).map_or(0, |g| g.at.len());
                if count > 19 {
                    break;
                }
                if count >= 13
                    && stands_alone(&run, a, b)
                    && run
                        .groups
                        .get(a..=b)
                        .is_some_and(|gs| is_card_number(&digits_of(chars, gs)))
                {
                    best = Some(b);
                }
            }
            match best {
                Some(b) => {
                    if let (Some(ga), Some(gb)) = (run.groups.get(a), run.groups.get(b)) {
                        found.push(ga.at.start..gb.at.end);
                    }
                    a = b + 1;
                }
                None => a += 1,
            }
        }
    }
    found
}

/// Byte ranges of every card number in `text`, in any disguise: NFKC forms
/// (full-width digits), invisible characters inside, and any short run of
/// separators (space . / - _ , tab newline) between digit groups.
pub fn find_card_numbers(text: &str) -> Vec<Range<usize>> {
    let chars = norm::normalise(text);
    find_in(&chars)
        .into_iter()
        .filter_map(|r| norm::span_of(&chars, r.start, r.end))
        .collect()
}

pub fn contains_card_number(text: &str) -> bool {
    !find_card_numbers(text).is_empty()
}

/// Whether these digits (values 0–9) form a plausible card number.
pub fn is_card_number(digits: &[u8]) -> bool {
    (13..=19).contains(&digits.len()) && luhn(digits) && issuer_accepts(digits)
}

fn luhn(digits: &[u8]) -> bool {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            let d = u32::from(d);
            if i % 2 == 1 {
                let x = d * 2;
                if x > 9 { x - 9 } else { x }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

fn prefix(digits: &[u8], n: usize) -> u32 {
    digits
        .iter()
        .take(n)
        .fold(0, |acc, &d| acc * 10 + u32::from(d))
}

/// Issuer identification ranges of the major networks and their lengths.
fn issuer_accepts(d: &[u8]) -> bool {
    let len = d.len();
    let p1 = prefix(d, 1);
    let p2 = prefix(d, 2);
    let p3 = prefix(d, 3);
    let p4 = prefix(d, 4);
    let p6 = prefix(d, 6);
    match () {
        // Visa
        _ if p1 == 4 => matches!(len, 13 | 16 | 19),
        // Mastercard
        _ if (51..=55).contains(&p2) || (2221..=2720).contains(&p4) => len == 16,
        // American Express
        _ if p2 == 34 || p2 == 37 => len == 15,
        // Discover
        _ if p4 == 6011
            || p2 == 65
            || (644..=649).contains(&p3)
            || (622126..=622925).contains(&p6) =>
        {
            (16..=19).contains(&len)
        }
        // JCB
        _ if (3528..=3589).contains(&p4) => (16..=19).contains(&len),
        // Diners Club
        _ if (300..=305).contains(&p3) || p2 == 36 || p2 == 38 || p2 == 39 => {
            (14..=19).contains(&len)
        }
        // UnionPay
        _ if p2 == 62 => (16..=19).contains(&len),
        // Maestro: its real ranges only. The textbook "50, 56–69" would take every
        // Luhn-valid French SIRET starting 56–69 for a card (P17-14).
        _ if matches!(
            p4,
            5018 | 5020 | 5038 | 5893 | 6304 | 6759 | 6761 | 6762 | 6763 | 6799
        ) =>
        {
            (13..=19).contains(&len)
        }
        _ => false,
    }
}

/// Field names that carry a card security code (CVV/CVC/CID): refused whatever
/// their value, because a security code must never be stored (PCI DSS 3.2.2, P0-2).
pub fn is_cvv_field_name(name: &str) -> bool {
    let n: String = name
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect::<String>()
        .to_ascii_lowercase();
    matches!(
        n.as_str(),
        "cvv"
            | "cvv2"
            | "cvc"
            | "cvc2"
            | "cid"
            | "csc"
            | "cav2"
            | "securitycode"
            | "cardsecuritycode"
            | "cardverificationvalue"
            | "cardverificationcode"
            | "cardcvv"
            | "cardcvc"
    )
}

#[cfg(test)]
pub(crate) fn is_luhn_valid(digits: &[u8]) -> bool {
    luhn(digits)
}
