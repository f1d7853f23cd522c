//! `impl KeyCheckStore for SqliteStore`.

use custos_store::{KeyCheckStore, Result};
use rusqlite::params;

use crate::SqliteStore;
use crate::codec::db;

impl KeyCheckStore for SqliteStore {
    fn key_checks(&self) -> Result<Vec<(String, Vec<u8>)>> {
        self.read(|conn| {
            conn.prepare_cached("SELECT name, value FROM key_checks ORDER BY name")
                .and_then(|mut st| {
                    st.query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?
                        .collect::<rusqlite::Result<Vec<_>>>()
                })
                .map_err(db)
        })
    }

    fn add_key_checks(&self, checks: &[(String, Vec<u8>)]) -> Result<()> {
        self.write(|tx| {
            for (name, value) in checks {
                tx.prepare_cached(
                    "INSERT INTO key_checks (name, value) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
                )
                .and_then(|mut st| st.execute(params![name, value]))
                .map_err(db)?;
            }
            Ok(())
        })
    }

    fn kek_versions_in_use(&self) -> Result<Vec<u32>> {
        self.read(|conn| {
            conn.prepare_cached(
                "SELECT DISTINCT kek_version FROM subjects WHERE state <> 'erased' \
                 ORDER BY kek_version",
            )
            .and_then(|mut st| {
                st.query_map([], |row| row.get::<_, u32>(0))?
                    .collect::<rusqlite::Result<Vec<_>>>()
            })
            .map_err(db)
        })
    }

    fn holds_data(&self) -> Result<bool> {
        self.read(|conn| {
            conn.query_row(
                "SELECT EXISTS (SELECT 1 FROM tenants) OR EXISTS (SELECT 1 FROM subjects)",
                [],
                |row| row.get(0),
            )
            .map_err(db)
        })
    }
}
