//! Proof bundles: one JSON document that a third party checks with nothing but the
//! log's Ed25519 public key (`custos-verify`, or their own code following
//! `docs/audit-proofs.md`).
//!
//! Two kinds, both with `"version": 1` and a signed `checkpoint`:
//!
//! ```json
//! {"version": 1, "kind": "inclusion", "tenant": "acme", "entry_index": 2,
//!  "entry": "<base64 canonical entry bytes>"  (or "leaf_hash": "<base64>"),
//!  "tree_size": 5, "audit_path": ["<base64>", ...],
//!  "checkpoint": {"tenant": "acme", "tree_size": 5, "root_hash": "<base64>",
//!                 "timestamp_micros": 1700000000000000, "signature": "<base64>"}}
//!
//! {"version": 1, "kind": "consistency", "tenant": "acme", "old_size": 3,
//!  "old_root": "<base64>", "proof": ["<base64>", ...], "checkpoint": {...}}
//! ```
//!
//! Base64 is standard with padding, non-canonical trailing bits refused. Unknown,
//! duplicate, missing or misplaced fields are refused, so the document has one
//! meaning. The checks, in order: the checkpoint's signature; that `tenant` (and
//! `tree_size`) repeat the checkpoint's; for an entry, that it decodes, names the
//! same tenant and has `seq = entry_index + 1`; then the Merkle proof against the
//! checkpoint's root.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde::{Deserialize, Serialize};

use crate::checkpoint::{
    self, Checkpoint, CheckpointError, PublicKey, SignedCheckpoint, decode_hash,
};
use crate::entry::{DecodeError, Entry};
use crate::merkle::{self, Hash, NodeSource, ProveError, VerifyError};

/// The bundle format version this crate writes and reads.
pub const BUNDLE_VERSION: u32 = 1;

/// What the leaf of an inclusion proof is given as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Leaf {
    /// The entry's canonical bytes ([`crate::canonical`]); the verifier hashes and
    /// decodes them, so it can show what was proven.
    Entry(Vec<u8>),
    /// Only the leaf hash, when the entry itself is not to be disclosed.
    Hash(Hash),
}

impl Leaf {
    pub fn hash(&self) -> Hash {
        match self {
            Leaf::Entry(bytes) => merkle::leaf_hash(bytes),
            Leaf::Hash(h) => *h,
        }
    }
}

/// A proof with the checkpoint it is relative to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProofBundle {
    Inclusion {
        checkpoint: SignedCheckpoint,
        entry_index: u64,
        leaf: Leaf,
        audit_path: Vec<Hash>,
    },
    Consistency {
        checkpoint: SignedCheckpoint,
        old_size: u64,
        old_root: Hash,
        proof: Vec<Hash>,
    },
}

/// What a bundle proved, once [`verify_bundle`] accepts it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verified {
    /// Entry `entry_index` (with this leaf hash) is in the log the checkpoint signs.
    Inclusion {
        checkpoint: Checkpoint,
        entry_index: u64,
        leaf_hash: Hash,
        /// The entry, when the bundle disclosed it (boxed: it is most of the size).
        entry: Option<Box<Entry>>,
    },
    /// The log of `old_size` entries with root `old_root` is a prefix of the log
    /// the checkpoint signs.
    Consistency {
        checkpoint: Checkpoint,
        old_size: u64,
        old_root: Hash,
    },
}

/// Why a bundle is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    #[error("not a proof bundle: {0}")]
    Json(String),
    #[error("unsupported bundle version {0} (this verifier reads version 1)")]
    Version(u32),
    #[error("a {kind} bundle needs the field `{field}`")]
    MissingField {
        kind: &'static str,
        field: &'static str,
    },
    #[error("a {kind} bundle must not have the field `{field}`")]
    UnexpectedField {
        kind: &'static str,
        field: &'static str,
    },
    #[error("field `{0}` is not standard base64 of the right length")]
    Base64(&'static str),
    #[error("an inclusion bundle needs exactly one of `entry` and `leaf_hash`")]
    LeafAmbiguous,
    #[error("checkpoint: {0}")]
    Checkpoint(#[from] CheckpointError),
    #[error("`{0}` does not match the signed checkpoint")]
    NotInCheckpoint(&'static str),
    #[error("entry: {0}")]
    Entry(#[from] DecodeError),
    #[error("entry belongs to tenant {found:?}, not the checkpoint's")]
    EntryTenant { found: String },
    #[error("entry has seq {seq}, but entry_index {index} holds seq {}", index + 1)]
    EntrySeq { seq: u64, index: u64 },
    #[error("proof: {0}")]
    Proof(#[from] VerifyError),
}

/// The checkpoint as JSON: the body's fields plus the signature.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct CheckpointJson {
    tenant: String,
    tree_size: u64,
    root_hash: String,
    timestamp_micros: i64,
    signature: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Kind {
    Inclusion,
    Consistency,
}

/// Every field of either kind; [`ProofBundle::from_json`] checks which belong.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct BundleJson {
    version: u32,
    kind: Kind,
    tenant: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    entry_index: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    entry: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    leaf_hash: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    tree_size: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    audit_path: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    old_size: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    old_root: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    proof: Option<Vec<String>>,
    checkpoint: CheckpointJson,
}

impl ProofBundle {
    /// An inclusion proof of entry `entry_index` in the tree the checkpoint signs.
    pub fn inclusion<S: NodeSource>(
        src: &S,
        checkpoint: SignedCheckpoint,
        entry_index: u64,
        leaf: Leaf,
    ) -> Result<ProofBundle, ProveError<S::Error>> {
        let audit_path =
            merkle::inclusion_proof(src, entry_index, checkpoint.checkpoint.tree_size)?;
        Ok(ProofBundle::Inclusion {
            checkpoint,
            entry_index,
            leaf,
            audit_path,
        })
    }

    /// A consistency proof from the tree of `old_size` entries to the one the
    /// checkpoint signs.
    pub fn consistency<S: NodeSource>(
        src: &S,
        checkpoint: SignedCheckpoint,
        old_size: u64,
    ) -> Result<ProofBundle, ProveError<S::Error>> {
        let new_size = checkpoint.checkpoint.tree_size;
        let proof = merkle::consistency_proof(src, old_size, new_size)?;
        let old_root = merkle::root_at(src, old_size)?;
        Ok(ProofBundle::Consistency {
            checkpoint,
            old_size,
            old_root,
            proof,
        })
    }

    pub fn checkpoint(&self) -> &SignedCheckpoint {
        match self {
            ProofBundle::Inclusion { checkpoint, .. }
            | ProofBundle::Consistency { checkpoint, .. } => checkpoint,
        }
    }

    /// The bundle as pretty-printed JSON (the documented format).
    pub fn to_json(&self) -> String {
        let cp = self.checkpoint();
        let checkpoint = CheckpointJson {
            tenant: cp.checkpoint.tenant.clone(),
            tree_size: cp.checkpoint.tree_size,
            root_hash: B64.encode(cp.checkpoint.root_hash),
            timestamp_micros: cp.checkpoint.timestamp_micros,
            signature: B64.encode(cp.signature),
        };
        let hashes = |hs: &[Hash]| hs.iter().map(|h| B64.encode(h)).collect::<Vec<_>>();
        let mut json = BundleJson {
            version: BUNDLE_VERSION,
            kind: Kind::Inclusion,
            tenant: cp.checkpoint.tenant.clone(),
            entry_index: None,
            entry: None,
            leaf_hash: None,
            tree_size: None,
            audit_path: None,
            old_size: None,
            old_root: None,
            proof: None,
            checkpoint,
        };
        match self {
            ProofBundle::Inclusion {
                entry_index,
                leaf,
                audit_path,
                checkpoint,
            } => {
                json.entry_index = Some(*entry_index);
                match leaf {
                    Leaf::Entry(bytes) => json.entry = Some(B64.encode(bytes)),
                    Leaf::Hash(h) => json.leaf_hash = Some(B64.encode(h)),
                }
                json.tree_size = Some(checkpoint.checkpoint.tree_size);
                json.audit_path = Some(hashes(audit_path));
            }
            ProofBundle::Consistency {
                old_size,
                old_root,
                proof,
                ..
            } => {
                json.kind = Kind::Consistency;
                json.old_size = Some(*old_size);
                json.old_root = Some(B64.encode(old_root));
                json.proof = Some(hashes(proof));
            }
        }
        // Only strings, integers and arrays of them: serialising cannot fail.
        serde_json::to_string_pretty(&json).unwrap_or_default()
    }

    /// Parses a bundle. Shape only: [`verify_bundle`] does the checks.
    pub fn from_json(json: &[u8]) -> Result<ProofBundle, ProofError> {
        let raw: BundleJson =
            serde_json::from_slice(json).map_err(|e| ProofError::Json(e.to_string()))?;
        if raw.version != BUNDLE_VERSION {
            return Err(ProofError::Version(raw.version));
        }
        let cp = &raw.checkpoint;
        let checkpoint = SignedCheckpoint {
            checkpoint: Checkpoint {
                tenant: cp.tenant.clone(),
                tree_size: cp.tree_size,
                root_hash: decode_hash(&cp.root_hash)
                    .ok_or(ProofError::Base64("checkpoint.root_hash"))?,
                timestamp_micros: cp.timestamp_micros,
            },
            signature: B64
                .decode(&cp.signature)
                .ok()
                .and_then(|s| s.try_into().ok())
                .ok_or(ProofError::Base64("checkpoint.signature"))?,
        };
        if raw.tenant != checkpoint.checkpoint.tenant {
            return Err(ProofError::NotInCheckpoint("tenant"));
        }
        match raw.kind {
            Kind::Inclusion => {
                let kind = "inclusion";
                forbid(kind, "old_size", raw.old_size.is_some())?;
                forbid(kind, "old_root", raw.old_root.is_some())?;
                forbid(kind, "proof", raw.proof.is_some())?;
                let leaf = match (raw.entry, raw.leaf_hash) {
                    (Some(e), None) => {
                        Leaf::Entry(B64.decode(e).map_err(|_| ProofError::Base64("entry"))?)
                    }
                    (None, Some(h)) => {
                        Leaf::Hash(decode_hash(&h).ok_or(ProofError::Base64("leaf_hash"))?)
                    }
                    _ => return Err(ProofError::LeafAmbiguous),
                };
                let tree_size = need(kind, "tree_size", raw.tree_size)?;
                if tree_size != checkpoint.checkpoint.tree_size {
                    return Err(ProofError::NotInCheckpoint("tree_size"));
                }
                Ok(ProofBundle::Inclusion {
                    checkpoint,
                    entry_index: need(kind, "entry_index", raw.entry_index)?,
                    leaf,
                    audit_path: decode_hashes(
                        need(kind, "audit_path", raw.audit_path)?,
                        "audit_path",
                    )?,
                })
            }
            Kind::Consistency => {
                let kind = "consistency";
                forbid(kind, "entry_index", raw.entry_index.is_some())?;
                forbid(kind, "entry", raw.entry.is_some())?;
                forbid(kind, "leaf_hash", raw.leaf_hash.is_some())?;
                forbid(kind, "tree_size", raw.tree_size.is_some())?;
                forbid(kind, "audit_path", raw.audit_path.is_some())?;
                let old_root = need(kind, "old_root", raw.old_root)?;
                Ok(ProofBundle::Consistency {
                    checkpoint,
                    old_size: need(kind, "old_size", raw.old_size)?,
                    old_root: decode_hash(&old_root).ok_or(ProofError::Base64("old_root"))?,
                    proof: decode_hashes(need(kind, "proof", raw.proof)?, "proof")?,
                })
            }
        }
    }

    /// Checks the bundle against the log's public key.
    pub fn verify(&self, public_key: &PublicKey) -> Result<Verified, ProofError> {
        checkpoint::verify(public_key, self.checkpoint())?;
        match self {
            ProofBundle::Inclusion {
                checkpoint,
                entry_index,
                leaf,
                audit_path,
            } => {
                let cp = &checkpoint.checkpoint;
                let entry = match leaf {
                    Leaf::Entry(bytes) => {
                        let e = Entry::decode(bytes)?;
                        if e.tenant != cp.tenant {
                            return Err(ProofError::EntryTenant { found: e.tenant });
                        }
                        if e.seq.checked_sub(1) != Some(*entry_index) {
                            return Err(ProofError::EntrySeq {
                                seq: e.seq,
                                index: *entry_index,
                            });
                        }
                        Some(Box::new(e))
                    }
                    Leaf::Hash(_) => None,
                };
                let leaf_hash = leaf.hash();
                merkle::verify_inclusion(
                    *entry_index,
                    cp.tree_size,
                    &leaf_hash,
                    audit_path,
                    &cp.root_hash,
                )?;
                Ok(Verified::Inclusion {
                    checkpoint: cp.clone(),
                    entry_index: *entry_index,
                    leaf_hash,
                    entry,
                })
            }
            ProofBundle::Consistency {
                checkpoint,
                old_size,
                old_root,
                proof,
            } => {
                let cp = &checkpoint.checkpoint;
                merkle::verify_consistency(
                    *old_size,
                    cp.tree_size,
                    old_root,
                    &cp.root_hash,
                    proof,
                )?;
                Ok(Verified::Consistency {
                    checkpoint: cp.clone(),
                    old_size: *old_size,
                    old_root: *old_root,
                })
            }
        }
    }
}

/// Parses and checks a JSON bundle with only the log's public key.
pub fn verify_bundle(json: &[u8], public_key: &PublicKey) -> Result<Verified, ProofError> {
    ProofBundle::from_json(json)?.verify(public_key)
}

fn need<T>(kind: &'static str, field: &'static str, v: Option<T>) -> Result<T, ProofError> {
    v.ok_or(ProofError::MissingField { kind, field })
}

fn forbid(kind: &'static str, field: &'static str, present: bool) -> Result<(), ProofError> {
    if present {
        Err(ProofError::UnexpectedField { kind, field })
    } else {
        Ok(())
    }
}

fn decode_hashes(texts: Vec<String>, field: &'static str) -> Result<Vec<Hash>, ProofError> {
    texts
        .iter()
        .map(|t| decode_hash(t).ok_or(ProofError::Base64(field)))
        .collect()
}
