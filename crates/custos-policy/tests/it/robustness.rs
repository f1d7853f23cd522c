//! Bad input gets a report, never a panic (complements the cargo-fuzz target).

use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,400}") {
        let c = custos_policy::check(&text, "x.toml");
        prop_assert!(c.policy.is_some() || c.report.has_errors());
    }

    #[test]
    fn mutated_valid_policy_never_panics(cut in 0usize..4000, len in 0usize..40, insert in "[\\[\\]\"=.a-z0-9 \n*]{0,12}") {
        let base = crate::validation::BASE;
        let start = cut.min(base.len());
        let end = (start + len).min(base.len());
        if !(base.is_char_boundary(start) && base.is_char_boundary(end)) {
            return Ok(());
        }
        let text = format!("{}{}{}", &base[..start], insert, &base[end..]);
        let c = custos_policy::check(&text, "x.toml");
        for d in &c.report.diagnostics {
            // Every finding can be shown and points inside the file.
            let _ = d.to_string();
            if let Some(p) = d.position {
                prop_assert!(p.line >= 1 && p.line <= text.lines().count() + 1);
            }
        }
        if let Ok(loaded) = custos_policy::load(&text, "x.toml") {
            let _ = custos_policy::compile::compile(&loaded.policy);
            let d = custos_policy::diff::diff(&loaded.policy, &loaded.policy);
            prop_assert!(d.is_empty(), "{}", d);
        }
    }
}
