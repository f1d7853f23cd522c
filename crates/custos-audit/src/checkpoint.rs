//! Signed checkpoints: a log operator's signed statement "tenant T's log had N
//! entries with root R at time t".
//!
//! The signed bytes (the *body*) are five lines, each ending in `\n`, in the manner
//! of a C2SP signed note:
//!
//! ```text
//! custos-audit/v1
//! <tenant>
//! <tree size, decimal, no leading zeros>
//! <root hash, standard base64 with padding (44 characters)>
//! <timestamp, microseconds since the Unix epoch, decimal, optional leading '-'>
//! ```
//!
//! The tenant is non-empty UTF-8 without control characters (so no line breaks).
//! The signature is Ed25519 (RFC 8032, pure, no context) over exactly these bytes,
//! checked strictly (`verify_strict`: no small-order keys, canonical `S`).
//!
//! The signing key is derived from a 32-byte seed the caller holds (RFC 8032's
//! private key), so the key file can keep it next to the other secrets; this crate
//! neither generates nor stores keys.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};

use crate::merkle::Hash;

/// The first line of every checkpoint body; names the format and its version.
pub const HEADER: &str = "custos-audit/v1";

/// What a checkpoint states. Unsigned until [`CheckpointSigner::sign`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// The log's origin: the tenant whose log this is.
    pub tenant: String,
    pub tree_size: u64,
    pub root_hash: Hash,
    /// Microseconds since the Unix epoch.
    pub timestamp_micros: i64,
}

/// A checkpoint with its Ed25519 signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedCheckpoint {
    pub checkpoint: Checkpoint,
    pub signature: [u8; 64],
}

/// An Ed25519 public key (32 bytes), as a third party receives it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PublicKey(pub [u8; 32]);

impl PublicKey {
    /// Standard base64 with padding, the form `custos-verify --public-key` takes.
    pub fn to_base64(&self) -> String {
        B64.encode(self.0)
    }

    pub fn from_base64(text: &str) -> Result<PublicKey, CheckpointError> {
        let bytes = B64
            .decode(text.trim())
            .map_err(|_| CheckpointError::BadPublicKey)?;
        Ok(PublicKey(
            bytes
                .try_into()
                .map_err(|_| CheckpointError::BadPublicKey)?,
        ))
    }
}

/// Why a checkpoint cannot be encoded, parsed or verified.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckpointError {
    #[error("tenant must be non-empty and contain no control characters")]
    BadTenant,
    #[error("checkpoint body is not in the custos-audit/v1 format: {0}")]
    BadBody(&'static str),
    #[error("public key is not a valid Ed25519 key (32 bytes, standard base64)")]
    BadPublicKey,
    #[error("checkpoint signature does not verify under this public key")]
    BadSignature,
}

impl Checkpoint {
    /// The canonical body, the bytes that are signed.
    pub fn body(&self) -> Result<String, CheckpointError> {
        if self.tenant.is_empty() || self.tenant.chars().any(char::is_control) {
            return Err(CheckpointError::BadTenant);
        }
        Ok(format!(
            "{HEADER}\n{}\n{}\n{}\n{}\n",
            self.tenant,
            self.tree_size,
            B64.encode(self.root_hash),
            self.timestamp_micros
        ))
    }

    /// Parses a body; only the canonical encoding is accepted (parsing and
    /// re-encoding gives back the same text).
    pub fn parse_body(body: &str) -> Result<Checkpoint, CheckpointError> {
        let text = body
            .strip_suffix('\n')
            .ok_or(CheckpointError::BadBody("missing final line break"))?;
        let mut lines = text.split('\n');
        let mut next = |what: &'static str| lines.next().ok_or(CheckpointError::BadBody(what));
        if next("header")? != HEADER {
            return Err(CheckpointError::BadBody("header"));
        }
        let tenant = next("tenant")?.to_owned();
        let tree_size = next("tree size")?
            .parse::<u64>()
            .map_err(|_| CheckpointError::BadBody("tree size"))?;
        let root_hash =
            decode_hash(next("root hash")?).ok_or(CheckpointError::BadBody("root hash"))?;
        let timestamp_micros = next("timestamp")?
            .parse::<i64>()
            .map_err(|_| CheckpointError::BadBody("timestamp"))?;
        if lines.next().is_some() {
            return Err(CheckpointError::BadBody("extra lines"));
        }
        let cp = Checkpoint {
            tenant,
            tree_size,
            root_hash,
            timestamp_micros,
        };
        if cp.body()? != body {
            return Err(CheckpointError::BadBody("not canonical"));
        }
        Ok(cp)
    }
}

/// A 32-byte base64 hash, or `None`.
pub(crate) fn decode_hash(text: &str) -> Option<Hash> {
    B64.decode(text).ok()?.try_into().ok()
}

/// Signs checkpoints with a key derived from a 32-byte seed. Its `Debug` shows only
/// the public key.
pub struct CheckpointSigner {
    key: SigningKey,
}

impl std::fmt::Debug for CheckpointSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CheckpointSigner")
            .field("public_key", &self.public_key().to_base64())
            .finish_non_exhaustive()
    }
}

impl CheckpointSigner {
    /// The RFC 8032 private key is the seed itself; keep it secret (the dalek key
    /// zeroises its copy on drop).
    pub fn from_seed(seed: &[u8; 32]) -> Self {
        CheckpointSigner {
            key: SigningKey::from_bytes(seed),
        }
    }

    pub fn public_key(&self) -> PublicKey {
        PublicKey(self.key.verifying_key().to_bytes())
    }

    pub fn sign(&self, checkpoint: Checkpoint) -> Result<SignedCheckpoint, CheckpointError> {
        let signature = self.sign_body(&checkpoint.body()?);
        Ok(SignedCheckpoint {
            checkpoint,
            signature,
        })
    }

    /// Signs a canonical body of this crate (a checkpoint or a restore statement;
    /// their first lines differ, so one can never pass for the other).
    pub(crate) fn sign_body(&self, body: &str) -> [u8; 64] {
        self.key.sign(body.as_bytes()).to_bytes()
    }
}

/// Checks a signed checkpoint against a public key.
pub fn verify(public_key: &PublicKey, signed: &SignedCheckpoint) -> Result<(), CheckpointError> {
    verify_body(public_key, &signed.checkpoint.body()?, &signed.signature)
}

/// Checks an Ed25519 signature over a canonical body, strictly.
pub(crate) fn verify_body(
    public_key: &PublicKey,
    body: &str,
    signature: &[u8; 64],
) -> Result<(), CheckpointError> {
    let key = VerifyingKey::from_bytes(&public_key.0).map_err(|_| CheckpointError::BadPublicKey)?;
    key.verify_strict(body.as_bytes(), &Signature::from_bytes(signature))
        .map_err(|_| CheckpointError::BadSignature)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Checkpoint {
        Checkpoint {
            tenant: "acme".into(),
            tree_size: 42,
            root_hash: [7; 32],
            timestamp_micros: 1_700_000_000_000_000,
        }
    }

    fn signer() -> CheckpointSigner {
        CheckpointSigner::from_seed(&[9; 32])
    }

    #[test]
    fn body_is_documented_text() {
        assert_eq!(
            sample().body().unwrap(),
            "custos-audit/v1\nacme\n42\nBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=\n1700000000000000\n"
        );
    }

    #[test]
    fn body_round_trips_and_only_canonical_parses() {
        let body = sample().body().unwrap();
        assert_eq!(Checkpoint::parse_body(&body), Ok(sample()));
        for bad in [
            body.replace("\n42\n", "\n042\n"),
            body.replace("\n42\n", "\n+42\n"),
            body.replace("custos-audit/v1", "custos-audit/v2"),
            body.trim_end().to_owned(),
            format!("{body}extra\n"),
            body.replace('=', ""),
        ] {
            assert!(Checkpoint::parse_body(&bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn tenant_with_line_break_is_refused() {
        let mut cp = sample();
        cp.tenant = "a\nb".into();
        assert_eq!(signer().sign(cp), Err(CheckpointError::BadTenant));
        let mut cp = sample();
        cp.tenant = String::new();
        assert_eq!(cp.body(), Err(CheckpointError::BadTenant));
    }

    #[test]
    fn signature_verifies_and_every_change_fails() {
        let s = signer();
        let signed = s.sign(sample()).unwrap();
        let pk = s.public_key();
        assert_eq!(verify(&pk, &signed), Ok(()));

        let mut changes: Vec<SignedCheckpoint> = Vec::new();
        let mut c = signed.clone();
        c.checkpoint.tree_size += 1;
        changes.push(c);
        let mut c = signed.clone();
        c.checkpoint.root_hash[31] ^= 1;
        changes.push(c);
        let mut c = signed.clone();
        c.checkpoint.timestamp_micros -= 1;
        changes.push(c);
        let mut c = signed.clone();
        c.checkpoint.tenant = "acmf".into();
        changes.push(c);
        for i in 0..64 {
            let mut c = signed.clone();
            c.signature[i] ^= 0x01;
            changes.push(c);
        }
        for c in changes {
            assert!(verify(&pk, &c).is_err(), "{c:?}");
        }

        let other = CheckpointSigner::from_seed(&[10; 32]).public_key();
        assert_eq!(verify(&other, &signed), Err(CheckpointError::BadSignature));
    }

    #[test]
    fn public_key_base64_round_trips() {
        let pk = signer().public_key();
        assert_eq!(PublicKey::from_base64(&pk.to_base64()), Ok(pk));
        assert_eq!(
            PublicKey::from_base64("AAAA"),
            Err(CheckpointError::BadPublicKey)
        );
    }

    #[test]
    fn signer_debug_hides_the_seed() {
        let shown = format!("{:?}", signer());
        assert!(shown.contains(&signer().public_key().to_base64()));
        assert!(!shown.contains("[9, 9"));
    }
}
