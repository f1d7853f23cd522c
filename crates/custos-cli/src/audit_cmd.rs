//! `custos audit`: verify every tenant's log (hash chain, Merkle tree, signed
//! checkpoints), sign a checkpoint, produce proof bundles, print the public key.
//! The formats are in docs/audit-proofs.md; `custos-verify` checks the bundles.

use std::path::PathBuf;

use clap::Subcommand;
use custos_core::audit::{checkpoint, prove_consistency, prove_inclusion, verify_log};
use custos_store::Store;

use crate::InputError;
use crate::datadir::{DEFAULT_TENANT, DataDir, system_clock, tenant};
use crate::output::emit;

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Recompute every tenant's hash chain and Merkle tree and check every signed
    /// checkpoint against them; exit 2 naming what broke.
    Verify {
        #[arg(long, env = "CUSTOS_DATA_DIR", default_value = "custos-data")]
        data_dir: PathBuf,
        #[arg(long, env = "CUSTOS_DATABASE_URL")]
        database_url: Option<String>,
    },
    /// Sign a checkpoint of each tenant's log now, if it grew since the last one
    /// (`custos serve` does this every 5 seconds).
    Checkpoint {
        #[arg(long, env = "CUSTOS_DATA_DIR", default_value = "custos-data")]
        data_dir: PathBuf,
        #[arg(long, env = "CUSTOS_DATABASE_URL")]
        database_url: Option<String>,
    },
    /// Write a proof bundle against the tenant's latest checkpoint: that entry N is
    /// in the log (--entry), or that the log's first SIZE entries are unchanged
    /// (--from). Check it with `custos-verify --public-key KEY FILE`.
    Prove {
        #[arg(long, default_value = DEFAULT_TENANT)]
        tenant: String,
        /// The entry's index in the log: its seq − 1 (the bundle's `entry_index`).
        #[arg(long, conflicts_with = "from", required_unless_present = "from")]
        entry: Option<u64>,
        /// The size of the earlier log a consistency proof starts from.
        #[arg(long)]
        from: Option<u64>,
        /// Where to write the bundle (default: stdout).
        #[arg(long, short)]
        output: Option<PathBuf>,
        #[arg(long, env = "CUSTOS_DATA_DIR", default_value = "custos-data")]
        data_dir: PathBuf,
        #[arg(long, env = "CUSTOS_DATABASE_URL")]
        database_url: Option<String>,
    },
    /// Print the base64 Ed25519 public key that checkpoints are signed with.
    PublicKey {
        #[arg(long, env = "CUSTOS_DATA_DIR", default_value = "custos-data")]
        data_dir: PathBuf,
    },
}

pub fn run(cmd: AuditCommand) -> anyhow::Result<()> {
    match cmd {
        AuditCommand::Verify {
            data_dir,
            database_url,
        } => verify(&DataDir::new(&data_dir), database_url.as_deref()),
        AuditCommand::Checkpoint {
            data_dir,
            database_url,
        } => {
            let dir = DataDir::new(&data_dir);
            let store = dir.store(database_url.as_deref())?;
            let (_, keys) = dir.key_ring()?;
            let now = system_clock().now();
            let mut out = String::new();
            for t in store.tenants()? {
                match checkpoint(store.as_ref(), &keys, &t.id, now)? {
                    Some(c) => out.push_str(&format!(
                        "{}: signed checkpoint at size {}\n",
                        t.id, c.checkpoint.tree_size
                    )),
                    None => out.push_str(&format!("{}: nothing new to sign\n", t.id)),
                }
            }
            emit(&out, None)
        }
        AuditCommand::Prove {
            tenant: name,
            entry,
            from,
            output,
            data_dir,
            database_url,
        } => {
            let tenant = tenant(&name)?;
            let store = DataDir::new(&data_dir).store(database_url.as_deref())?;
            let bundle = match (entry, from) {
                (Some(index), _) => prove_inclusion(store.as_ref(), &tenant, index),
                (None, Some(size)) => prove_consistency(store.as_ref(), &tenant, size),
                (None, None) => return Err(InputError("give --entry or --from".into()).into()),
            }
            .map_err(|e| match e {
                custos_core::audit::ProveError::Store(e) => anyhow::Error::new(e),
                other => InputError(other.to_string()).into(),
            })?;
            emit(&bundle.to_json(), output.as_deref())
        }
        AuditCommand::PublicKey { data_dir } => {
            let (_, keys) = DataDir::new(&data_dir).key_ring()?;
            emit(&keys.audit_signer()?.public_key().to_base64(), None)
        }
    }
}

fn verify(dir: &DataDir, database_url: Option<&str>) -> anyhow::Result<()> {
    let store = dir.store(database_url)?;
    let (_, keys) = dir.key_ring()?;
    let public_key = keys.audit_signer()?.public_key();
    let mut broken = Vec::new();
    let mut out = String::new();
    for t in store.tenants()? {
        match verify_log(store.as_ref(), &t.id, &public_key) {
            Ok(r) => {
                let hex = |h: &[u8; 32]| -> String {
                    h.iter().take(8).map(|b| format!("{b:02x}")).collect()
                };
                out.push_str(&format!(
                    "{}: ok, {} entries, head {}…, tree of {} (root {}…), {} checkpoint(s) up to {}\n",
                    t.id,
                    r.entries,
                    hex(&r.chain_head),
                    r.tree_size,
                    hex(&r.root),
                    r.checkpoints,
                    r.checkpointed
                ));
            }
            Err(e) => {
                out.push_str(&format!("{}: BROKEN: {e}\n", t.id));
                broken.push(format!("{} ({e})", t.id));
            }
        }
    }
    emit(&out, None)?;
    if broken.is_empty() {
        Ok(())
    } else {
        Err(InputError(format!(
            "audit log broken for tenant(s): {}",
            broken.join(", ")
        ))
        .into())
    }
}
