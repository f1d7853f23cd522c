//! Compilation of a validated policy into decision tables.
//!
//! The engine asks one question on every read: may `role` read `category` for
//! `purpose`, and on what terms? Answering it by walking the policy would match
//! wildcard patterns on every call; instead each (role, purpose) cell is computed
//! once, holding a bit set of allowed categories, so a decision is two index
//! lookups and a bit test.

use std::collections::HashMap;

use crate::model::{Basis, Policy};
use crate::names::pattern_matches;

/// A set of category indices of one compiled policy.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CategorySet {
    words: Vec<u64>,
}

impl CategorySet {
    fn with_capacity(n: usize) -> Self {
        CategorySet {
            words: vec![0; n.div_ceil(64)],
        }
    }

    fn insert(&mut self, i: usize) {
        if let Some(w) = self.words.get_mut(i / 64) {
            *w |= 1 << (i % 64);
        }
    }

    pub fn contains(&self, i: usize) -> bool {
        self.words
            .get(i / 64)
            .is_some_and(|w| w & (1 << (i % 64)) != 0)
    }

    pub fn iter(&self) -> impl Iterator<Item = usize> + '_ {
        self.words.iter().enumerate().flat_map(|(wi, w)| {
            (0..64)
                .filter(move |b| w & (1u64 << b) != 0)
                .map(move |b| wi * 64 + b)
        })
    }

    pub fn len(&self) -> usize {
        self.words.iter().map(|w| w.count_ones() as usize).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.words.iter().all(|w| *w == 0)
    }
}

/// What the policy says about one (role, purpose) pair.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// Categories this role may read for this purpose (never-store categories excluded).
    pub categories: CategorySet,
    pub basis: Basis,
    /// A live consent of the subject is required (consent basis, a recipient that
    /// receives data only with consent, or explicit consent under Art. 9).
    pub needs_consent: bool,
    /// The subject's objection stops this processing (Art. 21).
    pub objection_stops: bool,
    /// May read data whose processing is restricted (storage, legal claims).
    pub during_restriction: bool,
    /// Only anonymised data may be used.
    pub anonymised_only: bool,
}

/// Decision tables for one policy version.
#[derive(Debug, Clone)]
pub struct CompiledPolicy {
    categories: Vec<String>,
    category_ids: HashMap<String, usize>,
    roles: Vec<String>,
    role_ids: HashMap<String, usize>,
    purposes: Vec<String>,
    purpose_ids: HashMap<String, usize>,
    /// `roles.len() × purposes.len()`, row-major by role; `None` = role is no recipient.
    cells: Vec<Option<Decision>>,
}

fn index(names: &[String]) -> HashMap<String, usize> {
    names
        .iter()
        .enumerate()
        .map(|(i, n)| (n.clone(), i))
        .collect()
}

/// Compiles a policy. Names that do not resolve (which validation reports) are skipped.
pub fn compile(policy: &Policy) -> CompiledPolicy {
    let categories: Vec<String> = policy.category.keys().cloned().collect();
    let roles: Vec<String> = policy.recipient.keys().cloned().collect();
    let purposes: Vec<String> = policy.purpose.keys().cloned().collect();
    let mut cells = vec![None; roles.len() * purposes.len()];
    for (pi, purpose) in policy.purpose.values().enumerate() {
        let mut set = CategorySet::with_capacity(categories.len());
        for (ci, (name, cat)) in policy.category.iter().enumerate() {
            if !cat.never_store && purpose.categories.iter().any(|p| pattern_matches(p, name)) {
                set.insert(ci);
            }
        }
        for rid in &purpose.recipients {
            let (Some(ri), Some(recipient)) = (
                roles.iter().position(|r| r == rid),
                policy.recipient.get(rid),
            ) else {
                continue;
            };
            let decision = Decision {
                categories: set.clone(),
                basis: purpose.basis,
                needs_consent: purpose.rests_on_the_persons_decision()
                    || recipient.requires_consent,
                objection_stops: purpose.objectable.unwrap_or(purpose.basis.objectable()),
                during_restriction: purpose.during_restriction,
                anonymised_only: purpose.anonymised_only,
            };
            if let Some(cell) = cells.get_mut(ri * purposes.len() + pi) {
                *cell = Some(decision);
            }
        }
    }
    CompiledPolicy {
        category_ids: index(&categories),
        role_ids: index(&roles),
        purpose_ids: index(&purposes),
        categories,
        roles,
        purposes,
        cells,
    }
}

impl CompiledPolicy {
    /// The decision for `role` reading for `purpose`; `None` when the role is not a
    /// recipient of that purpose, or either name is unknown.
    pub fn decide(&self, role: &str, purpose: &str) -> Option<&Decision> {
        let r = *self.role_ids.get(role)?;
        let p = *self.purpose_ids.get(purpose)?;
        self.cells.get(r * self.purposes.len() + p)?.as_ref()
    }

    /// Whether `role` may read `category` for `purpose`, before consent and objection.
    pub fn allows(&self, role: &str, purpose: &str, category: &str) -> bool {
        match (self.decide(role, purpose), self.category_ids.get(category)) {
            (Some(d), Some(&c)) => d.categories.contains(c),
            _ => false,
        }
    }

    pub fn category_id(&self, name: &str) -> Option<usize> {
        self.category_ids.get(name).copied()
    }

    pub fn category_name(&self, id: usize) -> Option<&str> {
        self.categories.get(id).map(String::as_str)
    }

    /// Names of the categories a decision allows.
    pub fn category_names<'a>(&'a self, d: &'a Decision) -> impl Iterator<Item = &'a str> + 'a {
        d.categories.iter().filter_map(|i| self.category_name(i))
    }

    pub fn categories(&self) -> &[String] {
        &self.categories
    }

    pub fn roles(&self) -> &[String] {
        &self.roles
    }

    pub fn purposes(&self) -> &[String] {
        &self.purposes
    }

    /// Purposes a role may read for, in file order.
    pub fn purposes_of(&self, role: &str) -> Vec<&str> {
        self.purposes
            .iter()
            .filter(|p| self.decide(role, p).is_some())
            .map(String::as_str)
            .collect()
    }
}
