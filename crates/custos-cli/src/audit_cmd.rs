//! `custos audit`: verify every tenant's log (hash chain, Merkle tree, signed
//! checkpoints), sign a checkpoint, produce proof bundles, print the public key.
//! The formats are in docs/audit-proofs.md; `custos-verify` checks the bundles.

use std::path::PathBuf;

use clap::Subcommand;
use custos_audit::external;
use custos_core::audit::{
    check_external, checkpoint, prove_consistency, prove_inclusion, verify_log,
};
use custos_store::Store;

use crate::InputError;
use crate::datadir::{DEFAULT_TENANT, DataDir, system_clock, tenant};
use crate::external_checkpoints;
use crate::output::emit;

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Recompute every tenant's hash chain and Merkle tree and check every signed
    /// checkpoint against them, and the log against the checkpoints kept outside
    /// the database (a shorter log is a truncation); exit 2 naming what broke.
    Verify {
        #[arg(long, env = "CUSTOS_DATA_DIR", default_value = "custos-data")]
        data_dir: PathBuf,
        #[arg(long, env = "CUSTOS_DATABASE_URL")]
        database_url: Option<String>,
        /// The checkpoint file to check against (default: checkpoints.json in the
        /// data directory; `<file>.checkpoints.json` beside a --database-url
        /// SQLite file), e.g. the copy a witness kept.
        #[arg(long)]
        checkpoint_file: Option<PathBuf>,
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
            checkpoint_file,
        } => verify(
            &DataDir::new(&data_dir),
            database_url.as_deref(),
            checkpoint_file,
        ),
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
            for w in external_checkpoints::publish(
                &external_checkpoints::file_path(&dir, database_url.as_deref()),
                store.as_ref(),
                &keys,
                now,
                external_checkpoints::witness(),
                true,
            ) {
                eprintln!("warning: {w}");
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

fn verify(
    dir: &DataDir,
    database_url: Option<&str>,
    checkpoint_file: Option<PathBuf>,
) -> anyhow::Result<()> {
    let store = dir.store(database_url)?;
    let (_, keys) = dir.key_ring()?;
    let public_key = keys.audit_signer()?.public_key();
    let path =
        checkpoint_file.unwrap_or_else(|| external_checkpoints::file_path(dir, database_url));
    // An unreadable or damaged file fails every tenant: it may hide a truncation.
    let kept = external_checkpoints::load(&path).map_err(InputError)?;
    let mut broken = Vec::new();
    let mut out = String::new();
    let tenants = store.tenants()?;
    for t in &tenants {
        let outside = kept.as_ref().and_then(|f| f.tenants.get(t.id.as_str()));
        let checked = verify_log(store.as_ref(), &t.id, &public_key)
            .map_err(|e| e.to_string())
            .and_then(|r| match outside {
                Some(k) => check_external(store.as_ref(), &t.id, &public_key, r.tree_size, k)
                    .map(|c| (r, Some(c)))
                    .map_err(|e| e.to_string()),
                None => Ok((r, None)),
            });
        match checked {
            Ok((r, c)) => {
                let hex = |h: &[u8; 32]| -> String {
                    h.iter().take(8).map(|b| format!("{b:02x}")).collect()
                };
                let outside = match c {
                    None => "no checkpoint kept outside".to_owned(),
                    Some(c) if c.restored => format!(
                        "checked against the file up to {} (a signed restore from backup honoured)",
                        c.covered
                    ),
                    Some(c) => format!("checked against the file up to {}", c.covered),
                };
                out.push_str(&format!(
                    "{}: ok, {} entries, head {}…, tree of {} (root {}…), {} checkpoint(s) up to {}, {outside}\n",
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
    // A tenant the file knows and the database does not lost its whole log.
    for (name, k) in kept.iter().flat_map(|f| f.tenants.iter()) {
        if tenants.iter().any(|t| t.id.as_str() == name) {
            continue;
        }
        let e = external::check(k, name, &public_key, 0, |_| {
            Err("the database has no such tenant".to_owned())
        });
        if let Err(e) = e {
            out.push_str(&format!("{name}: BROKEN: {e}\n"));
            broken.push(format!("{name} ({e})"));
        }
    }
    if kept.is_none() {
        out.push_str(&format!(
            "note: no checkpoint file at {}: a truncation of the log would go unseen\n",
            path.display()
        ));
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
