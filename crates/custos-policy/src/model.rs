//! The policy file, as written by a policy author (TOML, `deny_unknown_fields`).
//!
//! Field names here *are* the file format: renaming one breaks every policy.
//! Validation rules live in `validate.rs`; nothing here checks cross-references.

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::period::{Period, Retention};

/// A whole policy file.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// What this document is and which version of it.
    pub policy: Meta,
    /// Who decides why and how personal data is processed.
    pub controller: Controller,
    /// Present when the company also processes data for its customers (as processor/operator).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub processor: Option<ProcessorMode>,
    /// Per-jurisdiction rules, keyed by code (`FR`, `DE`, `BE`, `CH`, `UK`, `US`, `US-CA`, `BR`, `EU`).
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub jurisdiction: IndexMap<String, Jurisdiction>,
    /// The rights people have and how fast they are answered.
    pub rights: Rights,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub breach: Option<Breach>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub changes: Option<Changes>,
    /// Technical and organisational measures (stated in the notice and the RoPA).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub security: Vec<String>,
    /// Kinds of personal data, named with dotted fideslang-style names (`user.contact.email`).
    #[serde(default)]
    pub category: IndexMap<String, Category>,
    /// Reasons to process, each with its lawful basis.
    #[serde(default)]
    pub purpose: IndexMap<String, Purpose>,
    /// Who may read: internal roles and third parties.
    #[serde(default)]
    pub recipient: IndexMap<String, Recipient>,
    /// Consumer contract terms (terms of sale).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contract: Option<Contract>,
    /// The policy promises personal data is never sold (L-5): `policy check` then
    /// refuses any recipient of kind `sale` (POL-0100), and the notice says it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub never_sold: bool,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Meta {
    /// Stable identifier of the policy (a slug).
    pub id: String,
    pub title: String,
    /// Version label of this policy text.
    pub version: String,
    /// Date this version takes effect, `YYYY-MM-DD`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effective: Option<String>,
    #[serde(default = "default_language")]
    pub language: String,
    /// Where the human text came from (a file name or URL), for traceability.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// What kind of document this is.
    #[serde(default)]
    pub kind: DocumentKind,
}

fn default_language() -> String {
    "en".to_owned()
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DocumentKind {
    #[default]
    PrivacyPolicy,
    TermsOfSale,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Controller {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub legal_form: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registration: Option<String>,
    pub address: String,
    /// ISO country code of the establishment.
    pub country: String,
    /// The legal area the controller sits in (`EEA`, `UK`, `CH`, `US`, `BR`); third parties
    /// outside it need a transfer mechanism.
    pub region: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub website: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dpo: Option<Dpo>,
    /// Where people can complain (`CNIL`, `ICO`, `ANPD`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supervisory_authority: Option<Authority>,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Dpo {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postal: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Authority {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// The company's role when it processes data on a customer's behalf (S-1, V-3, L-1, L-8).
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProcessorMode {
    /// The services in which the company is a processor.
    pub services: Vec<String>,
    /// Processing happens only on the customer's documented instructions.
    #[serde(default = "yes")]
    pub written_instructions_only: bool,
    /// A data processing agreement is signed with each customer.
    #[serde(default)]
    pub dpa_required: bool,
    /// Topics the DPA covers (security, sub-processing, audit, breach).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dpa_covers: Vec<String>,
    /// Requests from people about customer data go to the customer (the controller).
    #[serde(default = "yes")]
    pub route_requests_to_controller: bool,
    /// The customer, as controller, answers for consent and notices.
    #[serde(default = "yes")]
    pub controller_answers_for_consent: bool,
    /// The purposes run on the customers' documented instructions (customer-
    /// directed). Records collected for one serve only that purpose and its
    /// recipients, never the company's own purposes (R&D, statistics, marketing…),
    /// whatever the category; disclosures a legal obligation requires stay possible
    /// and audited (S-1, V-3, L-1, issue 13.11). Age gates do not apply to them:
    /// the customer, as controller, answers for its people (issue 13.12).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub purposes: Vec<String>,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Jurisdiction {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The data-protection law that applies (`GDPR`, `UK GDPR`, `LGPD`, `FADP`, `COPPA`, `CCPA`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub law: Vec<String>,
    /// Below this age, data is not collected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_age: Option<u32>,
    /// Overrides `rights.deadline` for people in this jurisdiction.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rights_deadline: Option<Period>,
    /// Overrides `rights.extension`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rights_extension: Option<Period>,
    /// Deadline to tell the supervisory authority about a breach, from awareness.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub breach_authority_deadline: Option<Period>,
    /// Overrides `changes.notice` for people here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub change_notice: Option<Period>,
    /// Public-holiday calendar used for business days (`BE`, `DE`, `CH`, `UK`, `FR`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub holidays: Option<String>,
    /// Consumer-law rules for contracts with people in this jurisdiction.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consumer: Option<ConsumerLaw>,
}

/// Consumer law of one jurisdiction (terms of sale).
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ConsumerLaw {
    /// Statutory withdrawal period (overrides `contract.withdrawal.period`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub withdrawal: Option<Period>,
    /// Notice before a change of terms, price or features takes effect.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub change_notice: Option<Period>,
    /// The change applies only once the consumer accepts it (silence is not consent).
    #[serde(default)]
    pub change_requires_acceptance: bool,
    /// Silence counts as acceptance only for changes the law mandates.
    #[serde(default)]
    pub silence_accepts_only_mandated_changes: bool,
    /// The consumer may cancel within the notice period of a price change.
    #[serde(default)]
    pub cancel_on_price_change: bool,
    /// Legal guarantee of conformity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub legal_guarantee: Option<Period>,
    /// The consumer must report a defect within this time of noticing it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub defect_notice: Option<Period>,
    /// Claims are time-barred this long after the defect was noticed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub defect_time_bar: Option<Period>,
    /// Faulty goods: short-term right to reject for a refund.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub faulty_refund: Option<Period>,
    /// Faulty goods: repair or replacement window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repair_or_replace: Option<Period>,
    /// Faulty goods: longest time a remedy can be claimed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remedy_limit: Option<Period>,
}

/// The rights a person may use.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize, Serialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Right {
    Access,
    Rectification,
    Erasure,
    Portability,
    Restriction,
    Objection,
    ConsentWithdrawal,
}

impl Right {
    pub const ALL: [Right; 7] = [
        Right::Access,
        Right::Rectification,
        Right::Erasure,
        Right::Portability,
        Right::Restriction,
        Right::Objection,
        Right::ConsentWithdrawal,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Right::Access => "access",
            Right::Rectification => "rectification",
            Right::Erasure => "erasure",
            Right::Portability => "portability",
            Right::Restriction => "restriction",
            Right::Objection => "objection",
            Right::ConsentWithdrawal => "consent_withdrawal",
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Rights {
    /// Answer every request within this time (e.g. `"15d"`, `"1mo"`, `"45d"`).
    pub deadline: Period,
    /// Extra time when a request needs it; the person is told before the deadline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extension: Option<Period>,
    /// The person is informed when more time is needed (P0-18).
    #[serde(default = "yes")]
    pub extension_notice: bool,
    /// The rights offered.
    pub available: Vec<Right>,
    /// Rights a person can use alone in the privacy center ("My Account").
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub self_service: Vec<Right>,
    /// How to reach the controller about rights (email, postal address, web form).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub contact: Vec<String>,
    /// Requests are answered "to the extent possible" within the deadline (wording only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Closing the account — in the app, over the API (`account_closure` event) or
    /// in the privacy center — erases the person, keeping only what the law
    /// requires (P0-9, P0-17). Without it, closing starts the retention clocks of
    /// the categories kept `after account_closure`.
    #[serde(default)]
    pub account_closure_erases: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Urgency {
    Immediately,
    Promptly,
    WithoutUndueDelay,
}

impl Urgency {
    pub fn phrase(self) -> &'static str {
        match self {
            Urgency::Immediately => "immediately",
            Urgency::Promptly => "promptly",
            Urgency::WithoutUndueDelay => "without undue delay",
        }
    }
}

/// Ways to reach a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Email,
    Fax,
    Post,
    InApp,
    SiteNotice,
}

impl Channel {
    pub fn phrase(self) -> &'static str {
        match self {
            Channel::Email => "email",
            Channel::Fax => "fax",
            Channel::Post => "postal mail",
            Channel::InApp => "a message in the app",
            Channel::SiteNotice => "a notice on our website",
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Breach {
    /// Deadline to tell the supervisory authority, from awareness (GDPR: 72h).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notify_authority: Option<Period>,
    /// How fast affected people are told.
    pub notify_people: Urgency,
    /// Channels, in order of preference: the next is used when the previous fails.
    pub channels: Vec<Channel>,
    /// People's notices may be delayed while law enforcement requires it.
    #[serde(default)]
    pub law_enforcement_delay: bool,
    /// Notices go out only where applicable law requires notification.
    #[serde(default)]
    pub only_where_law_requires: bool,
    /// The controller also takes measures to limit the consequences.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub measures: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Changes {
    /// Notice given before a change takes effect (default 30 days).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notice: Option<Period>,
    pub channels: Vec<Channel>,
    /// Using data differently from what was said at collection needs the person's choice.
    #[serde(default)]
    pub reconsent_for_new_use: bool,
    /// Every version states its effective date (S-7).
    #[serde(default = "yes")]
    pub effective_date_posted: bool,
    /// Only material changes are notified individually; others are posted.
    #[serde(default)]
    pub notify_material_only: bool,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Sensitivity {
    #[default]
    Normal,
    /// GDPR Art. 9 special category (health, biometrics, …).
    Special,
    /// Payment data: card numbers and CVVs are never stored.
    Payment,
}

/// The shape a value must have before the vault stores it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Shape {
    #[default]
    Text,
    Email,
    Phone,
    Date,
    PostalAddress,
    Number,
    Boolean,
    Coordinates,
    /// An opaque reference from another system (payment processor token, device id).
    Token,
    Json,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum OnExpiry {
    #[default]
    Delete,
    /// Fold into anonymous aggregates, then delete.
    Anonymise,
    /// Keep out of every purpose's reach until deletion becomes possible (L-6).
    Isolate,
}

/// Where data comes from (V-1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    DataSubject,
    Device,
    Cookies,
    Customer,
    ThirdParty,
    PublicSources,
    Offline,
    Partner,
}

impl Source {
    pub fn phrase(self) -> &'static str {
        match self {
            Source::DataSubject => "you",
            Source::Device => "your devices",
            Source::Cookies => "cookies and similar technology",
            Source::Customer => "our customers",
            Source::ThirdParty => "third parties",
            Source::PublicSources => "public sources",
            Source::Offline => "offline interactions",
            Source::Partner => "partners",
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Category {
    pub description: String,
    #[serde(default)]
    pub sensitivity: Sensitivity,
    #[serde(default)]
    pub shape: Shape,
    /// How long it is kept, and from which event: `"3y after last_activity"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retention: Option<Retention>,
    #[serde(default)]
    pub on_expiry: OnExpiry,
    /// Refused at collection, never stored (CVV, full card number).
    #[serde(default)]
    pub never_store: bool,
    /// Who keeps it instead when custos never stores it (a recipient id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub held_by: Option<String>,
    /// Stored with no link to a person (anonymous surveys, anonymous telemetry).
    #[serde(default)]
    pub anonymous: bool,
    /// The person can switch its collection off; ingest stops after opt-out.
    #[serde(default)]
    pub opt_out: bool,
    /// Collected only when this setting or permission is on (e.g. `gps_enabled`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requires_setting: Option<String>,
    /// Looked up by blind index (email, phone).
    #[serde(default)]
    pub lookup: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sources: Vec<Source>,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize, Serialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Basis {
    Consent,
    Contract,
    LegalObligation,
    LegitimateInterest,
    VitalInterest,
    PublicInterest,
}

impl Basis {
    pub const ALL: [Basis; 6] = [
        Basis::Consent,
        Basis::Contract,
        Basis::LegalObligation,
        Basis::LegitimateInterest,
        Basis::VitalInterest,
        Basis::PublicInterest,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Basis::Consent => "consent",
            Basis::Contract => "contract",
            Basis::LegalObligation => "legal_obligation",
            Basis::LegitimateInterest => "legitimate_interest",
            Basis::VitalInterest => "vital_interest",
            Basis::PublicInterest => "public_interest",
        }
    }

    /// GDPR Art. 6(1) wording.
    pub fn phrase(self) -> &'static str {
        match self {
            Basis::Consent => "your consent (GDPR Art. 6(1)(a))",
            Basis::Contract => "the performance of a contract with you (Art. 6(1)(b))",
            Basis::LegalObligation => "a legal obligation we must comply with (Art. 6(1)(c))",
            Basis::LegitimateInterest => "our legitimate interests (Art. 6(1)(f))",
            Basis::VitalInterest => "the protection of vital interests (Art. 6(1)(d))",
            Basis::PublicInterest => "a task in the public interest (Art. 6(1)(e))",
        }
    }

    /// GDPR Art. 21: a person may object to processing on these bases.
    pub fn objectable(self) -> bool {
        matches!(self, Basis::LegitimateInterest | Basis::PublicInterest)
    }
}

/// GDPR Art. 9(2) conditions for special-category data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Art9Condition {
    ExplicitConsent,
    Employment,
    VitalInterest,
    LegalClaims,
    PublicHealth,
    HealthCare,
    /// Processing as processor on the instructions of a controller who holds the condition.
    ControllerInstruction,
}

impl Art9Condition {
    pub fn phrase(self) -> &'static str {
        match self {
            Art9Condition::ExplicitConsent => "your explicit consent (Art. 9(2)(a))",
            Art9Condition::Employment => "employment and social security law (Art. 9(2)(b))",
            Art9Condition::VitalInterest => "vital interests (Art. 9(2)(c))",
            Art9Condition::LegalClaims => "legal claims (Art. 9(2)(f))",
            Art9Condition::PublicHealth => "public health (Art. 9(2)(i))",
            Art9Condition::HealthCare => "health or social care (Art. 9(2)(h))",
            Art9Condition::ControllerInstruction => {
                "the instructions of our customer, who holds the Art. 9(2) condition"
            }
        }
    }
}

/// How a person withdraws consent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum WithdrawPath {
    PrivacyCenter,
    UnsubscribeLink,
    AppSetting,
    DeviceSetting,
    Email,
    Post,
}

impl WithdrawPath {
    pub fn phrase(self) -> &'static str {
        match self {
            WithdrawPath::PrivacyCenter => "in My Account (the privacy center)",
            WithdrawPath::UnsubscribeLink => "with the unsubscribe link in every message",
            WithdrawPath::AppSetting => "by switching the feature off in the app",
            WithdrawPath::DeviceSetting => "in your device settings",
            WithdrawPath::Email => "by email to us",
            WithdrawPath::Post => "by post to us",
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Purpose {
    pub description: String,
    pub basis: Basis,
    /// Category names or patterns (`user.contact.*`, `*`).
    pub categories: Vec<String>,
    /// Recipient ids that may read for this purpose.
    pub recipients: Vec<String>,
    /// Categories of data subjects (for the RoPA): customers, prospects, employees…
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub subjects: Vec<String>,
    /// False when the purpose only passes data through (e.g. to a payment processor).
    #[serde(default = "yes")]
    pub stores: bool,
    /// How consent is withdrawn (required for consent purposes).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub withdraw: Vec<WithdrawPath>,
    /// Art. 9 condition, required when a special category is used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub art9_condition: Option<Art9Condition>,
    /// The interest pursued, required for legitimate-interest purposes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub legitimate_interest: Option<String>,
    /// The law that imposes a legal obligation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub legal_reference: Option<String>,
    /// A device or account setting the whole purpose depends on (P0-16: the
    /// purposes tied to the app stop when the person disconnects it). While the
    /// setting is off (or never switched on) the purpose neither reads nor collects
    /// (issue 13.10); the setting is recorded subject state, like
    /// `requires_setting` on a category.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requires_setting: Option<String>,
    /// Override: whether an objection stops this purpose (default: legitimate or public interest).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub objectable: Option<bool>,
    /// May still read restricted data (storage, legal claims) (P0-16, L-6).
    #[serde(default)]
    pub during_restriction: bool,
    /// Only anonymised data may be used (L-4, P0-5 statistics).
    #[serde(default)]
    pub anonymised_only: bool,
    /// The person can refuse before processing starts (call recording, L-11).
    #[serde(default)]
    pub prior_notice: bool,
}

impl Category {
    /// Whether this category (named `name`) holds a birth date: the age gates read it.
    pub fn is_birth_date(&self, name: &str) -> bool {
        self.shape == Shape::Date && name.ends_with("date_of_birth")
    }

    /// Whether it holds an age attestation, the person's yes/no "I am at least N"
    /// that lets an age gate fire without a date of birth (issue 13.12).
    pub fn is_age_attestation(&self, name: &str) -> bool {
        self.shape == Shape::Boolean && name.ends_with("age_attestation")
    }
}

impl Policy {
    /// Whether `purpose` is run on a customer's instructions (processor mode).
    pub fn customer_directed(&self, purpose: &str) -> bool {
        self.processor
            .as_ref()
            .is_some_and(|p| p.purposes.iter().any(|x| x == purpose))
    }

    /// Whether a record collected for `collected_for` may serve `purpose` (issue
    /// 13.11): customer-directed data serves only its own purpose, or a
    /// disclosure a legal obligation requires.
    pub fn may_serve(&self, collected_for: &str, purpose: &str) -> bool {
        collected_for == purpose
            || !self.customer_directed(collected_for)
            || self
                .purpose
                .get(purpose)
                .is_some_and(|p| p.basis == Basis::LegalObligation)
    }
}

impl Purpose {
    /// Whether the person's own decision in the consent ledger gates this purpose,
    /// whoever receives it: its basis is consent, explicit consent under Art. 9,
    /// or a prior notice the person may refuse (L-11: the notice given is recorded
    /// as a grant, the refusal as a withdrawal). Recipients that require consent
    /// add to this per recipient.
    pub fn rests_on_the_persons_decision(&self) -> bool {
        self.basis == Basis::Consent
            || self.prior_notice
            || self.art9_condition == Some(Art9Condition::ExplicitConsent)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RecipientKind {
    /// A team or role inside the controller.
    Internal,
    /// A service provider acting on the controller's behalf.
    Processor,
    /// Another controller (payment agency, platform).
    Controller,
    /// A partner that receives data for its own use; only with consent.
    Partner,
    /// An authority receiving data under a legal obligation.
    Authority,
    /// A buyer: personal data is sold to it. Refused when `never_sold = true`.
    Sale,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TransferMechanism {
    Adequacy,
    Scc,
    Bcr,
    /// A data transfer agreement other than SCCs.
    TransferAgreement,
}

impl TransferMechanism {
    pub fn phrase(self) -> &'static str {
        match self {
            TransferMechanism::Adequacy => "an adequacy decision",
            TransferMechanism::Scc => "standard contractual clauses",
            TransferMechanism::Bcr => "binding corporate rules",
            TransferMechanism::TransferAgreement => "a data transfer agreement",
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Recipient {
    pub name: String,
    pub kind: RecipientKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Region where the recipient processes data; defaults to the controller's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Required when `region` differs from the controller's region.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transfer: Option<TransferMechanism>,
    /// Data reaches this recipient only with the person's consent (partners, L-5, V-2).
    #[serde(default)]
    pub requires_consent: bool,
    /// Bound by a confidentiality agreement.
    #[serde(default)]
    pub confidentiality: bool,
    /// May send retention (lifecycle) events — `last_activity`, `account_closure`,
    /// `contract_end`, … — that start or restart retention clocks (issue 17.2).
    /// Only roles with this set (and admin keys) may; default: none.
    #[serde(default)]
    pub sends_lifecycle_events: bool,
    /// May record a consent *grant* on the person's behalf: the controller's own
    /// sign-up or marketing service relaying the person's tick on its form (V-2,
    /// L-5, issue 13.2). Only `internal` recipients may (POL-0101): a recipient
    /// that benefits from a consent can never grant it to itself. Withdrawals and
    /// objections may be recorded by any key; grants otherwise come only from the
    /// person (privacy center, signed links) and admin keys. Default: false.
    #[serde(default)]
    pub records_consent: bool,
}

impl Recipient {
    pub fn is_third_party(&self) -> bool {
        self.kind != RecipientKind::Internal
    }
}

/// Consumer contract terms (terms of sale).
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Contract {
    /// Currencies prices are given in.
    pub currencies: Vec<String>,
    /// Where the contract forms (`order_confirmation`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub orders: Option<Orders>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub returns: Option<Returns>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub withdrawal: Option<Withdrawal>,
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub plan: IndexMap<String, Plan>,
    /// Notice before changed terms apply (T-17).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub terms_change_notice: Option<Period>,
    /// Disputes use the terms in force when they arose (T-17).
    #[serde(default)]
    pub disputes_use_version_in_force: bool,
    /// When title and risk pass to the buyer (T-16).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title_and_risk_pass_at: Option<TransferPoint>,
    /// Accounts: credentials required, the owner keeps them accurate (T-2).
    #[serde(default)]
    pub account_required_for_membership: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TransferPoint {
    Delivery,
    Payment,
    Dispatch,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Orders {
    /// The contract forms at the order confirmation, not at the order (T-6).
    #[serde(default = "yes")]
    pub contract_at_confirmation: bool,
    /// An order confirmation states an estimated delivery date.
    #[serde(default)]
    pub confirmation_states_delivery_estimate: bool,
    /// Prices are fixed at confirmation; a change before it needs re-confirmation (T-3).
    #[serde(default = "yes")]
    pub price_fixed_at_confirmation: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limits: Option<QuantityLimits>,
    /// Orders that look like resale are refused (T-7).
    #[serde(default)]
    pub refuse_dealers: bool,
    /// Unavailable products: the order is withdrawn and refunded at once (T-8).
    #[serde(default)]
    pub refund_unavailable_immediately: bool,
    /// An invalid payment method ends the order or membership (T-9).
    #[serde(default)]
    pub invalid_payment_terminates: bool,
    /// Where products are sold (`store`, `app_platform`) (T-5).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sold_via: Option<BilledBy>,
}

/// Maximum units of one product per key (T-7).
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct QuantityLimits {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub per_person: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub per_email: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub per_household: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub per_card: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub per_address: Option<u32>,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Returns {
    /// Notice window counted from the delivery confirmation (T-15).
    pub notice_after_delivery_confirmation: Period,
    /// Notice window counted from possession; the later of the two ends applies.
    pub notice_after_possession: Period,
    /// A return authorisation (RMA) is issued before shipping.
    #[serde(default)]
    pub rma_required: bool,
    /// Goods must be shipped within this time of the notice.
    pub ship_within: Period,
    /// The refund is paid within this time of receipt.
    pub refund_within: Period,
    #[serde(default)]
    pub refund_includes_original_shipping: bool,
    /// A partial return of a bundle loses the bundle discount.
    #[serde(default)]
    pub deduct_lost_bundle_discount: bool,
    /// Deterioration is deducted, never more than the price.
    #[serde(default)]
    pub deduct_deterioration: bool,
    /// Returning forfeits any promotional membership period.
    #[serde(default)]
    pub promotional_period_forfeited: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum WithdrawalStart {
    PossessionOfLastItem,
    ContractDate,
    Delivery,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Withdrawal {
    /// Statutory withdrawal period (T-18).
    pub period: Period,
    pub goods_from: WithdrawalStart,
    pub membership_from: WithdrawalStart,
    /// Refund within this time of the withdrawal notice.
    pub refund_within: Period,
    /// Refund may wait until the goods, or proof of dispatch, arrive.
    #[serde(default)]
    pub refund_may_wait_for_goods: bool,
    /// Refund uses the same means of payment.
    #[serde(default)]
    pub same_means_of_payment: bool,
    /// Goods go back within this time of the notice.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub return_within: Option<Period>,
    /// Most a return can cost the consumer, per currency: `["20 EUR", "20 GBP"]`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub max_return_cost: Vec<String>,
    /// The standard withdrawal form is accepted.
    #[serde(default)]
    pub standard_form: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum BilledBy {
    Store,
    AppPlatform,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AfterEnd {
    /// Reduced features remain (firmware updates continue) (T-14).
    BasicMode,
    Nothing,
}

/// A membership plan (T-10 … T-14).
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Plan {
    pub name: String,
    pub billed_by: BilledBy,
    /// Length of one billing period.
    pub period: Period,
    #[serde(default = "yes")]
    pub auto_renew: bool,
    /// Initial fixed term before month-to-month (WorkPass: 12 months).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub initial_term: Option<Period>,
    /// Free first period for first-time customers, counted from activation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub free_trial: Option<Period>,
    /// Renewal charges are taken up to this long before a period starts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub charge_before: Option<Period>,
    /// Cancellation notice before the initial term ends.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancel_notice_initial_term: Option<Period>,
    /// Cancellation notice before the next period.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancel_notice: Option<Period>,
    /// Cancellation takes effect at the end of the current period.
    #[serde(default = "yes")]
    pub cancel_at_period_end: bool,
    /// Whether the current period is refunded on cancellation.
    #[serde(default)]
    pub refund_current_period: bool,
    /// Time to fix a failed payment before termination.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grace: Option<Period>,
    pub after_end: AfterEnd,
    /// A terminated membership can be reactivated.
    #[serde(default)]
    pub reactivation: bool,
    #[serde(default)]
    pub transferable: bool,
    /// Notice before a price or feature change (T-4).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub change_notice: Option<Period>,
    /// Once the initial term has ended, either the customer or the seller may end the
    /// membership with this much prior notice (WorkPass: one month, T-11).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub termination_notice: Option<Period>,
    /// `after_end` applies only to a membership that was activated at least once; a
    /// never-activated membership ends with nothing (HomePass Basic Mode, T-14).
    #[serde(default)]
    pub after_end_requires_activation: bool,
}
