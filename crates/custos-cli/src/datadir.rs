//! The data directory of the embedded default: the SQLite database, the key file
//! and the policy file, created on first run.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use custos_core::clock::{Clock, SystemClock};
use custos_crypto::{KeyFile, KeyRing};
use custos_store::{Store, TenantId};
use custos_store_sqlite::{SqliteOptions, SqliteStore};

use crate::InputError;

/// The policy bundled into the binary, used when the data directory has none.
pub const BUNDLED_POLICY: &str = include_str!("../../../policies/plume-sasu.toml");

/// The tenant the embedded default runs.
pub const DEFAULT_TENANT: &str = "default";

#[derive(Debug, Clone)]
pub struct DataDir {
    pub root: PathBuf,
}

impl DataDir {
    pub fn new(root: &Path) -> Self {
        DataDir {
            root: root.to_owned(),
        }
    }

    pub fn keys(&self) -> PathBuf {
        self.root.join("keys.json")
    }

    pub fn database(&self) -> PathBuf {
        self.root.join("custos.db")
    }

    pub fn policy(&self) -> PathBuf {
        self.root.join("policy.toml")
    }

    /// Creates the directory (0700) and the key file (0600) if missing; returns
    /// whether this was the first run.
    pub fn init(&self, clock: &dyn Clock) -> anyhow::Result<bool> {
        let first = !self.keys().exists();
        if !self.root.exists() {
            std::fs::create_dir_all(&self.root)
                .with_context(|| format!("cannot create {}", self.root.display()))?;
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&self.root, std::fs::Permissions::from_mode(0o700))?;
        }
        if first {
            KeyFile::create_new(&self.keys(), &clock.now().to_string())
                .with_context(|| format!("cannot create the key file {}", self.keys().display()))?;
        }
        if !self.policy().exists() {
            std::fs::write(self.policy(), BUNDLED_POLICY)
                .with_context(|| format!("cannot write {}", self.policy().display()))?;
        }
        Ok(first)
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
        let file = KeyFile::load(&self.keys()).map_err(|e| InputError(e.to_string()))?;
        let ring = Arc::new(KeyRing::from_keyfile(&file));
        Ok((file, ring))
    }

    pub fn store(&self, database_url: Option<&str>) -> anyhow::Result<Arc<SqliteStore>> {
        self.store_with(database_url, SqliteOptions::default())
    }

    pub fn store_with(
        &self,
        database_url: Option<&str>,
        options: SqliteOptions,
    ) -> anyhow::Result<Arc<SqliteStore>> {
        let path = match database_url {
            None => self.database(),
            Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
                return Err(InputError(
                    "PostgreSQL is not available in this build yet; use the embedded SQLite default (omit --database-url) or sqlite:///path/file.db".into(),
                )
                .into());
            }
            Some(url) => PathBuf::from(url.strip_prefix("sqlite://").unwrap_or(url)),
        };
        let store = SqliteStore::open(&path, options)
            .with_context(|| format!("cannot open the database {}", path.display()))?;
        Ok(Arc::new(store))
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
