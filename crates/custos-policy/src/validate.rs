//! The rules a policy must follow beyond its shape. Each rule reports with a stable
//! [`Code`], the place in the file, and a hint; every rule runs, so an author sees
//! all problems at once.

use std::collections::{HashMap, HashSet};

use crate::diag::{Code, Diagnostic};
use crate::model::{Basis, Policy, RecipientKind, Sensitivity};
use crate::names::{
    is_valid_category_name, is_valid_id, is_valid_pattern, is_wildcard, pattern_matches,
};
use crate::period::{Period, Retention};
use crate::source_map::{Path, SourceMap};

/// Runs every rule and returns the findings in file order.
pub fn validate(policy: &Policy, map: &SourceMap<'_>, file: &str) -> Vec<Diagnostic> {
    let mut v = Validator {
        map,
        file,
        out: Vec::new(),
    };
    v.names(policy);
    v.durations(policy);
    v.values(policy);
    v.purposes(policy);
    v.age_gates(policy);
    v.categories(policy);
    v.recipients(policy);
    v.rights(policy);
    v.contract(policy);
    v.out.sort_by_key(|d| {
        (
            d.position
                .map_or((usize::MAX, usize::MAX), |p| (p.line, p.column)),
            d.code,
        )
    });
    v.out
}

struct Validator<'a> {
    map: &'a SourceMap<'a>,
    file: &'a str,
    out: Vec<Diagnostic>,
}

fn root(k: &str) -> Path {
    Path::default().key(k)
}

impl Validator<'_> {
    fn report(&mut self, code: Code, path: &Path, message: String, hint: Option<String>) {
        self.out.push(Diagnostic {
            code,
            severity: code.severity(),
            message,
            hint,
            file: self.file.to_owned(),
            position: self.map.position(path),
            path: path.to_string(),
        });
    }

    fn names(&mut self, p: &Policy) {
        for name in p.category.keys() {
            if !is_valid_category_name(name) {
                self.report(
                    Code::BadName,
                    &root("category").key(name),
                    format!("category name `{name}` is not a dotted lowercase name"),
                    Some("use fideslang-style names such as `user.contact.email`".into()),
                );
            }
        }
        let tables: [(&str, Vec<&String>); 4] = [
            ("purpose", p.purpose.keys().collect()),
            ("recipient", p.recipient.keys().collect()),
            ("jurisdiction", p.jurisdiction.keys().collect()),
            (
                "plan",
                p.contract.iter().flat_map(|c| c.plan.keys()).collect(),
            ),
        ];
        for (table, ids) in tables {
            let path = |id: &str| match table {
                "plan" => root("contract").key("plan").key(id),
                t => root(t).key(id),
            };
            let mut seen: HashMap<String, &str> = HashMap::new();
            for id in ids {
                if !is_valid_id(id) {
                    self.report(
                        Code::BadName,
                        &path(id),
                        format!(
                            "{table} id `{id}` may hold only letters, digits, `_`, `-` and `.`"
                        ),
                        None,
                    );
                }
                if let Some(first) = seen.insert(id.to_lowercase(), id) {
                    self.report(
                        Code::Duplicate,
                        &path(id),
                        format!("{table} `{id}` duplicates `{first}` (ids are case-insensitive)"),
                        Some("give each one a distinct id".into()),
                    );
                }
            }
        }
        for (code, j) in p.jurisdiction.keys().zip(p.jurisdiction.values()) {
            if !is_jurisdiction_code(code) {
                self.report(
                    Code::ImpossibleValue,
                    &root("jurisdiction").key(code),
                    format!("`{code}` is not a jurisdiction code"),
                    Some("use an ISO 3166 code (`FR`, `DE`, `UK`), a subdivision (`US-CA`) or `EU`/`EEA`".into()),
                );
            }
            if let Some(age) = j.min_age
                && !(1..=21).contains(&age)
            {
                self.report(
                    Code::ImpossibleValue,
                    &root("jurisdiction").key(code).key("min_age"),
                    format!("a minimum age of {age} is not a real age gate"),
                    Some("digital-consent ages lie between 13 and 16; majority at 18 to 21".into()),
                );
            }
        }
    }

    fn period(&mut self, path: Path, period: Option<&Period>) {
        let Some(period) = period else { return };
        if let Some(e) = period.error() {
            self.report(
                Code::ImpossibleDuration,
                &path,
                format!("`{}`: {e}", period.raw()),
                Some("write a positive number and a unit: \"15d\", \"72h\", \"6w\", \"12mo\", \"3y\", \"1bd\"".into()),
            );
        }
    }

    fn retention(&mut self, path: Path, retention: Option<&Retention>) {
        let Some(r) = retention else { return };
        if let Some(e) = r.error() {
            self.report(
                Code::ImpossibleDuration,
                &path,
                format!("retention `{}`: {e}", r.raw()),
                Some("write \"<period>\" or \"<period> after <event>\", events: collection, last_activity, account_closure, contract_end, consent_withdrawal, purpose_end".into()),
            );
        }
    }

    fn durations(&mut self, p: &Policy) {
        let r = root("rights");
        self.period(r.clone().key("deadline"), Some(&p.rights.deadline));
        self.period(r.key("extension"), p.rights.extension.as_ref());
        if let Some(b) = &p.breach {
            self.period(
                root("breach").key("notify_authority"),
                b.notify_authority.as_ref(),
            );
        }
        if let Some(c) = &p.changes {
            self.period(root("changes").key("notice"), c.notice.as_ref());
        }
        for (code, j) in &p.jurisdiction {
            let jp = root("jurisdiction").key(code);
            self.period(
                jp.clone().key("rights_deadline"),
                j.rights_deadline.as_ref(),
            );
            self.period(
                jp.clone().key("rights_extension"),
                j.rights_extension.as_ref(),
            );
            self.period(
                jp.clone().key("breach_authority_deadline"),
                j.breach_authority_deadline.as_ref(),
            );
            self.period(jp.clone().key("change_notice"), j.change_notice.as_ref());
            if let Some(c) = &j.consumer {
                let cp = jp.key("consumer");
                let fields = [
                    ("withdrawal", &c.withdrawal),
                    ("change_notice", &c.change_notice),
                    ("legal_guarantee", &c.legal_guarantee),
                    ("defect_notice", &c.defect_notice),
                    ("defect_time_bar", &c.defect_time_bar),
                    ("faulty_refund", &c.faulty_refund),
                    ("repair_or_replace", &c.repair_or_replace),
                    ("remedy_limit", &c.remedy_limit),
                ];
                for (name, value) in fields {
                    self.period(cp.clone().key(name), value.as_ref());
                }
            }
        }
        for (name, c) in &p.category {
            self.retention(
                root("category").key(name).key("retention"),
                c.retention.as_ref(),
            );
        }
        let Some(c) = &p.contract else { return };
        let cp = root("contract");
        self.period(
            cp.clone().key("terms_change_notice"),
            c.terms_change_notice.as_ref(),
        );
        if let Some(r) = &c.returns {
            let rp = cp.clone().key("returns");
            let fields = [
                (
                    "notice_after_delivery_confirmation",
                    &r.notice_after_delivery_confirmation,
                ),
                ("notice_after_possession", &r.notice_after_possession),
                ("ship_within", &r.ship_within),
                ("refund_within", &r.refund_within),
            ];
            for (name, value) in fields {
                self.period(rp.clone().key(name), Some(value));
            }
        }
        if let Some(w) = &c.withdrawal {
            let wp = cp.clone().key("withdrawal");
            self.period(wp.clone().key("period"), Some(&w.period));
            self.period(wp.clone().key("refund_within"), Some(&w.refund_within));
            self.period(wp.key("return_within"), w.return_within.as_ref());
        }
        for (id, plan) in &c.plan {
            let pp = cp.clone().key("plan").key(id);
            let fields = [
                ("initial_term", plan.initial_term.as_ref()),
                ("free_trial", plan.free_trial.as_ref()),
                ("charge_before", plan.charge_before.as_ref()),
                (
                    "cancel_notice_initial_term",
                    plan.cancel_notice_initial_term.as_ref(),
                ),
                ("cancel_notice", plan.cancel_notice.as_ref()),
                ("grace", plan.grace.as_ref()),
                ("change_notice", plan.change_notice.as_ref()),
                ("termination_notice", plan.termination_notice.as_ref()),
            ];
            self.period(pp.clone().key("period"), Some(&plan.period));
            for (name, value) in fields {
                self.period(pp.clone().key(name), value);
            }
        }
    }

    fn values(&mut self, p: &Policy) {
        if let Some(date) = &p.policy.effective
            && !is_iso_date(date)
        {
            self.report(
                Code::ImpossibleValue,
                &root("policy").key("effective"),
                format!("`{date}` is not a calendar date"),
                Some("write YYYY-MM-DD".into()),
            );
        }
        let country = &p.controller.country;
        if !(country.len() == 2 && country.chars().all(|c| c.is_ascii_uppercase())) {
            self.report(
                Code::ImpossibleValue,
                &root("controller").key("country"),
                format!("`{country}` is not an ISO 3166 country code"),
                Some("two capital letters, e.g. `FR`".into()),
            );
        }
        if let Some(b) = &p.breach {
            if b.channels.is_empty() {
                self.report(
                    Code::ImpossibleValue,
                    &root("breach").key("channels"),
                    "a breach notice needs at least one channel".into(),
                    Some("e.g. channels = [\"email\", \"fax\", \"post\"]".into()),
                );
            }
            self.no_duplicates(root("breach").key("channels"), &b.channels);
        }
        if let Some(c) = &p.changes {
            self.no_duplicates(root("changes").key("channels"), &c.channels);
        }
    }

    fn no_duplicates<T: PartialEq + std::fmt::Debug>(&mut self, path: Path, items: &[T]) {
        for (i, item) in items.iter().enumerate() {
            if items.iter().take(i).any(|x| x == item) {
                self.report(
                    Code::Duplicate,
                    &path.clone().index(i),
                    format!("{item:?} is listed twice"),
                    Some("remove the repeated entry".into()),
                );
            }
        }
    }

    /// Issue 13.12: an age limit needs something to read at sign-up — a birth date
    /// or a yes/no age attestation collected for one of the company's own purposes.
    fn age_gates(&mut self, p: &Policy) {
        let says_age = p.category.iter().any(|(name, c)| {
            (c.is_birth_date(name) || c.is_age_attestation(name))
                && p.purpose.iter().any(|(id, pu)| {
                    !p.customer_directed(id)
                        && pu.categories.iter().any(|pat| pattern_matches(pat, name))
                })
        });
        if says_age {
            return;
        }
        for (code, j) in &p.jurisdiction {
            if let Some(min) = j.min_age {
                self.report(
                    Code::AgeGateWithoutInput,
                    &root("jurisdiction").key(code).key("min_age"),
                    format!("jurisdiction `{code}` sets min_age = {min}, but no purpose collects a birth date or an age attestation, so the gate can never fire"),
                    Some("add a boolean category `user.demographic.age_attestation` (\"I am at least N\") to the sign-up purposes".into()),
                );
            }
        }
    }

    fn purposes(&mut self, p: &Policy) {
        if let Some(processor) = &p.processor {
            for (i, name) in processor.purposes.iter().enumerate() {
                if !p.purpose.contains_key(name) {
                    self.report(
                        Code::DanglingReference,
                        &root("processor").key("purposes").index(i),
                        format!("`{name}` is not a purpose of this policy"),
                        None,
                    );
                }
            }
        }
        for (id, purpose) in &p.purpose {
            let pp = root("purpose").key(id);
            self.no_duplicates(pp.clone().key("categories"), &purpose.categories);
            self.no_duplicates(pp.clone().key("recipients"), &purpose.recipients);
            for (i, pattern) in purpose.categories.iter().enumerate() {
                let at = pp.clone().key("categories").index(i);
                if !is_valid_pattern(pattern) {
                    self.report(
                        Code::BadName,
                        &at,
                        format!("`{pattern}` is neither a category name nor a pattern"),
                        Some("use `user.contact.email`, `user.contact.*` or `*`".into()),
                    );
                    continue;
                }
                let matched: Vec<(&String, &crate::model::Category)> = p
                    .category
                    .iter()
                    .filter(|(name, _)| pattern_matches(pattern, name))
                    .collect();
                if matched.is_empty() {
                    let hint = closest(pattern, p.category.keys()).map_or_else(
                        || format!("declare [category.\"{pattern}\"]"),
                        |c| format!("did you mean `{c}`? or declare [category.\"{pattern}\"]"),
                    );
                    self.report(
                        Code::UnknownCategory,
                        &at,
                        format!("purpose `{id}` names category `{pattern}`, which is not declared"),
                        Some(hint),
                    );
                }
                for (name, cat) in &matched {
                    if cat.never_store && purpose.stores && !is_wildcard(pattern) {
                        self.report(
                            Code::NeverStoreStored,
                            &at,
                            format!("purpose `{id}` stores `{name}`, which is marked never_store"),
                            Some("set `stores = false` on a pass-through purpose, or remove the category".into()),
                        );
                    }
                    if cat.sensitivity == Sensitivity::Special && purpose.art9_condition.is_none() {
                        self.report(
                            Code::SpecialWithoutArt9,
                            &at,
                            format!("purpose `{id}` uses special-category data `{name}` without an Art. 9 condition"),
                            Some("set art9_condition (explicit_consent, employment, vital_interest, legal_claims, public_health, health_care, controller_instruction)".into()),
                        );
                    }
                }
            }
            for (i, rid) in purpose.recipients.iter().enumerate() {
                let at = pp.clone().key("recipients").index(i);
                match p.recipient.get(rid) {
                    None => {
                        let hint = closest(rid, p.recipient.keys()).map_or_else(
                            || format!("declare [recipient.{rid}]"),
                            |c| format!("did you mean `{c}`?"),
                        );
                        self.report(
                            Code::UnknownRecipient,
                            &at,
                            format!(
                                "purpose `{id}` names recipient `{rid}`, which is not declared"
                            ),
                            Some(hint),
                        );
                    }
                    Some(r) if r.requires_consent && purpose.basis != Basis::Consent => {
                        self.report(
                            Code::PartnerWithoutConsent,
                            &at,
                            format!("recipient `{rid}` receives data only with consent, but purpose `{id}` is based on {}", purpose.basis.as_str()),
                            Some("share with this recipient under a consent purpose".into()),
                        );
                    }
                    Some(_) => {}
                }
            }
            if purpose.basis == Basis::Consent && purpose.withdraw.is_empty() {
                self.report(
                    Code::ConsentWithoutWithdrawal,
                    &pp,
                    format!("consent purpose `{id}` gives no way to withdraw consent"),
                    Some("withdrawal must be as easy as giving consent: set withdraw = [\"privacy_center\", \"unsubscribe_link\", …]".into()),
                );
            }
            if purpose.basis == Basis::LegitimateInterest
                && purpose
                    .legitimate_interest
                    .as_deref()
                    .is_none_or(|s| s.trim().is_empty())
            {
                self.report(
                    Code::InterestNotStated,
                    &pp,
                    format!("purpose `{id}` relies on legitimate interest without saying which"),
                    Some("set legitimate_interest = \"…\" (it is shown in the notice)".into()),
                );
            }
        }
    }

    fn categories(&mut self, p: &Policy) {
        for (name, cat) in &p.category {
            let cp = root("category").key(name);
            if !cat.never_store && cat.retention.is_none() {
                self.report(
                    Code::MissingRetention,
                    &cp,
                    format!("category `{name}` is stored but has no retention"),
                    Some("set retention = \"<period> after <event>\", e.g. \"3y after last_activity\"".into()),
                );
            }
            if let Some(holder) = &cat.held_by
                && !p.recipient.contains_key(holder)
            {
                self.report(
                    Code::DanglingReference,
                    &cp.clone().key("held_by"),
                    format!(
                        "category `{name}` is held by `{holder}`, which is not a declared recipient"
                    ),
                    None,
                );
            }
            let used = p
                .purpose
                .values()
                .any(|pu| pu.categories.iter().any(|pat| pattern_matches(pat, name)));
            if !used {
                self.report(
                    Code::UnusedCategory,
                    &cp,
                    format!("no purpose uses category `{name}`"),
                    Some("data collected for no purpose may not be collected at all".into()),
                );
            }
        }
    }

    fn recipients(&mut self, p: &Policy) {
        let home = p.controller.region.as_str();
        for (id, r) in &p.recipient {
            let rp = root("recipient").key(id);
            let abroad = r.region.as_deref().is_some_and(|region| region != home);
            if abroad && r.transfer.is_none() {
                self.report(
                    Code::TransferWithoutMechanism,
                    &rp,
                    format!(
                        "recipient `{id}` is in {} but the controller is in {home}, and no transfer mechanism is given",
                        r.region.as_deref().unwrap_or_default()
                    ),
                    Some("set transfer = \"adequacy\", \"scc\", \"bcr\" or \"transfer_agreement\"".into()),
                );
            }
            if !abroad && r.transfer.is_some() {
                self.report(
                    Code::DoubtfulTransfer,
                    &rp.clone().key("transfer"),
                    format!("recipient `{id}` is in the controller's region; a transfer mechanism is not needed"),
                    Some("set region to where the recipient processes data".into()),
                );
            }
            if p.never_sold && r.kind == RecipientKind::Sale {
                self.report(
                    Code::SoldDespiteNeverSold,
                    &rp.clone().key("kind"),
                    format!("the policy says personal data is never sold, but recipient `{id}` is of kind `sale`"),
                    Some("remove the recipient, or drop never_sold if data really is sold".into()),
                );
            }
            if id == "data_subject" {
                self.report(
                    Code::BadName,
                    &rp,
                    "`data_subject` is reserved for the person themselves; name the recipient otherwise".into(),
                    None,
                );
            }
            if r.records_consent && r.kind != RecipientKind::Internal {
                self.report(
                    Code::ThirdPartyRecordsConsent,
                    &rp.clone().key("records_consent"),
                    format!(
                        "recipient `{id}` is not the controller's own service; it may not record consent on a person's behalf"
                    ),
                    Some("only internal recipients (the controller's sign-up or marketing service) may set records_consent".into()),
                );
            }
            if r.kind == RecipientKind::Partner && !r.requires_consent {
                self.report(
                    Code::PartnerWithoutConsent,
                    &rp.clone(),
                    format!(
                        "partner `{id}` receives data for its own use but does not require consent"
                    ),
                    Some("set requires_consent = true".into()),
                );
            }
            if !p.purpose.values().any(|pu| pu.recipients.contains(id))
                && !p.category.values().any(|c| c.held_by.as_ref() == Some(id))
            {
                self.report(
                    Code::UnusedRecipient,
                    &rp,
                    format!("no purpose names recipient `{id}`"),
                    None,
                );
            }
        }
    }

    fn rights(&mut self, p: &Policy) {
        let rp = root("rights");
        if p.rights.available.is_empty() {
            self.report(
                Code::ImpossibleValue,
                &rp.clone().key("available"),
                "the policy offers no rights".into(),
                Some("list at least access, rectification and erasure".into()),
            );
        }
        self.no_duplicates(rp.clone().key("available"), &p.rights.available);
        self.no_duplicates(rp.clone().key("self_service"), &p.rights.self_service);
        for (i, right) in p.rights.self_service.iter().enumerate() {
            if !p.rights.available.contains(right) {
                self.report(
                    Code::UnavailableRight,
                    &rp.clone().key("self_service").index(i),
                    format!(
                        "`{}` is self-service but not among the available rights",
                        right.as_str()
                    ),
                    Some("add it to rights.available".into()),
                );
            }
        }
        if p.rights
            .deadline
            .span()
            .is_some_and(|s| s.approx_hours() > 24 * 366)
        {
            self.report(
                Code::InconsistentTerms,
                &rp.key("deadline"),
                "a rights deadline of more than a year defeats the right".into(),
                Some("GDPR: one month, extendable by two; LGPD: 15 days".into()),
            );
        }
    }

    fn contract(&mut self, p: &Policy) {
        let Some(c) = &p.contract else { return };
        let cp = root("contract");
        for (i, cur) in c.currencies.iter().enumerate() {
            if !is_currency(cur) {
                self.report(
                    Code::ImpossibleValue,
                    &cp.clone().key("currencies").index(i),
                    format!("`{cur}` is not an ISO 4217 currency code"),
                    Some("three capital letters, e.g. EUR".into()),
                );
            }
        }
        if let Some(w) = &c.withdrawal {
            for (i, cost) in w.max_return_cost.iter().enumerate() {
                let ok = cost.split_once(' ').is_some_and(|(amount, cur)| {
                    is_amount(amount) && is_currency(cur) && c.currencies.iter().any(|x| x == cur)
                });
                if !ok {
                    self.report(
                        Code::ImpossibleValue,
                        &cp.clone().key("withdrawal").key("max_return_cost").index(i),
                        format!("`{cost}` is not an amount in one of the contract's currencies"),
                        Some(
                            "write \"20 EUR\" with a currency listed in contract.currencies".into(),
                        ),
                    );
                }
            }
        }
        if let Some(limits) = c.orders.as_ref().and_then(|o| o.limits.as_ref()) {
            let all = [
                ("per_person", limits.per_person),
                ("per_email", limits.per_email),
                ("per_household", limits.per_household),
                ("per_card", limits.per_card),
                ("per_address", limits.per_address),
            ];
            for (name, v) in all {
                if v == Some(0) {
                    self.report(
                        Code::ImpossibleValue,
                        &cp.clone().key("orders").key("limits").key(name),
                        format!("a limit of 0 {name} forbids every order"),
                        None,
                    );
                }
            }
        }
        for (id, plan) in &c.plan {
            let pp = cp.clone().key("plan").key(id);
            let period = plan.period.span().map(|s| s.approx_hours());
            let notice = plan.cancel_notice.as_ref().and_then(Period::span);
            if let (Some(period), Some(notice)) = (period, notice)
                && notice.approx_hours() >= period
            {
                self.report(
                    Code::InconsistentTerms,
                    &pp.clone().key("cancel_notice"),
                    format!("plan `{id}`: a cancellation notice of {notice} is not shorter than its billing period"),
                    None,
                );
            }
            let term = plan.initial_term.as_ref().and_then(Period::span);
            let term_notice = plan
                .cancel_notice_initial_term
                .as_ref()
                .and_then(Period::span);
            if let (Some(term), Some(n)) = (term, term_notice)
                && n.approx_hours() >= term.approx_hours()
            {
                self.report(
                    Code::InconsistentTerms,
                    &pp.clone().key("cancel_notice_initial_term"),
                    format!(
                        "plan `{id}`: a notice of {n} does not fit in an initial term of {term}"
                    ),
                    None,
                );
            }
            if let (Some(term), Some(period)) = (term, period)
                && term.approx_hours() < period
            {
                self.report(
                    Code::InconsistentTerms,
                    &pp.key("initial_term"),
                    format!(
                        "plan `{id}`: the initial term {term} is shorter than one billing period"
                    ),
                    None,
                );
            }
        }
    }
}

fn is_jurisdiction_code(code: &str) -> bool {
    let (country, sub) = code
        .split_once('-')
        .map_or((code, None), |(c, s)| (c, Some(s)));
    let country_ok =
        (country.len() == 2 || country == "EEA") && country.chars().all(|c| c.is_ascii_uppercase());
    let sub_ok = sub.is_none_or(|s| {
        (1..=3).contains(&s.len())
            && s.chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
    });
    country_ok && sub_ok
}

fn is_currency(c: &str) -> bool {
    c.len() == 3 && c.chars().all(|c| c.is_ascii_uppercase())
}

fn is_amount(a: &str) -> bool {
    let (whole, frac) = a.split_once('.').map_or((a, None), |(w, f)| (w, Some(f)));
    !whole.is_empty()
        && whole.chars().all(|c| c.is_ascii_digit())
        && frac.is_none_or(|f| (1..=2).contains(&f.len()) && f.chars().all(|c| c.is_ascii_digit()))
}

/// `YYYY-MM-DD` naming a day that exists.
pub(crate) fn is_iso_date(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    let [y, m, d] = parts.as_slice() else {
        return false;
    };
    if y.len() != 4 || m.len() != 2 || d.len() != 2 {
        return false;
    }
    let (Ok(y), Ok(m), Ok(d)) = (y.parse::<u32>(), m.parse::<u32>(), d.parse::<u32>()) else {
        return false;
    };
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1900..=2999).contains(&y) && (1..=days).contains(&d)
}

/// The declared name closest to a misspelt one, when it is close enough to be a typo.
fn closest<'a>(wanted: &str, names: impl Iterator<Item = &'a String>) -> Option<&'a String> {
    let mut seen = HashSet::new();
    names
        .filter(|n| seen.insert(n.as_str()))
        .map(|n| (edit_distance(wanted, n), n))
        .filter(|(d, n)| *d <= 2.max(n.len() / 5))
        .min_by_key(|(d, _)| *d)
        .map(|(_, n)| n)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev.get(j).copied().unwrap_or(0) + usize::from(ca != *cb);
            let del = prev.get(j + 1).copied().unwrap_or(0) + 1;
            let ins = cur.get(j).copied().unwrap_or(0) + 1;
            cur.push(sub.min(del).min(ins));
        }
        prev = cur;
    }
    prev.last().copied().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert!(is_iso_date("2024-02-29"));
        assert!(!is_iso_date("2023-02-29"));
        assert!(!is_iso_date("2023-13-01"));
        assert!(!is_iso_date("23-01-01"));
    }

    #[test]
    fn closest_finds_typos_only() {
        let names = [
            "user.contact.email".to_owned(),
            "user.contact.phone".to_owned(),
        ];
        assert_eq!(closest("user.contact.mail", names.iter()), Some(&names[0]));
        assert_eq!(closest("device.telemetry", names.iter()), None);
    }

    #[test]
    fn jurisdiction_codes() {
        assert!(is_jurisdiction_code("FR"));
        assert!(is_jurisdiction_code("US-CA"));
        assert!(is_jurisdiction_code("EEA"));
        assert!(!is_jurisdiction_code("France"));
        assert!(!is_jurisdiction_code("fr"));
    }
}
