//! `impl Store for PostgresStore`: one transaction (or one statement) per
//! method, every statement scoped by tenant. The semantics are those of the
//! SQLite backend; the conformance suite checks both.

use custos_audit::merkle::leaf_hash;
use custos_audit::{GENESIS, canonical, chain_hash_canonical};
use custos_store::{
    ApiKey, AuditDraft, AuditEntry, AuditRef, Counts, IdempotentResponse, PolicyVersion, Record,
    Result, Store, StoreError, Subject, SubjectId, SubjectState, SubjectWrite, Tenant, TenantId,
    Timestamp, WrappedKey, draft_fields, micros,
};
use postgres::{Client, GenericClient, Transaction};

use crate::PostgresStore;
use crate::codec::{self, Session, db, get, id_text, int};
use crate::pool::Conn;

impl PostgresStore {
    /// Runs `f` in one transaction, committing if it returns `Ok` and rolling
    /// back otherwise.
    pub(crate) fn write<T>(
        &self,
        f: impl FnOnce(&mut Session<'_, Transaction<'_>>) -> Result<T>,
    ) -> Result<T> {
        let mut conn = self.pool.get()?;
        let Conn { client, statements } = &mut *conn;
        let mut tx = client.transaction().map_err(db)?;
        // On error the transaction is dropped, which rolls it back.
        let out = f(&mut Session {
            client: &mut tx,
            statements,
        })?;
        tx.commit().map_err(db)?;
        Ok(out)
    }

    /// [`write`](Self::write) for a transaction that removes personal data or a
    /// wrapped data key (erasure, rectification, retention, purge of held
    /// records). An `UPDATE` or `DELETE` leaves the old row version in the
    /// table as a dead tuple, readable from the files until a VACUUM removes
    /// it; so the tables that held keys and values are vacuumed after the
    /// commit. Batched: while one caller runs the VACUUM, removals committed
    /// meanwhile are left to it (it runs again for them) instead of each
    /// starting its own. A failed VACUUM leaves the removal pending for the
    /// next one; the removal itself stands. What VACUUM cannot reach (WAL,
    /// replicas, backups, free space inside pages) is in `docs/security.md`.
    pub(crate) fn write_shredding<T>(
        &self,
        f: impl FnOnce(&mut Session<'_, Transaction<'_>>) -> Result<T>,
    ) -> Result<T> {
        let out = self.write(f)?;
        self.vacuum_pending
            .store(true, std::sync::atomic::Ordering::SeqCst);
        // The removal is committed; a VACUUM that fails stays pending and is
        // retried after the next removal.
        let _ = self.vacuum_shredded();
        Ok(out)
    }

    /// Runs the VACUUM owed to committed removals, if any and if no other
    /// caller is running it already (that caller picks up this one's removals).
    pub fn vacuum_shredded(&self) -> Result<()> {
        use std::sync::atomic::Ordering;
        loop {
            let Ok(guard) = self.vacuuming.try_lock() else {
                return Ok(());
            };
            while self.vacuum_pending.swap(false, Ordering::SeqCst) {
                let mut conn = self.pool.get()?;
                if let Err(e) = conn
                    .client
                    .batch_execute("VACUUM subjects, records, blind_index, held_records")
                {
                    self.vacuum_pending.store(true, Ordering::SeqCst);
                    return Err(db(e));
                }
            }
            drop(guard);
            // A removal that committed between the last check and the unlock
            // found the lock taken: run for it now.
            if !self.vacuum_pending.load(Ordering::SeqCst) {
                return Ok(());
            }
        }
    }

    /// Runs `f` outside an explicit transaction: for pure reads and for writes
    /// that are one statement (a statement is atomic on its own).
    pub(crate) fn run<T>(
        &self,
        f: impl FnOnce(&mut Session<'_, Client>) -> Result<T>,
    ) -> Result<T> {
        let mut conn = self.pool.get()?;
        let Conn { client, statements } = &mut *conn;
        f(&mut Session { client, statements })
    }
}

/// The API-key columns in the order `codec::api_key` reads them, then `$tail`.
macro_rules! select_api_key {
    ($tail:literal) => {
        concat!(
            "SELECT id, tenant, hash, label, role, purposes, admin, created_at, revoked_at \
             FROM api_keys",
            $tail
        )
    };
}

impl Store for PostgresStore {
    // --- tenants and policies -------------------------------------------------

    fn create_tenant(&self, tenant: &Tenant) -> Result<()> {
        // The tenant and the head of its (empty) audit chain, in one statement.
        self.run(|s| {
            s.execute(
                "WITH t AS (INSERT INTO tenants (id, name, created_at) VALUES ($1, $2, $3) \
                 RETURNING id) \
                 INSERT INTO audit_heads (tenant, seq, hash) SELECT id, 0, $4 FROM t",
                &[
                    &tenant.id.as_str(),
                    &tenant.name,
                    &micros(tenant.created_at),
                    &GENESIS.as_slice(),
                ],
            )?;
            Ok(())
        })
    }

    fn tenant(&self, id: &TenantId) -> Result<Option<Tenant>> {
        self.run(|s| {
            s.query_opt(
                "SELECT id, name, created_at FROM tenants WHERE id = $1",
                &[&id.as_str()],
            )?
            .as_ref()
            .map(codec::tenant)
            .transpose()
        })
    }

    fn tenants(&self) -> Result<Vec<Tenant>> {
        self.run(|s| {
            s.query("SELECT id, name, created_at FROM tenants ORDER BY id", &[])?
                .iter()
                .map(codec::tenant)
                .collect()
        })
    }

    fn publish_policy(&self, tenant: &TenantId, version: &PolicyVersion) -> Result<()> {
        // One statement: inserts only if the number is the next one. Two
        // publishers racing for the same number meet on the primary key.
        let inserted = self.run(|s| {
            s.execute(
                "INSERT INTO policy_versions \
                 (tenant, number, label, text, effective_at, published_at) \
                 SELECT $1, $2, $3, $4, $5, $6 \
                 WHERE $2 = (SELECT COALESCE(MAX(number), 0) + 1 FROM policy_versions \
                             WHERE tenant = $1)",
                &[
                    &tenant.as_str(),
                    &i64::from(version.number),
                    &version.label,
                    &version.text,
                    &micros(version.effective_at),
                    &micros(version.published_at),
                ],
            )
        })?;
        if inserted == 0 {
            return Err(StoreError::Conflict(format!(
                "policy version {} is not the next one",
                version.number
            )));
        }
        Ok(())
    }

    fn policy_in_force(&self, tenant: &TenantId, at: Timestamp) -> Result<Option<PolicyVersion>> {
        self.run(|s| {
            s.query_opt(
                "SELECT number, label, text, effective_at, published_at FROM policy_versions \
                 WHERE tenant = $1 AND effective_at <= $2 ORDER BY number DESC LIMIT 1",
                &[&tenant.as_str(), &micros(at)],
            )?
            .as_ref()
            .map(codec::policy_version)
            .transpose()
        })
    }

    fn policy_versions(&self, tenant: &TenantId) -> Result<Vec<PolicyVersion>> {
        self.run(|s| {
            s.query(
                "SELECT number, label, text, effective_at, published_at FROM policy_versions \
                 WHERE tenant = $1 ORDER BY number",
                &[&tenant.as_str()],
            )?
            .iter()
            .map(codec::policy_version)
            .collect()
        })
    }

    // --- API keys ----------------------------------------------------------------

    fn insert_api_key(&self, key: &ApiKey, audit: &AuditDraft) -> Result<AuditRef> {
        self.write(|s| {
            s.execute(
                "INSERT INTO api_keys \
                 (id, tenant, hash, label, role, purposes, admin, created_at, revoked_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                &[
                    &key.id,
                    &key.tenant.as_str(),
                    &key.hash.as_slice(),
                    &key.label,
                    &key.role,
                    &key.purposes,
                    &key.admin,
                    &micros(key.created_at),
                    &key.revoked_at.map(micros),
                ],
            )?;
            append_audit(s, &key.tenant, audit)
        })
    }

    fn api_key(&self, id: &str) -> Result<Option<ApiKey>> {
        // The one lookup not scoped by tenant: the key is what names the tenant.
        self.run(|s| {
            s.query_opt(select_api_key!(" WHERE id = $1"), &[&id])?
                .as_ref()
                .map(codec::api_key)
                .transpose()
        })
    }

    fn api_keys(&self, tenant: &TenantId) -> Result<Vec<ApiKey>> {
        self.run(|s| {
            s.query(
                select_api_key!(" WHERE tenant = $1 ORDER BY id"),
                &[&tenant.as_str()],
            )?
            .iter()
            .map(codec::api_key)
            .collect()
        })
    }

    fn revoke_api_key(
        &self,
        tenant: &TenantId,
        id: &str,
        at: Timestamp,
        audit: &AuditDraft,
    ) -> Result<AuditRef> {
        self.write(|s| {
            // A key revoked twice keeps the time it was first revoked.
            let changed = s.execute(
                "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, $3) \
                 WHERE tenant = $1 AND id = $2",
                &[&tenant.as_str(), &id, &micros(at)],
            )?;
            if changed == 0 {
                return Err(StoreError::NotFound("api key".to_owned()));
            }
            append_audit(s, tenant, audit)
        })
    }

    // --- subjects and records --------------------------------------------------

    fn create_subject(&self, write: &SubjectWrite<'_>) -> Result<AuditRef> {
        self.write(|s| {
            if let Some(response) = write.idempotency {
                insert_idempotency(s, write.tenant, response)?;
            }
            let subject = write.subject;
            s.execute(
                "INSERT INTO subjects (tenant, id, wrapped_dek, kek_version, jurisdiction, state, \
                 created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                &[
                    &write.tenant.as_str(),
                    &id_text(subject.id.0),
                    &subject.wrapped_dek,
                    &i64::from(subject.kek_version),
                    &subject.jurisdiction,
                    &subject.state.as_str(),
                    &micros(subject.created_at),
                    &micros(subject.updated_at),
                ],
            )?;
            insert_records_and_index(s, write)?;
            append_audit(s, write.tenant, write.audit)
        })
    }

    fn add_records(&self, write: &SubjectWrite<'_>) -> Result<AuditRef> {
        self.write(|s| {
            require_live_subject(s, write.tenant, write.subject.id)?;
            if let Some(response) = write.idempotency {
                insert_idempotency(s, write.tenant, response)?;
            }
            insert_records_and_index(s, write)?;
            append_audit(s, write.tenant, write.audit)
        })
    }

    fn subject(&self, tenant: &TenantId, id: SubjectId) -> Result<Option<Subject>> {
        self.run(|s| select_subject(s, tenant, id))
    }

    fn subject_held(&self, tenant: &TenantId, id: SubjectId, now: Timestamp) -> Result<bool> {
        self.run(|s| crate::stats::subject_held(s, tenant, id, now))
    }

    fn read_subject(
        &self,
        tenant: &TenantId,
        id: SubjectId,
        categories: &[String],
        audit: &AuditDraft,
    ) -> Result<(Subject, Vec<Record>)> {
        // In one transaction: the audit entry commits with the read, or nothing
        // is returned.
        self.write(|s| {
            let subject = select_subject(s, tenant, id)?
                .ok_or_else(|| StoreError::NotFound("subject".to_owned()))?;
            let sid = id_text(id.0);
            let rows = if categories.is_empty() {
                s.query(
                    "SELECT id, subject, category, ciphertext, purpose, source, collected_at, \
                     expires_at FROM records WHERE tenant = $1 AND subject = $2 ORDER BY ord",
                    &[&tenant.as_str(), &sid],
                )?
            } else {
                s.query(
                    "SELECT id, subject, category, ciphertext, purpose, source, collected_at, \
                     expires_at FROM records WHERE tenant = $1 AND subject = $2 \
                     AND category = ANY($3) ORDER BY ord",
                    &[&tenant.as_str(), &sid, &categories],
                )?
            };
            let records = rows.iter().map(codec::record).collect::<Result<Vec<_>>>()?;
            append_audit(s, tenant, audit)?;
            Ok((subject, records))
        })
    }

    fn find_subjects(
        &self,
        tenant: &TenantId,
        category: &str,
        hash: &[u8; 32],
    ) -> Result<Vec<SubjectId>> {
        self.run(|s| {
            s.query(
                "SELECT subject FROM blind_index \
                 WHERE tenant = $1 AND category = $2 AND hash = $3 ORDER BY subject",
                &[&tenant.as_str(), &category, &hash.as_slice()],
            )?
            .iter()
            .map(|row| codec::subject_id(row, 0))
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
        self.run(|s| {
            s.query(
                "SELECT id, wrapped_dek, kek_version FROM subjects \
                 WHERE tenant = $1 AND kek_version < $2 AND state <> 'erased' \
                 ORDER BY kek_version, id LIMIT $3",
                &[&tenant.as_str(), &i64::from(version), &int(limit)],
            )?
            .iter()
            .map(codec::wrapped_key)
            .collect()
        })
    }

    fn rewrap(&self, tenant: &TenantId, old: &WrappedKey, new: &WrappedKey) -> Result<bool> {
        if old.subject != new.subject {
            return Err(StoreError::Conflict(
                "a rewrap must keep the subject it replaces the key of".to_owned(),
            ));
        }
        // One statement: PostgreSQL re-checks the WHERE clause on a row a
        // concurrent transaction changed, so this is a compare-and-set.
        let changed = self.run(|s| {
            s.execute(
                "UPDATE subjects SET wrapped_dek = $4, kek_version = $5 \
                 WHERE tenant = $1 AND id = $2 AND wrapped_dek = $3 AND state <> 'erased'",
                &[
                    &tenant.as_str(),
                    &id_text(old.subject.0),
                    &old.wrapped_dek,
                    &new.wrapped_dek,
                    &i64::from(new.kek_version),
                ],
            )
        })?;
        Ok(changed == 1)
    }

    // --- audit -----------------------------------------------------------------------

    fn append_audit(&self, tenant: &TenantId, audit: &AuditDraft) -> Result<AuditRef> {
        self.write(|s| append_audit(s, tenant, audit))
    }

    fn audit_entries(&self, tenant: &TenantId, from: u64, limit: usize) -> Result<Vec<AuditEntry>> {
        self.run(|s| {
            s.query(
                "SELECT seq, at, actor, key_id, action, purpose, subject, categories, outcome, \
                 reason, request_id, prev_hash, hash FROM audit_log \
                 WHERE tenant = $1 AND seq >= $2 ORDER BY seq LIMIT $3",
                &[&tenant.as_str(), &int(from), &int(limit)],
            )?
            .iter()
            .map(codec::audit_entry)
            .collect()
        })
    }

    // --- idempotency ----------------------------------------------------------------

    fn idempotent_response(
        &self,
        tenant: &TenantId,
        key: &str,
    ) -> Result<Option<IdempotentResponse>> {
        self.run(|s| {
            s.query_opt(
                "SELECT key, request_hash, status, body, created_at FROM idempotency \
                 WHERE tenant = $1 AND key = $2",
                &[&tenant.as_str(), &key],
            )?
            .as_ref()
            .map(codec::idempotent_response)
            .transpose()
        })
    }

    // --- housekeeping ----------------------------------------------------------------

    fn counts(&self, tenant: &TenantId) -> Result<Counts> {
        // One statement, so one snapshot. The chain's head holds the number of
        // audit entries (seqs are dense from 1).
        self.run(|s| {
            let row = s.query_one(
                "SELECT \
                 (SELECT COUNT(*) FROM subjects WHERE tenant = $1), \
                 (SELECT COUNT(*) FROM records WHERE tenant = $1), \
                 (SELECT COUNT(*) FROM api_keys WHERE tenant = $1), \
                 COALESCE((SELECT seq FROM audit_heads WHERE tenant = $1), 0)",
                &[&tenant.as_str()],
            )?;
            Ok(Counts {
                subjects: codec::u64_col(&row, 0)?,
                records: codec::u64_col(&row, 1)?,
                api_keys: codec::u64_col(&row, 2)?,
                audit_entries: codec::u64_col(&row, 3)?,
            })
        })
    }
}

/// `NotFound` unless the subject exists and is not erased. Locks its row
/// (FOR SHARE) so an erasure cannot commit between this check and the caller's
/// insert.
pub(crate) fn require_live_subject(
    s: &mut Session<'_, Transaction<'_>>,
    tenant: &TenantId,
    id: SubjectId,
) -> Result<()> {
    let row = s.query_opt(
        "SELECT state FROM subjects WHERE tenant = $1 AND id = $2 FOR SHARE",
        &[&tenant.as_str(), &id_text(id.0)],
    )?;
    let state = match &row {
        Some(row) => SubjectState::parse(get(row, 0)?),
        None => None,
    };
    match state {
        Some(SubjectState::Active | SubjectState::Restricted) => Ok(()),
        Some(SubjectState::Erased) | None => Err(StoreError::NotFound("subject".to_owned())),
    }
}

pub(crate) fn select_subject<C: GenericClient>(
    s: &mut Session<'_, C>,
    tenant: &TenantId,
    id: SubjectId,
) -> Result<Option<Subject>> {
    s.query_opt(
        "SELECT id, wrapped_dek, kek_version, jurisdiction, state, created_at, updated_at \
         FROM subjects WHERE tenant = $1 AND id = $2",
        &[&tenant.as_str(), &id_text(id.0)],
    )?
    .as_ref()
    .map(codec::subject)
    .transpose()
}

fn insert_idempotency(
    s: &mut Session<'_, Transaction<'_>>,
    tenant: &TenantId,
    r: &IdempotentResponse,
) -> Result<()> {
    s.execute(
        "INSERT INTO idempotency (tenant, key, request_hash, status, body, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
        &[
            &tenant.as_str(),
            &r.key,
            &r.request_hash.as_slice(),
            &i32::from(r.status),
            &r.body,
            &micros(r.created_at),
        ],
    )?;
    Ok(())
}

/// Inserts a write's records and blind-index entries, all for `write.subject.id`,
/// each kind in one statement (arrays unnested server-side: one round trip).
fn insert_records_and_index(
    s: &mut Session<'_, Transaction<'_>>,
    write: &SubjectWrite<'_>,
) -> Result<()> {
    // The consent a write carries goes in first: the records rest on it (issue 13.1).
    for e in write.consents {
        if e.subject != write.subject.id {
            return Err(StoreError::Conflict(
                "a consent event names a subject other than the one written".to_owned(),
            ));
        }
        crate::consent::insert_in(s, write.tenant, e)?;
    }
    let tenant = write.tenant.as_str();
    let subject = id_text(write.subject.id.0);
    if !write.records.is_empty() {
        let n = write.records.len();
        let mut ids = Vec::with_capacity(n);
        let mut categories = Vec::with_capacity(n);
        let mut ciphertexts = Vec::with_capacity(n);
        let mut purposes = Vec::with_capacity(n);
        let mut sources = Vec::with_capacity(n);
        let mut collected = Vec::with_capacity(n);
        let mut expires = Vec::with_capacity(n);
        for r in write.records {
            // A record naming another subject is a caller's bug; storing it under
            // either id would misfile personal data.
            if r.subject != write.subject.id {
                return Err(StoreError::Conflict(
                    "a record names a subject other than the one written".to_owned(),
                ));
            }
            ids.push(id_text(r.id.0));
            categories.push(r.category.as_str());
            ciphertexts.push(r.ciphertext.as_slice());
            purposes.push(r.purpose.as_str());
            sources.push(r.source.as_str());
            collected.push(micros(r.collected_at));
            expires.push(r.expires_at.map(micros));
        }
        s.execute(
            "INSERT INTO records (tenant, id, subject, category, ciphertext, purpose, source, \
             collected_at, expires_at) \
             SELECT $1, r.id, $2, r.category, r.ciphertext, r.purpose, r.source, \
             r.collected_at, r.expires_at \
             FROM UNNEST($3::text[], $4::text[], $5::bytea[], $6::text[], $7::text[], \
             $8::bigint[], $9::bigint[]) WITH ORDINALITY \
             AS r (id, category, ciphertext, purpose, source, collected_at, expires_at, n) \
             ORDER BY r.n",
            &[
                &tenant,
                &subject,
                &ids,
                &categories,
                &ciphertexts,
                &purposes,
                &sources,
                &collected,
                &expires,
            ],
        )?;
    }
    if !write.index.is_empty() {
        let categories: Vec<&str> = write.index.iter().map(|e| e.category.as_str()).collect();
        let hashes: Vec<&[u8]> = write.index.iter().map(|e| e.hash.as_slice()).collect();
        // The same entry written twice (a second record with the same email) is one entry.
        s.execute(
            "INSERT INTO blind_index (tenant, category, hash, subject) \
             SELECT $1, e.category, e.hash, $2 FROM UNNEST($3::text[], $4::bytea[]) \
             AS e (category, hash) ON CONFLICT DO NOTHING",
            &[&tenant, &subject, &categories, &hashes],
        )?;
    }
    Ok(())
}

/// Appends the next entry of `tenant`'s chain inside the caller's transaction.
/// Locking the tenant's head row makes concurrent appends (from any instance)
/// take turns; the lock is released at commit or rollback.
pub(crate) fn append_audit(
    s: &mut Session<'_, Transaction<'_>>,
    tenant: &TenantId,
    d: &AuditDraft,
) -> Result<AuditRef> {
    append_audits(s, tenant, std::slice::from_ref(d))?
        .pop()
        .ok_or_else(|| StoreError::Backend("audit append returned nothing".to_owned()))
}

/// Appends entries to `tenant`'s hash chain and each one's leaf to the tenant's
/// Merkle tree (`audit_nodes`; size and frontier in `audit_heads`), under the
/// head row's lock. One statement per entry: the entry, the subtrees its leaf
/// completes, and the new head.
pub(crate) fn append_audits(
    s: &mut Session<'_, Transaction<'_>>,
    tenant: &TenantId,
    drafts: &[AuditDraft],
) -> Result<Vec<AuditRef>> {
    let head = s
        .query_opt(
            "SELECT seq, hash, tree_size, frontier FROM audit_heads WHERE tenant = $1 FOR UPDATE",
            &[&tenant.as_str()],
        )?
        .ok_or_else(|| StoreError::NotFound("tenant".to_owned()))?;
    let mut last = codec::u64_col(&head, 0)?;
    let mut prev = codec::hash32(&head, 1)?;
    let mut tree = crate::merkle::open_tree(
        s,
        tenant,
        codec::u64_col(&head, 2)?,
        get::<&[u8]>(&head, 3)?,
        last,
    )?;
    let mut refs = Vec::with_capacity(drafts.len());
    for d in drafts {
        let seq = last + 1;
        let subject = d.subject.map(|s| s.to_string()).unwrap_or_default();
        let bytes = canonical(&draft_fields(tenant, seq, d, &subject));
        let hash = chain_hash_canonical(&prev, &bytes);
        let mut nodes = crate::merkle::NewNodes::default();
        nodes.push(&mut tree, leaf_hash(&bytes));
        let frontier = tree.frontier().concat();
        s.execute(
            "WITH entry AS (INSERT INTO audit_log (tenant, seq, at, actor, key_id, action, purpose, \
             subject, categories, outcome, reason, request_id, prev_hash, hash) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)), \
             nodes AS (INSERT INTO audit_nodes (tenant, level, idx, hash) \
             SELECT $1, n.l, n.i, n.h FROM UNNEST($15::int4[], $16::int8[], $17::bytea[]) AS n(l, i, h)) \
             UPDATE audit_heads SET seq = $2, hash = $14, tree_size = $18, frontier = $19 \
             WHERE tenant = $1",
            &[
                &tenant.as_str(),
                &int(seq),
                &micros(d.at),
                &d.actor,
                &d.key_id,
                &d.action,
                &d.purpose,
                &d.subject.map(|_| subject.as_str()),
                &d.categories,
                &d.outcome.as_str(),
                &d.reason,
                &d.request_id,
                &prev.as_slice(),
                &hash.as_slice(),
                &nodes.levels,
                &nodes.indexes,
                &nodes.hashes,
                &int(tree.size()),
                &frontier,
            ],
        )?;
        refs.push(AuditRef { seq, hash });
        (last, prev) = (seq, hash);
    }
    Ok(refs)
}
