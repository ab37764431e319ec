//! TLS to the branch server with the certificate **pinned** by its SHA-256 fingerprint (the
//! branch certificate is self-signed or from the bank's own CA; the terminal trusts exactly
//! the certificate an administrator confirmed at enrolment, never a look-alike).

use std::sync::{Arc, Mutex};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};

/// `SHA256:` and 32 colon-separated upper-case hex bytes of the DER certificate's SHA-256
/// (the form `unlockdesk-server` prints).
pub fn fingerprint(der: &[u8]) -> String {
    unlockdesk_core::service::branch_server::certificate_fingerprint(der)
}

/// A fingerprint as typed or stored, compared without case, colons or the `SHA256:` prefix.
pub fn normalise(fp: &str) -> String {
    let s = fp.trim();
    let s = s
        .strip_prefix("SHA256:")
        .or_else(|| s.strip_prefix("sha256:"))
        .unwrap_or(s);
    s.chars()
        .filter(|c| c.is_ascii_hexdigit())
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

/// Accepts exactly the pinned certificate; with no pin (enrolment, trust on first use) accepts
/// any and records what it saw for the administrator to confirm.
#[derive(Debug)]
pub struct Pinned {
    pin: Option<String>,
    pub seen: Arc<Mutex<Option<String>>>,
    provider: Arc<CryptoProvider>,
}

impl Pinned {
    pub fn new(pin: Option<&str>) -> Self {
        #[allow(deprecated)] // ring (no C build), as the store's TLS.
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        Pinned {
            pin: pin.map(normalise),
            seen: Arc::new(Mutex::new(None)),
            provider,
        }
    }

    pub fn client_config(self: Arc<Self>) -> Result<rustls::ClientConfig, rustls::Error> {
        Ok(
            rustls::ClientConfig::builder_with_provider(self.provider.clone())
                .with_safe_default_protocol_versions()?
                .dangerous()
                .with_custom_certificate_verifier(self)
                .with_no_client_auth(),
        )
    }
}

impl ServerCertVerifier for Pinned {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let fp = fingerprint(end_entity);
        *self.seen.lock().unwrap_or_else(|p| p.into_inner()) = Some(fp.clone());
        match &self.pin {
            None => Ok(ServerCertVerified::assertion()),
            Some(p) if *p == normalise(&fp) => Ok(ServerCertVerified::assertion()),
            Some(_) => Err(rustls::Error::General(
                "certificate does not match the pinned fingerprint".into(),
            )),
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn fingerprints_compare_in_any_typed_form() {
        let fp = super::fingerprint(b"x");
        assert!(fp.starts_with("SHA256:") && fp.len() == 7 + 32 * 3 - 1);
        let plain: String = fp[7..].replace(':', "").to_lowercase();
        assert_eq!(super::normalise(&plain), super::normalise(&fp));
        assert_ne!(
            super::normalise(&super::fingerprint(b"y")),
            super::normalise(&fp)
        );
    }
}
