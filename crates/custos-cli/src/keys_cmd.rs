//! `custos keys …`: issue, list, revoke API keys; rotate the key-encryption keys.

use std::path::PathBuf;

use clap::Subcommand;
use custos_core::api_keys::{self, KeySpec};
use custos_core::keys::rewrap_tenant;
use custos_crypto::KeyRing;
use custos_store::Store;

use crate::InputError;
use crate::datadir::{DEFAULT_TENANT, DataDir, system_clock, tenant};
use crate::output::emit;

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Issue an API key; the token is printed once.
    Create {
        /// The policy recipient (role) the key reads as.
        #[arg(long)]
        role: String,
        /// Limit the key to these purposes (repeatable).
        #[arg(long = "purpose")]
        purposes: Vec<String>,
        /// May manage keys.
        #[arg(long)]
        admin: bool,
        #[arg(long, default_value = "")]
        label: String,
        #[command(flatten)]
        place: Place,
    },
    /// List API keys (never their secrets).
    List {
        #[command(flatten)]
        place: Place,
    },
    /// Revoke an API key by id.
    Revoke {
        id: String,
        #[command(flatten)]
        place: Place,
    },
    /// Add a new master key version and re-wrap every data key under it.
    Rotate {
        /// Remove the previous master key versions once every data key is re-wrapped.
        #[arg(long)]
        retire_old: bool,
        #[command(flatten)]
        place: Place,
    },
}

#[derive(Debug, clap::Args)]
pub struct Place {
    #[arg(long, env = "CUSTOS_DATA_DIR", default_value = "custos-data")]
    pub data_dir: PathBuf,
    #[arg(long, env = "CUSTOS_DATABASE_URL")]
    pub database_url: Option<String>,
    #[arg(long, default_value = DEFAULT_TENANT)]
    pub tenant: String,
    /// The key file (default: keys.json in the data directory), as `serve --key-file`.
    #[arg(long, env = "CUSTOS_KEY_FILE")]
    pub key_file: Option<PathBuf>,
}

pub fn run(cmd: KeysCommand) -> anyhow::Result<()> {
    let clock = system_clock();
    match cmd {
        KeysCommand::Create {
            role,
            purposes,
            admin,
            label,
            place,
        } => {
            let dir = DataDir::new(&place.data_dir).with_key_file(place.key_file.clone());
            let store = dir.store(place.database_url.as_deref())?;
            let (_, keys) = dir.key_ring()?;
            let t = tenant(&place.tenant)?;
            let vault_policy = custos_core::tenant::PolicyCache::default();
            let policy = vault_policy
                .in_force(store.as_ref(), &t, clock.now())
                .map_err(|e| InputError(e.to_string()))?;
            if !admin && !policy.policy.recipient.contains_key(&role) {
                let roles: Vec<&str> = policy.policy.recipient.keys().map(String::as_str).collect();
                return Err(InputError(format!(
                    "`{role}` is not a recipient in the policy; roles: {}",
                    roles.join(", ")
                ))
                .into());
            }
            if let Some(p) = purposes
                .iter()
                .find(|p| !policy.policy.purpose.contains_key(*p))
            {
                return Err(InputError(format!("purpose `{p}` is not in the policy")).into());
            }
            let spec = KeySpec {
                label,
                role,
                purposes,
                admin,
            };
            let issued =
                api_keys::issue(store.as_ref(), &keys, &t, &spec, "operator", clock.now())?;
            emit(
                &format!(
                    "{}\n(shown once; key id {})",
                    issued.token.as_str(),
                    issued.key.id
                ),
                None,
            )
        }
        KeysCommand::List { place } => {
            let dir = DataDir::new(&place.data_dir).with_key_file(place.key_file.clone());
            let store = dir.store(place.database_url.as_deref())?;
            let t = tenant(&place.tenant)?;
            let mut out = String::new();
            for k in store.api_keys(&t)? {
                let state = if k.revoked_at.is_some() {
                    "revoked"
                } else {
                    "active"
                };
                out.push_str(&format!(
                    "{}  {:<8} role={}{} {}\n",
                    k.id,
                    state,
                    k.role,
                    if k.admin { " admin" } else { "" },
                    k.label
                ));
            }
            emit(&out, None)
        }
        KeysCommand::Revoke { id, place } => {
            let dir = DataDir::new(&place.data_dir).with_key_file(place.key_file.clone());
            let store = dir.store(place.database_url.as_deref())?;
            let t = tenant(&place.tenant)?;
            api_keys::revoke(store.as_ref(), &t, &id, "operator", clock.now())
                .map_err(|e| InputError(format!("{e}: no key `{id}` in tenant {t}")))?;
            emit(&format!("revoked {id}"), None)
        }
        KeysCommand::Rotate { retire_old, place } => {
            let dir = DataDir::new(&place.data_dir).with_key_file(place.key_file.clone());
            let _lock = dir.lock("cannot rotate keys")?;
            // The database first: it refuses a key file that is not its own.
            let store = dir.store(place.database_url.as_deref())?;
            let (mut file, _) = dir.key_ring()?;
            let version = file.rotate(&clock.now().to_string())?;
            // The new version is saved before any data key uses it, so a crash in
            // between leaves keys wrapped under versions the file still holds.
            file.save(&dir.keys())?;
            let ring = KeyRing::from_keyfile(&file);
            let mut total = 0;
            for tenant in store.tenants()? {
                total += rewrap_tenant(store.as_ref(), &ring, &tenant.id, 1000, clock.now())?;
            }
            if retire_old {
                let old: Vec<u32> = file
                    .master_keys()
                    .iter()
                    .map(|k| k.version())
                    .filter(|v| *v != version)
                    .collect();
                for v in old {
                    file.remove_master_key(v)?;
                }
                file.save(&dir.keys())?;
            }
            emit(
                &format!(
                    "key version {version}: re-wrapped {total} data key(s){}",
                    if retire_old {
                        "; old versions removed"
                    } else {
                        ""
                    }
                ),
                None,
            )
        }
    }
}
