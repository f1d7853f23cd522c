//! TLS to PostgreSQL (S-5), with rustls.
//!
//! The driver knows `sslmode=disable|prefer|require` but neither `verify-full` nor
//! `sslrootcert`, so custos reads those two itself from the URL before the driver
//! parses it. Invariant: every connection the pool or a temporary database opens
//! goes through [`Target::connect`], so the mode the operator asked for holds on
//! all of them.
//! - `disable`: plain TCP.
//! - `prefer` (the default) and `require`: TLS (required with `require`), the
//!   server's certificate not checked — libpq's meaning of these modes.
//! - `verify-full` (and `verify-ca`, taken as `verify-full`: the stricter reading):
//!   TLS required, the certificate must chain to `sslrootcert` and name the host.

use std::sync::Arc;

use custos_store::{Result, StoreError};
use postgres::config::SslMode;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use tokio_postgres_rustls::MakeRustlsConnect;

/// Where and how to connect: the driver's configuration and the TLS it needs.
#[derive(Clone)]
pub(crate) struct Target {
    pub(crate) config: postgres::Config,
    tls: Option<MakeRustlsConnect>,
}

impl Target {
    /// Parses `url` (a `postgres://` URL or libpq's `key=value` form).
    pub(crate) fn parse(url: &str) -> Result<Self> {
        let (rest, verify, root) = take_verify_params(url);
        if root.is_some() && !verify {
            // A root certificate the operator gave is meant to be checked: not
            // silently ignored under `require`.
            return Err(StoreError::Backend(
                "sslrootcert is given but sslmode is not verify-full: set sslmode=verify-full"
                    .to_owned(),
            ));
        }
        // The parser's message may quote the URL, password included: not repeated.
        let mut config = rest
            .parse::<postgres::Config>()
            .map_err(|_| StoreError::Backend("the database URL cannot be parsed".to_owned()))?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let tls = if verify {
            config.ssl_mode(SslMode::Require);
            let path = root.ok_or_else(|| {
                StoreError::Backend("sslmode=verify-full needs sslrootcert=FILE".to_owned())
            })?;
            Some(MakeRustlsConnect::new(verifying(&provider, &path)?))
        } else if config.get_ssl_mode() == SslMode::Disable {
            None
        } else {
            Some(MakeRustlsConnect::new(unverified(provider)?))
        };
        Ok(Self { config, tls })
    }

    /// Opens one connection in the configured mode.
    pub(crate) fn connect(&self) -> std::result::Result<postgres::Client, postgres::Error> {
        match &self.tls {
            Some(tls) => self.config.connect(tls.clone()),
            None => self.config.connect(postgres::NoTls),
        }
    }
}

/// Splits `sslmode=verify-full|verify-ca` and `sslrootcert=…` off the URL.
fn take_verify_params(url: &str) -> (String, bool, Option<String>) {
    let mut verify = false;
    let mut root = None;
    let mut keep = |pair: &str| -> bool {
        match pair.split_once('=') {
            Some(("sslmode", "verify-full" | "verify-ca")) => {
                verify = true;
                false
            }
            Some(("sslrootcert", path)) => {
                root = Some(path.to_owned());
                false
            }
            _ => true,
        }
    };
    let rest = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        match url.split_once('?') {
            Some((base, query)) => {
                let kept: Vec<&str> = query.split('&').filter(|p| keep(p)).collect();
                if kept.is_empty() {
                    base.to_owned()
                } else {
                    format!("{base}?{}", kept.join("&"))
                }
            }
            None => url.to_owned(),
        }
    } else {
        url.split_whitespace()
            .filter(|p| keep(p))
            .collect::<Vec<_>>()
            .join(" ")
    };
    (rest, verify, root)
}

fn verifying(provider: &Arc<CryptoProvider>, root: &str) -> Result<rustls::ClientConfig> {
    let certs = CertificateDer::pem_file_iter(root)
        .and_then(|c| c.collect::<std::result::Result<Vec<_>, _>>())
        .map_err(|e| StoreError::Backend(format!("cannot read sslrootcert {root}: {e}")))?;
    let mut roots = rustls::RootCertStore::empty();
    for cert in certs {
        roots
            .add(cert)
            .map_err(|e| StoreError::Backend(format!("unusable sslrootcert {root}: {e}")))?;
    }
    if roots.is_empty() {
        return Err(StoreError::Backend(format!(
            "no certificate in sslrootcert {root}"
        )));
    }
    Ok(
        rustls::ClientConfig::builder_with_provider(Arc::clone(provider))
            .with_safe_default_protocol_versions()
            .map_err(|e| StoreError::Backend(format!("TLS setup failed: {e}")))?
            .with_root_certificates(roots)
            .with_no_client_auth(),
    )
}

fn unverified(provider: Arc<CryptoProvider>) -> Result<rustls::ClientConfig> {
    Ok(
        rustls::ClientConfig::builder_with_provider(Arc::clone(&provider))
            .with_safe_default_protocol_versions()
            .map_err(|e| StoreError::Backend(format!("TLS setup failed: {e}")))?
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(EncryptOnly(provider)))
            .with_no_client_auth(),
    )
}

/// `require`: the channel is encrypted and the handshake signed by the
/// certificate's key, but whose certificate it is is not checked (libpq's meaning).
#[derive(Debug)]
struct EncryptOnly(Arc<CryptoProvider>);

impl ServerCertVerifier for EncryptOnly {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn verify_params_are_taken_off_both_url_forms() {
        let (rest, verify, root) = take_verify_params(
            "postgres://u@localhost/db?sslmode=verify-full&sslrootcert=/ca.pem&application_name=x",
        );
        assert_eq!(rest, "postgres://u@localhost/db?application_name=x");
        assert!(verify);
        assert_eq!(root.as_deref(), Some("/ca.pem"));
        let (rest, verify, root) =
            take_verify_params("host=localhost sslmode=verify-full sslrootcert=/ca.pem user=u");
        assert_eq!(rest, "host=localhost user=u");
        assert!(verify);
        assert_eq!(root.as_deref(), Some("/ca.pem"));
        let (rest, verify, _) = take_verify_params("postgres://u@h/db?sslmode=require");
        assert_eq!(rest, "postgres://u@h/db?sslmode=require");
        assert!(!verify);
    }

    #[test]
    fn verify_full_without_a_root_or_a_root_without_verify_is_refused() {
        assert!(Target::parse("postgres://u@localhost/db?sslmode=verify-full").is_err());
        assert!(Target::parse("postgres://u@localhost/db?sslrootcert=/ca.pem").is_err());
        assert!(
            Target::parse("postgres://u@localhost/db?sslmode=verify-full&sslrootcert=/nonexistent")
                .is_err()
        );
    }
}
