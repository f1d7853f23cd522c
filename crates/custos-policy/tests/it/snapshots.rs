//! Snapshot tests of each seed's rendered notice and record of processing: a change
//! in what people read shows up in review as a diff of these files.

use custos_policy::{load, notice, ropa};

const SEEDS: [(&str, &str); 5] = [
    (
        "plume-sasu",
        include_str!("../../../../policies/plume-sasu.toml"),
    ),
    (
        "plume-design-terms",
        include_str!("../../../../policies/plume-design-terms.toml"),
    ),
    (
        "plumsense",
        include_str!("../../../../policies/plumsense.toml"),
    ),
    (
        "plum-voice",
        include_str!("../../../../policies/plum-voice.toml"),
    ),
    ("ploomes", include_str!("../../../../policies/ploomes.toml")),
];

#[test]
fn seed_notices_markdown() {
    for (name, text) in SEEDS {
        let policy = load(text, name).unwrap_or_else(|r| panic!("{r}")).policy;
        let md = notice::to_markdown(&notice::build(&policy));
        insta::assert_snapshot!(format!("notice-{name}.md"), md);
    }
}

#[test]
fn seed_notice_html() {
    let (name, text) = SEEDS[0];
    let policy = load(text, name).unwrap().policy;
    insta::assert_snapshot!(
        format!("notice-{name}.html"),
        notice::to_html(&notice::build(&policy))
    );
}

#[test]
fn seed_ropa_csv() {
    for (name, text) in SEEDS {
        let policy = load(text, name).unwrap().policy;
        insta::assert_snapshot!(format!("ropa-{name}.csv"), ropa::to_csv(&policy));
    }
}
