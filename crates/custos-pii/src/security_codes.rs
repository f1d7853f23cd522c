//! Card security codes and expiry dates in free text (P0-2).
//!
//! A security code on its own is just three or four digits, so it is recognised
//! by what a person writes next to it: one of its usual labels, in the languages
//! the bundled policies serve. An expiry date on its own is just a date, so it
//! counts only next to a card number, full or masked (`**** **** **** 1111`).

use crate::cards;
use crate::norm::{self, Ch};
use std::ops::Range;

/// Labels of a card security code, lower case without accents; a space matches
/// any short run of spaces, dashes, dots or underscores. Longest first, so `cvv2`
/// wins over `cvv`.
const LABELS: &[&str] = &[
    "card verification value",
    "card verification code",
    "card security code",
    "codigo de seguranca",
    "codigo de seguridad",
    "kartenpruefnummer",
    "code de securite",
    "kartenprufnummer",
    "beveiligingscode",
    "sicherheitscode",
    "security code",
    "cryptogramme",
    "pruefnummer",
    "prufnummer",
    "cvv2",
    "cvc2",
    "cav2",
    "cvv",
    "cvc",
    "cid",
    "csc",
    "cvn",
];

/// How far after a label (in characters) the code may stand: `CVV (3 digits): 123`.
const AFTER_LABEL: usize = 24;
/// How far before a label: only punctuation and spaces, `123 (CVV)`.
const BEFORE_LABEL: usize = 4;

fn is_word(c: &Ch) -> bool {
    c.c.is_alphanumeric()
}

/// End (exclusive) of `label` matched at `i`, if it matches as whole words.
fn match_label(chars: &[Ch], i: usize, label: &str) -> Option<usize> {
    if i.checked_sub(1)
        .and_then(|p| chars.get(p))
        .is_some_and(|c| c.c.is_alphabetic())
    {
        return None;
    }
    let mut j = i;
    for l in label.chars() {
        if l == ' ' {
            let start = j;
            while j - start < norm::MAX_SEPARATOR_RUN
                && chars
                    .get(j)
                    .is_some_and(|c| c.c.is_whitespace() || matches!(c.c, '-' | '.' | '_'))
            {
                j += 1;
            }
            if j == start {
                return None;
            }
        } else if chars.get(j).is_some_and(|c| c.folded == l) {
            j += 1;
        } else {
            return None;
        }
    }
    // A label ends a word; a code glued to it (`CVV123`) still counts.
    if chars.get(j).is_some_and(|c| c.c.is_alphabetic()) {
        return None;
    }
    Some(j)
}

/// A code of 3–4 digits starting at `i` (digits may be split by single
/// separators: `1 2 3`), not part of a longer number. Returns its end.
fn code_at(chars: &[Ch], i: usize) -> Option<usize> {
    let digit = |k: usize| chars.get(k).is_some_and(|c| c.c.is_ascii_digit());
    if !digit(i) || i.checked_sub(1).is_some_and(digit) {
        return None;
    }
    let mut j = i;
    let mut n = 0;
    loop {
        while digit(j) {
            j += 1;
            n += 1;
        }
        let sep = chars.get(j).is_some_and(|c| norm::is_separator(c.c));
        if sep && digit(j + 1) && n < 4 {
            j += 1;
        } else {
            break;
        }
    }
    (3..=4).contains(&n).then_some(j)
}

/// Byte ranges of security codes written next to one of their labels.
pub fn find_security_codes(text: &str) -> Vec<Range<usize>> {
    let chars = norm::normalise(text);
    let mut found = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let Some(end) = LABELS.iter().find_map(|l| match_label(&chars, i, l)) else {
            i += 1;
            continue;
        };
        // Code after the label, within a short window.
        let mut hit = None;
        let mut k = end;
        while k < chars.len() && k <= end + AFTER_LABEL {
            if let Some(e) = code_at(&chars, k) {
                hit = Some(k..e);
                break;
            }
            k += 1;
        }
        // Or just before it, separated only by punctuation: `123 (CVV)`.
        if hit.is_none() {
            let mut k = i;
            let mut gap = 0;
            while let Some(p) = k.checked_sub(1) {
                let Some(c) = chars.get(p) else { break };
                if c.c.is_ascii_digit() {
                    let mut s = p;
                    while s
                        .checked_sub(1)
                        .is_some_and(|q| chars.get(q).is_some_and(|c| c.c.is_ascii_digit()))
                    {
                        s -= 1;
                    }
                    if code_at(&chars, s) == Some(p + 1) {
                        hit = Some(s..p + 1);
                    }
                    break;
                }
                if is_word(c) || gap >= BEFORE_LABEL {
                    break;
                }
                gap += 1;
                k = p;
            }
        }
        if let Some(r) = hit
            && let Some(span) = norm::span_of(&chars, r.start, r.end)
        {
            found.push(span);
        }
        i = end.max(i + 1);
    }
    found
}

/// How close (in characters) an expiry date must be to a card number to count.
const NEAR_CARD: usize = 40;

/// Masked card numbers: at least four mask characters (`*`, `x`, `•`, `#`),
/// possibly grouped, followed by the last four digits.
fn masked_cards(chars: &[Ch]) -> Vec<Range<usize>> {
    let is_mask = |c: &Ch| matches!(c.c, '*' | 'x' | 'X' | '•' | '●' | '·' | '#');
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if !chars.get(i).is_some_and(is_mask) {
            i += 1;
            continue;
        }
        let start = i;
        let mut masks = 0;
        let mut j = i;
        while let Some(c) = chars.get(j) {
            if is_mask(c) {
                masks += 1;
            } else if !norm::is_separator(c.c) {
                break;
            }
            j += 1;
        }
        if masks >= 4
            && let Some(e) = code_at(chars, j)
            && e - j == 4
        {
            out.push(start..e);
            i = e;
        } else {
            i = j.max(i + 1);
        }
    }
    out
}

/// An expiry date `MM/YY` or `MM/YYYY` (also with `-`, `.` or a space) at `i`.
fn expiry_at(chars: &[Ch], i: usize) -> Option<usize> {
    let d = |k: usize| chars.get(k).and_then(|c| c.c.to_digit(10));
    if i.checked_sub(1).and_then(d).is_some() {
        return None;
    }
    let month = d(i)? * 10 + d(i + 1)?;
    if !(1..=12).contains(&month) {
        return None;
    }
    if !chars
        .get(i + 2)
        .is_some_and(|c| matches!(c.c, '/' | '-' | '.' | ' '))
    {
        return None;
    }
    let y = i + 3;
    d(y)?;
    d(y + 1)?;
    let end = if d(y + 2).is_some() && d(y + 3).is_some() {
        if d(y)? != 2 || d(y + 1)? != 0 {
            return None;
        }
        y + 4
    } else {
        y + 2
    };
    d(end).is_none().then_some(end)
}

/// Byte ranges of expiry dates written next to a card number (full or masked).
pub fn find_card_expiry(text: &str) -> Vec<Range<usize>> {
    let chars = norm::normalise(text);
    let mut cardlike = cards::find_in(&chars);
    cardlike.extend(masked_cards(&chars));
    let mut found = Vec::new();
    for i in 0..chars.len() {
        let Some(end) = expiry_at(&chars, i) else {
            continue;
        };
        let near = cardlike.iter().any(|c| {
            let inside = i >= c.start && end <= c.end;
            let after = i >= c.end && i - c.end <= NEAR_CARD;
            let before = end <= c.start && c.start - end <= NEAR_CARD;
            !inside && (after || before)
        });
        if near && let Some(span) = norm::span_of(&chars, i, end) {
            found.push(span);
        }
    }
    found
}
