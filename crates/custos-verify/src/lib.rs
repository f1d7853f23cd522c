//! `custos-verify`: checks a custos audit proof bundle with only the log's public
//! key. The bundle format is `docs/audit-proofs.md`; the checks are
//! [`custos_audit::proof::verify_bundle`]. The binary is a thin shell around [`run`]
//! so tests can drive every case in-process.
#![forbid(unsafe_code)]

use std::fmt::Write as _;
use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use custos_audit::checkpoint::{Checkpoint, PublicKey};
use custos_audit::proof::{Verified, verify_bundle};

pub const USAGE: &str = "usage: custos-verify --public-key <base64 key or key file> <bundle.json>";

/// Why verification did not succeed; every variant exits with status 2.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// The command line is wrong.
    Usage(String),
    /// A file could not be read.
    Io(String),
    /// The bundle is refused; the message says which check failed.
    Refused(String),
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Usage(m) => write!(f, "{m}\n{USAGE}"),
            Failure::Io(m) => write!(f, "{m}"),
            Failure::Refused(m) => write!(f, "NOT VERIFIED: {m}"),
        }
    }
}

/// Runs the verifier on its arguments (without the program name) and returns the
/// report to print on success.
pub fn run(args: &[String]) -> Result<String, Failure> {
    let mut key_arg = None;
    let mut bundle_arg = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--public-key" => {
                let v = it
                    .next()
                    .ok_or_else(|| Failure::Usage("--public-key needs a value".into()))?;
                key_arg = Some(v.clone());
            }
            "-h" | "--help" => return Ok(format!("{USAGE}\n")),
            s if s.starts_with("--public-key=") => {
                key_arg = Some(s.trim_start_matches("--public-key=").to_owned());
            }
            s if s.starts_with('-') && s != "-" => {
                return Err(Failure::Usage(format!("unknown option {s}")));
            }
            s => {
                if bundle_arg.replace(s.to_owned()).is_some() {
                    return Err(Failure::Usage("give exactly one bundle file".into()));
                }
            }
        }
    }
    let key_arg = key_arg.ok_or_else(|| Failure::Usage("--public-key is required".into()))?;
    let bundle_arg = bundle_arg.ok_or_else(|| Failure::Usage("no bundle file given".into()))?;

    let key = read_public_key(&key_arg)?;
    let json = if bundle_arg == "-" {
        let mut buf = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin(), &mut buf)
            .map_err(|e| Failure::Io(format!("cannot read the bundle from stdin: {e}")))?;
        buf
    } else {
        std::fs::read(&bundle_arg)
            .map_err(|e| Failure::Io(format!("cannot read bundle {bundle_arg}: {e}")))?
    };
    let verified = verify_bundle(&json, &key).map_err(|e| Failure::Refused(e.to_string()))?;
    Ok(report(&key, &verified))
}

/// A key given inline (base64 of 32 bytes) or as a file holding that base64 text.
fn read_public_key(arg: &str) -> Result<PublicKey, Failure> {
    if let Ok(k) = PublicKey::from_base64(arg) {
        return Ok(k);
    }
    let path = Path::new(arg);
    if !path.is_file() {
        return Err(Failure::Usage(format!(
            "--public-key {arg:?} is neither base64 of a 32-byte Ed25519 key nor a readable file"
        )));
    }
    let text = std::fs::read_to_string(path)
        .map_err(|e| Failure::Io(format!("cannot read public key file {arg}: {e}")))?;
    PublicKey::from_base64(&text).map_err(|_| {
        Failure::Usage(format!(
            "public key file {arg} does not hold base64 of a 32-byte Ed25519 key"
        ))
    })
}

fn report(key: &PublicKey, v: &Verified) -> String {
    let mut out = String::new();
    let cp = match v {
        Verified::Inclusion { checkpoint, .. } | Verified::Consistency { checkpoint, .. } => {
            checkpoint
        }
    };
    match v {
        Verified::Inclusion {
            entry_index,
            leaf_hash,
            entry,
            ..
        } => {
            let _ = writeln!(
                out,
                "VERIFIED: entry {entry_index} is in the audit log of tenant {:?} (size {})",
                cp.tenant, cp.tree_size
            );
            let _ = writeln!(out, "  leaf hash   {}", B64.encode(leaf_hash));
            if let Some(e) = entry {
                let _ = writeln!(out, "  entry       seq {}, at {}", e.seq, utc(e.at_micros));
                let _ = writeln!(
                    out,
                    "              {} by {} (key {}) for purpose {:?} on subject {:?}",
                    e.action, e.actor, e.key_id, e.purpose, e.subject
                );
                let _ = writeln!(
                    out,
                    "              categories [{}]: {}{}",
                    e.categories.join(", "),
                    e.decision,
                    if e.reason.is_empty() {
                        String::new()
                    } else {
                        format!(" ({})", e.reason)
                    }
                );
            }
        }
        Verified::Consistency {
            old_size, old_root, ..
        } => {
            let _ = writeln!(
                out,
                "VERIFIED: the audit log of tenant {:?} at size {old_size} is a prefix of the log at size {}",
                cp.tenant, cp.tree_size
            );
            let _ = writeln!(out, "  old root    {}", B64.encode(old_root));
        }
    }
    checkpoint_lines(&mut out, key, cp);
    out
}

fn checkpoint_lines(out: &mut String, key: &PublicKey, cp: &Checkpoint) {
    let _ = writeln!(out, "  root        {}", B64.encode(cp.root_hash));
    let _ = writeln!(out, "  checkpoint  {}", utc(cp.timestamp_micros));
    let _ = writeln!(out, "  signed by   {}", key.to_base64());
}

/// Microseconds since the Unix epoch as an RFC 3339 UTC time (proleptic Gregorian;
/// H. Hinnant's `civil_from_days`), so the report needs no date library.
pub fn utc(micros: i64) -> String {
    let secs = micros.div_euclid(1_000_000);
    let frac = micros.rem_euclid(1_000_000);
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{frac:06}Z",
        sod / 3600,
        sod % 3600 / 60,
        sod % 60
    )
}
