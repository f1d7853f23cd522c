//! `custos audit verify`: check every tenant's audit chain.

use std::path::PathBuf;

use clap::Subcommand;
use custos_core::audit::verify_chain;
use custos_store::Store;

use crate::InputError;
use crate::datadir::DataDir;
use crate::output::emit;

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Recompute the hash chain of every tenant; exit 2 at the first break.
    Verify {
        #[arg(long, env = "CUSTOS_DATA_DIR", default_value = "custos-data")]
        data_dir: PathBuf,
        #[arg(long, env = "CUSTOS_DATABASE_URL")]
        database_url: Option<String>,
    },
}

pub fn run(cmd: AuditCommand) -> anyhow::Result<()> {
    let AuditCommand::Verify {
        data_dir,
        database_url,
    } = cmd;
    let store = DataDir::new(&data_dir).store(database_url.as_deref())?;
    let mut broken = Vec::new();
    let mut out = String::new();
    for t in store.tenants()? {
        match verify_chain(store.as_ref(), &t.id) {
            Ok(r) => {
                let head: String = r.head.iter().take(8).map(|b| format!("{b:02x}")).collect();
                out.push_str(&format!(
                    "{}: ok, {} entries, head {head}…\n",
                    t.id, r.entries
                ));
            }
            Err(e) => {
                out.push_str(&format!("{}: BROKEN: {e}\n", t.id));
                broken.push(t.id.to_string());
            }
        }
    }
    emit(&out, None)?;
    if broken.is_empty() {
        Ok(())
    } else {
        Err(InputError(format!(
            "audit chain broken for tenant(s): {}",
            broken.join(", ")
        ))
        .into())
    }
}
