//! A throw-away database for tests and benchmarks, so that each test has its
//! own schema and tests run in parallel on one server.

use std::fmt;

use custos_store::{Result, StoreError, Uuid};

use crate::codec::db;
use crate::parse_url;

/// A database `custos_test_<random>` created through an administrative URL and
/// dropped (with any connection still open on it) when this is dropped.
pub struct TempDatabase {
    admin: crate::tls::Target,
    name: String,
    url: String,
}

impl fmt::Debug for TempDatabase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TempDatabase")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl TempDatabase {
    /// Creates the database through `admin_url`, a `postgres://` URL whose user
    /// may create databases (its database is only used to issue the CREATE).
    pub fn create(admin_url: &str) -> Result<Self> {
        let admin = parse_url(admin_url)?;
        let name = format!("custos_test_{}", Uuid::new_v4().simple());
        let url = with_database(admin_url, &name).ok_or_else(|| {
            StoreError::Backend("a temporary database needs a postgres:// URL".to_owned())
        })?;
        let mut client = admin.connect().map_err(db)?;
        // The name is ours (hex digits), safe to splice into the statement.
        client
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .map_err(db)?;
        Ok(TempDatabase { admin, name, url })
    }

    /// The URL of the new database.
    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn name(&self) -> &str {
        &self.name
    }
}

impl Drop for TempDatabase {
    fn drop(&mut self) {
        let Ok(mut client) = self.admin.connect() else {
            return;
        };
        // FORCE (PostgreSQL 13+) ends sessions still open on it; older servers
        // get the plain form.
        let force = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
        if client.batch_execute(&force).is_err() {
            let _ = client.batch_execute(&format!("DROP DATABASE IF EXISTS {}", self.name));
        }
    }
}

/// `url` with its database (the path) replaced by `name`, keeping the query.
fn with_database(url: &str, name: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    if scheme != "postgres" && scheme != "postgresql" {
        return None;
    }
    let (before_query, query) = match rest.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (rest, None),
    };
    let authority = before_query.split('/').next().unwrap_or(before_query);
    let mut out = format!("{scheme}://{authority}/{name}");
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn replaces_the_database_and_keeps_the_rest() {
        assert_eq!(
            with_database("postgres://postgres@127.0.0.1:5432/test", "x").as_deref(),
            Some("postgres://postgres@127.0.0.1:5432/x")
        );
        assert_eq!(
            with_database("postgresql://u:p@h/db?sslmode=disable", "x").as_deref(),
            Some("postgresql://u:p@h/x?sslmode=disable")
        );
        assert_eq!(
            with_database("postgres://h", "x").as_deref(),
            Some("postgres://h/x")
        );
        assert_eq!(with_database("host=h dbname=d", "x"), None);
    }
}
