//! Payment card numbers (PANs) in text.
//!
//! A PAN is 13–19 digits, possibly grouped by single spaces or dashes, that pass
//! the Luhn check *and* start with a known issuer prefix for a length that issuer
//! uses. Luhn alone would flag one in ten random digit strings (order numbers,
//! tracking codes); the issuer ranges bring false positives down to numbers that
//! look like cards to any payment system too, which is the right side to err on.

use std::ops::Range;

/// Byte ranges of every card number in `text`.
pub fn find_card_numbers(text: &str) -> Vec<Range<usize>> {
    let bytes = text.as_bytes();
    let mut found = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let starts_run = bytes.get(i).is_some_and(u8::is_ascii_digit)
            && (i == 0 || !bytes.get(i - 1).is_some_and(|b| b.is_ascii_alphanumeric()));
        if !starts_run {
            i += 1;
            continue;
        }
        // Collect a run of digits with single separators between them.
        let mut digits: Vec<u8> = Vec::with_capacity(19);
        let mut ends = Vec::with_capacity(19); // byte end after each digit
        let mut j = i;
        while let Some(&b) = bytes.get(j) {
            if b.is_ascii_digit() {
                digits.push(b - b'0');
                ends.push(j + 1);
                j += 1;
            } else if (b == b' ' || b == b'-')
                && bytes.get(j + 1).is_some_and(u8::is_ascii_digit)
                && bytes.get(j.wrapping_sub(1)).is_some_and(u8::is_ascii_digit)
            {
                j += 1;
            } else {
                break;
            }
        }
        let run_ends_cleanly = !bytes.get(j).is_some_and(|b| b.is_ascii_alphanumeric());
        // Try the longest card-like prefix of the run first.
        let mut matched = None;
        if run_ends_cleanly || digits.len() > 19 {
            for len in (13..=19.min(digits.len())).rev() {
                let Some(candidate) = digits.get(..len) else {
                    continue;
                };
                // A shorter prefix of a longer digit run is only a card if the run
                // continues with a separator, not with more digits.
                let end = ends.get(len - 1).copied().unwrap_or(j);
                let next_is_digit = bytes.get(end).is_some_and(u8::is_ascii_digit);
                if !next_is_digit && is_card_number(candidate) {
                    matched = Some(end);
                    break;
                }
            }
        }
        match matched {
            Some(end) => {
                found.push(i..end);
                i = end;
            }
            None => i = j.max(i + 1),
        }
    }
    found
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
        // Maestro
        _ if p2 == 50 || (56..=69).contains(&p2) => (13..=19).contains(&len),
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
mod tests {
    use super::*;

    #[test]
    fn finds_test_cards_in_all_groupings() {
        for pan in [
            "4111111111111111",
            "4111 1111 1111 1111",
            "4111-1111-1111-1111",
            "5555555555554444",
            "378282246310005",
            "6011111111111117",
            "3530111333300000",
        ] {
            assert!(contains_card_number(pan), "{pan}");
            assert!(
                contains_card_number(&format!("my card is {pan}, thanks")),
                "{pan} in text"
            );
        }
    }

    #[test]
    fn ignores_non_cards() {
        for text in [
            "4111111111111112",           // Luhn fails
            "1234567890123452",           // Luhn ok, no issuer
            "+33612345678",               // phone
            "order 41111111111111111111", // too long a run
            "ref4111111111111111",        // glued to letters
            "2024-01-15",
            "",
        ] {
            assert!(!contains_card_number(text), "{text}");
        }
    }

    #[test]
    fn reports_the_byte_range() {
        let text = "pay with 4111 1111 1111 1111 now";
        let r = find_card_numbers(text);
        assert_eq!(r.len(), 1);
        assert_eq!(&text[r[0].clone()], "4111 1111 1111 1111");
    }

    #[test]
    fn cvv_field_names() {
        assert!(is_cvv_field_name("CVV"));
        assert!(is_cvv_field_name("card_cvc"));
        assert!(is_cvv_field_name("security-code"));
        assert!(!is_cvv_field_name("city"));
    }

    proptest::proptest! {
        #[test]
        fn never_panics(text in "\\PC{0,200}") {
            let _ = find_card_numbers(&text);
        }

        #[test]
        fn every_valid_visa_is_found(body in proptest::collection::vec(0u8..10, 14)) {
            // Complete 4 + 14 digits with the Luhn check digit.
            let mut d = vec![4u8];
            d.extend(body);
            let check = (0..10).find(|c| { let mut x = d.clone(); x.push(*c); luhn(&x) }).unwrap();
            d.push(check);
            let s: String = d.iter().map(|x| char::from(b'0' + x)).collect();
            let text = format!("x {s} y");
            proptest::prop_assert!(contains_card_number(&text));
        }
    }
}
