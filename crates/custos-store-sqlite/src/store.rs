//! `impl Store for SqliteStore`: one transaction per method, every statement
//! scoped by tenant.

use custos_audit::merkle::leaf_hash;
use custos_audit::{GENESIS, canonical, chain_hash_canonical};
use custos_store::{
    ApiKey, AuditDraft, AuditEntry, AuditRef, Counts, IdempotentResponse, PolicyVersion, Record,
    Result, Store, StoreError, Subject, SubjectId, SubjectState, SubjectWrite, Tenant, TenantId,
    Timestamp, WrappedKey, draft_fields, micros,
};
use rusqlite::{Connection, OptionalExtension, params};

use crate::SqliteStore;
use crate::codec::{self, IdText, db, int, json_list, subject_id};

impl Store for SqliteStore {
    // --- tenants and policies -------------------------------------------------

    fn create_tenant(&self, tenant: &Tenant) -> Result<()> {
        self.write(|tx| {
            tx.prepare_cached("INSERT INTO tenants (id, name, created_at) VALUES (?1, ?2, ?3)")
                .and_then(|mut st| {
                    st.execute(params![
                        tenant.id.as_str(),
                        tenant.name,
                        micros(tenant.created_at)
                    ])
                })
                .map_err(db)?;
            Ok(())
        })
    }

    fn tenant(&self, id: &TenantId) -> Result<Option<Tenant>> {
        self.read(|conn| {
            conn.prepare_cached("SELECT id, name, created_at FROM tenants WHERE id = ?1")
                .and_then(|mut st| st.query_row([id.as_str()], codec::tenant).optional())
                .map_err(db)
        })
    }

    fn tenants(&self) -> Result<Vec<Tenant>> {
        self.read(|conn| {
            conn.prepare_cached("SELECT id, name, created_at FROM tenants ORDER BY id")
                .and_then(|mut st| st.query_map([], codec::tenant)?.collect())
                .map_err(db)
        })
    }

    fn publish_policy(&self, tenant: &TenantId, version: &PolicyVersion) -> Result<()> {
        self.write(|tx| {
            let last: i64 = tx
                .prepare_cached(
                    "SELECT COALESCE(MAX(number), 0) FROM policy_versions WHERE tenant = ?1",
                )
                .and_then(|mut st| st.query_row([tenant.as_str()], |row| row.get(0)))
                .map_err(db)?;
            if i64::from(version.number) != last.saturating_add(1) {
                return Err(StoreError::Conflict(format!(
                    "policy version {} is not the next one ({})",
                    version.number,
                    last.saturating_add(1)
                )));
            }
            tx.prepare_cached(
                "INSERT INTO policy_versions \
                 (tenant, number, label, text, effective_at, published_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )
            .and_then(|mut st| {
                st.execute(params![
                    tenant.as_str(),
                    version.number,
                    version.label,
                    version.text,
                    micros(version.effective_at),
                    micros(version.published_at),
                ])
            })
            .map_err(db)?;
            Ok(())
        })
    }

    fn policy_in_force(&self, tenant: &TenantId, at: Timestamp) -> Result<Option<PolicyVersion>> {
        self.read(|conn| {
            conn.prepare_cached(
                "SELECT number, label, text, effective_at, published_at FROM policy_versions \
                 WHERE tenant = ?1 AND effective_at <= ?2 ORDER BY number DESC LIMIT 1",
            )
            .and_then(|mut st| {
                st.query_row(params![tenant.as_str(), micros(at)], codec::policy_version)
                    .optional()
            })
            .map_err(db)
        })
    }

    fn policy_versions(&self, tenant: &TenantId) -> Result<Vec<PolicyVersion>> {
        self.read(|conn| {
            conn.prepare_cached(
                "SELECT number, label, text, effective_at, published_at FROM policy_versions \
                 WHERE tenant = ?1 ORDER BY number",
            )
            .and_then(|mut st| {
                st.query_map([tenant.as_str()], codec::policy_version)?
                    .collect()
            })
            .map_err(db)
        })
    }

    // --- API keys ----------------------------------------------------------------

    fn insert_api_key(&self, key: &ApiKey, audit: &AuditDraft) -> Result<AuditRef> {
        let purposes = json_list(&key.purposes)?;
        self.write(|tx| {
            tx.prepare_cached(
                "INSERT INTO api_keys \
                 (id, tenant, hash, label, role, purposes, admin, created_at, revoked_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )
            .and_then(|mut st| {
                st.execute(params![
                    key.id,
                    key.tenant.as_str(),
                    key.hash.as_slice(),
                    key.label,
                    key.role,
                    purposes,
                    key.admin,
                    micros(key.created_at),
                    key.revoked_at.map(micros),
                ])
            })
            .map_err(db)?;
            append_audit(tx, &key.tenant, audit)
        })
    }

    fn api_key(&self, id: &str) -> Result<Option<ApiKey>> {
        // The one lookup not scoped by tenant: the key is what names the tenant.
        self.read(|conn| {
            conn.prepare_cached(
                "SELECT id, tenant, hash, label, role, purposes, admin, created_at, revoked_at \
                 FROM api_keys WHERE id = ?1",
            )
            .and_then(|mut st| st.query_row([id], codec::api_key).optional())
            .map_err(db)
        })
    }

    fn api_keys(&self, tenant: &TenantId) -> Result<Vec<ApiKey>> {
        self.read(|conn| {
            conn.prepare_cached(
                "SELECT id, tenant, hash, label, role, purposes, admin, created_at, revoked_at \
                 FROM api_keys WHERE tenant = ?1 ORDER BY id",
            )
            .and_then(|mut st| st.query_map([tenant.as_str()], codec::api_key)?.collect())
            .map_err(db)
        })
    }

    fn revoke_api_key(
        &self,
        tenant: &TenantId,
        id: &str,
        at: Timestamp,
        audit: &AuditDraft,
    ) -> Result<AuditRef> {
        self.write(|tx| {
            // A key revoked twice keeps the time it was first revoked.
            let changed = tx
                .prepare_cached(
                    "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?3) \
                     WHERE tenant = ?1 AND id = ?2",
                )
                .and_then(|mut st| st.execute(params![tenant.as_str(), id, micros(at)]))
                .map_err(db)?;
            if changed == 0 {
                return Err(StoreError::NotFound("api key".to_owned()));
            }
            append_audit(tx, tenant, audit)
        })
    }

    // --- subjects and records --------------------------------------------------

    fn create_subject(&self, write: &SubjectWrite<'_>) -> Result<AuditRef> {
        self.write(|tx| {
            if let Some(response) = write.idempotency {
                insert_idempotency(tx, write.tenant, response)?;
            }
            let s = write.subject;
            tx.prepare_cached(
                "INSERT INTO subjects (tenant, id, wrapped_dek, kek_version, jurisdiction, state, \
                 created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )
            .and_then(|mut st| {
                st.execute(params![
                    write.tenant.as_str(),
                    subject_id(s.id),
                    s.wrapped_dek,
                    s.kek_version,
                    s.jurisdiction,
                    s.state.as_str(),
                    micros(s.created_at),
                    micros(s.updated_at),
                ])
            })
            .map_err(db)?;
            insert_records_and_index(tx, write)?;
            append_audit(tx, write.tenant, write.audit)
        })
    }

    fn add_records(&self, write: &SubjectWrite<'_>) -> Result<AuditRef> {
        self.write(|tx| {
            let state: Option<String> = tx
                .prepare_cached("SELECT state FROM subjects WHERE tenant = ?1 AND id = ?2")
                .and_then(|mut st| {
                    st.query_row(
                        params![write.tenant.as_str(), subject_id(write.subject.id)],
                        |row| row.get(0),
                    )
                    .optional()
                })
                .map_err(db)?;
            match state.as_deref().and_then(SubjectState::parse) {
                Some(SubjectState::Active | SubjectState::Restricted) => {}
                Some(SubjectState::Erased) | None => {
                    return Err(StoreError::NotFound("subject".to_owned()));
                }
            }
            if let Some(response) = write.idempotency {
                insert_idempotency(tx, write.tenant, response)?;
            }
            insert_records_and_index(tx, write)?;
            append_audit(tx, write.tenant, write.audit)
        })
    }

    fn subject(&self, tenant: &TenantId, id: SubjectId) -> Result<Option<Subject>> {
        self.read(|conn| select_subject(conn, tenant, id))
    }

    fn subject_held(&self, tenant: &TenantId, id: SubjectId, now: Timestamp) -> Result<bool> {
        self.read(|conn| crate::stats::subject_held(conn, tenant, id, now))
    }

    fn read_subject(
        &self,
        tenant: &TenantId,
        id: SubjectId,
        categories: &[String],
        audit: &AuditDraft,
    ) -> Result<(Subject, Vec<Record>)> {
        let wanted = if categories.is_empty() {
            None
        } else {
            Some(json_list(categories)?)
        };
        // On the writer: the audit entry commits with the read, or nothing is returned.
        self.write(|tx| {
            let subject = select_subject(tx, tenant, id)?
                .ok_or_else(|| StoreError::NotFound("subject".to_owned()))?;
            let records = match &wanted {
                None => tx
                    .prepare_cached(
                        "SELECT id, subject, category, ciphertext, purpose, source, \
                         collected_at, expires_at FROM records \
                         WHERE tenant = ?1 AND subject = ?2 ORDER BY rowid",
                    )
                    .and_then(|mut st| {
                        st.query_map(params![tenant.as_str(), subject_id(id)], codec::record)?
                            .collect::<rusqlite::Result<Vec<_>>>()
                    }),
                Some(wanted) => tx
                    .prepare_cached(
                        "SELECT id, subject, category, ciphertext, purpose, source, \
                         collected_at, expires_at FROM records \
                         WHERE tenant = ?1 AND subject = ?2 \
                         AND category IN (SELECT value FROM json_each(?3)) ORDER BY rowid",
                    )
                    .and_then(|mut st| {
                        st.query_map(
                            params![tenant.as_str(), subject_id(id), wanted],
                            codec::record,
                        )?
                        .collect::<rusqlite::Result<Vec<_>>>()
                    }),
            }
            .map_err(db)?;
            append_audit(tx, tenant, audit)?;
            Ok((subject, records))
        })
    }

    fn find_subjects(
        &self,
        tenant: &TenantId,
        category: &str,
        hash: &[u8; 32],
    ) -> Result<Vec<SubjectId>> {
        self.read(|conn| {
            let ids: Vec<String> = conn
                .prepare_cached(
                    "SELECT subject FROM blind_index \
                     WHERE tenant = ?1 AND category = ?2 AND hash = ?3 ORDER BY subject",
                )
                .and_then(|mut st| {
                    st.query_map(params![tenant.as_str(), category, hash.as_slice()], |row| {
                        row.get(0)
                    })?
                    .collect()
                })
                .map_err(db)?;
            ids.iter()
                .map(|id| {
                    custos_store::Uuid::try_parse(id)
                        .map(SubjectId)
                        .map_err(|_| {
                            StoreError::Corrupt("blind_index.subject: not a UUID".to_owned())
                        })
                })
                .collect()
        })
    }

    // --- keys ----------------------------------------------------------------------

    fn subjects_to_rewrap(
        &self,
        tenant: &TenantId,
        version: u32,
        limit: usize,
    ) -> Result<Vec<WrappedKey>> {
        // Erased subjects have no data key left to rewrap.
        self.read(|conn| {
            conn.prepare_cached(
                "SELECT id, wrapped_dek, kek_version FROM subjects \
                 WHERE tenant = ?1 AND kek_version < ?2 AND state <> 'erased' \
                 ORDER BY kek_version, id LIMIT ?3",
            )
            .and_then(|mut st| {
                st.query_map(
                    params![tenant.as_str(), version, int(limit)],
                    codec::wrapped_key,
                )?
                .collect()
            })
            .map_err(db)
        })
    }

    fn rewrap(&self, tenant: &TenantId, old: &WrappedKey, new: &WrappedKey) -> Result<bool> {
        if old.subject != new.subject {
            return Err(StoreError::Conflict(
                "a rewrap must keep the subject it replaces the key of".to_owned(),
            ));
        }
        self.write(|tx| {
            let changed = tx
                .prepare_cached(
                    "UPDATE subjects SET wrapped_dek = ?4, kek_version = ?5 \
                     WHERE tenant = ?1 AND id = ?2 AND wrapped_dek = ?3 AND state <> 'erased'",
                )
                .and_then(|mut st| {
                    st.execute(params![
                        tenant.as_str(),
                        subject_id(old.subject),
                        old.wrapped_dek,
                        new.wrapped_dek,
                        new.kek_version,
                    ])
                })
                .map_err(db)?;
            Ok(changed == 1)
        })
    }

    // --- audit -----------------------------------------------------------------------

    fn append_audit(&self, tenant: &TenantId, audit: &AuditDraft) -> Result<AuditRef> {
        self.write(|tx| append_audit(tx, tenant, audit))
    }

    fn audit_entries(&self, tenant: &TenantId, from: u64, limit: usize) -> Result<Vec<AuditEntry>> {
        self.read(|conn| {
            conn.prepare_cached(
                "SELECT seq, at, actor, key_id, action, purpose, subject, categories, outcome, \
                 reason, request_id, prev_hash, hash FROM audit_log \
                 WHERE tenant = ?1 AND seq >= ?2 ORDER BY seq LIMIT ?3",
            )
            .and_then(|mut st| {
                st.query_map(
                    params![tenant.as_str(), int(from), int(limit)],
                    codec::audit_entry,
                )?
                .collect()
            })
            .map_err(db)
        })
    }

    // --- idempotency ----------------------------------------------------------------

    fn idempotent_response(
        &self,
        tenant: &TenantId,
        key: &str,
    ) -> Result<Option<IdempotentResponse>> {
        self.read(|conn| {
            conn.prepare_cached(
                "SELECT key, request_hash, status, body, created_at FROM idempotency \
                 WHERE tenant = ?1 AND key = ?2",
            )
            .and_then(|mut st| {
                st.query_row(params![tenant.as_str(), key], codec::idempotent_response)
                    .optional()
            })
            .map_err(db)
        })
    }

    // --- housekeeping ----------------------------------------------------------------

    fn counts(&self, tenant: &TenantId) -> Result<Counts> {
        // One statement, so one snapshot. Audit seqs are dense from 1, so the
        // highest one is the count, found without scanning the log.
        self.read(|conn| {
            conn.prepare_cached(
                "SELECT \
                 (SELECT COUNT(*) FROM subjects WHERE tenant = ?1), \
                 (SELECT COUNT(*) FROM records WHERE tenant = ?1), \
                 (SELECT COUNT(*) FROM api_keys WHERE tenant = ?1), \
                 (SELECT COALESCE(MAX(seq), 0) FROM audit_log WHERE tenant = ?1)",
            )
            .and_then(|mut st| {
                st.query_row([tenant.as_str()], |row| {
                    Ok(Counts {
                        subjects: codec::u64_col(row, 0)?,
                        records: codec::u64_col(row, 1)?,
                        api_keys: codec::u64_col(row, 2)?,
                        audit_entries: codec::u64_col(row, 3)?,
                    })
                })
            })
            .map_err(db)
        })
    }
}

fn select_subject(conn: &Connection, tenant: &TenantId, id: SubjectId) -> Result<Option<Subject>> {
    conn.prepare_cached(
        "SELECT id, wrapped_dek, kek_version, jurisdiction, state, created_at, updated_at \
         FROM subjects WHERE tenant = ?1 AND id = ?2",
    )
    .and_then(|mut st| {
        st.query_row(params![tenant.as_str(), subject_id(id)], codec::subject)
            .optional()
    })
    .map_err(db)
}

fn insert_idempotency(conn: &Connection, tenant: &TenantId, r: &IdempotentResponse) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO idempotency (tenant, key, request_hash, status, body, created_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )
    .and_then(|mut st| {
        st.execute(params![
            tenant.as_str(),
            r.key,
            r.request_hash.as_slice(),
            r.status,
            r.body,
            micros(r.created_at),
        ])
    })
    .map_err(db)?;
    Ok(())
}

/// Inserts a write's records and blind-index entries, all for `write.subject.id`.
fn insert_records_and_index(conn: &Connection, write: &SubjectWrite<'_>) -> Result<()> {
    // The consent a write carries goes in first: the records rest on it (issue 13.1).
    for e in write.consents {
        if e.subject != write.subject.id {
            return Err(StoreError::Conflict(
                "a consent event names a subject other than the one written".to_owned(),
            ));
        }
        crate::consent::insert_in(conn, write.tenant, e).map_err(db)?;
    }
    let tenant = write.tenant.as_str();
    let subject = subject_id(write.subject.id);
    let mut insert_record = conn
        .prepare_cached(
            "INSERT INTO records (tenant, id, subject, category, ciphertext, purpose, source, \
             collected_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        )
        .map_err(db)?;
    for r in write.records {
        // A record naming another subject is a caller's bug; storing it under
        // either id would misfile personal data.
        if r.subject != write.subject.id {
            return Err(StoreError::Conflict(
                "a record names a subject other than the one written".to_owned(),
            ));
        }
        insert_record
            .execute(params![
                tenant,
                IdText::new(r.id.0),
                subject,
                r.category,
                r.ciphertext,
                r.purpose,
                r.source,
                micros(r.collected_at),
                r.expires_at.map(micros),
            ])
            .map_err(db)?;
    }
    // The same entry written twice (a second record with the same email) is one entry.
    let mut insert_index = conn
        .prepare_cached(
            "INSERT INTO blind_index (tenant, category, hash, subject) VALUES (?1, ?2, ?3, ?4) \
             ON CONFLICT DO NOTHING",
        )
        .map_err(db)?;
    for e in write.index {
        insert_index
            .execute(params![tenant, e.category, e.hash.as_slice(), subject])
            .map_err(db)?;
    }
    Ok(())
}

/// Appends the next entry of `tenant`'s chain; call inside the write transaction
/// (on the writer, so no other append can interleave).
fn append_audit(conn: &Connection, tenant: &TenantId, d: &AuditDraft) -> Result<AuditRef> {
    append_audits(conn, tenant, std::slice::from_ref(d))?
        .pop()
        .ok_or_else(|| StoreError::Backend("audit append returned nothing".to_owned()))
}

/// Appends entries to `tenant`'s hash chain and, for each, its leaf to the tenant's
/// Merkle tree (`audit_nodes`, `audit_tree_heads`), in the caller's transaction.
/// The chain head and the tree head are read once and the tree head written once,
/// however many entries there are.
pub(crate) fn append_audits(
    conn: &Connection,
    tenant: &TenantId,
    drafts: &[AuditDraft],
) -> Result<Vec<AuditRef>> {
    let head = conn
        .prepare_cached(
            "SELECT seq, hash FROM audit_log WHERE tenant = ?1 ORDER BY seq DESC LIMIT 1",
        )
        .and_then(|mut st| {
            st.query_row([tenant.as_str()], |row| {
                Ok((codec::u64_col(row, 0)?, codec::hash32(row, 1)?))
            })
            .optional()
        })
        .map_err(db)?;
    let (mut last, mut prev) = head.unwrap_or((0, GENESIS));
    let mut tree = crate::merkle::TreeWriter::open(conn, tenant, last)?;
    let mut insert = conn
        .prepare_cached(
            "INSERT INTO audit_log (tenant, seq, at, actor, key_id, action, purpose, subject, \
             categories, outcome, reason, request_id, prev_hash, hash) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
        )
        .map_err(db)?;
    let mut refs = Vec::with_capacity(drafts.len());
    for d in drafts {
        let seq = last + 1;
        let subject = d.subject.map(|s| s.to_string()).unwrap_or_default();
        let bytes = canonical(&draft_fields(tenant, seq, d, &subject));
        let hash = chain_hash_canonical(&prev, &bytes);
        let categories = json_list(&d.categories)?;
        insert
            .execute(params![
                tenant.as_str(),
                int(seq),
                micros(d.at),
                d.actor,
                d.key_id,
                d.action,
                d.purpose,
                d.subject.map(|_| subject.as_str()),
                categories,
                d.outcome.as_str(),
                d.reason,
                d.request_id,
                prev.as_slice(),
                hash.as_slice(),
            ])
            .map_err(db)?;
        tree.push(conn, tenant, leaf_hash(&bytes))?;
        refs.push(AuditRef { seq, hash });
        (last, prev) = (seq, hash);
    }
    tree.save(conn, tenant)?;
    Ok(refs)
}

/// For the other stores of this backend (consent ledger): the same audit append.
pub(crate) fn append_audit_in(
    conn: &Connection,
    tenant: &TenantId,
    d: &AuditDraft,
) -> Result<AuditRef> {
    append_audit(conn, tenant, d)
}

pub(crate) fn select_subject_in(
    conn: &Connection,
    tenant: &TenantId,
    id: SubjectId,
) -> Result<Option<Subject>> {
    select_subject(conn, tenant, id)
}
