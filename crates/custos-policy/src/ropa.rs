//! The GDPR Art. 30(1) record of processing activities (RoPA), one row per
//! purpose, rendered as CSV (for spreadsheets and regulators' templates) and
//! Markdown (for review in a pull request).
//!
//! Like the notice, it is derived from the policy file alone, so the record the
//! company files is the processing the engine enforces.

use serde::Serialize;

use crate::model::{
    Art9Condition, Basis, Controller, OnExpiry, Policy, Purpose, RecipientKind, Sensitivity,
};
use crate::notice::{categories_of, markdown_escape};

/// One processing activity (one purpose). List fields keep one entry per item;
/// renderers join them with `"; "`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RopaRow {
    pub controller: String,
    pub controller_contact: String,
    pub dpo: String,
    pub purpose_id: String,
    pub purpose: String,
    pub lawful_basis: String,
    pub data_subjects: Vec<String>,
    pub personal_data: Vec<String>,
    pub special_categories: Vec<String>,
    pub recipients: Vec<String>,
    pub transfers: Vec<String>,
    pub retention: Vec<String>,
    pub security: Vec<String>,
}

/// Column titles, in the order of [`RopaRow::cells`].
pub const COLUMNS: [&str; 13] = [
    "Controller",
    "Controller contact",
    "Data protection officer",
    "Purpose id",
    "Purpose",
    "Lawful basis",
    "Data subjects",
    "Personal data",
    "Special categories",
    "Recipients",
    "Third-country transfers",
    "Retention",
    "Security measures",
];

impl RopaRow {
    /// The row as text cells, in the order of [`COLUMNS`].
    pub fn cells(&self) -> [String; 13] {
        [
            self.controller.clone(),
            self.controller_contact.clone(),
            self.dpo.clone(),
            self.purpose_id.clone(),
            self.purpose.clone(),
            self.lawful_basis.clone(),
            self.data_subjects.join("; "),
            self.personal_data.join("; "),
            self.special_categories.join("; "),
            self.recipients.join("; "),
            self.transfers.join("; "),
            self.retention.join("; "),
            self.security.join("; "),
        ]
    }
}

/// One row per purpose, in file order.
pub fn rows(policy: &Policy) -> Vec<RopaRow> {
    let c = &policy.controller;
    let controller = match &c.legal_form {
        Some(form) => format!("{} ({form})", c.name),
        None => c.name.clone(),
    };
    let contact = controller_contact(c);
    let dpo = c.dpo.as_ref().map_or_else(String::new, |d| {
        [d.name.as_ref(), d.email.as_ref(), d.postal.as_ref()]
            .into_iter()
            .flatten()
            .map(String::as_str)
            .collect::<Vec<_>>()
            .join("; ")
    });
    policy
        .purpose
        .iter()
        .map(|(id, purpose)| RopaRow {
            controller: controller.clone(),
            controller_contact: contact.clone(),
            dpo: dpo.clone(),
            purpose_id: id.clone(),
            purpose: purpose.description.clone(),
            lawful_basis: lawful_basis(purpose),
            data_subjects: purpose.subjects.clone(),
            personal_data: categories_of(policy, &purpose.categories)
                .into_iter()
                .map(|(name, cat)| format!("{name} ({})", cat.description))
                .collect(),
            special_categories: special_categories(policy, purpose),
            recipients: recipients(policy, purpose),
            transfers: transfers(policy, purpose),
            retention: retention(policy, purpose),
            security: policy.security.clone(),
        })
        .collect()
}

fn controller_contact(c: &Controller) -> String {
    [
        Some(&c.address),
        c.email.as_ref(),
        c.phone.as_ref(),
        c.website.as_ref(),
    ]
    .into_iter()
    .flatten()
    .map(String::as_str)
    .collect::<Vec<_>>()
    .join("; ")
}

/// The record keeps a neutral register; `Basis::phrase` speaks to the reader.
fn basis_label(b: Basis) -> &'static str {
    match b {
        Basis::Consent => "Consent (GDPR Art. 6(1)(a))",
        Basis::Contract => "Contract (GDPR Art. 6(1)(b))",
        Basis::LegalObligation => "Legal obligation (GDPR Art. 6(1)(c))",
        Basis::VitalInterest => "Vital interests (GDPR Art. 6(1)(d))",
        Basis::PublicInterest => "Public interest (GDPR Art. 6(1)(e))",
        Basis::LegitimateInterest => "Legitimate interests (GDPR Art. 6(1)(f))",
    }
}

fn lawful_basis(purpose: &Purpose) -> String {
    let mut s = basis_label(purpose.basis).to_owned();
    if let Some(law) = &purpose.legal_reference {
        s.push_str(&format!(": {law}"));
    }
    if let Some(interest) = &purpose.legitimate_interest {
        s.push_str(&format!("; interest: {interest}"));
    }
    s
}

fn art9_label(c: Art9Condition) -> &'static str {
    match c {
        Art9Condition::ExplicitConsent => "explicit consent of the data subject (Art. 9(2)(a))",
        other => other.phrase(),
    }
}

fn special_categories(policy: &Policy, purpose: &Purpose) -> Vec<String> {
    let mut out: Vec<String> = categories_of(policy, &purpose.categories)
        .into_iter()
        .filter(|(_, cat)| cat.sensitivity == Sensitivity::Special)
        .map(|(name, cat)| format!("{name} ({})", cat.description))
        .collect();
    if let Some(cond) = purpose.art9_condition {
        out.push(format!("condition: {}", art9_label(cond)));
    }
    out
}

fn kind_label(k: RecipientKind) -> &'static str {
    match k {
        RecipientKind::Internal => "internal",
        RecipientKind::Processor => "processor",
        RecipientKind::Controller => "controller",
        RecipientKind::Partner => "partner",
        RecipientKind::Authority => "authority",
        RecipientKind::Sale => "buyer (sale)",
    }
}

fn recipients(policy: &Policy, purpose: &Purpose) -> Vec<String> {
    purpose
        .recipients
        .iter()
        .map(|id| match policy.recipient.get(id) {
            Some(r) => match &r.region {
                Some(region) => format!("{} ({}, {region})", r.name, kind_label(r.kind)),
                None => format!("{} ({})", r.name, kind_label(r.kind)),
            },
            None => id.clone(),
        })
        .collect()
}

fn transfers(policy: &Policy, purpose: &Purpose) -> Vec<String> {
    let home = policy.controller.region.as_str();
    purpose
        .recipients
        .iter()
        .filter_map(|id| policy.recipient.get(id))
        .filter_map(|r| {
            let region = r.region.as_deref().filter(|region| *region != home)?;
            let safeguard = r.transfer.map_or("no safeguard stated", |m| m.phrase());
            Some(format!("{} ({region}): {safeguard}", r.name))
        })
        .collect()
}

fn retention(policy: &Policy, purpose: &Purpose) -> Vec<String> {
    if !purpose.stores {
        return vec!["not stored: passed on to the recipients".to_owned()];
    }
    categories_of(policy, &purpose.categories)
        .into_iter()
        .map(|(name, cat)| {
            if cat.never_store {
                return format!("{name}: never stored");
            }
            let then = match cat.on_expiry {
                OnExpiry::Delete => "deleted",
                OnExpiry::Anonymise => "anonymised",
                OnExpiry::Isolate => "isolated until it can be deleted",
            };
            match &cat.retention {
                Some(r) => format!("{name}: {r}, then {then}"),
                None => format!("{name}: no fixed period"),
            }
        })
        .collect()
}

/// RFC 4180 CSV: a header row, then one row per purpose; CRLF line ends.
pub fn to_csv(policy: &Policy) -> String {
    let mut out = String::new();
    csv_line(&mut out, COLUMNS.iter().copied());
    for row in rows(policy) {
        let cells = row.cells();
        csv_line(&mut out, cells.iter().map(String::as_str));
    }
    out
}

fn csv_line<'a>(out: &mut String, fields: impl Iterator<Item = &'a str>) {
    for (i, field) in fields.enumerate() {
        if i > 0 {
            out.push(',');
        }
        if field.contains([',', '"', '\r', '\n']) {
            out.push('"');
            out.push_str(&field.replace('"', "\"\""));
            out.push('"');
        } else {
            out.push_str(field);
        }
    }
    out.push_str("\r\n");
}

/// Markdown for review: the controller once, then a table of the activities.
pub fn to_markdown(policy: &Policy) -> String {
    let c = &policy.controller;
    let e = |s: &str| markdown_escape(s);
    let mut out = format!("# Record of processing activities: {}\n\n", e(&c.name));
    let mut intro = format!(
        "Record under GDPR Art. 30(1), from policy {} version {}",
        e(&policy.policy.id),
        e(&policy.policy.version)
    );
    if let Some(date) = &policy.policy.effective {
        intro.push_str(&format!(", effective {}", e(date)));
    }
    out.push_str(&intro);
    out.push_str(".\n\n");
    let rows = rows(policy);
    let mut facts = vec![(
        "Controller",
        rows.first()
            .map_or_else(|| c.name.clone(), |r| r.controller.clone()),
    )];
    if let Some(r) = &c.registration {
        facts.push(("Registration", r.clone()));
    }
    let contact = controller_contact(c);
    facts.push(("Contact", contact));
    if let Some(row) = rows.first().filter(|r| !r.dpo.is_empty()) {
        facts.push(("Data protection officer", row.dpo.clone()));
    }
    if let Some(a) = &c.supervisory_authority {
        facts.push(("Supervisory authority", a.name.clone()));
    }
    if !policy.security.is_empty() {
        facts.push(("Security measures", policy.security.join("; ")));
    }
    for (label, value) in facts {
        out.push_str(&format!("- **{label}:** {}\n", e(&value)));
    }
    // Controller, contact, DPO and security are the same on every row: they are
    // stated once above instead of repeated in each line of the table.
    const SKIP: [usize; 4] = [0, 1, 2, 12];
    let keep = |i: &usize| !SKIP.contains(i);
    out.push_str("\n|");
    for (_, title) in COLUMNS.iter().enumerate().filter(|(i, _)| keep(i)) {
        out.push_str(&format!(" {title} |"));
    }
    out.push_str("\n|");
    for _ in (0..COLUMNS.len()).filter(keep) {
        out.push_str(" --- |");
    }
    out.push('\n');
    for row in &rows {
        out.push('|');
        for (_, cell) in row.cells().iter().enumerate().filter(|(i, _)| keep(i)) {
            let text = if cell.is_empty() {
                "—".to_owned()
            } else {
                e(cell)
            };
            out.push_str(&format!(" {text} |"));
        }
        out.push('\n');
    }
    out
}
