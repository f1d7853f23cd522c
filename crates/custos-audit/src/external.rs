//! Checkpoints kept outside the database (issue 17, point 10).
//!
//! Checkpoints stored in the database do not reveal a truncation: whoever deletes
//! the last entries can delete the tree nodes and checkpoints above them too, and
//! the shorter log verifies. So the newest signed checkpoint of each tenant is
//! also kept where the database's editor does not write (a file in the data
//! directory, a witness), and a log shorter than it, or whose root at its size
//! differs, fails verification.
//!
//! A restore from backup makes the log legitimately shorter. The operator then
//! signs a *restore statement* (with the same key as checkpoints): "tenant T's log
//! was restored to its first N entries (root R); the checkpoint of size M (root X)
//! kept outside before the restore no longer applies". Verification honours it:
//! the restored prefix must be in the log, and that one superseded checkpoint is
//! not held against the log; every later checkpoint is.
//!
//! The restore statement's body is seven lines, each ending in `\n`, signed like a
//! checkpoint (Ed25519 over exactly these bytes); its first line differs from a
//! checkpoint's, so neither signature can stand for the other:
//!
//! ```text
//! custos-audit-restore/v1
//! <tenant>
//! <restored tree size, decimal>
//! <restored root hash, standard base64 with padding>
//! <superseded tree size, decimal>
//! <superseded root hash, standard base64 with padding>
//! <timestamp, microseconds since the Unix epoch>
//! ```
//!
//! The file (JSON, [`CheckpointFile`]) keeps per tenant the newest checkpoint and
//! the newest restore statement, each as its signed body and base64 signature:
//!
//! ```json
//! {"format":"custos-checkpoints/v1","tenants":{"default":{
//!   "checkpoint":{"body":"custos-audit/v1\ndefault\n…","signature":"…"},
//!   "restore":{"body":"custos-audit-restore/v1\ndefault\n…","signature":"…"}}}}
//! ```
//!
//! Nothing in it names a person: tenants, sizes, hashes, times.

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde::{Deserialize, Serialize};

use crate::checkpoint::{
    self, Checkpoint, CheckpointError, CheckpointSigner, PublicKey, SignedCheckpoint, decode_hash,
};
use crate::merkle::Hash;

/// The `format` of the checkpoint file.
pub const FORMAT: &str = "custos-checkpoints/v1";

/// The first line of every restore statement body.
pub const RESTORE_HEADER: &str = "custos-audit-restore/v1";

/// A tree's size and root.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TreeHead {
    pub size: u64,
    pub root: Hash,
}

impl TreeHead {
    pub fn of(checkpoint: &Checkpoint) -> TreeHead {
        TreeHead {
            size: checkpoint.tree_size,
            root: checkpoint.root_hash,
        }
    }
}

/// "The log was restored from a backup holding its first `restored.size` entries;
/// it continues from entry `restored.size + 1`; the checkpoint `superseded`, kept
/// outside before the restore, no longer applies."
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Restore {
    pub tenant: String,
    pub restored: TreeHead,
    pub superseded: TreeHead,
    /// Microseconds since the Unix epoch.
    pub timestamp_micros: i64,
}

/// A restore statement with its Ed25519 signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedRestore {
    pub restore: Restore,
    pub signature: [u8; 64],
}

impl Restore {
    /// The canonical body, the bytes that are signed.
    pub fn body(&self) -> Result<String, CheckpointError> {
        // The checkpoint's tenant rule (non-empty, no control characters).
        Checkpoint {
            tenant: self.tenant.clone(),
            tree_size: 0,
            root_hash: [0; 32],
            timestamp_micros: 0,
        }
        .body()?;
        Ok(format!(
            "{RESTORE_HEADER}\n{}\n{}\n{}\n{}\n{}\n{}\n",
            self.tenant,
            self.restored.size,
            B64.encode(self.restored.root),
            self.superseded.size,
            B64.encode(self.superseded.root),
            self.timestamp_micros
        ))
    }

    /// Parses a body; only the canonical encoding is accepted.
    pub fn parse_body(body: &str) -> Result<Restore, CheckpointError> {
        let text = body
            .strip_suffix('\n')
            .ok_or(CheckpointError::BadBody("missing final line break"))?;
        let mut lines = text.split('\n');
        let mut next = |what: &'static str| lines.next().ok_or(CheckpointError::BadBody(what));
        if next("header")? != RESTORE_HEADER {
            return Err(CheckpointError::BadBody("header"));
        }
        let tenant = next("tenant")?.to_owned();
        let mut head = |size: &'static str, root: &'static str| -> Result<TreeHead, _> {
            Ok(TreeHead {
                size: next(size)?
                    .parse::<u64>()
                    .map_err(|_| CheckpointError::BadBody(size))?,
                root: decode_hash(next(root)?).ok_or(CheckpointError::BadBody(root))?,
            })
        };
        let restored = head("restored size", "restored root")?;
        let superseded = head("superseded size", "superseded root")?;
        let timestamp_micros = next("timestamp")?
            .parse::<i64>()
            .map_err(|_| CheckpointError::BadBody("timestamp"))?;
        if lines.next().is_some() {
            return Err(CheckpointError::BadBody("extra lines"));
        }
        let r = Restore {
            tenant,
            restored,
            superseded,
            timestamp_micros,
        };
        if r.body()? != body {
            return Err(CheckpointError::BadBody("not canonical"));
        }
        Ok(r)
    }
}

impl CheckpointSigner {
    pub fn sign_restore(&self, restore: Restore) -> Result<SignedRestore, CheckpointError> {
        let signature = self.sign_body(&restore.body()?);
        Ok(SignedRestore { restore, signature })
    }
}

/// Checks a signed restore statement against a public key.
pub fn verify_restore(
    public_key: &PublicKey,
    signed: &SignedRestore,
) -> Result<(), CheckpointError> {
    checkpoint::verify_body(public_key, &signed.restore.body()?, &signed.signature)
}

/// What is kept outside the database for one tenant.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Kept {
    /// The newest checkpoint written out.
    pub checkpoint: Option<SignedCheckpoint>,
    /// The newest restore statement, if the log was ever restored from a backup.
    pub restore: Option<SignedRestore>,
}

/// Why a log fails against what is kept outside the database.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExternalError {
    #[error(
        "VAULT-0276: the log holds {log} entries but {by} kept outside the database signed {signed}: \
         the last {} entries were removed (truncation)", signed - log
    )]
    Truncated {
        log: u64,
        signed: u64,
        by: &'static str,
    },
    #[error(
        "VAULT-0277: the log's root at size {size} differs from {by} kept outside the database: \
         its history was rewritten"
    )]
    Diverged { size: u64, by: &'static str },
    #[error("VAULT-0278: the checkpoint kept outside the database does not verify: {0}")]
    BadCheckpoint(String),
    #[error("VAULT-0279: the restore statement kept outside the database does not verify: {0}")]
    BadRestore(String),
    #[error("VAULT-0278: the checkpoint file is damaged: {0}")]
    Damaged(String),
    #[error("reading the log's tree: {0}")]
    Log(String),
}

const CHECKPOINT: &str = "the checkpoint";
const RESTORE: &str = "the restore statement";

/// What [`check`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Checked {
    /// The largest size whose root the log was checked against (0: nothing kept).
    pub covered: u64,
    /// Whether a restore statement was honoured.
    pub restored: bool,
}

/// Checks a tenant's log (`log_size` entries; `root_at(n)` its root over the first
/// `n`, for `n <= log_size`) against what was kept outside the database: the
/// signatures, the restore statement's prefix, and the newest checkpoint unless
/// the restore statement superseded exactly it.
pub fn check(
    kept: &Kept,
    tenant: &str,
    public_key: &PublicKey,
    log_size: u64,
    mut root_at: impl FnMut(u64) -> Result<Hash, String>,
) -> Result<Checked, ExternalError> {
    let mut in_log = |head: TreeHead, by: &'static str| -> Result<(), ExternalError> {
        if head.size > log_size {
            return Err(ExternalError::Truncated {
                log: log_size,
                signed: head.size,
                by,
            });
        }
        if root_at(head.size).map_err(ExternalError::Log)? != head.root {
            return Err(ExternalError::Diverged {
                size: head.size,
                by,
            });
        }
        Ok(())
    };
    let mut checked = Checked::default();
    let mut superseded = None;
    if let Some(r) = &kept.restore {
        if r.restore.tenant != tenant {
            return Err(ExternalError::BadRestore(format!(
                "it names tenant {:?}",
                r.restore.tenant
            )));
        }
        verify_restore(public_key, r).map_err(|e| ExternalError::BadRestore(e.to_string()))?;
        in_log(r.restore.restored, RESTORE)?;
        checked = Checked {
            covered: r.restore.restored.size,
            restored: true,
        };
        superseded = Some(r.restore.superseded);
    }
    if let Some(c) = &kept.checkpoint {
        if c.checkpoint.tenant != tenant {
            return Err(ExternalError::BadCheckpoint(format!(
                "it names tenant {:?}",
                c.checkpoint.tenant
            )));
        }
        checkpoint::verify(public_key, c)
            .map_err(|e| ExternalError::BadCheckpoint(e.to_string()))?;
        let head = TreeHead::of(&c.checkpoint);
        // The checkpoint the restore statement replaced describes the log before
        // the restore: not held against the restored one.
        if superseded != Some(head) {
            in_log(head, CHECKPOINT)?;
            checked.covered = checked.covered.max(head.size);
        }
    }
    Ok(checked)
}

/// Moves what is kept forward to `candidate` (the database's newest checkpoint),
/// after checking that the log still holds what was kept and the candidate: the
/// kept checkpoint only ever moves forward along one history, so a truncated or
/// rewritten log never overwrites the evidence against it. Returns whether
/// `kept` changed.
pub fn advance(
    kept: &mut Kept,
    candidate: &SignedCheckpoint,
    tenant: &str,
    public_key: &PublicKey,
    log_size: u64,
    mut root_at: impl FnMut(u64) -> Result<Hash, String>,
) -> Result<bool, ExternalError> {
    let checked = check(kept, tenant, public_key, log_size, &mut root_at)?;
    let next = Kept {
        checkpoint: Some(candidate.clone()),
        restore: kept.restore.clone(),
    };
    check(&next, tenant, public_key, log_size, &mut root_at)?;
    let superseded_kept = kept.restore.as_ref().is_some_and(|r| {
        kept.checkpoint
            .as_ref()
            .is_some_and(|c| TreeHead::of(&c.checkpoint) == r.restore.superseded)
    });
    let grows = candidate.checkpoint.tree_size > checked.covered
        || (superseded_kept && candidate.checkpoint.tree_size >= checked.covered);
    if kept.checkpoint.is_none() || grows {
        *kept = next;
        return Ok(true);
    }
    Ok(false)
}

/// The checkpoint file: what is kept for each tenant.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CheckpointFile {
    pub tenants: BTreeMap<String, Kept>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileJson {
    format: String,
    tenants: BTreeMap<String, KeptJson>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct KeptJson {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    checkpoint: Option<SignedJson>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    restore: Option<SignedJson>,
}

/// A signed body as it travels: the exact bytes signed, and the signature.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SignedJson {
    body: String,
    signature: String,
}

fn signature(text: &str) -> Result<[u8; 64], ExternalError> {
    B64.decode(text)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| ExternalError::Damaged("a signature is not 64 bytes of base64".into()))
}

impl SignedJson {
    fn of_checkpoint(c: &SignedCheckpoint) -> Result<SignedJson, CheckpointError> {
        Ok(SignedJson {
            body: c.checkpoint.body()?,
            signature: B64.encode(c.signature),
        })
    }
}

impl CheckpointFile {
    pub fn to_json(&self) -> Result<String, CheckpointError> {
        let mut tenants = BTreeMap::new();
        for (tenant, kept) in &self.tenants {
            let restore = match &kept.restore {
                Some(r) => Some(SignedJson {
                    body: r.restore.body()?,
                    signature: B64.encode(r.signature),
                }),
                None => None,
            };
            let checkpoint = match &kept.checkpoint {
                Some(c) => Some(SignedJson::of_checkpoint(c)?),
                None => None,
            };
            tenants.insert(
                tenant.clone(),
                KeptJson {
                    checkpoint,
                    restore,
                },
            );
        }
        let json = FileJson {
            format: FORMAT.to_owned(),
            tenants,
        };
        Ok(serde_json::to_string_pretty(&json).unwrap_or_default() + "\n")
    }

    /// Parses the file; signatures are checked later, by [`check`], against the
    /// log they speak of.
    pub fn from_json(json: &[u8]) -> Result<CheckpointFile, ExternalError> {
        let file: FileJson =
            serde_json::from_slice(json).map_err(|e| ExternalError::Damaged(e.to_string()))?;
        if file.format != FORMAT {
            return Err(ExternalError::Damaged(format!(
                "format {:?}, expected {FORMAT:?}",
                file.format
            )));
        }
        let damaged = |e: CheckpointError| ExternalError::Damaged(e.to_string());
        let mut tenants = BTreeMap::new();
        for (tenant, kept) in file.tenants {
            let checkpoint = match kept.checkpoint {
                Some(s) => Some(SignedCheckpoint {
                    checkpoint: Checkpoint::parse_body(&s.body).map_err(damaged)?,
                    signature: signature(&s.signature)?,
                }),
                None => None,
            };
            let restore = match kept.restore {
                Some(s) => Some(SignedRestore {
                    restore: Restore::parse_body(&s.body).map_err(damaged)?,
                    signature: signature(&s.signature)?,
                }),
                None => None,
            };
            tenants.insert(
                tenant,
                Kept {
                    checkpoint,
                    restore,
                },
            );
        }
        Ok(CheckpointFile { tenants })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::merkle::MemoryTree;

    const T: &str = "acme";

    fn signer() -> CheckpointSigner {
        CheckpointSigner::from_seed(&[3; 32])
    }

    /// A log of `n` entries, entry `i` being `prefix` + i.
    fn log(n: u64, prefix: &str) -> MemoryTree {
        let mut tree = MemoryTree::new();
        for i in 0..n {
            tree.append_entry(format!("{prefix}{i}").as_bytes());
        }
        tree
    }

    fn signed_at(tree: &MemoryTree, size: u64) -> SignedCheckpoint {
        signer()
            .sign(Checkpoint {
                tenant: T.into(),
                tree_size: size,
                root_hash: tree.root_at(size).unwrap(),
                timestamp_micros: 1_700_000_000_000_000 + size as i64,
            })
            .unwrap()
    }

    fn check_log(kept: &Kept, tree: &MemoryTree) -> Result<Checked, ExternalError> {
        check(kept, T, &signer().public_key(), tree.size(), |n| {
            tree.root_at(n).ok_or_else(|| "no root".to_owned())
        })
    }

    fn advance_log(
        kept: &mut Kept,
        tree: &MemoryTree,
        candidate: &SignedCheckpoint,
    ) -> Result<bool, ExternalError> {
        advance(
            kept,
            candidate,
            T,
            &signer().public_key(),
            tree.size(),
            |n| tree.root_at(n).ok_or_else(|| "no root".to_owned()),
        )
    }

    fn restore(tree: &MemoryTree, restored: u64, superseded: &SignedCheckpoint) -> SignedRestore {
        signer()
            .sign_restore(Restore {
                tenant: T.into(),
                restored: TreeHead {
                    size: restored,
                    root: tree.root_at(restored).unwrap(),
                },
                superseded: TreeHead::of(&superseded.checkpoint),
                timestamp_micros: 1_800_000_000_000_000,
            })
            .unwrap()
    }

    #[test]
    fn a_whole_log_passes_and_a_shorter_one_is_named_truncated() {
        let full = log(10, "e");
        let mut kept = Kept::default();
        assert!(advance_log(&mut kept, &full, &signed_at(&full, 10)).unwrap());
        assert_eq!(check_log(&kept, &full).unwrap().covered, 10);
        let cut = log(7, "e");
        let err = check_log(&kept, &cut).unwrap_err();
        assert_eq!(
            err,
            ExternalError::Truncated {
                log: 7,
                signed: 10,
                by: CHECKPOINT
            }
        );
        assert!(err.to_string().starts_with("VAULT-0276"), "{err}");
        assert!(err.to_string().contains("last 3 entries"), "{err}");
    }

    #[test]
    fn a_rewritten_history_is_named_even_when_longer() {
        let full = log(10, "e");
        let kept = Kept {
            checkpoint: Some(signed_at(&full, 10)),
            restore: None,
        };
        let other = log(12, "x");
        assert_eq!(
            check_log(&kept, &other),
            Err(ExternalError::Diverged {
                size: 10,
                by: CHECKPOINT
            })
        );
    }

    #[test]
    fn advance_never_overwrites_evidence_and_only_moves_forward() {
        let full = log(10, "e");
        let mut kept = Kept::default();
        advance_log(&mut kept, &full, &signed_at(&full, 6)).unwrap();
        // An older checkpoint does not replace a newer one.
        assert!(!advance_log(&mut kept, &full, &signed_at(&full, 4)).unwrap());
        assert!(advance_log(&mut kept, &full, &signed_at(&full, 10)).unwrap());
        let before = kept.clone();
        // A truncated log that grew again with other entries: refused, kept unchanged.
        let mut rewritten = log(5, "e");
        for i in 0..8 {
            rewritten.append_entry(format!("y{i}").as_bytes());
        }
        let err = advance_log(&mut kept, &rewritten, &signed_at(&rewritten, 13)).unwrap_err();
        assert_eq!(
            err,
            ExternalError::Diverged {
                size: 10,
                by: CHECKPOINT
            }
        );
        assert_eq!(kept, before);
        // A candidate the log contradicts is refused too.
        let bogus = signed_at(&log(12, "z"), 12);
        assert!(advance_log(&mut kept, &log(12, "e"), &bogus).is_err());
        assert_eq!(kept, before);
    }

    #[test]
    fn a_signed_restore_statement_is_honoured_and_later_truncation_still_caught() {
        let before_restore = log(10, "e");
        let c10 = signed_at(&before_restore, 10);
        let mut kept = Kept {
            checkpoint: Some(c10.clone()),
            restore: None,
        };
        // The backup held the first 6 entries: without a statement, a truncation.
        let restored = log(6, "e");
        assert!(matches!(
            check_log(&kept, &restored),
            Err(ExternalError::Truncated { signed: 10, .. })
        ));
        kept.restore = Some(restore(&restored, 6, &c10));
        assert_eq!(
            check_log(&kept, &restored).unwrap(),
            Checked {
                covered: 6,
                restored: true
            }
        );
        // The log continues from entry 7, with new entries.
        let mut grown = log(6, "e");
        for i in 0..5 {
            grown.append_entry(format!("n{i}").as_bytes());
        }
        assert!(advance_log(&mut kept, &grown, &signed_at(&grown, 11)).unwrap());
        assert!(kept.restore.is_some());
        assert_eq!(check_log(&kept, &grown).unwrap().covered, 11);
        // Truncating the continued log is caught, by the new checkpoint...
        assert!(matches!(
            check_log(&kept, &log(6, "e")),
            Err(ExternalError::Truncated { signed: 11, .. })
        ));
        // ...and below the restored prefix, by the statement itself.
        assert_eq!(
            check_log(&kept, &log(4, "e")),
            Err(ExternalError::Truncated {
                log: 4,
                signed: 6,
                by: RESTORE
            })
        );
    }

    #[test]
    fn a_restore_statement_must_match_the_log_and_be_signed() {
        let before_restore = log(10, "e");
        let c10 = signed_at(&before_restore, 10);
        let restored = log(6, "e");
        // A statement about another backup (different first entries).
        let kept = Kept {
            checkpoint: Some(c10.clone()),
            restore: Some(restore(&log(6, "o"), 6, &c10)),
        };
        assert_eq!(
            check_log(&kept, &restored),
            Err(ExternalError::Diverged {
                size: 6,
                by: RESTORE
            })
        );
        // A forged one (signed by another key).
        let mut forged = restore(&restored, 6, &c10);
        forged.signature = CheckpointSigner::from_seed(&[4; 32])
            .sign_restore(forged.restore.clone())
            .unwrap()
            .signature;
        let kept = Kept {
            checkpoint: Some(c10.clone()),
            restore: Some(forged),
        };
        assert!(matches!(
            check_log(&kept, &restored),
            Err(ExternalError::BadRestore(_))
        ));
        // A statement superseding another checkpoint does not excuse this one.
        let kept = Kept {
            checkpoint: Some(c10),
            restore: Some(restore(&restored, 6, &signed_at(&before_restore, 9))),
        };
        assert!(matches!(
            check_log(&kept, &restored),
            Err(ExternalError::Truncated { signed: 10, .. })
        ));
    }

    #[test]
    fn the_file_round_trips_and_a_changed_signature_fails() {
        let tree = log(10, "e");
        let c10 = signed_at(&tree, 10);
        let mut file = CheckpointFile::default();
        file.tenants.insert(
            T.into(),
            Kept {
                checkpoint: Some(c10.clone()),
                restore: Some(restore(&log(4, "e"), 4, &signed_at(&tree, 8))),
            },
        );
        let json = file.to_json().unwrap();
        assert!(
            json.contains("\"format\": \"custos-checkpoints/v1\""),
            "{json}"
        );
        let back = CheckpointFile::from_json(json.as_bytes()).unwrap();
        assert_eq!(back, file);
        let sig = B64.encode(c10.signature);
        let mut bad = c10.signature;
        bad[0] ^= 1;
        let tampered = json.replace(&sig, &B64.encode(bad));
        let back = CheckpointFile::from_json(tampered.as_bytes()).unwrap();
        assert!(matches!(
            check_log(&back.tenants[T], &tree),
            Err(ExternalError::BadCheckpoint(_))
        ));
        for damaged in [
            "{}",
            "not json",
            &json.replace("custos-checkpoints/v1", "v0"),
        ] {
            assert!(matches!(
                CheckpointFile::from_json(damaged.as_bytes()),
                Err(ExternalError::Damaged(_))
            ));
        }
    }

    #[test]
    fn restore_body_is_canonical_and_distinct_from_a_checkpoint() {
        let r = restore(&log(4, "e"), 4, &signed_at(&log(9, "e"), 9));
        let body = r.restore.body().unwrap();
        assert!(
            body.starts_with("custos-audit-restore/v1\nacme\n4\n"),
            "{body}"
        );
        assert_eq!(Restore::parse_body(&body).unwrap(), r.restore);
        assert!(Restore::parse_body(&body.replace("\n4\n", "\n04\n")).is_err());
        assert!(Checkpoint::parse_body(&body).is_err());
        assert_eq!(verify_restore(&signer().public_key(), &r), Ok(()));
    }
}
