//! TLS to the server (S-5): `sslmode=require` encrypts; `verify-full` with
//! `sslrootcert` also checks the server's certificate, against the local server's
//! Debian snakeoil certificate for `localhost` used as the CA.

use custos_store_postgres::{PostgresOptions, PostgresStore, TempDatabase};

use super::admin_url;

const SNAKEOIL: &str = "/etc/ssl/certs/ssl-cert-snakeoil.pem";

/// How many of the connections open on `db` are encrypted, seen from the server.
fn encrypted_sessions(admin: &str, db: &str) -> i64 {
    let mut client = postgres::Client::connect(admin, postgres::NoTls).unwrap();
    client
        .query_one(
            "SELECT COUNT(*) FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) \
             WHERE a.datname = $1 AND s.ssl",
            &[&db],
        )
        .unwrap()
        .get(0)
}

/// The temporary database's URL as `localhost` (the name in the certificate).
fn on_localhost(temp: &TempDatabase) -> String {
    temp.url().replace("127.0.0.1", "localhost")
}

#[test]
fn require_encrypts_every_connection() {
    let Some(admin) = admin_url() else { return };
    let temp = TempDatabase::create(&admin).unwrap();
    let url = format!("{}?sslmode=require", temp.url());
    let store = PostgresStore::connect(&url, PostgresOptions::default()).unwrap();
    assert!(encrypted_sessions(&admin, temp.name()) >= 1);
    drop(store);
}

#[test]
fn verify_full_checks_the_certificate_against_sslrootcert() {
    let Some(admin) = admin_url() else { return };
    if !std::path::Path::new(SNAKEOIL).exists() {
        let _ = std::io::Write::write_all(
            &mut std::io::stderr(),
            b"skipped: no snakeoil certificate to verify against\n",
        );
        return;
    }
    let temp = TempDatabase::create(&admin).unwrap();
    let base = on_localhost(&temp);
    let url = format!("{base}?sslmode=verify-full&sslrootcert={SNAKEOIL}");
    let store = PostgresStore::connect(&url, PostgresOptions::default()).unwrap();
    assert!(encrypted_sessions(&admin, temp.name()) >= 1);
    drop(store);

    // Another CA does not vouch for the server: no connection, no fallback to plain.
    let other = std::fs::read_dir("/etc/ssl/certs")
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| {
            p.extension().is_some_and(|x| x == "pem") && !p.to_string_lossy().contains("snakeoil")
        })
        .unwrap();
    let url = format!("{base}?sslmode=verify-full&sslrootcert={}", other.display());
    assert!(PostgresStore::connect(&url, PostgresOptions::default()).is_err());

    // The right CA under a name the certificate does not carry fails too.
    let url = format!(
        "{}?sslmode=verify-full&sslrootcert={SNAKEOIL}",
        temp.url().replace("localhost", "127.0.0.1")
    );
    assert!(PostgresStore::connect(&url, PostgresOptions::default()).is_err());
}
