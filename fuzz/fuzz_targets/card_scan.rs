//! Arbitrary bytes into the payment-card scanners (card numbers, security codes,
//! expiry dates): they must never panic and every range they return must be
//! sound (`custos_pii::fuzzing::scan`, which the custos-pii tests also run on
//! mutated seeds). Seeds: any text with card numbers, e.g. `fuzz/seeds/card_scan/`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Err(e) = custos_pii::fuzzing::scan(data) {
        panic!("{e}");
    }
});
