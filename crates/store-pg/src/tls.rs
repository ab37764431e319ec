//! How the store reaches its server: the URL's TLS settings, and the rule that only this
//! machine may be reached without TLS (issue 13 item 5).
//!
//! The `postgres` driver knows `sslmode` disable, prefer and require and no `sslrootcert`, so
//! the URL's `sslmode` and `sslrootcert` are taken out here and acted on with rustls, with
//! libpq's meaning (PostgreSQL documentation, "SSL Support", table "SSL Mode Descriptions"):
//!
//! | `sslmode`     | encrypted | server certificate checked                                   |
//! |---------------|-----------|--------------------------------------------------------------|
//! | (none), `disable`, `allow`, `prefer` | no | (plain; only to a loopback host or a socket) |
//! | `require`     | yes       | only when `sslrootcert` is given (then as `verify-ca`)        |
//! | `verify-ca`   | yes       | chain to the root certificate(s)                             |
//! | `verify-full` | yes       | chain, and the host name (or IP address) in the certificate   |
//!
//! `sslrootcert` names a PEM file of root certificates; `system` (or no value with
//! `verify-full`) takes the system's bundle (`SSL_CERT_FILE`, else
//! `/etc/ssl/certs/ca-certificates.crt`), allowed only with `verify-full` (a public chain alone
//! does not say which server answered; libpq 16 rules the same for `sslrootcert=system`).
//! `prefer` and `allow` never encrypt here: a plain connection is either allowed (this
//! machine) or refused, never chosen by the server.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use postgres::config::{Host, SslMode};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, RootCertStore, SignatureScheme};
use tokio_postgres_rustls::MakeRustlsConnect;
use unlockdesk_core::{CoreError, CoreResult};

/// How the connection is protected, from the URL's `sslmode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsMode {
    /// No TLS (`sslmode` absent, `disable`, `allow` or `prefer`): this machine only.
    Plain,
    /// `require`: encrypted; the certificate checked only when a root is named.
    Require,
    /// `verify-ca`: encrypted, the certificate chains to a trusted root.
    VerifyCa,
    /// `verify-full`: as `verify-ca`, and the certificate names the host.
    VerifyFull,
}

/// A database URL taken apart: the driver's configuration (without `sslmode`/`sslrootcert`)
/// and what TLS it asks for.
#[derive(Debug, Clone)]
pub struct Target {
    pub config: postgres::Config,
    pub mode: TlsMode,
    /// The `sslrootcert` file; `None` for the system bundle (or none given with `require`).
    pub root_cert: Option<PathBuf>,
    /// `sslrootcert` was given (a file, or `system`).
    pub root_named: bool,
}

/// Parse a `postgres://` / `postgresql://` URL or a libpq `key=value` string.
/// Errors: `storage` in one sentence (an unknown `sslmode`, a URL the driver refuses).
pub fn parse(url: &str) -> CoreResult<Target> {
    let (rest, mut ssl) = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        take_from_url(url)
    } else {
        take_from_key_values(url)
    };
    let mode = match ssl.mode.as_deref() {
        None | Some("disable") | Some("allow") | Some("prefer") => TlsMode::Plain,
        Some("require") => TlsMode::Require,
        Some("verify-ca") => TlsMode::VerifyCa,
        Some("verify-full") => TlsMode::VerifyFull,
        Some(other) => {
            return Err(CoreError::storage(format!(
                "the database URL's sslmode '{other}' is not one of disable, require, verify-ca, \
                 verify-full"
            )))
        }
    };
    let mut config: postgres::Config = rest
        .parse()
        .map_err(|e| CoreError::storage(format!("the database URL is not valid: {e}")))?;
    // The driver's own TLS step is told only "plain" or "TLS"; what TLS checks is ours.
    config.ssl_mode(if mode == TlsMode::Plain {
        SslMode::Disable
    } else {
        SslMode::Require
    });
    let root_named = ssl.root.is_some();
    let root_cert = match ssl.root.take() {
        Some(r) if r == "system" || r.is_empty() => None,
        Some(r) => Some(PathBuf::from(r)),
        None => None,
    };
    Ok(Target {
        config,
        mode,
        root_cert,
        root_named,
    })
}

#[derive(Default)]
struct SslParams {
    mode: Option<String>,
    root: Option<String>,
}

/// Takes `sslmode` and `sslrootcert` out of a URL's query string.
fn take_from_url(url: &str) -> (String, SslParams) {
    let mut ssl = SslParams::default();
    let Some((base, query)) = url.split_once('?') else {
        return (url.to_string(), ssl);
    };
    let mut kept = Vec::new();
    for pair in query.split('&') {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        match k {
            "sslmode" => ssl.mode = Some(percent_decode(v)),
            "sslrootcert" => ssl.root = Some(percent_decode(v)),
            _ => kept.push(pair),
        }
    }
    let rest = if kept.is_empty() {
        base.to_string()
    } else {
        format!("{base}?{}", kept.join("&"))
    };
    (rest, ssl)
}

/// Takes `sslmode` and `sslrootcert` out of a libpq `key=value` string (blanks around `=`
/// allowed; values may be single-quoted, with `\'` and `\\` escapes). The other pairs are
/// written back quoted, for the driver's parser.
fn take_from_key_values(s: &str) -> (String, SslParams) {
    let mut ssl = SslParams::default();
    let mut kept = Vec::new();
    let mut chars = s.chars().peekable();
    let skip_blanks = |it: &mut std::iter::Peekable<std::str::Chars<'_>>| {
        while it.peek().is_some_and(|c| c.is_whitespace()) {
            it.next();
        }
    };
    loop {
        skip_blanks(&mut chars);
        if chars.peek().is_none() {
            break;
        }
        let mut key = String::new();
        while let Some(&c) = chars.peek() {
            if c == '=' || c.is_whitespace() {
                break;
            }
            key.push(c);
            chars.next();
        }
        skip_blanks(&mut chars);
        if chars.peek() != Some(&'=') {
            // Not `key=value`: handed on as it is, for the driver to name the error.
            kept.push(key);
            continue;
        }
        chars.next();
        skip_blanks(&mut chars);
        let mut value = String::new();
        if chars.peek() == Some(&'\'') {
            chars.next();
            while let Some(c) = chars.next() {
                match c {
                    '\'' => break,
                    '\\' => value.extend(chars.next()),
                    c => value.push(c),
                }
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c.is_whitespace() {
                    break;
                }
                value.push(c);
                chars.next();
            }
        }
        match key.as_str() {
            "sslmode" => ssl.mode = Some(value),
            "sslrootcert" => ssl.root = Some(value),
            _ => kept.push(format!(
                "{key}='{}'",
                value.replace('\\', "\\\\").replace('\'', "\\'")
            )),
        }
    }
    (kept.join(" "), ssl)
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = |b: u8| (b as char).to_digit(16);
            // Byte-wise: a `%` before a multi-byte character must not split it.
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn is_loopback(name: &str) -> bool {
    name.eq_ignore_ascii_case("localhost")
        || name
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
            .map(|ip| ip.is_loopback())
            .unwrap_or(false)
}

/// A plain (unencrypted) connection only to a loopback host (localhost, 127.0.0.0/8, ::1) or
/// a Unix socket; any other host needs `sslmode=require` or stricter (issue 13 item 5).
/// Errors: `storage`, naming the host and what to add.
pub fn check_transport(target: &Target) -> CoreResult<()> {
    let config = &target.config;
    if config.get_hosts().is_empty() && config.get_hostaddrs().is_empty() {
        return Err(CoreError::storage(
            "the database URL names no host: give the server's host name (or localhost, or a \
             Unix socket directory)",
        ));
    }
    if target.mode != TlsMode::Plain {
        return Ok(());
    }
    let remote = config
        .get_hosts()
        .iter()
        .filter_map(|h| match h {
            Host::Tcp(name) if !is_loopback(name) => Some(name.clone()),
            _ => None,
        })
        .chain(
            config
                .get_hostaddrs()
                .iter()
                .filter(|a| !a.is_loopback())
                .map(|a| a.to_string()),
        )
        .next();
    match remote {
        None => Ok(()),
        Some(host) => Err(CoreError::storage(format!(
            "the database host {host} is not on this machine, so the connection must be \
             encrypted: add sslmode=verify-full (with sslrootcert=the CA file) or sslmode=require \
             to the URL"
        ))),
    }
}

/// The rustls connector for a TLS target (`None` for a plain one). Errors: `storage` (the
/// root certificate file cannot be read or holds no certificate).
pub fn connector(target: &Target) -> CoreResult<Option<MakeRustlsConnect>> {
    // ring, not aws-lc-rs: the latter's C build (cmake, a minute or more) lands on every cold
    // CI run. rustls 0.23.48 deprecates ring's provider only for its lack of post-quantum key
    // exchange, which PostgreSQL's clients (libpq with OpenSSL 3.0 on Debian 12) do not offer
    // either.
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verify_chain = match target.mode {
        TlsMode::Plain => return Ok(None),
        TlsMode::Require => target.root_named,
        TlsMode::VerifyCa | TlsMode::VerifyFull => true,
    };
    // Against the system's public roots a chain alone proves nothing about *which* server
    // answered (anyone can get a public certificate for their own name), so only verify-full
    // may use them, as libpq 16 rules for sslrootcert=system.
    if verify_chain && target.root_cert.is_none() && target.mode != TlsMode::VerifyFull {
        return Err(CoreError::storage(
            "with the system's root certificates only sslmode=verify-full is safe (a public \
             certificate of any other name would pass): use verify-full, or name the bank's CA \
             file in sslrootcert",
        ));
    }
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| CoreError::storage(format!("TLS set-up failed: {e}")))?;
    let config = if verify_chain {
        let roots = Arc::new(load_roots(target.root_cert.as_deref())?);
        let webpki = WebPkiServerVerifier::builder_with_provider(roots, provider)
            .build()
            .map_err(|e| CoreError::storage(format!("TLS set-up failed: {e}")))?;
        let verifier: Arc<dyn ServerCertVerifier> = if target.mode == TlsMode::VerifyFull {
            webpki
        } else {
            Arc::new(ChainOnly { inner: webpki })
        };
        builder
            .dangerous()
            .with_custom_certificate_verifier(verifier)
            .with_no_client_auth()
    } else {
        tracing::warn!(
            "sslmode=require without sslrootcert: the connection is encrypted but the database \
             server's certificate is not checked; use sslmode=verify-full"
        );
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(EncryptOnly { provider }))
            .with_no_client_auth()
    };
    Ok(Some(MakeRustlsConnect::new(config)))
}

fn load_roots(file: Option<&Path>) -> CoreResult<RootCertStore> {
    let path = match file {
        Some(p) => p.to_path_buf(),
        None => std::env::var_os("SSL_CERT_FILE")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("/etc/ssl/certs/ca-certificates.crt")),
    };
    let certs = CertificateDer::pem_file_iter(&path)
        .and_then(|it| it.collect::<Result<Vec<_>, _>>())
        .map_err(|e| {
            CoreError::storage(format!(
                "cannot read the database server's root certificate file {}: {e}",
                path.display()
            ))
        })?;
    let mut roots = RootCertStore::empty();
    let (added, _ignored) = roots.add_parsable_certificates(certs);
    if added == 0 {
        return Err(CoreError::storage(format!(
            "the root certificate file {} holds no usable certificate",
            path.display()
        )));
    }
    Ok(roots)
}

/// `verify-ca`: the chain must reach a trusted root; the host name is not compared. (The
/// webpki verifier checks the name only after the chain, so its name error means the chain
/// was good.)
#[derive(Debug)]
struct ChainOnly {
    inner: Arc<WebPkiServerVerifier>,
}

impl ServerCertVerifier for ChainOnly {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self.inner.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        ) {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }
    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }
    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// `require` without a root: libpq's meaning, encryption without a certificate check (the
/// handshake signatures are still verified, so the session key belongs to whoever holds the
/// certificate's key).
#[derive(Debug)]
struct EncryptOnly {
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for EncryptOnly {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }
    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
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
        verify_tls13_signature(
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
    use super::*;

    fn allowed(url: &str) -> bool {
        check_transport(&parse(url).unwrap()).is_ok()
    }

    #[test]
    fn plain_connections_only_to_this_machine() {
        assert!(allowed("postgresql://u:p@localhost:5432/db"));
        assert!(allowed("postgresql://u@127.0.0.9/db"));
        assert!(allowed("postgresql://u@[::1]:5433/db"));
        assert!(allowed("host=/var/run/postgresql user=u dbname=db"));
        assert!(allowed("postgresql://u@localhost/db?sslmode=prefer"));
        assert!(!allowed("postgresql://u@db.branch.example/db"));
        assert!(!allowed(
            "postgresql://u@db.branch.example/db?sslmode=prefer"
        ));
        assert!(!allowed("postgresql://u@10.1.2.3/db?sslmode=disable"));
        assert!(!allowed("host=localhost hostaddr=10.1.2.3 user=u"));
        let e = check_transport(&parse("postgres://u@10.1.2.3/db").unwrap()).unwrap_err();
        assert!(e.message.contains("sslmode=verify-full"), "{}", e.message);
        assert!(e.message.contains("10.1.2.3"), "{}", e.message);
    }

    #[test]
    fn tls_modes_allow_any_host() {
        for mode in ["require", "verify-ca", "verify-full"] {
            assert!(allowed(&format!(
                "postgresql://u@db.branch.example/db?sslmode={mode}"
            )));
            assert!(allowed(&format!(
                "host=db.branch.example user=u sslmode={mode}"
            )));
        }
    }

    #[test]
    fn ssl_settings_are_taken_out_of_both_url_forms() {
        let t = parse(
            "postgresql://u:p@db.example:5433/branch?application_name=x&sslmode=verify-full\
             &sslrootcert=%2Fetc%2Fud%2Fca.pem",
        )
        .unwrap();
        assert_eq!(t.mode, TlsMode::VerifyFull);
        assert_eq!(t.root_cert.as_deref(), Some(Path::new("/etc/ud/ca.pem")));
        assert_eq!(t.config.get_dbname(), Some("branch"));
        assert_eq!(t.config.get_application_name(), Some("x"));
        assert_eq!(t.config.get_ssl_mode(), SslMode::Require);

        let t =
            parse("host=db.example user=u sslrootcert='/a b/ca.pem' sslmode=verify-ca").unwrap();
        assert_eq!(t.mode, TlsMode::VerifyCa);
        assert_eq!(t.root_cert.as_deref(), Some(Path::new("/a b/ca.pem")));
        assert_eq!(t.config.get_user(), Some("u"));

        let t = parse("postgresql://u@localhost/db?sslmode=require&sslrootcert=system").unwrap();
        assert_eq!(t.mode, TlsMode::Require);
        assert!(t.root_named && t.root_cert.is_none());

        let t = parse("postgresql://u@localhost/db").unwrap();
        assert_eq!(t.mode, TlsMode::Plain);
        assert_eq!(t.config.get_ssl_mode(), SslMode::Disable);
    }

    #[test]
    fn bad_settings_are_one_sentence() {
        let e = parse("postgresql://u@localhost/db?sslmode=verify-everything").unwrap_err();
        assert!(
            e.message.contains("sslmode 'verify-everything'"),
            "{}",
            e.message
        );
        let e = parse("postgresql://u@localhost:notaport/db").unwrap_err();
        assert!(e.message.contains("not valid"), "{}", e.message);
        let t = parse("postgresql://u@db.example/db?sslmode=verify-full&sslrootcert=/nope.pem")
            .unwrap();
        let e = connector(&t).err().unwrap();
        assert!(e.message.contains("/nope.pem"), "{}", e.message);
    }

    #[test]
    fn the_system_roots_only_with_verify_full() {
        for url in [
            "postgresql://u@db.example/db?sslmode=verify-ca",
            "postgresql://u@db.example/db?sslmode=verify-ca&sslrootcert=system",
            "postgresql://u@db.example/db?sslmode=require&sslrootcert=system",
        ] {
            let e = connector(&parse(url).unwrap()).err().expect(url);
            assert!(
                e.message.contains("only sslmode=verify-full"),
                "{url}: {}",
                e.message
            );
        }
    }
}
