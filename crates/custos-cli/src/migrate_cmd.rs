//! `custos migrate`: applies the schema migrations explicitly and says which.
//!
//! Opening a store (`custos serve`, `custos keys`, …) applies them too; this
//! command is for operators who upgrade the schema as a step of its own, e.g.
//! before starting several `custos serve` instances on one PostgreSQL.

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Args;
use custos_store_postgres::{PostgresOptions, PostgresStore};
use custos_store_sqlite::{SqliteOptions, SqliteStore};

use crate::InputError;
use crate::datadir::{DataDir, Database};
use crate::output::emit;

#[derive(Debug, Args)]
pub struct MigrateArgs {
    /// Where the embedded default's database lives.
    #[arg(long, env = "CUSTOS_DATA_DIR", default_value = "custos-data")]
    pub data_dir: PathBuf,
    /// Database: a SQLite file path, sqlite:///path or postgres://… (default:
    /// custos.db in the data directory).
    #[arg(long, env = "CUSTOS_DATABASE_URL")]
    pub database_url: Option<String>,
}

pub fn run(args: MigrateArgs) -> anyhow::Result<()> {
    let dir = DataDir::new(&args.data_dir);
    let (place, applied) = match dir.named_database(args.database_url.as_deref()) {
        Database::Sqlite(path) => {
            if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty())
                && !parent.is_dir()
            {
                return Err(InputError(format!(
                    "no directory {}: run `custos serve` once to create the data directory, or pass --data-dir",
                    parent.display()
                ))
                .into());
            }
            let before = sqlite_applied(&path)?;
            SqliteStore::open(&path, SqliteOptions::default())
                .with_context(|| format!("cannot open the database {}", path.display()))?;
            let applied = sqlite_applied(&path)?
                .into_iter()
                .filter(|m| !before.contains(m))
                .collect();
            (format!("SQLite {}", path.display()), applied)
        }
        Database::Postgres(url) => {
            let applied = PostgresStore::migrate(url, PostgresOptions::default())
                .context("cannot migrate the PostgreSQL database")?;
            (format!("PostgreSQL {}", without_credentials(url)), applied)
        }
    };
    let mut out = String::new();
    for m in &applied {
        out.push_str(&format!("applied {m}\n"));
    }
    if applied.is_empty() {
        out.push_str(&format!("{place}: schema up to date, nothing to apply\n"));
    } else {
        out.push_str(&format!(
            "{place}: {} migration(s) applied\n",
            applied.len()
        ));
    }
    emit(&out, None)
}

/// The migrations refinery recorded in a SQLite file, as `V1__initial`.
fn sqlite_applied(path: &Path) -> anyhow::Result<Vec<String>> {
    if !path.exists() {
        return Ok(Vec::new());
    }
    let conn =
        rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .with_context(|| format!("cannot open the database {}", path.display()))?;
    let has_history: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM sqlite_master \
         WHERE type = 'table' AND name = 'refinery_schema_history')",
        [],
        |row| row.get(0),
    )?;
    if !has_history {
        return Ok(Vec::new());
    }
    let mut st =
        conn.prepare("SELECT version, name FROM refinery_schema_history ORDER BY version")?;
    let names = st
        .query_map([], |row| {
            Ok(format!(
                "V{}__{}",
                row.get::<_, i64>(0)?,
                row.get::<_, String>(1)?
            ))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(names)
}

/// `postgres://user:secret@host:5432/db?x` → `host:5432/db`: where, not who.
fn without_credentials(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let rest = rest.rsplit_once('@').map_or(rest, |(_, host)| host);
    rest.split('?').next().unwrap_or(rest)
}

#[cfg(test)]
mod tests {
    use super::without_credentials;

    #[test]
    fn credentials_are_not_shown() {
        assert_eq!(
            without_credentials("postgres://u:secret@db.example:5432/custos?sslmode=require"),
            "db.example:5432/custos"
        );
        assert_eq!(without_credentials("postgresql://h/db"), "h/db");
    }
}
