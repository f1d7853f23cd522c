//! Checkpoints kept outside the database (issue 17, point 10).
//!
//! Whoever can edit the database can cut the end off the audit log together with
//! the tree nodes and checkpoints stored beside it, and the shorter log verifies.
//! So the newest signed checkpoint of each tenant is also written to
//! `<data dir>/checkpoints.json` (format in `custos_audit::external`) and, with
//! `--checkpoint-witness CMD`, handed to a command of the operator's (a copy on
//! another host, a transparency log…), which keeps it where the database's editor
//! cannot reach. `custos audit verify` checks the log against the file.
//!
//! [`publish`] is the one place this happens: [`on_exit`] runs it after any
//! command whose database log grew (every store is opened through
//! `DataDir::store_with`, which registers it here), and `serve`'s checkpoint job
//! after each pass.
//!
//! Failures are warnings, not errors: the command's own write has committed by
//! then, and failing it would invite a retry of a write that happened. The file
//! only moves forward along one history (`custos_audit::external::advance`): a
//! log that lost or changed entries never overwrites the checkpoint against it.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use custos_audit::external::{CheckpointFile, Kept};
use custos_core::audit::advance_external;
use custos_crypto::KeyRing;
use custos_store::{MerkleStore, Store, TenantId, Timestamp};

use crate::datadir::{AnyStore, DataDir, Database};

/// The checkpoint file's name in the data directory.
pub const FILE: &str = "checkpoints.json";

/// How long a witness command may take before it is killed (and the failure
/// logged): a hung witness must not hold up the command or `serve`'s job.
pub const WITNESS_TIMEOUT: Duration = Duration::from_secs(10);

/// The checkpoint file of the database `database_url` names: `checkpoints.json`
/// in the data directory for its own SQLite file and for PostgreSQL (each
/// instance's directory keeps one); beside any other SQLite file, as
/// `<file>.checkpoints.json`, so that a copy made with `--database-url` never
/// mixes its checkpoints with the directory's own database's.
pub fn file_path(dir: &DataDir, database_url: Option<&str>) -> PathBuf {
    match dir.named_database(database_url) {
        Database::Sqlite(path) if path != dir.database() => {
            let mut name = path.file_name().unwrap_or_default().to_os_string();
            name.push(".");
            name.push(FILE);
            path.with_file_name(name)
        }
        _ => dir.root.join(FILE),
    }
}

/// Reads a checkpoint file; `None` if there is none.
pub fn load(path: &Path) -> Result<Option<CheckpointFile>, String> {
    match std::fs::read(path) {
        Ok(bytes) => CheckpointFile::from_json(&bytes)
            .map(Some)
            .map_err(|e| format!("{}: {e}", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(format!(
            "VAULT-0278: cannot read the checkpoint file {}: {e}",
            path.display()
        )),
    }
}

/// Replaces the file whole (a temporary file, synced, then renamed), 0600: a
/// crash leaves the old file or the new one, never half of either.
fn save(path: &Path, file: &CheckpointFile) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let json = file.to_json().map_err(std::io::Error::other)?;
    let tmp = path.with_extension("json.tmp");
    let mut out = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)?;
    out.write_all(json.as_bytes())?;
    out.sync_all()?;
    drop(out);
    std::fs::rename(&tmp, path)?;
    if let Some(parent) = path.parent() {
        std::fs::File::open(parent)?.sync_all()?;
    }
    Ok(())
}

/// Signs a checkpoint of each tenant whose log grew (unless `sign` is false),
/// moves the checkpoint file at `path` forward to the newest signed checkpoints,
/// and hands each new one to the witness. Returns the warnings to log (tenant
/// ids, sizes and paths only).
pub fn publish<S: Store + MerkleStore + ?Sized>(
    path: &Path,
    store: &S,
    keys: &KeyRing,
    now: Timestamp,
    witness: Option<&str>,
    sign: bool,
) -> Vec<String> {
    let mut warnings = Vec::new();
    // One writer at a time (a command beside `serve`): read, advance, replace.
    let _lock = match lock(path) {
        Ok(lock) => lock,
        Err(e) => return vec![e],
    };
    let mut file = match load(path) {
        Ok(file) => file.unwrap_or_default(),
        // A damaged file is evidence too: left as it is, for `audit verify` to report.
        Err(e) => return vec![format!("{e}; not replacing it")],
    };
    let public_key = match keys.audit_signer() {
        Ok(s) => s.public_key(),
        Err(e) => return vec![e.to_string()],
    };
    let tenants = match store.tenants() {
        Ok(t) => t,
        Err(e) => return vec![e.to_string()],
    };
    let mut witnessed = Vec::new();
    for t in tenants {
        if sign && let Err(e) = custos_core::audit::checkpoint(store, keys, &t.id, now) {
            warnings.push(format!("tenant {}: cannot sign a checkpoint: {e}", t.id));
            continue;
        }
        let kept = file.tenants.entry(t.id.to_string()).or_default();
        match advance_external(store, &t.id, &public_key, kept) {
            Ok(true) => witnessed.push((t.id.to_string(), kept.clone())),
            Ok(false) => {}
            Err(e) => warnings.push(format!(
                "tenant {}: the checkpoint kept in {} is not moved forward: {e}; \
                 run `custos audit verify`",
                t.id,
                path.display()
            )),
        }
    }
    if witnessed.is_empty() {
        return warnings;
    }
    if let Err(e) = save(path, &file) {
        warnings.push(format!(
            "VAULT-0281: cannot write the checkpoint file {}: {e}",
            path.display()
        ));
    }
    if let Some(cmd) = witness {
        for (tenant, kept) in witnessed {
            if let Err(e) = run_witness(cmd, &tenant, kept) {
                warnings.push(format!(
                    "VAULT-0280: the checkpoint witness failed for tenant {tenant}: {e}"
                ));
            }
        }
    }
    warnings
}

fn lock(path: &Path) -> Result<std::fs::File, String> {
    let lock_path = path.with_extension("lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .and_then(|f| f.lock().map(|()| f))
        .map_err(|e| {
            format!(
                "VAULT-0281: cannot lock {} to write the checkpoint file: {e}",
                lock_path.display()
            )
        })?;
    Ok(file)
}

/// Runs `sh -c CMD` with the tenant's part of the checkpoint file on its standard
/// input (a checkpoint file of one tenant, so a witness that keeps it can hand it
/// to `custos audit verify --checkpoint-file`); a non-zero exit or more than
/// [`WITNESS_TIMEOUT`] is a failure. The command is the operator's, so its stderr
/// is theirs to read.
fn run_witness(cmd: &str, tenant: &str, kept: Kept) -> Result<(), String> {
    use std::process::{Command, Stdio};
    let mut one = CheckpointFile::default();
    one.tenants.insert(tenant.to_owned(), kept);
    let json = one.to_json().map_err(|e| e.to_string())?;
    let mut child = Command::new("sh")
        .args(["-c", cmd])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start it: {e}"))?;
    let pid = child.id();
    let mut stdin = child.stdin.take();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        // A witness that does not read its input gets a broken pipe: its exit
        // status decides.
        if let Some(stdin) = stdin.as_mut() {
            let _ = stdin.write_all(json.as_bytes());
        }
        drop(stdin);
        let _ = tx.send(child.wait());
    });
    match rx.recv_timeout(WITNESS_TIMEOUT) {
        Ok(Ok(status)) if status.success() => Ok(()),
        Ok(Ok(status)) => Err(format!("it exited with {status}")),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => {
            // Only the child this function started, by its id.
            let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
            Err(format!(
                "it took more than {} s and was stopped",
                WITNESS_TIMEOUT.as_secs()
            ))
        }
    }
}

/// A store opened by this process, with each tenant's tree size when opened.
struct Opened {
    dir: DataDir,
    file: PathBuf,
    store: Arc<AnyStore>,
    sizes: Vec<(TenantId, u64)>,
    /// False for an exact copy (`import`): its entries are the archive's, and a
    /// checkpoint signed now would make it differ from the archive.
    sign: bool,
}

fn opened() -> &'static Mutex<Vec<Opened>> {
    static OPENED: OnceLock<Mutex<Vec<Opened>>> = OnceLock::new();
    OPENED.get_or_init(|| Mutex::new(Vec::new()))
}

fn witness_setting() -> &'static OnceLock<Option<String>> {
    static WITNESS: OnceLock<Option<String>> = OnceLock::new();
    &WITNESS
}

/// `--checkpoint-witness`, set once by `main` before the command runs.
pub fn set_witness(cmd: Option<String>) {
    let _ = witness_setting().set(cmd);
}

pub fn witness() -> Option<&'static str> {
    witness_setting().get().and_then(|w| w.as_deref())
}

fn sizes(store: &AnyStore) -> Vec<(TenantId, u64)> {
    store
        .tenants()
        .unwrap_or_default()
        .into_iter()
        .map(|t| {
            let size = store.tree_size(&t.id).unwrap_or(0);
            (t.id, size)
        })
        .collect()
}

/// Remembers a store `DataDir::store_with` opened, so that [`on_exit`] can tell
/// whether the command appended to its log.
pub fn register(dir: &DataDir, database_url: Option<&str>, store: &Arc<AnyStore>) {
    let entry = Opened {
        dir: dir.clone(),
        file: file_path(dir, database_url),
        store: Arc::clone(store),
        sizes: sizes(store),
        sign: true,
    };
    if let Ok(mut all) = opened().lock() {
        all.push(entry);
    }
}

/// Marks `store` as an exact copy of an archive (`import`): on exit its
/// checkpoint file takes the archive's newest checkpoint, and nothing is signed.
pub fn exact_copy(store: &Arc<AnyStore>) {
    if let Ok(mut all) = opened().lock() {
        for o in all.iter_mut().filter(|o| Arc::ptr_eq(&o.store, store)) {
            o.sign = false;
        }
    }
}

/// Run by `main` when a command ends, whether it succeeded or not (a refusal is
/// audited too): for every store whose log grew, [`publish`]; warnings go to
/// stderr.
pub fn on_exit(now: Timestamp) {
    let all = match opened().lock() {
        Ok(mut all) => std::mem::take(&mut *all),
        Err(_) => return,
    };
    for o in all {
        if sizes(&o.store) == o.sizes {
            continue;
        }
        let keys = match o.dir.key_ring() {
            Ok((_, keys)) => keys,
            Err(e) => {
                eprintln!("warning: cannot write the external checkpoint: {e:#}");
                continue;
            }
        };
        for w in publish(&o.file, o.store.as_ref(), &keys, now, witness(), o.sign) {
            eprintln!("warning: {w}");
        }
    }
}
