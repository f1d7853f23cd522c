//! The data directory of the embedded default: the SQLite database, the key file
//! and the policy file, created on first run; and the store `--database-url`
//! names ([`AnyStore`]: the data directory's SQLite file, another SQLite file, or
//! PostgreSQL).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use custos_core::clock::{Clock, SystemClock};
use custos_crypto::{KeyFile, KeyRing};
use custos_store::{
    ApiKey, AuditDraft, AuditEntry, AuditRef, Challenge, ConsentEvent, ConsentKind, ConsentStore,
    Counts, IdempotentResponse, IncidentRow, IncidentStore, KeyCheckStore, OutboxMessage,
    PolicyVersion, Record, RequestState, RequestStore, Result as StoreResult, RightsRequest, Store,
    Subject, SubjectId, SubjectWrite, Tenant, TenantId, Timestamp, Uuid, VerificationStore,
    WrappedKey,
};
use custos_store_postgres::{PostgresOptions, PostgresStore};
use custos_store_sqlite::{SqliteOptions, SqliteStore};

use crate::InputError;

/// The policy bundled into the binary, used when the data directory has none.
pub const BUNDLED_POLICY: &str = include_str!("../../../policies/plume-sasu.toml");

/// The tenant the embedded default runs.
pub const DEFAULT_TENANT: &str = "default";

#[derive(Debug, Clone)]
pub struct DataDir {
    pub root: PathBuf,
    /// `--key-file`: a key file outside the directory (instances sharing one).
    pub key_file: Option<PathBuf>,
    /// `custos serve`: may create the database (and then its key file) on a
    /// first run. Other commands never create one.
    pub creates: bool,
}

impl DataDir {
    pub fn new(root: &Path) -> Self {
        DataDir {
            root: root.to_owned(),
            key_file: None,
            creates: false,
        }
    }

    /// The directory with its key file at `key_file` (`--key-file`), when given.
    pub fn with_key_file(mut self, key_file: Option<PathBuf>) -> Self {
        self.key_file = key_file;
        self
    }

    pub fn keys(&self) -> PathBuf {
        self.key_file
            .clone()
            .unwrap_or_else(|| self.root.join("keys.json"))
    }

    pub fn database(&self) -> PathBuf {
        self.root.join("custos.db")
    }

    pub fn policy(&self) -> PathBuf {
        self.root.join("policy.toml")
    }

    /// The directory as `custos serve` opens it: its database is created on a
    /// first run.
    pub fn creating(mut self) -> Self {
        self.creates = true;
        self
    }

    /// Creates the directory (0700) and the policy file if missing. The key file
    /// is made by [`ensure_key_file`](Self::ensure_key_file), once the database
    /// is known to be empty.
    pub fn init(&self, _clock: &dyn Clock) -> anyhow::Result<()> {
        if !self.root.exists() {
            std::fs::create_dir_all(&self.root)
                .with_context(|| format!("cannot create {}", self.root.display()))?;
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&self.root, std::fs::Permissions::from_mode(0o700))?;
        }
        if !self.policy().exists() {
            std::fs::write(self.policy(), BUNDLED_POLICY)
                .with_context(|| format!("cannot write {}", self.policy().display()))?;
        }
        Ok(())
    }

    /// Creates the key file (0600) if there is none, which [`store_with`]
    /// (Self::store_with) allows only for a database that holds nothing, and
    /// binds the database to it. Returns whether the file was made now.
    pub fn ensure_key_file(&self, store: &AnyStore, clock: &dyn Clock) -> anyhow::Result<bool> {
        let first = !self.keys().exists();
        if first {
            // Checked again here: a key file is never made for a database with data.
            if store.holds_data()? || !store.key_checks()?.is_empty() {
                return Err(self.missing_key_file());
            }
            KeyFile::create_new(&self.keys(), &clock.now().to_string())
                .with_context(|| format!("cannot create the key file {}", self.keys().display()))?;
            self.check_keys(store)?;
        }
        Ok(first)
    }

    fn missing_key_file(&self) -> anyhow::Error {
        InputError(format!(
            "VAULT-0262: there is no key file at {}, and the database holds data that only its own \
             key file can read; restore that key file (or pass --key-file); no new one is made",
            self.keys().display()
        ))
        .into()
    }

    /// Fail closed on key mistakes, before anything reads or writes: a database
    /// that holds data (or was bound to a key file) needs its own key file,
    /// complete and undamaged ([`custos_core::keys::bind_key_file`]).
    fn check_keys(&self, store: &AnyStore) -> anyhow::Result<()> {
        if !self.keys().exists() {
            if store.holds_data()? || !store.key_checks()?.is_empty() {
                return Err(self.missing_key_file());
            }
            return Ok(());
        }
        let (file, _) = KeyFile::load_and_upgrade(&self.keys()).map_err(|e| {
            InputError(format!(
                "VAULT-0263: the key file {} is damaged or unreadable ({e}); restore it from its backup",
                self.keys().display()
            ))
        })?;
        custos_core::keys::bind_key_file(store, &file).map_err(|e| InputError(e.to_string()))?;
        Ok(())
    }

    /// Loads the key ring; a missing directory is an input error.
    pub fn key_ring(&self) -> anyhow::Result<(KeyFile, Arc<KeyRing>)> {
        if !self.keys().exists() {
            return Err(InputError(format!(
                "no key file at {}: run `custos serve` once to create the data directory, or pass --data-dir",
                self.keys().display()
            ))
            .into());
        }
        // Adds the audit signing seed to a key file of an older build (and saves it).
        let (file, _) =
            KeyFile::load_and_upgrade(&self.keys()).map_err(|e| InputError(e.to_string()))?;
        let ring = Arc::new(KeyRing::from_keyfile(&file));
        Ok((file, ring))
    }

    pub fn store(&self, database_url: Option<&str>) -> anyhow::Result<Arc<AnyStore>> {
        self.store_with(database_url, SqliteOptions::default())
    }

    /// Opens the store `database_url` names (the data directory's SQLite file
    /// by default), applying pending migrations, and refuses it with a key file
    /// that is missing, different, damaged or incomplete (every command opens its
    /// database here, so every command fails closed on a key mistake). `options`
    /// apply to SQLite only.
    pub fn store_with(
        &self,
        database_url: Option<&str>,
        options: SqliteOptions,
    ) -> anyhow::Result<Arc<AnyStore>> {
        if !self.creates && database_url.is_none() && !self.database().exists() {
            return Err(InputError(format!(
                "no database at {}: run `custos serve` once to create the data directory, or pass --data-dir",
                self.database().display()
            ))
            .into());
        }
        let store = match self.named_database(database_url) {
            Database::Sqlite(path) => AnyStore::Sqlite(
                SqliteStore::open(&path, options)
                    .with_context(|| format!("cannot open the database {}", path.display()))?,
            ),
            Database::Postgres(url) => AnyStore::Postgres(
                PostgresStore::connect(url, PostgresOptions::default())
                    // Not the URL: it may carry a password.
                    .context("cannot open the PostgreSQL database")?,
            ),
        };
        self.check_keys(&store)?;
        let store = Arc::new(store);
        crate::external_checkpoints::register(self, database_url, &store);
        Ok(store)
    }

    /// Which database `database_url` names.
    pub fn named_database<'u>(&self, database_url: Option<&'u str>) -> Database<'u> {
        match database_url {
            None => Database::Sqlite(self.database()),
            Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
                Database::Postgres(url)
            }
            Some(url) => {
                Database::Sqlite(PathBuf::from(url.strip_prefix("sqlite://").unwrap_or(url)))
            }
        }
    }
}

/// A database named on the command line.
#[derive(Debug)]
pub enum Database<'u> {
    Sqlite(PathBuf),
    /// A `postgres://` URL (it may hold a password: never printed).
    Postgres(&'u str),
}

/// Either backend, chosen at run time by `--database-url`; every method
/// delegates to the backend it holds.
#[derive(Debug)]
// One per process, behind an `Arc`: its size does not matter.
#[allow(clippy::large_enum_variant)]
pub enum AnyStore {
    Sqlite(SqliteStore),
    Postgres(PostgresStore),
}

macro_rules! delegate {
    ($(fn $name:ident(&self $(, $arg:ident: $ty:ty)*) -> $ret:ty;)*) => {
        $(
            fn $name(&self $(, $arg: $ty)*) -> $ret {
                match self {
                    AnyStore::Sqlite(s) => s.$name($($arg),*),
                    AnyStore::Postgres(s) => s.$name($($arg),*),
                }
            }
        )*
    };
}

impl ConsentStore for AnyStore {
    delegate! {
        fn append_consent(&self, tenant: &TenantId, event: &ConsentEvent, audit: &AuditDraft) -> StoreResult<AuditRef>;
        fn consent_events(&self, tenant: &TenantId, subject: SubjectId) -> StoreResult<Vec<ConsentEvent>>;
        fn latest_consent(&self, tenant: &TenantId, subject: SubjectId, purpose: &str, kinds: &[ConsentKind]) -> StoreResult<Option<ConsentEvent>>;
    }
}

impl IncidentStore for AnyStore {
    delegate! {
        fn put_incident(&self, tenant: &TenantId, row: &IncidentRow, expected_version: Option<u32>, outbox: &[OutboxMessage], audit: &AuditDraft) -> StoreResult<AuditRef>;
        fn incident(&self, tenant: &TenantId, id: Uuid) -> StoreResult<Option<IncidentRow>>;
        fn incidents(&self, tenant: &TenantId) -> StoreResult<Vec<IncidentRow>>;
    }
}

impl custos_store::ContractStore for AnyStore {
    delegate! {
        fn create_contract(&self, tenant: &TenantId, row: &custos_store::ContractRow, outbox: &[OutboxMessage], audit: &AuditDraft) -> StoreResult<AuditRef>;
        fn update_contract(&self, tenant: &TenantId, row: &custos_store::ContractRow, expected_version: u32, outbox: &[OutboxMessage], audit: &AuditDraft) -> StoreResult<AuditRef>;
        fn contract(&self, tenant: &TenantId, id: Uuid) -> StoreResult<Option<custos_store::ContractRow>>;
        fn contracts(&self, tenant: &TenantId, filter: &custos_store::ContractFilter) -> StoreResult<Vec<custos_store::ContractRow>>;
        fn due_contracts(&self, tenant: &TenantId, now: Timestamp, limit: usize) -> StoreResult<Vec<custos_store::ContractRow>>;
    }
}

impl VerificationStore for AnyStore {
    delegate! {
        fn create_challenge(&self, tenant: &TenantId, challenge: &Challenge, outbox: &[OutboxMessage], audit: &AuditDraft) -> StoreResult<AuditRef>;
        fn queue_unaddressed(&self, tenant: &TenantId, outbox: &[OutboxMessage], purge_before: Timestamp, audit: &AuditDraft) -> StoreResult<AuditRef>;
        fn challenge(&self, tenant: &TenantId, id: Uuid) -> StoreResult<Option<Challenge>>;
        fn challenges_since(&self, tenant: &TenantId, subject: SubjectId, since: Timestamp) -> StoreResult<u32>;
        fn record_attempt(&self, tenant: &TenantId, challenge: &Challenge, expected_attempts: u32, audit: &AuditDraft) -> StoreResult<AuditRef>;
    }
}

impl RequestStore for AnyStore {
    delegate! {
        fn put_request(&self, tenant: &TenantId, request: &RightsRequest, expected: Option<RequestState>, outbox: &[OutboxMessage], audit: &AuditDraft) -> StoreResult<AuditRef>;
        fn request(&self, tenant: &TenantId, id: Uuid) -> StoreResult<Option<RightsRequest>>;
        fn requests(&self, tenant: &TenantId) -> StoreResult<Vec<RightsRequest>>;
        fn due_outbox(&self, tenant: &TenantId, now: Timestamp, limit: usize) -> StoreResult<Vec<OutboxMessage>>;
        fn outbox_of(&self, tenant: &TenantId, subject: SubjectId) -> StoreResult<Vec<OutboxMessage>>;
        fn mark_outbox(&self, tenant: &TenantId, message: &OutboxMessage) -> StoreResult<()>;
    }
}

impl custos_store::LifecycleStore for AnyStore {
    delegate! {
        fn subject_records(&self, tenant: &TenantId, subject: SubjectId) -> StoreResult<Vec<Record>>;
        fn rectify_record(&self, r: &custos_store::Rectification<'_>) -> StoreResult<AuditRef>;
        fn set_subject_state(&self, tenant: &TenantId, subject: SubjectId, state: custos_store::SubjectState, at: Timestamp, audit: &AuditDraft) -> StoreResult<AuditRef>;
        fn erase_subject(&self, e: &custos_store::Erasure<'_>) -> StoreResult<AuditRef>;
        fn read_held_records(&self, tenant: &TenantId, subject: SubjectId, audit: &AuditDraft) -> StoreResult<Vec<custos_store::HeldRecord>>;
        fn purge_held_records(&self, tenant: &TenantId, now: Timestamp, audit: &AuditDraft) -> StoreResult<u64>;
    }
}

impl custos_store::MerkleStore for AnyStore {
    delegate! {
        fn node(&self, tenant: &TenantId, level: u32, index: u64) -> StoreResult<Option<[u8; 32]>>;
        fn nodes(&self, tenant: &TenantId, level: u32, from: u64, limit: usize) -> StoreResult<Vec<(u64, [u8; 32])>>;
        fn tree_size(&self, tenant: &TenantId) -> StoreResult<u64>;
        fn catch_up_tree(&self, tenant: &TenantId) -> StoreResult<u64>;
        fn append_audit_batch(&self, tenant: &TenantId, drafts: &[AuditDraft]) -> StoreResult<Vec<AuditRef>>;
        fn store_checkpoint(&self, tenant: &TenantId, signed: &custos_audit::checkpoint::SignedCheckpoint) -> StoreResult<bool>;
        fn checkpoints(&self, tenant: &TenantId) -> StoreResult<Vec<custos_audit::checkpoint::SignedCheckpoint>>;
        fn latest_checkpoint(&self, tenant: &TenantId) -> StoreResult<Option<custos_audit::checkpoint::SignedCheckpoint>>;
    }
}

impl custos_store::StatsStore for AnyStore {
    delegate! {
        fn add_to_aggregates(&self, tenant: &TenantId, rows: &[custos_store::AggregateRow], audit: &AuditDraft) -> StoreResult<AuditRef>;
        fn aggregates(&self, tenant: &TenantId, min_group: u64) -> StoreResult<Vec<custos_store::AggregateRow>>;
    }
}

impl custos_store::RetentionStore for AnyStore {
    delegate! {
        fn expired_records(&self, tenant: &TenantId, now: Timestamp, after: Option<(Timestamp, custos_store::RecordId)>, limit: usize) -> StoreResult<Vec<custos_store::ExpiredRecord>>;
        fn apply_retention(&self, batch: &custos_store::RetentionBatch<'_>) -> StoreResult<custos_store::RetentionApplied>;
        fn place_legal_hold(&self, tenant: &TenantId, hold: &custos_store::LegalHold, audit: &AuditDraft) -> StoreResult<AuditRef>;
        fn lift_legal_hold(&self, tenant: &TenantId, subject: custos_store::SubjectId, hold: Uuid, now: Timestamp, audit: &AuditDraft) -> StoreResult<AuditRef>;
        fn legal_holds(&self, tenant: &TenantId, subject: Option<custos_store::SubjectId>) -> StoreResult<Vec<custos_store::LegalHold>>;
        fn set_expiry(&self, tenant: &TenantId, subject: custos_store::SubjectId, expiries: &[(String, Timestamp)], purpose: Option<&str>, only_later: bool, audit: &AuditDraft) -> StoreResult<u64>;
    }
}

impl custos_store::PolicyNoticeStore for AnyStore {
    delegate! {
        fn notice_recipients(&self, tenant: &TenantId) -> StoreResult<Vec<(SubjectId, Option<String>)>>;
        fn publish_with_notices(&self, tenant: &TenantId, version: &PolicyVersion, outbox: &[OutboxMessage], audit: &AuditDraft) -> StoreResult<AuditRef>;
    }
}

impl custos_store::KeyCheckStore for AnyStore {
    delegate! {
        fn key_checks(&self) -> StoreResult<Vec<(String, Vec<u8>)>>;
        fn add_key_checks(&self, checks: &[(String, Vec<u8>)]) -> StoreResult<()>;
        fn kek_versions_in_use(&self) -> StoreResult<Vec<u32>>;
        fn holds_data(&self) -> StoreResult<bool>;
    }
}

impl custos_store::LeaseStore for AnyStore {
    delegate! {
        fn try_claim(&self, job: &str, holder: &str, now: Timestamp, ttl: std::time::Duration) -> StoreResult<bool>;
        fn release(&self, job: &str, holder: &str) -> StoreResult<()>;
    }
}

impl custos_store::ArchiveStore for AnyStore {
    delegate! {
        fn export_tenant(&self, tenant: &TenantId, sink: &mut dyn custos_store::ArchiveSink) -> StoreResult<()>;
        fn import_rows(&self, tenant: &TenantId, rows: &[custos_store::ArchiveRow]) -> StoreResult<()>;
        fn archive_counts(&self, tenant: &TenantId) -> StoreResult<custos_store::ArchiveCounts>;
    }
}

impl Store for AnyStore {
    delegate! {
        fn create_tenant(&self, tenant: &Tenant) -> StoreResult<()>;
        fn tenant(&self, id: &TenantId) -> StoreResult<Option<Tenant>>;
        fn tenants(&self) -> StoreResult<Vec<Tenant>>;
        fn publish_policy(&self, tenant: &TenantId, version: &PolicyVersion) -> StoreResult<()>;
        fn policy_in_force(&self, tenant: &TenantId, at: Timestamp) -> StoreResult<Option<PolicyVersion>>;
        fn policy_versions(&self, tenant: &TenantId) -> StoreResult<Vec<PolicyVersion>>;
        fn insert_api_key(&self, key: &ApiKey, audit: &AuditDraft) -> StoreResult<AuditRef>;
        fn api_key(&self, id: &str) -> StoreResult<Option<ApiKey>>;
        fn api_keys(&self, tenant: &TenantId) -> StoreResult<Vec<ApiKey>>;
        fn revoke_api_key(&self, tenant: &TenantId, id: &str, at: Timestamp, audit: &AuditDraft) -> StoreResult<AuditRef>;
        fn create_subject(&self, write: &SubjectWrite<'_>) -> StoreResult<AuditRef>;
        fn add_records(&self, write: &SubjectWrite<'_>) -> StoreResult<AuditRef>;
        fn subject(&self, tenant: &TenantId, id: SubjectId) -> StoreResult<Option<Subject>>;
        fn subject_held(&self, tenant: &TenantId, id: SubjectId, now: Timestamp) -> StoreResult<bool>;
        fn read_subject(&self, tenant: &TenantId, id: SubjectId, categories: &[String], audit: &AuditDraft) -> StoreResult<(Subject, Vec<Record>)>;
        fn find_subjects(&self, tenant: &TenantId, category: &str, hash: &[u8; 32]) -> StoreResult<Vec<SubjectId>>;
        fn subjects_to_rewrap(&self, tenant: &TenantId, version: u32, limit: usize) -> StoreResult<Vec<WrappedKey>>;
        fn rewrap(&self, tenant: &TenantId, old: &WrappedKey, new: &WrappedKey) -> StoreResult<bool>;
        fn append_audit(&self, tenant: &TenantId, audit: &AuditDraft) -> StoreResult<AuditRef>;
        fn audit_entries(&self, tenant: &TenantId, from: u64, limit: usize) -> StoreResult<Vec<AuditEntry>>;
        fn idempotent_response(&self, tenant: &TenantId, key: &str) -> StoreResult<Option<IdempotentResponse>>;
        fn counts(&self, tenant: &TenantId) -> StoreResult<Counts>;
    }
}

impl DataDir {
    /// Takes the data directory's exclusive lock, held for as long as the returned
    /// file lives: one `custos serve` per directory, and no key rotation under a
    /// running server (it keeps the old keys in memory and would go on using them).
    pub fn lock(&self, what: &str) -> anyhow::Result<std::fs::File> {
        let path = self.root.join("serve.lock");
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .with_context(|| format!("cannot open {}", path.display()))?;
        match file.try_lock() {
            Ok(()) => Ok(file),
            Err(std::fs::TryLockError::WouldBlock) => Err(InputError(format!(
                "{what}: a custos serve is running on {}; stop it first",
                self.root.display()
            ))
            .into()),
            Err(std::fs::TryLockError::Error(e)) => {
                Err(anyhow::Error::new(e).context(format!("cannot lock {}", path.display())))
            }
        }
    }
}

pub fn tenant(name: &str) -> anyhow::Result<TenantId> {
    TenantId::new(name)
        .ok_or_else(|| InputError(format!("`{name}` is not a tenant id (a-z, 0-9, -, _)")).into())
}

pub fn system_clock() -> Arc<dyn Clock> {
    Arc::new(SystemClock)
}

/// Whether the tenant has any admin key that is not revoked.
pub fn has_admin_key<S: Store>(store: &S, tenant: &TenantId) -> anyhow::Result<bool> {
    Ok(store
        .api_keys(tenant)?
        .iter()
        .any(|k| k.admin && k.revoked_at.is_none()))
}
