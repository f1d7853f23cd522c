//! Table-driven tests of every disguise (P17-4), the false-positive corpus
//! (P17-14) and the security-code and expiry scanners (P0-2), with property tests.

use super::*;
use proptest::prelude::*;

/// Every way of writing 4111 1111 1111 1111 (and other test cards) that a
/// person reads as a card number.
const DISGUISED_CARDS: &[(&str, &str)] = &[
    ("plain", "4111111111111111"),
    ("spaces", "4111 1111 1111 1111"),
    ("dashes", "4111-1111-1111-1111"),
    ("dots", "4111.1111.1111.1111"),
    ("slashes", "4111/1111/1111/1111"),
    ("underscores", "4111_1111_1111_1111"),
    ("commas", "4111,1111,1111,1111"),
    ("comma space", "4111, 1111, 1111, 1111"),
    ("tabs", "4111\t1111\t1111\t1111"),
    ("newlines", "4111\n1111\n1111\n1111"),
    ("crlf", "4111\r\n1111\r\n1111\r\n1111"),
    ("spaced dash", "4111 - 1111 - 1111 - 1111"),
    ("double spaces", "4111  1111  1111  1111"),
    ("mixed single", "4111 1111-1111.1111"),
    ("digit by digit", "4 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1"),
    ("pairs", "41 11 11 11 11 11 11 11"),
    ("uneven groups", "41111 11111 111111"),
    ("amex 4-6-5", "3782 822463 10005"),
    ("mastercard 2-series", "2223 0031 2200 3222"),
    ("mastercard", "5555.5555.5555.4444"),
    ("discover", "6011-1111-1111-1117"),
    ("jcb", "3530 1113 3330 0000"),
    ("diners", "3056 930902 5904"),
    ("unionpay", "6200000000000005"),
    ("maestro", "6759 6498 2643 8453"),
    ("visa 13", "4222222222222"),
    ("visa 19", "4111 1111 1111 1111 003"),
    ("full-width", "４１１１１１１１１１１１１１１１"),
    (
        "full-width spaces",
        "４１１１　１１１１　１１１１　１１１１",
    ),
    (
        "full-width dashes",
        "４１１１－１１１１－１１１１－１１１１",
    ),
    ("mathematical digits", "𝟒𝟏𝟏𝟏 𝟏𝟏𝟏𝟏 𝟏𝟏𝟏𝟏 𝟏𝟏𝟏𝟏"),
    (
        "zero-width space",
        "4111\u{200B}1111\u{200B}1111\u{200B}1111",
    ),
    (
        "zero-width joiners",
        "41\u{200C}11\u{200D}1111\u{2060}1111\u{FEFF}1111",
    ),
    ("soft hyphens", "4111\u{AD}1111\u{AD}1111\u{AD}1111"),
    ("bidi override", "\u{202E}4111 1111 1111 1111\u{202C}"),
    (
        "bidi marks inside",
        "4111\u{200E}1111\u{200F}1111\u{2066}1111\u{2069}",
    ),
    ("no-break spaces", "4111\u{A0}1111\u{202F}1111\u{A0}1111"),
    ("en dashes", "4111–1111–1111–1111"),
    ("minus signs", "4111−1111−1111−1111"),
    ("in a sentence", "my card is 4111 1111 1111 1111, thanks"),
    ("after a quantity", "qty 2, 4111 1111 1111 1111"),
    ("before a quantity", "4111 1111 1111 1111, qty 2"),
    ("on lines", "card:\n4111\n1111\n1111\n1111\nthanks"),
    ("in parentheses", "(4111-1111-1111-1111)"),
    ("in quotes", "\"4111.1111.1111.1111\""),
    ("two cards", "4111 1111 1111 1111 / 5555 5555 5555 4444"),
];

#[test]
fn every_disguise_is_found() {
    for (name, text) in DISGUISED_CARDS {
        let found = find_card_numbers(text);
        assert!(!found.is_empty(), "{name}: {text:?} not found");
        for r in &found {
            assert!(
                text.get(r.clone()).is_some(),
                "{name}: range off a char boundary"
            );
        }
    }
}

#[test]
fn ranges_point_at_the_original_text() {
    let text = "pay with ４１１１\u{200B}1111 1111 1111 now";
    let r = find_card_numbers(text);
    assert_eq!(r.len(), 1);
    assert_eq!(&text[r[0].clone()], "４１１１\u{200B}1111 1111 1111");
    let text = "4111 1111 1111 1111 / 5555 5555 5555 4444";
    assert_eq!(find_card_numbers(text).len(), 2);
}

/// Things that look like numbers but are not cards; none may be refused.
const NOT_CARDS: &[&str] = &[
    "4111111111111112",           // Luhn fails
    "1234567890123452",           // Luhn ok, no issuer
    "+33612345678",               // phone
    "order 41111111111111111111", // too long a run
    "ref4111111111111111",        // glued to letters
    "4111111111111111abc",
    "2024-01-15",
    "",
    "4111 1111 1111 111",            // 15 digits, not a Visa length
    "4111 1111 1111 1111 1111 1111", // a 24-digit number, not a card
];

#[test]
fn non_cards_are_not_found() {
    for text in NOT_CARDS {
        assert!(!contains_card_number(text), "{text:?}");
    }
}

/// Free text a shop really receives: dates, phone numbers, IBANs, order
/// references and tracking numbers, alone and in lists (P17-14).
const CORPUS: &[&str] = &[
    // dates
    "Delivered on 05/12/2026, returned 06/12/2026, refunded 07/12/2026.",
    "2026-12-05 2026-12-06 2026-12-07 2026-12-08",
    "born 14.07.1989; moved 01.09.2015; married 12.06.2021",
    "Appointments: 05/12/2026 14:30, 06/12/2026 09:15, 07/12/2026 17:45",
    "from 2026-01-01 to 2026-12-31 (inclusive), then 2027-01-01 - 2027-06-30",
    "Rendez-vous le 05.12.2026 ou le 12.12.2026, sinon 19.12.2026",
    "valid 01/2026 - 12/2027, renewed 01/2028",
    // phone numbers
    "Call 06 12 34 56 78 or 07 98 76 54 32 or 01 44 55 66 77",
    "tel: 06.12.34.56.78 / 06.98.76.54.32 / 09.87.65.43.21",
    "+33 6 12 34 56 78, +49 30 12345678, +31 20 123 4567, +44 20 7946 0958",
    "0049 30 1234567, 0031 20 1234567, 0033 1 44 55 66 77",
    "(555) 123-4567, 555-987-6543, 555.246.8101",
    "+55 11 91234-5678 / +55 21 99876-5432",
    "06 12 34 56 78\n07 98 76 54 32\n06 55 44 33 22",
    "+1 415 555 2671, +1 212 555 0199, +1 646 555 3890",
    // IBANs (valid check digits)
    "IBAN FR76 3000 6000 0112 3456 7890 189, BIC AGRIFRPP",
    "DE89 3704 0044 0532 0130 00",
    "NL91 ABNA 0417 1643 00",
    "ES91 2100 0418 4502 0005 1332",
    "BE68 5390 0754 7034",
    "GB29 NWBK 6016 1331 9268 19",
    "IT60 X054 2811 1010 0000 0123 456",
    "PT50 0002 0123 1234 5678 9015 4",
    "FR7630006000011234567890189",
    "iban: FR76-3000-6000-0112-3456-7890-189",
    // order references
    "Order #100234, #100235 and #100236 shipped",
    "CMD-2026-004512, CMD-2026-004513",
    "order 2026/12/000123 of 05/12/2026",
    "Invoice 2026-00451 / credit note 2026-00452",
    "ref 4532 7788 9900 1122 3344",
    "orders 10023456 10023457 10023458",
    "Commande n° 52 341 876, client 4 418 223",
    // tracking numbers
    "UPS 1Z999AA10123456784, 1Z12345E0205271688",
    "USPS 9400 1118 9922 3397 4863 21",
    "USPS 9205 5000 0000 0000 0000 00, 9361 2898 7870 0317 6335 34",
    "DHL JJD000390007 and 1234567890, 00340434161094042557",
    "Colissimo 6A12345678901 / 8R01234567890",
    "La Poste 1A 002 345 6789 0, Chronopost XY123456789FR",
    "FedEx 7946 8432 8943, 9612 0190 0000 0000 0000 00",
    "GLS 51234567890 / PostNL 3SABCD1234567",
];

#[test]
fn corpus_gives_no_refusals() {
    for text in CORPUS {
        assert!(find_card_numbers(text).is_empty(), "card in {text:?}");
        assert!(find_security_codes(text).is_empty(), "code in {text:?}");
        assert!(find_card_expiry(text).is_empty(), "expiry in {text:?}");
    }
}

#[test]
fn security_codes_next_to_their_labels() {
    for text in [
        "CVV: 123",
        "cvv 123",
        "CVV2=4567",
        "my cvc is 321",
        "CID 1234",
        "security code: 987",
        "Security-Code 987",
        "card security code 123",
        "code de sécurité : 123",
        "code de securite 123",
        "CODE DE SÉCURITÉ 456",
        "cryptogramme visuel 123",
        "Kartenprüfnummer 123",
        "Kartenpruefnummer: 123",
        "Prüfnummer 456",
        "Sicherheitscode: 789",
        "beveiligingscode 321",
        "código de segurança: 654",
        "CVV (3 digits): 123",
        "cvv123",
        "123 (CVV)",
        "code 123 - cvv",
        "ＣＶＶ：１２３",
        "C\u{200B}V\u{200B}V 1\u{200B}23",
        "cvv: 1 2 3",
        "4111 1111 1111 1111 exp 12/27 cvv 123",
    ] {
        assert!(!find_security_codes(text).is_empty(), "{text:?}");
    }
}

#[test]
fn labels_without_codes_are_fine() {
    for text in [
        "we never ask for your CVV",
        "the cvv field was left empty",
        "decided 123 times", // `cid` inside a word
        "CID 12345678",      // a long number is not a code
        "acid 123",          // not a label
        "security code sent by text message",
        "Sicherheitscode vergessen, Bestellung 12345678",
        "cvv2",
    ] {
        assert!(find_security_codes(text).is_empty(), "{text:?}");
    }
}

#[test]
fn expiry_next_to_a_card() {
    for text in [
        "4111 1111 1111 1111 exp 12/27",
        "4111111111111111 12/2027",
        "exp 01/28 card 5555 5555 5555 4444",
        "**** **** **** 1111 expires 12/27",
        "XXXX-XXXX-XXXX-1111, 03-29",
        "•••• 4444 valid thru 11/26",
    ] {
        assert!(!find_card_expiry(text).is_empty(), "{text:?}");
    }
    for text in [
        "expires 12/27",       // a date alone
        "**** 1111",           // masked card alone
        "4111 1111 1111 1111", // card alone: refused as a card, not an expiry
        "order 1234, delivered 12/27",
        "13/27 4111 1111 1111 1111", // not a month
    ] {
        assert!(find_card_expiry(text).is_empty(), "{text:?}");
    }
}

#[test]
fn cvv_field_names() {
    assert!(is_cvv_field_name("CVV"));
    assert!(is_cvv_field_name("card_cvc"));
    assert!(is_cvv_field_name("security-code"));
    assert!(!is_cvv_field_name("city"));
}

fn luhn_complete(mut digits: Vec<u8>) -> Vec<u8> {
    let check = (0..10u8)
        .find(|c| {
            let mut x = digits.clone();
            x.push(*c);
            cards::is_luhn_valid(&x)
        })
        .unwrap();
    digits.push(check);
    digits
}

/// A valid PAN of a real issuer range: (prefix, length).
fn pan() -> impl Strategy<Value = Vec<u8>> {
    let issuers: Vec<(&'static [u8], usize)> = vec![
        (&[4], 16),
        (&[4], 13),
        (&[4], 19),
        (&[5, 1], 16),
        (&[5, 5], 16),
        (&[2, 2, 2, 1], 16),
        (&[2, 7, 2, 0], 16),
        (&[3, 4], 15),
        (&[3, 7], 15),
        (&[6, 0, 1, 1], 16),
        (&[6, 5], 19),
        (&[3, 5, 2, 8], 16),
        (&[3, 6], 14),
        (&[6, 2], 17),
        (&[6, 7, 5, 9], 18),
    ];
    proptest::sample::select(issuers).prop_flat_map(|(prefix, len)| {
        proptest::collection::vec(0u8..10, len - prefix.len() - 1).prop_map(move |body| {
            let mut d = prefix.to_vec();
            d.extend(body);
            luhn_complete(d)
        })
    })
}

const SEPARATORS: &[&str] = &[
    " ", "-", ".", "/", "_", ",", "\t", "\n", "\r\n", " - ", ", ", "  ", "\u{A0}", "\u{3000}", "–",
];
const INVISIBLE: &[&str] = &[
    "", "", "", "\u{200B}", "\u{200D}", "\u{AD}", "\u{200E}", "\u{2066}", "\u{FEFF}",
];

/// Writes `digits` in groups of random sizes joined by one separator, with
/// invisible characters sprinkled in and some digits full-width.
fn disguise() -> impl Strategy<Value = (Vec<u8>, String)> {
    (
        pan(),
        proptest::collection::vec(1usize..6, 20),
        proptest::sample::select(SEPARATORS),
        proptest::collection::vec(proptest::sample::select(INVISIBLE), 20),
        proptest::collection::vec(any::<bool>(), 20),
        proptest::sample::select(vec![
            ("", ""),
            ("card ", " thanks"),
            ("qty 2; ", "; ok"),
            ("ref A-12 card ", " exp soon"),
            ("(", ")"),
        ]),
    )
        .prop_map(|(digits, sizes, sep, invisible, wide, (pre, post))| {
            let mut s = String::from(pre);
            let mut i = 0;
            for (g, size) in sizes.iter().enumerate() {
                if i >= digits.len() {
                    break;
                }
                if g > 0 {
                    s.push_str(sep);
                }
                for _ in 0..*size {
                    let Some(d) = digits.get(i) else { break };
                    let c = if wide[i] {
                        char::from_u32(0xFF10 + u32::from(*d)).unwrap()
                    } else {
                        char::from(b'0' + d)
                    };
                    s.push(c);
                    s.push_str(invisible[i]);
                    i += 1;
                }
            }
            s.push_str(post);
            (digits, s)
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn never_panics(text in "\\PC{0,200}") {
        let _ = find_card_numbers(&text);
        let _ = find_security_codes(&text);
        let _ = find_card_expiry(&text);
    }

    #[test]
    fn every_valid_pan_in_any_format_is_found((digits, text) in disguise()) {
        let found = find_card_numbers(&text);
        prop_assert_eq!(found.len(), 1, "{:?} from {:?}", text, digits);
        let r = found[0].clone();
        prop_assert!(text.get(r).is_some());
    }

    #[test]
    fn random_dates_and_phones_are_not_cards(
        d in proptest::collection::vec((1u32..29, 1u32..13, 1950u32..2040), 1..5),
        p in proptest::collection::vec(proptest::collection::vec(0u8..10, 9), 1..5),
        sep in proptest::sample::select(vec![", ", " / ", "\n", "; "]),
    ) {
        let dates: Vec<String> = d.iter().map(|(a, b, c)| format!("{a:02}/{b:02}/{c}")).collect();
        let phones: Vec<String> = p.iter().map(|x| {
            let s: String = x.iter().map(|d| char::from(b'0' + d)).collect();
            format!("0{} {} {} {} {}", &s[0..1], &s[1..3], &s[3..5], &s[5..7], &s[7..9])
        }).collect();
        let text = format!("{} {}", dates.join(sep), phones.join(sep));
        prop_assert!(find_card_numbers(&text).is_empty(), "{}", text);
        prop_assert!(find_security_codes(&text).is_empty(), "{}", text);
    }
}

/// The `card_scan` fuzz target's body on the seed corpora above, mutated: a few
/// thousand inputs per run, the same each run (a fixed xorshift), so a failure
/// reproduces. cargo-fuzz explores further where a nightly toolchain exists.
#[test]
fn fuzz_body_holds_on_mutated_seeds() {
    const ALPHABET: &[&str] = &[
        "0", "4", "9", " ", "-", ".", "/", "\n", "\u{200B}", "\u{00AD}", "４", "１", "CVV", ":",
        "exp", "12/27", "*", "é", "\u{0301}", "x",
    ];
    let mut seeds: Vec<String> = DISGUISED_CARDS
        .iter()
        .map(|(_, t)| (*t).to_owned())
        .collect();
    seeds.extend(NOT_CARDS.iter().chain(CORPUS).map(|t| (*t).to_owned()));
    seeds.push("4111 1111 1111 1111 exp 12/27 cvv 123".to_owned());
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = |n: usize| -> usize {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % n.max(1) as u64) as usize
    };
    for round in 0..4000 {
        let mut input = seeds[round % seeds.len()].clone().into_bytes();
        for _ in 0..=next(4) {
            let at = next(input.len() + 1);
            match next(4) {
                0 => input
                    .splice(at..at, ALPHABET[next(ALPHABET.len())].bytes())
                    .for_each(drop),
                1 if at < input.len() => {
                    input.remove(at);
                }
                2 if at < input.len() => input[at] ^= 1 << next(8),
                _ => {
                    let other = seeds[next(seeds.len())].as_bytes();
                    input.splice(at..at, other.iter().copied()).for_each(drop);
                }
            }
        }
        if let Err(e) = fuzzing::scan(&input) {
            panic!("{e} on {:?}", String::from_utf8_lossy(&input));
        }
    }
}
