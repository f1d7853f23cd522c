//! The wording of the privacy notice: one function per section, each returning
//! `None` when the policy gives it nothing to say.

use crate::model::{
    Basis, Category, OnExpiry, Policy, Purpose, Recipient, RecipientKind, Sensitivity,
};

use super::{Block, Notice, Section, categories_of, duties, join_and, join_or, sentence, terms};

/// Shown in table cells with nothing to say, so an empty cell never looks like a
/// rendering bug.
pub(super) const NONE: &str = "—";

/// Builds the notice. Sections appear in a fixed order; empty ones are left out.
pub fn build(policy: &Policy) -> Notice {
    let sections = [
        Some(who_we_are(policy)),
        what_we_collect(policy),
        purposes(policy),
        recipients(policy),
        transfers(policy),
        retention(policy),
        Some(duties::rights(policy)),
        duties::children(policy),
        duties::security(policy),
        duties::breach(policy),
        duties::processor(policy),
        duties::changes(policy),
        terms::consumer_terms(policy),
        duties::complaints(policy),
    ];
    Notice {
        title: policy.policy.title.clone(),
        language: policy.policy.language.clone(),
        sections: sections.into_iter().flatten().collect(),
    }
}

pub(super) fn section(id: &'static str, heading: &str, blocks: Vec<Block>) -> Section {
    Section {
        id,
        heading: heading.to_owned(),
        blocks,
    }
}

pub(super) fn jurisdiction_name<'a>(code: &'a str, name: Option<&'a String>) -> &'a str {
    name.map_or(code, String::as_str)
}

fn recipient_name<'a>(policy: &'a Policy, id: &'a str) -> &'a str {
    policy.recipient.get(id).map_or(id, |r| r.name.as_str())
}

fn who_we_are(p: &Policy) -> Section {
    let c = &p.controller;
    let mut blocks = vec![Block::Paragraph(sentence(format!(
        "{} is responsible for the personal data described in this notice (the \"controller\"). \
         \"We\" and \"us\" in this notice mean {}",
        c.name, c.name
    )))];
    let mut facts = Vec::new();
    if let Some(f) = &c.legal_form {
        facts.push(format!("Legal form: {f}"));
    }
    if let Some(r) = &c.registration {
        facts.push(format!("Registration: {r}"));
    }
    facts.push(format!("Address: {}", c.address));
    if let Some(e) = &c.email {
        facts.push(format!("Email: {e}"));
    }
    if let Some(t) = &c.phone {
        facts.push(format!("Phone: {t}"));
    }
    if let Some(w) = &c.website {
        facts.push(format!("Website: {w}"));
    }
    blocks.push(Block::List(facts));
    if let Some(dpo) = &c.dpo {
        let mut ways = Vec::new();
        if let Some(e) = &dpo.email {
            ways.push(format!("by email at {e}"));
        }
        if let Some(a) = &dpo.postal {
            ways.push(format!("by post at {a}"));
        }
        let text = match (&dpo.name, ways.is_empty()) {
            (Some(n), true) => sentence(format!("Our data protection officer is {n}")),
            (Some(n), false) => sentence(format!(
                "{} You can reach them {}",
                sentence(format!("Our data protection officer is {n}")),
                join_or(&ways)
            )),
            (None, true) => "We have appointed a data protection officer.".to_owned(),
            (None, false) => sentence(format!(
                "You can reach our data protection officer {}",
                join_or(&ways)
            )),
        };
        blocks.push(Block::Paragraph(text));
    }
    let mut version = sentence(format!(
        "This is version {} of this notice",
        p.policy.version
    ));
    if let Some(date) = &p.policy.effective {
        version.push_str(&sentence(format!(" It takes effect on {date}")));
    }
    blocks.push(Block::Paragraph(version));
    section("who-we-are", "Who we are", blocks)
}

fn sensitivity(s: Sensitivity) -> &'static str {
    match s {
        Sensitivity::Normal => "ordinary",
        Sensitivity::Special => "special category (extra protection)",
        Sensitivity::Payment => "payment data",
    }
}

fn collection_notes(c: &Category) -> String {
    let mut notes = Vec::new();
    if c.lookup {
        notes.push("used to find your account".to_owned());
    }
    if c.anonymous {
        notes.push("kept with no link to you".to_owned());
    }
    if c.opt_out {
        notes.push("you can switch its collection off".to_owned());
    }
    if let Some(s) = &c.requires_setting {
        notes.push(format!("collected only while the \"{s}\" setting is on"));
    }
    if notes.is_empty() {
        NONE.to_owned()
    } else {
        notes.join("; ")
    }
}

fn what_we_collect(p: &Policy) -> Option<Section> {
    let rows: Vec<Vec<String>> = p
        .category
        .values()
        .filter(|c| !c.never_store)
        .map(|c| {
            let sources: Vec<&str> = c.sources.iter().map(|s| s.phrase()).collect();
            vec![
                c.description.clone(),
                sensitivity(c.sensitivity).to_owned(),
                if sources.is_empty() {
                    NONE.to_owned()
                } else {
                    join_and(&sources)
                },
                collection_notes(c),
            ]
        })
        .collect();
    let never = never_stored(p);
    let mut blocks = Vec::new();
    if !rows.is_empty() {
        blocks.push(Block::Paragraph(
            "We collect these kinds of personal data:".to_owned(),
        ));
        blocks.push(Block::Table {
            header: ["Data", "Sensitivity", "Where it comes from", "Details"]
                .map(str::to_owned)
                .to_vec(),
            rows,
        });
    }
    if !never.is_empty() {
        blocks.push(Block::Paragraph(format!(
            "{} This data never stays in our systems.",
            sentence(format!("What we never store: {}", never.join("; ")))
        )));
    }
    (!blocks.is_empty()).then(|| section("what-we-collect", "What we collect", blocks))
}

/// Never-stored categories grouped by who holds them instead, holders in file
/// order, so a card's four fields read as one sentence about the payment agency.
fn never_stored(p: &Policy) -> Vec<String> {
    let mut groups: Vec<(Option<&str>, Vec<&str>)> = Vec::new();
    for c in p.category.values().filter(|c| c.never_store) {
        let holder = c.held_by.as_deref();
        match groups.iter_mut().find(|(h, _)| *h == holder) {
            Some((_, names)) => names.push(&c.description),
            None => groups.push((holder, vec![&c.description])),
        }
    }
    groups
        .into_iter()
        .map(|(holder, names)| match holder {
            Some(h) => format!(
                "{}, kept only by {}",
                join_and(&names),
                recipient_name(p, h)
            ),
            None => join_and(&names),
        })
        .collect()
}

fn objectable(purpose: &Purpose) -> bool {
    purpose.objectable.unwrap_or(purpose.basis.objectable())
}

fn purpose_details(p: &Policy, purpose: &Purpose) -> Vec<String> {
    let mut items = Vec::new();
    let mut basis = format!("Lawful basis: {}", purpose.basis.phrase());
    if let Some(law) = &purpose.legal_reference {
        basis.push_str(&format!(", under {law}"));
    }
    items.push(sentence(basis));
    let data: Vec<String> = categories_of(p, &purpose.categories)
        .into_iter()
        .map(|(_, c)| {
            if c.never_store {
                format!("{} (passed on, never stored)", c.description)
            } else {
                c.description.clone()
            }
        })
        .collect();
    if !data.is_empty() {
        items.push(sentence(format!("Data used: {}", join_and(&data))));
    }
    if !purpose.stores {
        items.push("We pass this data on without keeping it.".to_owned());
    }
    let to: Vec<&str> = purpose
        .recipients
        .iter()
        .map(|r| recipient_name(p, r))
        .collect();
    if !to.is_empty() {
        items.push(sentence(format!("Who receives it: {}", join_and(&to))));
    }
    if let Some(interest) = &purpose.legitimate_interest {
        items.push(sentence(format!("Our interest: {interest}")));
    }
    if purpose.basis == Basis::Consent {
        let paths: Vec<&str> = purpose.withdraw.iter().map(|w| w.phrase()).collect();
        let how = if paths.is_empty() {
            "by contacting us".to_owned()
        } else {
            join_or(&paths)
        };
        items.push(format!(
            "You can withdraw your consent at any time, {how}. \
             This does not affect what we did before you withdrew it."
        ));
    }
    if objectable(purpose) {
        items.push(
            "You can object to this use at any time; see \"Your rights and how to use them\"."
                .to_owned(),
        );
    }
    if let Some(cond) = purpose.art9_condition {
        items.push(format!(
            "For special categories of data, we rely on {}.",
            cond.phrase()
        ));
    }
    if purpose.anonymised_only {
        items.push(
            "We use only anonymised data for this, which cannot be linked back to you.".to_owned(),
        );
    }
    if purpose.prior_notice {
        items.push("We tell you before this starts, and you can refuse.".to_owned());
    }
    items
}

fn purposes(p: &Policy) -> Option<Section> {
    if p.purpose.is_empty() {
        return None;
    }
    let mut blocks = vec![Block::Paragraph(
        "We use your data only for the purposes below, each on a lawful basis.".to_owned(),
    )];
    for purpose in p.purpose.values() {
        blocks.push(Block::Subheading(purpose.description.clone()));
        blocks.push(Block::List(purpose_details(p, purpose)));
    }
    Some(section(
        "purposes",
        "Why we use it and on what basis",
        blocks,
    ))
}

fn role(kind: RecipientKind) -> &'static str {
    match kind {
        RecipientKind::Internal => "our own team",
        RecipientKind::Processor => "service provider working on our behalf",
        RecipientKind::Controller => "independent organisation responsible for its own use",
        RecipientKind::Partner => "partner using the data for its own purposes",
        RecipientKind::Authority => "public authority, where the law requires it",
        RecipientKind::Sale => "organisation that buys personal data from us",
    }
}

fn with_description(r: &Recipient) -> String {
    match &r.description {
        Some(d) => format!("{} ({d})", r.name),
        None => r.name.clone(),
    }
}

fn recipients(p: &Policy) -> Option<Section> {
    let internal: Vec<String> = p
        .recipient
        .values()
        .filter(|r| !r.is_third_party())
        .map(with_description)
        .collect();
    let home = p.controller.region.as_str();
    let rows: Vec<Vec<String>> = p
        .recipient
        .values()
        .filter(|r| r.is_third_party())
        .map(|r| {
            let mut terms = Vec::new();
            if r.requires_consent {
                terms.push("only with your consent");
            }
            if r.confidentiality {
                terms.push("bound by confidentiality");
            }
            vec![
                with_description(r),
                role(r.kind).to_owned(),
                r.region.as_deref().unwrap_or(home).to_owned(),
                if terms.is_empty() {
                    NONE.to_owned()
                } else {
                    terms.join("; ")
                },
            ]
        })
        .collect();
    let mut blocks = Vec::new();
    if !internal.is_empty() {
        blocks.push(Block::Paragraph(sentence(format!(
            "Inside {}, only these teams see your data, each only for the purposes above: {}",
            p.controller.name,
            join_and(&internal)
        ))));
    }
    if !rows.is_empty() {
        blocks.push(Block::Paragraph(
            "These organisations outside our company receive data:".to_owned(),
        ));
        blocks.push(Block::Table {
            header: ["Recipient", "Role", "Where", "Conditions"]
                .map(str::to_owned)
                .to_vec(),
            rows,
        });
    }
    let mut partners = p
        .recipient
        .values()
        .filter(|r| r.kind == RecipientKind::Partner)
        .peekable();
    if partners.peek().is_some() && partners.all(|r| r.requires_consent) {
        blocks.push(Block::Paragraph(
            "We share data with partners only with your consent.".to_owned(),
        ));
    }
    // Issue 13.2: who may record a consent for the person, besides the person.
    let relays: Vec<&str> = p
        .recipient
        .values()
        .filter(|r| r.records_consent)
        .map(|r| r.name.as_str())
        .collect();
    if p.purpose.values().any(|pu| pu.basis == Basis::Consent) {
        let by = if relays.is_empty() {
            String::new()
        } else {
            format!(
                "; or our {} when you tick a consent box on their forms",
                join_and(&relays)
            )
        };
        blocks.push(Block::Paragraph(format!(
            "Only you record your consent: in the privacy center, through a link we send you{by}. \
             No partner or recipient can give it for you."
        )));
    }
    // L-5: `never_sold` is a promise `policy check` holds the recipients to (POL-0100).
    if p.never_sold {
        blocks.push(Block::Paragraph(
            "We never sell your personal data.".to_owned(),
        ));
    }
    (!blocks.is_empty()).then(|| section("recipients", "Who receives it", blocks))
}

fn transfers(p: &Policy) -> Option<Section> {
    let home = p.controller.region.as_str();
    let items: Vec<String> = p
        .recipient
        .values()
        .filter_map(|r| {
            let region = r.region.as_deref().filter(|region| *region != home)?;
            Some(match r.transfer {
                Some(m) => format!("{} ({region}): protected by {}.", r.name, m.phrase()),
                None => sentence(format!("{} ({region})", r.name)),
            })
        })
        .collect();
    if items.is_empty() {
        return None;
    }
    Some(section(
        "transfers",
        "International transfers",
        vec![
            Block::Paragraph(format!(
                "Some recipients process data outside {}. We protect each of these transfers:",
                region_name(home)
            )),
            Block::List(items),
        ],
    ))
}

/// Region codes as they read after "outside".
fn region_name(code: &str) -> String {
    match code {
        "EEA" | "EU" | "UK" | "US" => format!("the {code}"),
        "CH" => "Switzerland".to_owned(),
        "BR" => "Brazil".to_owned(),
        other => other.to_owned(),
    }
}

fn retention(p: &Policy) -> Option<Section> {
    let stored: Vec<&Category> = p.category.values().filter(|c| !c.never_store).collect();
    if stored.is_empty() {
        return None;
    }
    let anonymises = stored.iter().any(|c| c.on_expiry == OnExpiry::Anonymise);
    let rows = stored
        .iter()
        .map(|c| {
            vec![
                c.description.clone(),
                c.retention.as_ref().map_or_else(
                    || "as long as the purposes above need it".to_owned(),
                    ToString::to_string,
                ),
                match c.on_expiry {
                    OnExpiry::Delete => "deleted",
                    OnExpiry::Anonymise => "anonymised into statistics",
                    OnExpiry::Isolate => "isolated, then deleted as soon as possible",
                }
                .to_owned(),
            ]
        })
        .collect();
    let intro = if anonymises {
        "We keep each kind of data for a set time. When it is up, the data is deleted, or \
         anonymised into statistics that can no longer identify you."
    } else {
        "We keep each kind of data for a set time. When it is up, the data is deleted."
    };
    Some(section(
        "retention",
        "How long we keep it",
        vec![
            Block::Paragraph(intro.to_owned()),
            Block::Table {
                header: ["Data", "How long we keep it", "Then it is"]
                    .map(str::to_owned)
                    .to_vec(),
                rows,
            },
        ],
    ))
}
