//! Arbitrary bytes into the policy parser and validator: it must never panic, and
//! a policy it accepts must compile, render and diff against itself cleanly.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let checked = custos_policy::check(text, "fuzz.toml");
    for d in &checked.report.diagnostics {
        let _ = d.to_string();
    }
    if let Ok(loaded) = custos_policy::load(text, "fuzz.toml") {
        let table = custos_policy::compile::compile(&loaded.policy);
        let _ = table.purposes_of("x");
        let doc = custos_policy::notice::build(&loaded.policy);
        let _ = custos_policy::notice::to_html(&doc);
        let _ = custos_policy::ropa::to_csv(&loaded.policy);
        let d = custos_policy::diff::diff(&loaded.policy, &loaded.policy);
        assert!(d.is_empty(), "a policy differs from itself: {d}");
    }
});
