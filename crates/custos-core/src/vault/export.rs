//! The person's own copy of their data (access, P0-14; portability, P0-15): every
//! record held, decrypted, with its category, the purpose it was collected for, its
//! source, when it was collected, when it goes, and why it is held — as JSON and CSV.
//! Not purpose-bound: it is the subject's right, exercised through a request.

use custos_policy::names::pattern_matches;
use custos_store::{Outcome, Store, SubjectId, SubjectState, Timestamp};
use serde::Serialize;
use serde_json::Value;

use super::{Actor, RequestCtx, Vault};
use crate::error::VaultError;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExportedRecord {
    pub record: custos_store::RecordId,
    pub category: String,
    pub category_description: String,
    pub value: Value,
    pub collected_for: String,
    pub purpose_description: String,
    pub lawful_basis: String,
    /// Every purpose that may use this category today, for the person to see why it is held.
    pub used_for: Vec<String>,
    pub source: String,
    pub collected_at: Timestamp,
    pub expires_at: Option<Timestamp>,
    pub retention: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Export {
    pub subject: SubjectId,
    pub controller: String,
    pub policy_version: u32,
    pub generated_at: Timestamp,
    pub records: Vec<ExportedRecord>,
}

impl Export {
    /// RFC 4180 CSV, one row per record; values that are not strings are JSON text.
    pub fn to_csv(&self) -> String {
        let header = [
            "record",
            "category",
            "category_description",
            "value",
            "collected_for",
            "purpose_description",
            "lawful_basis",
            "used_for",
            "source",
            "collected_at",
            "expires_at",
            "retention",
        ];
        let mut out = header.join(",");
        out.push_str("\r\n");
        for r in &self.records {
            let value = match &r.value {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            let cells = [
                r.record.to_string(),
                r.category.clone(),
                r.category_description.clone(),
                value,
                r.collected_for.clone(),
                r.purpose_description.clone(),
                r.lawful_basis.clone(),
                r.used_for.join("; "),
                r.source.clone(),
                r.collected_at.to_string(),
                r.expires_at.map(|t| t.to_string()).unwrap_or_default(),
                r.retention.clone().unwrap_or_default(),
            ];
            let row: Vec<String> = cells.iter().map(|c| csv_cell(c)).collect();
            out.push_str(&row.join(","));
            out.push_str("\r\n");
        }
        out
    }
}

/// One CSV cell. A cell that a spreadsheet would read as a formula (it starts with
/// `=`, `+`, `-`, `@`, tab or CR) gets a leading apostrophe: a person's export opened
/// in a spreadsheet must never run a value someone else typed in (issue 17 point 11).
/// The apostrophe is the OWASP-recommended neutraliser; spreadsheets hide it.
fn csv_cell(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_owned()
    };
    if s.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

impl<S: Store> Vault<S> {
    /// Everything held about a subject, for the subject. Needs an admin key: staff
    /// run it to fulfil an access or portability request.
    pub fn export(
        &self,
        actor: &Actor,
        subject: SubjectId,
        ctx: &RequestCtx,
    ) -> Result<Export, VaultError> {
        if !actor.admin {
            let e = VaultError::PurposeNotPermitted {
                role: actor.role.clone(),
                purpose: "access export".into(),
            };
            return Err(self.deny(actor, ctx, "export", None, Some(subject), e));
        }
        let active = self.policy(&actor.tenant)?;
        let policy = &active.policy;
        match self.store.subject(&actor.tenant, subject)? {
            None => {
                return Err(self.deny(
                    actor,
                    ctx,
                    "export",
                    None,
                    Some(subject),
                    VaultError::SubjectNotFound,
                ));
            }
            Some(s) if s.state == SubjectState::Erased => {
                return Err(self.deny(
                    actor,
                    ctx,
                    "export",
                    None,
                    Some(subject),
                    VaultError::SubjectErased,
                ));
            }
            Some(_) => {}
        }
        let mut audit = self.audit(actor, ctx, "export");
        audit.subject = Some(subject);
        audit.outcome = Outcome::Allow;
        audit.reason = "access/portability export".into();
        let (row, records) = self
            .store
            .read_subject(&actor.tenant, subject, &[], &audit)?;
        let dek = if records.is_empty() {
            None
        } else {
            Some(self.subject_key(&actor.tenant, &row)?)
        };
        let mut out = Vec::with_capacity(records.len());
        let now = self.now();
        // A legal hold keeps records past their expiry: the person sees them.
        let held = self.store.subject_held(&actor.tenant, subject, now)?;
        for r in records {
            let Some(dek) = &dek else { break };
            // Expired means gone (issue 13.14), even before the sweep.
            if !held && crate::retention::expired(&r, now) {
                continue;
            }
            let aad = custos_crypto::Aad::new(
                actor.tenant.as_str(),
                &subject.to_string(),
                &r.category,
                &r.id.to_string(),
            )?;
            let plain = custos_crypto::open(dek, &aad, &r.ciphertext)?;
            let value: Value = serde_json::from_slice(&plain).map_err(|_| VaultError::Integrity)?;
            let cat = policy.category.get(&r.category);
            let purpose = policy.purpose.get(&r.purpose);
            out.push(ExportedRecord {
                record: r.id,
                category_description: cat.map(|c| c.description.clone()).unwrap_or_default(),
                value,
                purpose_description: purpose.map(|p| p.description.clone()).unwrap_or_default(),
                lawful_basis: purpose
                    .map(|p| p.basis.as_str().to_owned())
                    .unwrap_or_default(),
                used_for: policy
                    .purpose
                    .iter()
                    .filter(|(_, p)| {
                        p.categories
                            .iter()
                            .any(|pat| pattern_matches(pat, &r.category))
                    })
                    .map(|(id, _)| id.clone())
                    .collect(),
                retention: cat
                    .and_then(|c| c.retention.as_ref())
                    .map(|r| r.to_string()),
                category: r.category,
                collected_for: r.purpose,
                source: r.source,
                collected_at: r.collected_at,
                expires_at: r.expires_at,
            });
        }
        Ok(Export {
            subject,
            controller: policy.controller.name.clone(),
            policy_version: active.number,
            generated_at: self.clock.now(),
            records: out,
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    fn export_with(values: &[&str]) -> Export {
        let t: Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
        let records = values
            .iter()
            .map(|v| ExportedRecord {
                record: custos_store::RecordId(custos_store::Uuid::nil()),
                category: "note".into(),
                category_description: "A note".into(),
                value: Value::String((*v).to_owned()),
                collected_for: "support".into(),
                purpose_description: "Support".into(),
                lawful_basis: "contract".into(),
                used_for: vec![],
                source: "api".into(),
                collected_at: t,
                expires_at: None,
                retention: None,
            })
            .collect();
        Export {
            subject: SubjectId(custos_store::Uuid::nil()),
            controller: "Acme".into(),
            policy_version: 1,
            generated_at: t,
            records,
        }
    }

    #[test]
    fn csv_cells_a_spreadsheet_would_run_as_formulas_are_neutralised() {
        let hostile = [
            "=HYPERLINK(\"http://evil\",\"x\")",
            "+1+1",
            "-2+3",
            "@SUM(A1)",
            "\tcmd",
            "\rcmd",
        ];
        let csv = export_with(&hostile).to_csv();
        let rows: Vec<&str> = csv
            .split("\r\n")
            .skip(1)
            .filter(|r| !r.is_empty())
            .collect();
        assert_eq!(rows.len(), hostile.len(), "{csv}");
        for (row, value) in rows.iter().zip(hostile) {
            // The value is the fourth cell; it must not begin with a formula lead.
            let cell = row.split(',').nth(3).unwrap().trim_start_matches('"');
            assert!(cell.starts_with('\''), "{value:?} left as {cell:?}");
        }
        // Plain values are untouched.
        let plain = export_with(&["Ada Lovelace", "12 rue de la Paix"]).to_csv();
        assert!(plain.contains(",Ada Lovelace,"), "{plain}");
        assert!(!plain.contains('\''), "{plain}");
    }
}
