//! Writes a sample log's proof bundles and public key, to try `custos-verify` with
//! and to keep `docs/audit-proofs.md`'s example real:
//!
//! `cargo run -p custos-audit --example sample_bundle -- <out dir>`
//!
//! The signing seed is fixed and public: these bundles prove nothing about any
//! real log.

use std::io::Write as _;
use std::process::ExitCode;

use custos_audit::checkpoint::{Checkpoint, CheckpointSigner};
use custos_audit::merkle::MemoryTree;
use custos_audit::proof::{Leaf, ProofBundle};
use custos_audit::{EntryFields, canonical};

fn main() -> ExitCode {
    let Some(dir) = std::env::args().nth(1) else {
        let _ = writeln!(std::io::stderr(), "usage: sample_bundle <out dir>");
        return ExitCode::from(2);
    };
    let cats = vec!["user.contact.email".to_owned()];
    let entries: Vec<Vec<u8>> = (1..=5u64)
        .map(|seq| {
            canonical(&EntryFields {
                tenant: "acme",
                seq,
                at_micros: 1_700_000_000_000_000 + seq as i64 * 1_000_000,
                actor: "key:support",
                key_id: "k_1",
                action: "read",
                purpose: "support",
                subject: &format!("sub_{seq}"),
                categories: &cats,
                decision: "allow",
                reason: "",
                request_id: "",
            })
        })
        .collect();
    let mut tree = MemoryTree::new();
    entries.iter().for_each(|e| tree.append_entry(e));
    let signer = CheckpointSigner::from_seed(&[1; 32]);
    let result = (|| -> Result<(), Box<dyn std::error::Error>> {
        let signed = signer.sign(Checkpoint {
            tenant: "acme".into(),
            tree_size: 5,
            root_hash: tree.root(),
            timestamp_micros: 1_700_000_100_000_000,
        })?;
        let entry = entries.get(2).cloned().unwrap_or_default();
        let inc = ProofBundle::inclusion(&tree, signed.clone(), 2, Leaf::Entry(entry))?;
        let con = ProofBundle::consistency(&tree, signed, 3)?;
        let dir = std::path::Path::new(&dir);
        std::fs::write(
            dir.join("log.pub"),
            format!("{}\n", signer.public_key().to_base64()),
        )?;
        std::fs::write(dir.join("inclusion.json"), inc.to_json())?;
        std::fs::write(dir.join("consistency.json"), con.to_json())?;
        Ok(())
    })();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "sample_bundle: {e}");
            ExitCode::from(1)
        }
    }
}
