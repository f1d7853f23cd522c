//! `custos serve --tls-cert/--tls-key`: HTTPS with HSTS, reloaded on SIGHUP, and a
//! warning when plain HTTP is served off the loopback (S-5).

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::{Server, log_path, tempdir, text};

/// A self-signed certificate for `localhost`, written as PEM; returns its DER too.
fn write_pair(dir: &Path, name: &str) -> (PathBuf, PathBuf, Vec<u8>) {
    let made = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    std::fs::create_dir_all(dir).unwrap();
    let cert = dir.join(format!("{name}.crt"));
    let key = dir.join(format!("{name}.key"));
    std::fs::write(&cert, made.cert.pem()).unwrap();
    std::fs::write(&key, made.key_pair.serialize_pem()).unwrap();
    (cert, key, made.cert.der().to_vec())
}

/// One HTTPS GET to `addr` as `localhost`, trusting only `trusted`; the raw
/// response, or the TLS error (a certificate the client does not trust).
fn https_get(addr: &str, trusted: &[u8], path: &str) -> Result<String, String> {
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(rustls::pki_types::CertificateDer::from(trusted.to_vec()))
        .unwrap();
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    let conn = rustls::ClientConnection::new(Arc::new(config), name).unwrap();
    let tcp = std::net::TcpStream::connect(addr).unwrap();
    tcp.set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    let mut tls = rustls::StreamOwned::new(conn, tcp);
    tls.write_all(
        format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").as_bytes(),
    )
    .map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    match tls.read_to_end(&mut out) {
        Ok(_) => Ok(text(&out)),
        // The server may close without close_notify after `Connection: close`.
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof && !out.is_empty() => {
            Ok(text(&out))
        }
        Err(e) => Err(e.to_string()),
    }
}

#[test]
// Waits, bounded, for a real child process to handle SIGHUP: real time is read here only.
#[allow(clippy::disallowed_methods)]
fn serve_speaks_https_with_hsts_and_reloads_the_certificate_on_sighup() {
    let base = tempdir();
    let certs = base.join("certs");
    let (cert, key, first) = write_pair(&certs, "a");
    let data = base.join("data");
    let server = Server::spawn(
        &data,
        &[
            "--tls-cert",
            cert.to_str().unwrap(),
            "--tls-key",
            key.to_str().unwrap(),
        ],
    );
    assert!(
        server.seen.iter().any(|l| l.contains("https://")),
        "{:?}",
        server.seen
    );
    let reply = https_get(&server.addr, &first, "/healthz").unwrap();
    assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
    assert!(
        reply
            .to_ascii_lowercase()
            .contains("strict-transport-security: max-age=31536000"),
        "{reply}"
    );
    // Plain HTTP to the TLS port gets no HTTP answer.
    let mut plain = std::net::TcpStream::connect(&server.addr).unwrap();
    plain
        .set_read_timeout(Some(std::time::Duration::from_secs(15)))
        .unwrap();
    plain
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut got = Vec::new();
    let _ = plain.read_to_end(&mut got);
    assert!(!text(&got).contains("HTTP/1.1 200"), "{}", text(&got));

    // A renewed certificate in the same files is served after SIGHUP, without a restart.
    let (new_cert, new_key, second) = write_pair(&certs, "b");
    std::fs::copy(&new_cert, &cert).unwrap();
    std::fs::copy(&new_key, &key).unwrap();
    assert!(
        https_get(&server.addr, &second, "/healthz").is_err(),
        "the new certificate is served before SIGHUP"
    );
    let pid = server.child.id().to_string();
    let status = std::process::Command::new("kill")
        .args(["-HUP", &pid])
        .status()
        .unwrap();
    assert!(status.success());
    let started = std::time::Instant::now();
    loop {
        match https_get(&server.addr, &second, "/healthz") {
            Ok(reply) => {
                assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
                break;
            }
            Err(e) => assert!(
                started.elapsed() < std::time::Duration::from_secs(10),
                "still the old certificate after SIGHUP: {e}"
            ),
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    // The old certificate is no longer served.
    assert!(https_get(&server.addr, &first, "/healthz").is_err());
}

#[test]
fn serve_refuses_a_key_that_is_not_the_certificates() {
    let base = tempdir();
    let (cert, _, _) = write_pair(&base, "a");
    let (_, other_key, _) = write_pair(&base, "b");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_custos"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(base.join("data"))
        .arg("--tls-cert")
        .arg(&cert)
        .arg("--tls-key")
        .arg(&other_key)
        .env_remove("CUSTOS_DATA_DIR")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(err.contains("does not belong to the certificate"), "{err}");
    // Refused before anything was created.
    assert!(!base.join("data").join("custos.db").exists());
}

#[test]
fn serve_warns_when_plain_http_leaves_the_loopback() {
    let base = tempdir();
    let data = base.join("data");
    let mut server = Server::spawn(&data, &["--listen", "0.0.0.0:0"]);
    let _ = server.admin_key();
    drop(server);
    let log = std::fs::read_to_string(log_path(&data)).unwrap();
    assert!(
        log.contains("WARNING: serving plain HTTP on 0.0.0.0:"),
        "{log}"
    );

    // On the loopback (as every other test serves) there is nothing to warn about.
    let data = base.join("loopback");
    let mut server = Server::start(&data);
    let _ = server.admin_key();
    drop(server);
    let log = std::fs::read_to_string(log_path(&data)).unwrap();
    assert!(!log.contains("WARNING: serving plain HTTP"), "{log}");
}
