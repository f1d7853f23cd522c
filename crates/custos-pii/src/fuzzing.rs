//! The body of the `card_scan` fuzz target (`fuzz/fuzz_targets/card_scan.rs`),
//! here so that the ordinary test suite runs it too (on mutated seeds, without
//! cargo-fuzz, which needs a nightly toolchain) and it cannot rot.

use std::ops::Range;

use crate::{find_card_expiry, find_card_numbers, find_security_codes};

/// Runs every scanner on `data` (as UTF-8, lossily) and checks what must hold
/// for any input: no panic; every range is non-empty, inside the text and on
/// character boundaries; and a card number found, cut out alone, is still found
/// (the range covers the whole number, which is what redaction relies on).
/// Returns the first broken rule.
pub fn scan(data: &[u8]) -> Result<(), String> {
    let text = String::from_utf8_lossy(data);
    let text = text.as_ref();
    let cards = find_card_numbers(text);
    for (name, ranges) in [
        ("card number", &cards),
        ("security code", &find_security_codes(text)),
        ("card expiry", &find_card_expiry(text)),
    ] {
        for r in ranges {
            well_formed(text, r).map_err(|e| format!("{name} range {r:?}: {e}"))?;
        }
    }
    for r in &cards {
        let alone = text.get(r.clone()).unwrap_or_default();
        if find_card_numbers(alone).is_empty() {
            return Err(format!(
                "card number range {r:?} alone is not a card number"
            ));
        }
    }
    Ok(())
}

fn well_formed(text: &str, r: &Range<usize>) -> Result<(), &'static str> {
    if r.start >= r.end {
        return Err("empty");
    }
    if text.get(r.clone()).is_none() {
        return Err("outside the text or not on a character boundary");
    }
    Ok(())
}
