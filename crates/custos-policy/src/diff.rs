//! What changed between two versions of a policy, and what each change demands.
//!
//! A change that uses people's existing data in a new way (a new purpose over
//! data already held, more categories for a purpose, a new third party, a new
//! transfer abroad, consent no longer asked) needs **re-consent** before it
//! applies to a person (V-6, S-7). A change people must hear about but need not
//! accept needs **notice** ahead of its effective date (T-4, T-17). Changes in
//! people's favour (shorter retention, fewer recipients) are only recorded.

use std::collections::BTreeSet;
use std::fmt;

use serde::Serialize;
use serde_json::Value;

use crate::model::{Basis, Policy, Purpose, Recipient};
use crate::names::pattern_matches;

/// What a change demands before it may apply to a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Impact {
    /// Recorded in the version history; nobody needs to be told.
    None,
    /// People are told ahead of the effective date.
    Notice,
    /// People must agree before it applies to them.
    Reconsent,
}

impl Impact {
    pub fn as_str(self) -> &'static str {
        match self {
            Impact::None => "none",
            Impact::Notice => "notice",
            Impact::Reconsent => "reconsent",
        }
    }
}

/// One difference between the versions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    pub path: String,
    pub description: String,
    pub impact: Impact,
}

/// All differences, most demanding first.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PolicyDiff {
    pub changes: Vec<Change>,
    /// Jurisdictions whose consumers must accept contract changes (T-20).
    pub acceptance_required_in: Vec<String>,
}

impl PolicyDiff {
    pub fn impact(&self) -> Impact {
        self.changes
            .iter()
            .map(|c| c.impact)
            .max()
            .unwrap_or(Impact::None)
    }

    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }
}

impl fmt::Display for PolicyDiff {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.changes.is_empty() {
            return writeln!(f, "no changes");
        }
        for c in &self.changes {
            writeln!(f, "{:<9}  {}: {}", c.impact.as_str(), c.path, c.description)?;
        }
        writeln!(f, "overall: {}", self.impact().as_str())?;
        if !self.acceptance_required_in.is_empty() {
            writeln!(
                f,
                "contract changes need acceptance from consumers in: {}",
                self.acceptance_required_in.join(", ")
            )?;
        }
        Ok(())
    }
}

/// Compares two versions of a policy.
pub fn diff(old: &Policy, new: &Policy) -> PolicyDiff {
    let mut d = Differ {
        out: Vec::new(),
        old,
        new,
    };
    d.categories();
    d.purposes();
    d.recipients();
    d.rights();
    let generic: [(&str, Value, Value); 8] = [
        ("controller", json(&old.controller), json(&new.controller)),
        ("processor", json(&old.processor), json(&new.processor)),
        (
            "jurisdiction",
            json(&old.jurisdiction),
            json(&new.jurisdiction),
        ),
        ("breach", json(&old.breach), json(&new.breach)),
        ("changes", json(&old.changes), json(&new.changes)),
        ("security", json(&old.security), json(&new.security)),
        ("contract", json(&old.contract), json(&new.contract)),
        (
            "policy.title",
            json(&old.policy.title),
            json(&new.policy.title),
        ),
    ];
    for (path, a, b) in generic {
        value_changes(path, &a, &b, &mut d.out);
    }
    let mut changes = d.out;
    changes.sort_by(|a, b| b.impact.cmp(&a.impact).then_with(|| a.path.cmp(&b.path)));
    let contract_changed = changes.iter().any(|c| c.path.starts_with("contract"));
    let acceptance_required_in = if contract_changed {
        new.jurisdiction
            .iter()
            .filter(|(_, j)| {
                j.consumer
                    .as_ref()
                    .is_some_and(|c| c.change_requires_acceptance)
            })
            .map(|(code, _)| code.clone())
            .collect()
    } else {
        Vec::new()
    };
    PolicyDiff {
        changes,
        acceptance_required_in,
    }
}

fn json<T: Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

/// Leaf-level differences of two JSON trees; every one needs notice.
fn value_changes(path: &str, a: &Value, b: &Value, out: &mut Vec<Change>) {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let keys: BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            for k in keys {
                let null = Value::Null;
                let sub = format!("{path}.{k}");
                value_changes(
                    &sub,
                    x.get(k).unwrap_or(&null),
                    y.get(k).unwrap_or(&null),
                    out,
                );
            }
        }
        _ if a == b => {}
        _ => out.push(Change {
            path: path.to_owned(),
            description: format!("{} → {}", short(a), short(b)),
            impact: Impact::Notice,
        }),
    }
}

fn short(v: &Value) -> String {
    match v {
        Value::Null => "(none)".to_owned(),
        Value::String(s) => format!("\"{s}\""),
        other => other.to_string(),
    }
}

struct Differ<'a> {
    out: Vec<Change>,
    old: &'a Policy,
    new: &'a Policy,
}

impl Differ<'_> {
    fn push(&mut self, path: String, impact: Impact, description: String) {
        self.out.push(Change {
            path,
            description,
            impact,
        });
    }

    fn categories(&mut self) {
        for (name, c) in &self.new.category {
            let path = format!("category.\"{name}\"");
            let Some(o) = self.old.category.get(name) else {
                self.push(
                    path,
                    Impact::Notice,
                    "new category of data collected".into(),
                );
                continue;
            };
            let (before, after) = (
                o.retention.as_ref().and_then(|r| r.rule()),
                c.retention.as_ref().and_then(|r| r.rule()),
            );
            if before != after {
                let longer = match (before, after) {
                    (Some(b), Some(a)) => a.span.approx_hours() > b.span.approx_hours(),
                    _ => true,
                };
                let what = |r: Option<crate::period::RetentionRule>| {
                    r.map_or("(none)".to_owned(), |r| r.to_string())
                };
                self.push(
                    format!("{path}.retention"),
                    if longer { Impact::Notice } else { Impact::None },
                    format!("kept {} instead of {}", what(after), what(before)),
                );
            }
            if o.on_expiry != c.on_expiry {
                self.push(
                    format!("{path}.on_expiry"),
                    Impact::Notice,
                    format!("at expiry: {:?} instead of {:?}", c.on_expiry, o.on_expiry),
                );
            }
            if o.never_store && !c.never_store {
                self.push(
                    format!("{path}.never_store"),
                    Impact::Reconsent,
                    "data we promised never to store would now be stored".into(),
                );
            }
            if o.sensitivity != c.sensitivity {
                self.push(
                    format!("{path}.sensitivity"),
                    Impact::Notice,
                    format!("sensitivity {:?} → {:?}", o.sensitivity, c.sensitivity),
                );
            }
            if o.anonymous && !c.anonymous {
                self.push(
                    format!("{path}.anonymous"),
                    Impact::Reconsent,
                    "data collected anonymously would now be linked to a person".into(),
                );
            }
        }
        for name in self.old.category.keys() {
            if !self.new.category.contains_key(name) {
                self.push(
                    format!("category.\"{name}\""),
                    Impact::None,
                    "no longer collected".into(),
                );
            }
        }
    }

    /// Old categories a purpose of `new` uses (those data are already held).
    fn existing_categories(&self, purpose: &Purpose) -> BTreeSet<String> {
        resolve(self.new, purpose)
            .into_iter()
            .filter(|c| self.old.category.contains_key(c))
            .collect()
    }

    fn purposes(&mut self) {
        for (id, p) in &self.new.purpose {
            let path = format!("purpose.{id}");
            let Some(o) = self.old.purpose.get(id) else {
                let held = self.existing_categories(p);
                if held.is_empty() || p.basis == Basis::Consent {
                    // Consent purposes ask anyway; new data is asked for at collection.
                    self.push(
                        path,
                        Impact::Notice,
                        format!("new purpose ({})", p.basis.as_str()),
                    );
                } else {
                    self.push(
                        path,
                        Impact::Reconsent,
                        format!(
                            "new purpose ({}) uses data already held: {}",
                            p.basis.as_str(),
                            held.into_iter().collect::<Vec<_>>().join(", ")
                        ),
                    );
                }
                continue;
            };
            if o.basis != p.basis {
                let impact = if p.basis == Basis::Consent || o.basis == Basis::Consent {
                    Impact::Reconsent
                } else {
                    Impact::Notice
                };
                self.push(
                    format!("{path}.basis"),
                    impact,
                    format!("lawful basis {} → {}", o.basis.as_str(), p.basis.as_str()),
                );
            }
            let before = resolve(self.old, o);
            let added: Vec<String> = resolve(self.new, p)
                .into_iter()
                .filter(|c| !before.contains(c))
                .collect();
            if !added.is_empty() {
                self.push(
                    format!("{path}.categories"),
                    Impact::Reconsent,
                    format!("now also uses {}", added.join(", ")),
                );
            }
            let after = resolve(self.new, p);
            let removed: Vec<&String> = before.iter().filter(|c| !after.contains(*c)).collect();
            if !removed.is_empty() {
                let list: Vec<&str> = removed.iter().map(|s| s.as_str()).collect();
                self.push(
                    format!("{path}.categories"),
                    Impact::None,
                    format!("no longer uses {}", list.join(", ")),
                );
            }
            for rid in p.recipients.iter().filter(|r| !o.recipients.contains(r)) {
                let third = self
                    .new
                    .recipient
                    .get(rid)
                    .is_some_and(Recipient::is_third_party);
                self.push(
                    format!("{path}.recipients"),
                    if third {
                        Impact::Reconsent
                    } else {
                        Impact::Notice
                    },
                    format!(
                        "{} `{rid}` now receives data",
                        if third {
                            "third party"
                        } else {
                            "internal role"
                        }
                    ),
                );
            }
            for rid in o.recipients.iter().filter(|r| !p.recipients.contains(r)) {
                self.push(
                    format!("{path}.recipients"),
                    Impact::None,
                    format!("`{rid}` no longer receives data"),
                );
            }
            let objectable = |x: &Purpose| x.objectable.unwrap_or(x.basis.objectable());
            if objectable(o) && !objectable(p) {
                self.push(
                    format!("{path}.objectable"),
                    Impact::Reconsent,
                    "an objection would no longer stop this purpose".into(),
                );
            }
            if o.anonymised_only && !p.anonymised_only {
                self.push(
                    format!("{path}.anonymised_only"),
                    Impact::Reconsent,
                    "would now use identifiable data".into(),
                );
            }
            if o.description != p.description {
                self.push(
                    format!("{path}.description"),
                    Impact::Notice,
                    "reworded".into(),
                );
            }
        }
        for id in self.old.purpose.keys() {
            if !self.new.purpose.contains_key(id) {
                self.push(
                    format!("purpose.{id}"),
                    Impact::None,
                    "purpose removed".into(),
                );
            }
        }
    }

    fn recipients(&mut self) {
        let home = self.new.controller.region.as_str();
        for (id, r) in &self.new.recipient {
            let path = format!("recipient.{id}");
            let Some(o) = self.old.recipient.get(id) else {
                // Whether it receives anything is reported on the purposes.
                self.push(path, Impact::None, "new recipient declared".into());
                continue;
            };
            let abroad = |x: &Recipient| x.region.as_deref().is_some_and(|g| g != home);
            if o.region != r.region {
                self.push(
                    format!("{path}.region"),
                    if abroad(r) {
                        Impact::Reconsent
                    } else {
                        Impact::Notice
                    },
                    format!(
                        "processes data in {} instead of {}",
                        r.region.as_deref().unwrap_or(home),
                        o.region.as_deref().unwrap_or(home)
                    ),
                );
            }
            if o.transfer != r.transfer {
                self.push(
                    format!("{path}.transfer"),
                    Impact::Notice,
                    format!("transfer safeguard {:?} → {:?}", o.transfer, r.transfer),
                );
            }
            if o.requires_consent && !r.requires_consent {
                self.push(
                    format!("{path}.requires_consent"),
                    Impact::Reconsent,
                    "would receive data without asking".into(),
                );
            }
            if o.kind != r.kind {
                self.push(
                    format!("{path}.kind"),
                    if r.is_third_party() && !o.is_third_party() {
                        Impact::Reconsent
                    } else {
                        Impact::Notice
                    },
                    format!("{:?} → {:?}", o.kind, r.kind),
                );
            }
        }
        for id in self.old.recipient.keys() {
            if !self.new.recipient.contains_key(id) {
                self.push(
                    format!("recipient.{id}"),
                    Impact::None,
                    "recipient removed".into(),
                );
            }
        }
    }

    fn rights(&mut self) {
        let (o, n) = (&self.old.rights, &self.new.rights);
        let hours = |p: &crate::period::Period| p.span().map(|s| s.approx_hours());
        if hours(&o.deadline) != hours(&n.deadline) {
            let slower = hours(&n.deadline) > hours(&o.deadline);
            self.push(
                "rights.deadline".into(),
                if slower { Impact::Notice } else { Impact::None },
                format!("answered within {} instead of {}", n.deadline, o.deadline),
            );
        }
        for right in o.available.iter().filter(|r| !n.available.contains(r)) {
            self.push(
                "rights.available".into(),
                Impact::Notice,
                format!("right `{}` no longer offered", right.as_str()),
            );
        }
        for right in n.available.iter().filter(|r| !o.available.contains(r)) {
            self.push(
                "rights.available".into(),
                Impact::None,
                format!("right `{}` now offered", right.as_str()),
            );
        }
        if o.extension != n.extension || o.self_service != n.self_service {
            self.push(
                "rights".into(),
                Impact::Notice,
                "how rights are handled changed".into(),
            );
        }
    }
}

/// Declared category names a purpose's patterns match (never-store ones included:
/// a purpose passing card data through still "uses" it).
fn resolve(policy: &Policy, purpose: &Purpose) -> BTreeSet<String> {
    policy
        .category
        .keys()
        .filter(|name| purpose.categories.iter().any(|p| pattern_matches(p, name)))
        .cloned()
        .collect()
}
