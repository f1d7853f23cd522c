//! The notice and the record of processing say what the policy says.

use custos_policy::model::Policy;
use custos_policy::notice::{self, Block};
use custos_policy::{load, ropa};

use crate::validation::BASE;

fn policy(text: &str) -> Policy {
    load(text, "t.toml")
        .unwrap_or_else(|r| panic!("{r}"))
        .policy
}

fn base() -> Policy {
    policy(BASE)
}

/// Replaces exactly one occurrence, so a test cannot silently edit nothing.
fn edit(from: &str, to: &str) -> String {
    assert_eq!(BASE.matches(from).count(), 1, "`{from}` must occur once");
    BASE.replacen(from, to, 1)
}

fn both(p: &Policy) -> [String; 2] {
    let n = notice::build(p);
    [notice::to_markdown(&n), notice::to_html(&n)]
}

#[test]
fn every_purpose_and_its_basis_appear_in_both_formats() {
    let p = base();
    for text in both(&p) {
        for purpose in p.purpose.values() {
            assert!(
                text.contains(&purpose.description),
                "{}",
                purpose.description
            );
        }
        assert!(text.contains("the performance of a contract with you"));
        // Escaped differently per format; the words around the parentheses are stable.
        assert!(text.contains("your consent (GDPR Art. 6(1)(a))"));
    }
}

#[test]
fn each_purpose_sits_under_its_own_heading_with_its_basis() {
    let p = base();
    let n = notice::build(&p);
    let section = n.sections.iter().find(|s| s.id == "purposes").unwrap();
    for purpose in p.purpose.values() {
        let at = section
            .blocks
            .iter()
            .position(|b| *b == Block::Subheading(purpose.description.clone()))
            .unwrap();
        let Some(Block::List(items)) = section.blocks.get(at + 1) else {
            panic!("no details under {}", purpose.description);
        };
        assert!(items.iter().any(|i| i.contains(purpose.basis.phrase())));
    }
}

#[test]
fn wildcards_resolve_to_category_descriptions() {
    let n = notice::build(&base());
    let section = n.sections.iter().find(|s| s.id == "purposes").unwrap();
    let Some(Block::List(items)) = section.blocks.get(2) else {
        panic!("order_fulfilment details missing");
    };
    assert!(
        items.contains(&"Data used: E-mail address and Postal address.".to_owned()),
        "{items:?}"
    );
}

#[test]
fn never_stored_data_is_named_as_such_and_not_as_collected() {
    let n = notice::build(&base());
    let collect = n
        .sections
        .iter()
        .find(|s| s.id == "what-we-collect")
        .unwrap();
    let table_rows = collect.blocks.iter().find_map(|b| match b {
        Block::Table { rows, .. } => Some(rows),
        _ => None,
    });
    let rows = table_rows.unwrap();
    assert!(rows.iter().any(|r| r.first().unwrap() == "E-mail address"));
    assert!(
        !rows
            .iter()
            .flatten()
            .any(|c| c.contains("Card verification code"))
    );
    let never = collect
        .blocks
        .iter()
        .find_map(|b| match b {
            Block::Paragraph(t) if t.starts_with("What we never store") => Some(t),
            _ => None,
        })
        .unwrap();
    assert!(never.contains("Card verification code"), "{never}");

    let held = edit(
        "never_store = true",
        "never_store = true\nheld_by = \"payment_agency\"",
    );
    let [md, html] = both(&policy(&held));
    for text in [md, html] {
        assert!(
            text.contains(
                "What we never store: Card verification code, kept only by Payment agency."
            )
        );
    }
}

#[test]
fn rights_deadline_and_extension_are_stated() {
    for text in both(&base()) {
        assert!(
            text.contains("We answer every request within 1 month."),
            "{text}"
        );
        assert!(text.contains(
            "If we need more time, we tell you before the deadline and may take up to 2 months more."
        ));
        assert!(text.contains("in My Account: access, rectification and erasure"));
    }
}

#[test]
fn jurisdiction_overrides_the_rights_deadline() {
    let text = format!(
        "{BASE}\n[jurisdiction.BR]\nname = \"Brazil\"\nrights_deadline = \"15d\"\nmin_age = 18\n\
         [category.\"user.demographic.age_attestation\"]\ndescription = \"At least 18\"\nshape = \"boolean\"\nretention = \"1y\"\n\
         [purpose.sign_up]\ndescription = \"Sign up\"\nbasis = \"contract\"\ncategories = [\"user.demographic.age_attestation\"]\nrecipients = [\"sales\"]\n"
    );
    let [md, _] = both(&policy(&text));
    assert!(md.contains("- Brazil: we answer within 15 days."), "{md}");
    assert!(md.contains("## Children"));
    assert!(md.contains("- Brazil: 18"));
}

#[test]
fn html_escapes_policy_text() {
    let text = edit(
        "name = \"Example SAS\"",
        "name = \"A & B <script>alert('x')</script>\"",
    );
    let html = both(&policy(&text))[1].clone();
    assert!(html.starts_with("<!doctype html>\n<html lang=\"en\">"));
    assert!(!html.contains("<script"), "{html}");
    assert!(html.contains("A &amp; B &lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"));
    assert!(
        !html.contains("http://") && !html.contains("src="),
        "no external assets"
    );
}

#[test]
fn markdown_neutralises_markup_in_policy_text() {
    let text = edit("name = \"Example SAS\"", "name = \"A | B <script>\"");
    let md = both(&policy(&text))[0].clone();
    assert!(!md.contains("<script>"));
    assert!(md.contains("A \\| B \\<script\\>"));
}

#[test]
fn sections_without_content_are_left_out() {
    let ids: Vec<&str> = notice::build(&base())
        .sections
        .iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(
        ids,
        [
            "who-we-are",
            "what-we-collect",
            "purposes",
            "recipients",
            "transfers",
            "retention",
            "rights",
            "complaints"
        ]
    );
}

#[test]
fn transfers_and_complaints_are_stated() {
    for text in both(&base()) {
        assert!(text.contains("Payment agency (US): protected by standard contractual clauses."));
        assert!(text.contains("CNIL (https://www.cnil.fr)"));
    }
}

#[test]
fn rendering_is_deterministic() {
    let p = base();
    assert_eq!(both(&p), both(&p));
}

/// Just enough RFC 4180 to check what we write: quoted fields, doubled quotes,
/// CRLF records.
fn read_csv(text: &str) -> Vec<Vec<String>> {
    let mut records = Vec::new();
    let mut record = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') => quoted = true,
            (false, ',') => record.push(std::mem::take(&mut field)),
            (false, '\r') => assert_eq!(chars.next(), Some('\n'), "bare CR"),
            (false, '\n') => panic!("LF without CR"),
            (false, c) => field.push(c),
        }
        if !quoted && c == '\r' {
            record.push(std::mem::take(&mut field));
            records.push(std::mem::take(&mut record));
        }
    }
    assert!(field.is_empty() && record.is_empty(), "unterminated record");
    records
}

#[test]
fn ropa_csv_has_a_header_and_one_row_per_purpose() {
    let p = base();
    let records = read_csv(&ropa::to_csv(&p));
    assert_eq!(records.len(), 1 + p.purpose.len());
    assert_eq!(records[0], ropa::COLUMNS);
    let ids: Vec<&str> = records[1..].iter().map(|r| r[3].as_str()).collect();
    assert_eq!(
        ids,
        ["order_fulfilment", "marketing_email", "care", "payment"]
    );
    assert!(records.iter().all(|r| r.len() == ropa::COLUMNS.len()));
}

#[test]
fn ropa_csv_round_trips_commas_quotes_and_newlines() {
    let text = edit(
        "description = \"Newsletters\"",
        "description = \"Newsletters, \\\"weekly\\\"\\nand monthly\"",
    );
    let records = read_csv(&ropa::to_csv(&policy(&text)));
    let row = records.iter().find(|r| r[3] == "marketing_email").unwrap();
    assert_eq!(row[4], "Newsletters, \"weekly\"\nand monthly");
    // The controller address contains a comma too.
    assert_eq!(row[0], "Example SAS");
    assert!(row[1].starts_with("1 rue de l'Exemple, 75001 Paris"));
}

#[test]
fn ropa_lists_the_safeguard_for_a_recipient_abroad() {
    let rows = ropa::rows(&base());
    let payment = rows.iter().find(|r| r.purpose_id == "payment").unwrap();
    assert_eq!(
        payment.transfers,
        ["Payment agency (US): standard contractual clauses"]
    );
    let home = rows
        .iter()
        .find(|r| r.purpose_id == "order_fulfilment")
        .unwrap();
    assert!(home.transfers.is_empty());
    let csv = ropa::to_csv(&base());
    assert!(csv.contains("Payment agency (US): standard contractual clauses"));
}

#[test]
fn ropa_rows_carry_basis_categories_and_special_data() {
    let rows = ropa::rows(&base());
    let care = rows.iter().find(|r| r.purpose_id == "care").unwrap();
    assert_eq!(care.lawful_basis, "Consent (GDPR Art. 6(1)(a))");
    assert_eq!(care.personal_data, ["user.health (Health readings)"]);
    assert_eq!(
        care.special_categories,
        [
            "user.health (Health readings)",
            "condition: explicit consent of the data subject (Art. 9(2)(a))"
        ]
    );
    assert_eq!(
        care.retention,
        ["user.health: 1 year after collection, then deleted"]
    );
    let orders = rows
        .iter()
        .find(|r| r.purpose_id == "order_fulfilment")
        .unwrap();
    assert_eq!(
        orders.personal_data.len(),
        2,
        "wildcard resolves to both contact categories"
    );
}

#[test]
fn ropa_markdown_escapes_pipes_in_cells() {
    let text = edit(
        "description = \"Deliver orders\"",
        "description = \"Deliver | ship orders\"",
    );
    let md = ropa::to_markdown(&policy(&text));
    assert!(md.starts_with("# Record of processing activities: Example SAS\n"));
    assert!(md.contains("Deliver \\| ship orders"), "{md}");
    let header = md.lines().find(|l| l.starts_with("| Purpose id")).unwrap();
    let columns = header.matches(" |").count();
    for line in md
        .lines()
        .filter(|l| l.starts_with("| ") && !l.starts_with("| ---"))
    {
        assert_eq!(
            line.replace("\\|", "").matches(" |").count(),
            columns,
            "{line}"
        );
    }
}
