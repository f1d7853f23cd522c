//! `impl KeyCheckStore for PostgresStore`.

use custos_store::{KeyCheckStore, Result};

use crate::PostgresStore;
use crate::codec::get;

impl KeyCheckStore for PostgresStore {
    fn key_checks(&self) -> Result<Vec<(String, Vec<u8>)>> {
        self.run(|s| {
            s.query("SELECT name, value FROM key_checks ORDER BY name", &[])?
                .iter()
                .map(|row| Ok((get::<String>(row, 0)?, get::<Vec<u8>>(row, 1)?)))
                .collect()
        })
    }

    fn add_key_checks(&self, checks: &[(String, Vec<u8>)]) -> Result<()> {
        self.write(|s| {
            for (name, value) in checks {
                let (name, value): (&str, &[u8]) = (name, value);
                s.execute(
                    "INSERT INTO key_checks (name, value) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                    &[&name, &value],
                )?;
            }
            Ok(())
        })
    }

    fn kek_versions_in_use(&self) -> Result<Vec<u32>> {
        self.run(|s| {
            s.query(
                "SELECT DISTINCT kek_version FROM subjects WHERE state <> 'erased' \
                 ORDER BY kek_version",
                &[],
            )?
            .iter()
            .map(|row| {
                let v: i64 = get(row, 0)?;
                u32::try_from(v).map_err(|_| {
                    custos_store::StoreError::Corrupt("a key version is out of range".to_owned())
                })
            })
            .collect()
        })
    }

    fn holds_data(&self) -> Result<bool> {
        self.run(|s| {
            let row = s.query_one(
                "SELECT EXISTS (SELECT 1 FROM tenants) OR EXISTS (SELECT 1 FROM subjects)",
                &[],
            )?;
            get::<bool>(&row, 0)
        })
    }
}
