//! The notice sections about what people can do and what we promise: rights,
//! children, security, breaches, our processor role, changes and complaints.

use crate::model::{Policy, Right};

use super::build::{jurisdiction_name, section};
use super::{Block, Section, join_and, join_or, sentence};

fn right_sentence(r: Right) -> &'static str {
    match r {
        Right::Access => "Access: you can get a copy of the personal data we hold about you.",
        Right::Rectification => "Rectification: you can have wrong or incomplete data corrected.",
        Right::Erasure => "Erasure: you can ask us to delete your data.",
        Right::Portability => {
            "Portability: you can get the data you gave us in a machine-readable format, \
             or have it sent to another organisation."
        }
        Right::Restriction => {
            "Restriction: you can ask us to pause using your data, for example while we \
             check that it is correct."
        }
        Right::Objection => {
            "Objection: you can object to any use based on our legitimate interests or a \
             public task, and we then stop unless the law allows us to continue."
        }
        Right::ConsentWithdrawal => {
            "Withdrawing consent: you can withdraw any consent you gave, at any time."
        }
    }
}

fn right_label(r: Right) -> &'static str {
    match r {
        Right::ConsentWithdrawal => "consent withdrawal",
        other => other.as_str(),
    }
}

pub(super) fn rights(p: &Policy) -> Section {
    let r = &p.rights;
    let available: Vec<Right> = Right::ALL
        .into_iter()
        .filter(|x| r.available.contains(x))
        .collect();
    let mut blocks = Vec::new();
    if !available.is_empty() {
        blocks.push(Block::Paragraph(
            "You have these rights over your personal data:".to_owned(),
        ));
        blocks.push(Block::List(
            available
                .iter()
                .map(|x| right_sentence(*x).to_owned())
                .collect(),
        ));
    }
    let own: Vec<&str> = Right::ALL
        .into_iter()
        .filter(|x| r.self_service.contains(x))
        .map(right_label)
        .collect();
    if !own.is_empty() {
        blocks.push(Block::Paragraph(format!(
            "You can use these rights yourself, at any time, in My Account: {}.",
            join_and(&own)
        )));
    }
    let contact: Vec<&str> = if r.contact.is_empty() {
        p.controller.email.iter().map(String::as_str).collect()
    } else {
        r.contact.iter().map(String::as_str).collect()
    };
    if !contact.is_empty() {
        blocks.push(Block::Paragraph(
            "For any request, you can contact us:".to_owned(),
        ));
        blocks.push(Block::List(
            contact.into_iter().map(str::to_owned).collect(),
        ));
    }
    let mut timing = format!("We answer every request within {}.", r.deadline);
    if let Some(ext) = &r.extension {
        if r.extension_notice {
            timing.push_str(&format!(
                " If we need more time, we tell you before the deadline and may take up to \
                 {ext} more."
            ));
        } else {
            timing.push_str(&format!(
                " If we need more time, we may take up to {ext} more."
            ));
        }
    }
    blocks.push(Block::Paragraph(timing));
    if let Some(note) = &r.note {
        blocks.push(Block::Paragraph(note.clone()));
    }
    let overrides: Vec<String> = p
        .jurisdiction
        .iter()
        .filter_map(|(code, j)| {
            let place = jurisdiction_name(code, j.name.as_ref());
            match (&j.rights_deadline, &j.rights_extension) {
                (Some(d), Some(e)) => Some(format!(
                    "{place}: we answer within {d}, and may take up to {e} more."
                )),
                (Some(d), None) => Some(format!("{place}: we answer within {d}.")),
                (None, Some(e)) => Some(format!("{place}: we may take up to {e} more.")),
                (None, None) => None,
            }
        })
        .collect();
    if !overrides.is_empty() {
        blocks.push(Block::Paragraph(
            "Where you live, the law may set other times:".to_owned(),
        ));
        blocks.push(Block::List(overrides));
    }
    section("rights", "Your rights and how to use them", blocks)
}

pub(super) fn children(p: &Policy) -> Option<Section> {
    let ages: Vec<String> = p
        .jurisdiction
        .iter()
        .filter_map(|(code, j)| {
            let age = j.min_age?;
            Some(format!(
                "{}: {age}",
                jurisdiction_name(code, j.name.as_ref())
            ))
        })
        .collect();
    if ages.is_empty() {
        return None;
    }
    Some(section(
        "children",
        "Children",
        vec![
            Block::Paragraph(
                "We do not collect personal data from children below the minimum age where \
                 they live:"
                    .to_owned(),
            ),
            Block::List(ages),
        ],
    ))
}

pub(super) fn security(p: &Policy) -> Option<Section> {
    if p.security.is_empty() {
        return None;
    }
    Some(section(
        "security",
        "Security",
        vec![
            Block::Paragraph("We protect your data with these measures:".to_owned()),
            Block::List(p.security.clone()),
        ],
    ))
}

pub(super) fn breach(p: &Policy) -> Option<Section> {
    let b = p.breach.as_ref()?;
    let mut blocks = Vec::new();
    let local: Vec<String> = p
        .jurisdiction
        .iter()
        .filter_map(|(code, j)| {
            let d = j.breach_authority_deadline.as_ref()?;
            let place = jurisdiction_name(code, j.name.as_ref());
            Some(format!("{place}: within {d}."))
        })
        .collect();
    match (&b.notify_authority, local.is_empty()) {
        (Some(d), _) => blocks.push(Block::Paragraph(format!(
            "If a breach affects personal data, we tell the supervisory authority within {d} \
             of becoming aware of it."
        ))),
        (None, false) => blocks.push(Block::Paragraph(
            "If a breach affects personal data, we tell the supervisory authority, counting \
             from when we become aware of it:"
                .to_owned(),
        )),
        (None, true) => {}
    }
    if !local.is_empty() {
        if b.notify_authority.is_some() {
            blocks.push(Block::Paragraph(
                "Where you live, the law may set another deadline:".to_owned(),
            ));
        }
        blocks.push(Block::List(local));
    }
    let mut people = format!("We tell the people affected {}", b.notify_people.phrase());
    if b.only_where_law_requires {
        people.push_str(", where the law requires it");
    }
    people.push('.');
    let mut channels = b.channels.iter().map(|c| c.phrase());
    if let Some(first) = channels.next() {
        people.push_str(&format!(" We contact you by {first}"));
        for (i, next) in channels.enumerate() {
            let lead = if i == 0 {
                "if that does not reach you"
            } else {
                "failing that"
            };
            people.push_str(&format!("; {lead}, by {next}"));
        }
        people.push('.');
    }
    blocks.push(Block::Paragraph(people));
    if b.law_enforcement_delay {
        blocks.push(Block::Paragraph(
            "We may delay telling you only for as long as law enforcement requires it.".to_owned(),
        ));
    }
    if let Some(m) = &b.measures {
        blocks.push(Block::Paragraph(sentence(format!(
            "What we do to limit the consequences: {m}"
        ))));
    }
    Some(section("breach", "If there is a breach", blocks))
}

pub(super) fn processor(p: &Policy) -> Option<Section> {
    let m = p.processor.as_ref()?;
    let mut blocks = Vec::new();
    if !m.services.is_empty() {
        blocks.push(Block::Paragraph(sentence(format!(
            "In these services we process data on behalf of our customers, who decide why and \
             how it is used: {}",
            join_and(&m.services)
        ))));
    }
    let mut items = Vec::new();
    if m.written_instructions_only {
        items.push("We act only on our customer's written instructions.".to_owned());
    }
    if m.dpa_required {
        let mut s = "Each customer signs a data processing agreement with us".to_owned();
        if !m.dpa_covers.is_empty() {
            s.push_str(&format!(", covering {}", join_and(&m.dpa_covers)));
        }
        s.push('.');
        items.push(s);
    }
    if m.route_requests_to_controller {
        items.push(
            "If you make a request about such data, we pass it to the customer concerned, \
             who answers it."
                .to_owned(),
        );
    }
    if m.controller_answers_for_consent {
        items.push(
            "The customer is responsible for asking for your consent and informing you.".to_owned(),
        );
    }
    if !items.is_empty() {
        blocks.push(Block::List(items));
    }
    (!blocks.is_empty()).then(|| section("processor", "When we act as processor", blocks))
}

/// The model's documented default when a policy states no notice period.
const DEFAULT_CHANGE_NOTICE: &str = "30 days";

pub(super) fn changes(p: &Policy) -> Option<Section> {
    let c = p.changes.as_ref()?;
    let notice = c
        .notice
        .as_ref()
        .map_or_else(|| DEFAULT_CHANGE_NOTICE.to_owned(), ToString::to_string);
    let mut text = if c.notify_material_only {
        format!(
            "We tell you about material changes to this notice at least {notice} before they \
             take effect, and post other changes here."
        )
    } else {
        format!(
            "We tell you about changes to this notice at least {notice} before they take effect."
        )
    };
    let channels: Vec<&str> = c.channels.iter().map(|x| x.phrase()).collect();
    if !channels.is_empty() {
        text.push_str(&format!(" We do so by {}.", join_or(&channels)));
    }
    let mut blocks = vec![Block::Paragraph(text)];
    let local: Vec<String> = p
        .jurisdiction
        .iter()
        .filter_map(|(code, j)| {
            let d = j.change_notice.as_ref()?;
            let place = jurisdiction_name(code, j.name.as_ref());
            Some(format!(
                "{place}: at least {d} before a change takes effect."
            ))
        })
        .collect();
    if !local.is_empty() {
        blocks.push(Block::List(local));
    }
    if c.reconsent_for_new_use {
        blocks.push(Block::Paragraph(
            "If we want to use your data in a way we did not tell you about when we collected \
             it, we ask for your agreement first."
                .to_owned(),
        ));
    }
    if c.effective_date_posted {
        let mut s = "Every version of this notice states the date it takes effect.".to_owned();
        if let Some(date) = &p.policy.effective {
            s.push_str(&format!(" This version takes effect on {date}."));
        }
        blocks.push(Block::Paragraph(s));
    }
    Some(section("changes", "Changes to this notice", blocks))
}

pub(super) fn complaints(p: &Policy) -> Option<Section> {
    let a = p.controller.supervisory_authority.as_ref()?;
    let whom = match &a.url {
        Some(url) => format!("{} ({url})", a.name),
        None => a.name.clone(),
    };
    Some(section(
        "complaints",
        "Complaints",
        vec![Block::Paragraph(sentence(format!(
            "If you think we have not handled your data properly, you have the right to \
             complain to the supervisory authority: {whom}"
        )))],
    ))
}
