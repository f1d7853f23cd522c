//! HTTPS for `custos serve --tls-cert FILE --tls-key FILE` (S-5).
//!
//! Invariant: a server started with a certificate answers only over TLS, and every
//! answer carries HSTS so a browser never falls back to plain HTTP for this host.
//! The certificate is read from its PEM files at start (a bad pair refuses to start)
//! and again on SIGHUP; a bad pair on reload is logged and the served one kept, so a
//! botched renewal never takes the service down. Every handshake asks one resolver
//! for the current certificate: the one place a reload takes effect.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use axum::Router;
use axum::http::HeaderValue;
use axum::response::Response;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;

/// One year, without `includeSubDomains`: custos cannot know whether sibling hosts
/// of the operator's domain serve HTTPS, and locking them out is not ours to decide.
pub const HSTS: &str = "max-age=31536000";

/// How long a client may take to finish its handshake before the socket is dropped.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Why a certificate pair could not be loaded. Names files, never their contents.
#[derive(Debug)]
pub struct TlsError(pub String);

impl std::fmt::Display for TlsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for TlsError {}

/// The served certificate and the files it came from; swapped whole on reload.
#[derive(Debug)]
pub struct ReloadingCert {
    cert: PathBuf,
    key: PathBuf,
    provider: Arc<CryptoProvider>,
    current: RwLock<Arc<CertifiedKey>>,
}

impl ReloadingCert {
    /// Loads the pair once; an unreadable or mismatched pair is an error.
    pub fn load(cert: &Path, key: &Path) -> Result<Arc<Self>, TlsError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let first = read_pair(cert, key, &provider)?;
        Ok(Arc::new(Self {
            cert: cert.to_path_buf(),
            key: key.to_path_buf(),
            provider,
            current: RwLock::new(Arc::new(first)),
        }))
    }

    /// Reads the files again and serves the new pair from the next handshake on.
    /// On error the pair served so far stays.
    pub fn reload(&self) -> Result<(), TlsError> {
        let next = read_pair(&self.cert, &self.key, &self.provider)?;
        let mut slot = self
            .current
            .write()
            .map_err(|_| TlsError("certificate lock poisoned".into()))?;
        *slot = Arc::new(next);
        Ok(())
    }

    fn server_config(self: &Arc<Self>) -> Result<rustls::ServerConfig, TlsError> {
        let mut config = rustls::ServerConfig::builder_with_provider(Arc::clone(&self.provider))
            .with_safe_default_protocol_versions()
            .map_err(|e| TlsError(format!("TLS setup failed: {e}")))?
            .with_no_client_auth()
            .with_cert_resolver(Arc::clone(self) as Arc<dyn ResolvesServerCert>);
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(config)
    }
}

impl ResolvesServerCert for ReloadingCert {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        self.current.read().ok().map(|c| Arc::clone(&c))
    }
}

fn read_pair(cert: &Path, key: &Path, provider: &CryptoProvider) -> Result<CertifiedKey, TlsError> {
    let chain = CertificateDer::pem_file_iter(cert)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|e| TlsError(format!("cannot read certificate {}: {e}", cert.display())))?;
    if chain.is_empty() {
        return Err(TlsError(format!(
            "no certificate in {} (expected PEM)",
            cert.display()
        )));
    }
    let secret = PrivateKeyDer::from_pem_file(key)
        .map_err(|e| TlsError(format!("cannot read private key {}: {e}", key.display())))?;
    let signing = provider
        .key_provider
        .load_private_key(secret)
        .map_err(|e| TlsError(format!("unusable private key {}: {e}", key.display())))?;
    let pair = CertifiedKey::new(chain, signing);
    pair.keys_match().map_err(|e| {
        TlsError(format!(
            "the key in {} does not belong to the certificate in {}: {e}",
            key.display(),
            cert.display()
        ))
    })?;
    Ok(pair)
}

/// Adds HSTS to every response served over TLS.
async fn hsts(mut resp: Response) -> Response {
    resp.headers_mut().insert(
        axum::http::header::STRICT_TRANSPORT_SECURITY,
        HeaderValue::from_static(HSTS),
    );
    resp
}

/// Serves `app` over TLS until Ctrl-C or SIGTERM, within `limits`; SIGHUP reloads
/// the certificate.
pub async fn serve_tls(
    listener: tokio::net::TcpListener,
    app: Router,
    cert: Arc<ReloadingCert>,
    limits: crate::ConnLimits,
) -> std::io::Result<()> {
    let config = cert
        .server_config()
        .map_err(|e| std::io::Error::other(e.0))?;
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let app = app.layer(axum::middleware::map_response(hsts));
    tokio::spawn(reload_on_hangup(Arc::clone(&cert)));
    let limits = crate::ConnLimits {
        handshake_timeout: HANDSHAKE_TIMEOUT,
        ..limits
    };
    crate::serve_connections(listener, app, Some(acceptor), limits, crate::shutdown()).await
}

async fn reload_on_hangup(cert: Arc<ReloadingCert>) {
    let Ok(mut hup) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()) else {
        tracing::warn!("cannot listen for SIGHUP; the certificate will not be reloaded");
        return;
    };
    while hup.recv().await.is_some() {
        match cert.reload() {
            Ok(()) => tracing::info!("TLS certificate reloaded"),
            Err(e) => {
                tracing::warn!(error = %e, "TLS certificate not reloaded; still serving the previous one")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    fn write_pair(dir: &Path, name: &str) -> (PathBuf, PathBuf) {
        let made = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
        let cert = dir.join(format!("{name}.crt"));
        let key = dir.join(format!("{name}.key"));
        std::fs::write(&cert, made.cert.pem()).unwrap();
        std::fs::write(&key, made.key_pair.serialize_pem()).unwrap();
        (cert, key)
    }

    fn tempdir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("custos-tls-{name}-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn served(c: &ReloadingCert) -> Vec<u8> {
        let current = c.current.read().unwrap();
        current.cert.first().unwrap().as_ref().to_vec()
    }

    #[test]
    fn a_key_of_another_certificate_is_refused() {
        let dir = tempdir("mismatch");
        let (cert_a, _) = write_pair(&dir, "a");
        let (_, key_b) = write_pair(&dir, "b");
        let err = ReloadingCert::load(&cert_a, &key_b).unwrap_err();
        assert!(err.0.contains("does not belong"), "{err}");
        let err = ReloadingCert::load(&dir.join("missing.crt"), &key_b).unwrap_err();
        assert!(err.0.contains("cannot read certificate"), "{err}");
    }

    #[test]
    fn a_bad_reload_keeps_the_served_pair_and_a_good_one_replaces_it() {
        let dir = tempdir("reload");
        let (cert, key) = write_pair(&dir, "a");
        let c = ReloadingCert::load(&cert, &key).unwrap();
        let first = served(&c);
        std::fs::write(&cert, "not a certificate").unwrap();
        assert!(c.reload().is_err());
        assert_eq!(served(&c), first);
        let (cert_b, key_b) = write_pair(&dir, "b");
        std::fs::copy(&cert_b, &cert).unwrap();
        std::fs::copy(&key_b, &key).unwrap();
        c.reload().unwrap();
        assert_ne!(served(&c), first);
    }
}
