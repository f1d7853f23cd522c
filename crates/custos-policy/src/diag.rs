//! Diagnostics: what a policy author got wrong, with a stable code, where, and a hint.
//!
//! Codes are part of the product: tools and people search for them, so a code
//! never changes meaning. Add new ones at the end of [`Code`].

use std::fmt;

use serde::Serialize;

/// Stable diagnostic codes (`POL-0001` …).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum Code {
    /// The file is not valid TOML.
    Syntax,
    /// A field is unknown, missing or of the wrong type.
    Shape,
    /// A purpose names a category (or a pattern) that matches no declared category.
    UnknownCategory,
    /// A consent purpose gives no way to withdraw consent.
    ConsentWithoutWithdrawal,
    /// Special-category data is used without an Art. 9 condition.
    SpecialWithoutArt9,
    /// A third party outside the controller's region has no transfer mechanism.
    TransferWithoutMechanism,
    /// A stored category has no retention.
    MissingRetention,
    /// A storing purpose names a `never_store` category.
    NeverStoreStored,
    /// The same id or entry appears twice.
    Duplicate,
    /// A duration is malformed, zero or absurdly long.
    ImpossibleDuration,
    /// A purpose names an undeclared recipient.
    UnknownRecipient,
    /// A legitimate-interest purpose does not say which interest.
    InterestNotStated,
    /// A category name is not a dotted lowercase name.
    BadName,
    /// A number or code that cannot be right (age, country, currency, date).
    ImpossibleValue,
    /// A partner that needs consent receives data for a purpose not based on consent.
    PartnerWithoutConsent,
    /// A category is declared but no purpose uses it.
    UnusedCategory,
    /// A recipient is declared but no purpose names it.
    UnusedRecipient,
    /// A self-service right is not among the available rights.
    UnavailableRight,
    /// A reference to another part of the file (held_by, …) points nowhere.
    DanglingReference,
    /// Contract terms contradict each other.
    InconsistentTerms,
    /// A transfer mechanism is claimed where none is needed, or adequacy where none exists.
    DoubtfulTransfer,
    /// The policy says personal data is never sold, and a recipient is a buyer (L-5).
    SoldDespiteNeverSold,
    /// `records_consent` on a recipient that is not the controller's own service.
    ThirdPartyRecordsConsent,
    /// A jurisdiction sets `min_age` but nothing the policy collects says an age.
    AgeGateWithoutInput,
}

impl Code {
    pub fn as_str(self) -> &'static str {
        match self {
            Code::Syntax => "POL-0001",
            Code::Shape => "POL-0002",
            Code::UnknownCategory => "POL-0003",
            Code::ConsentWithoutWithdrawal => "POL-0004",
            Code::SpecialWithoutArt9 => "POL-0005",
            Code::TransferWithoutMechanism => "POL-0006",
            Code::MissingRetention => "POL-0007",
            Code::NeverStoreStored => "POL-0008",
            Code::Duplicate => "POL-0009",
            Code::ImpossibleDuration => "POL-0010",
            Code::UnknownRecipient => "POL-0011",
            Code::InterestNotStated => "POL-0012",
            Code::BadName => "POL-0013",
            Code::ImpossibleValue => "POL-0014",
            Code::PartnerWithoutConsent => "POL-0015",
            Code::UnusedCategory => "POL-0016",
            Code::UnusedRecipient => "POL-0017",
            Code::UnavailableRight => "POL-0018",
            Code::DanglingReference => "POL-0019",
            Code::InconsistentTerms => "POL-0020",
            Code::DoubtfulTransfer => "POL-0021",
            Code::SoldDespiteNeverSold => "POL-0100",
            Code::ThirdPartyRecordsConsent => "POL-0101",
            Code::AgeGateWithoutInput => "POL-0102",
        }
    }

    /// Warnings describe a policy that works but is probably not what was meant.
    pub fn severity(self) -> Severity {
        match self {
            Code::UnusedCategory | Code::UnusedRecipient | Code::DoubtfulTransfer => {
                Severity::Warning
            }
            _ => Severity::Error,
        }
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

/// A 1-based position in the policy file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Position {
    pub line: usize,
    pub column: usize,
}

/// One finding about a policy file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    #[serde(serialize_with = "code_str")]
    pub code: Code,
    pub severity: Severity,
    pub message: String,
    pub hint: Option<String>,
    pub file: String,
    pub position: Option<Position>,
    /// Dotted path of the offending item (`purpose.marketing.categories[2]`).
    pub path: String,
}

fn code_str<S: serde::Serializer>(c: &Code, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(c.as_str())
}

impl Diagnostic {
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sev = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        writeln!(f, "{sev}[{}]: {}", self.code, self.message)?;
        match self.position {
            Some(p) => write!(f, "  --> {}:{}:{}", self.file, p.line, p.column)?,
            None => write!(f, "  --> {}", self.file)?,
        }
        if !self.path.is_empty() {
            write!(f, " ({})", self.path)?;
        }
        if let Some(h) = &self.hint {
            write!(f, "\n   = hint: {h}")?;
        }
        Ok(())
    }
}

/// All findings for one file; the policy is usable only when none is an error.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Report {
    pub diagnostics: Vec<Diagnostic>,
}

impl Report {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }

    pub fn errors(&self) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics.iter().filter(|d| d.is_error())
    }

    pub fn warnings(&self) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics.iter().filter(|d| !d.is_error())
    }

    pub fn codes(&self) -> Vec<Code> {
        self.diagnostics.iter().map(|d| d.code).collect()
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for d in &self.diagnostics {
            writeln!(f, "{d}")?;
        }
        Ok(())
    }
}
