//! The branch certificate: a self-signed one made once and kept in the data directory
//! (`server-cert.pem`, `server-key.pem` mode 0600), and the SHA-256 fingerprint terminals pin.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

/// The fingerprint as terminals show and pin it: `SHA256:` and 32 colon-separated upper-case
/// hex bytes of the DER certificate's SHA-256.
pub fn fingerprint(der: &[u8]) -> String {
    unlockdesk_core::service::branch_server::certificate_fingerprint(der)
}

/// The fingerprint of the first certificate of a PEM file. Errors: a sentence naming the file.
pub fn fingerprint_of_pem(path: &Path) -> Result<String, String> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::CertificateDer;
    let der = CertificateDer::pem_file_iter(path)
        .map_err(|e| format!("cannot read the certificate {}: {e}", path.display()))?
        .next()
        .ok_or_else(|| format!("{} holds no PEM certificate", path.display()))?
        .map_err(|e| format!("cannot read the certificate {}: {e}", path.display()))?;
    Ok(fingerprint(&der))
}

/// The kept self-signed certificate and key in `dir`, made now when missing (names: the host
/// name, `localhost`, the listen address, 127.0.0.1 and ::1). Errors: a sentence.
pub fn self_signed(dir: &Path, listen: IpAddr) -> Result<(PathBuf, PathBuf), String> {
    let cert = dir.join("server-cert.pem");
    let key = dir.join("server-key.pem");
    if cert.exists() && key.exists() {
        return Ok((cert, key));
    }
    if cert.exists() || key.exists() {
        // Half a pair (a crash between the two writes, or a file removed by hand): a new
        // certificate is needed, and terminals must pin its new fingerprint.
        let _ = std::fs::remove_file(&cert);
        let _ = std::fs::remove_file(&key);
    }
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let mut names = vec!["localhost".to_string(), "127.0.0.1".into(), "::1".into()];
    if let Ok(h) = std::fs::read_to_string("/etc/hostname") {
        let h = h.trim();
        if !h.is_empty() {
            names.push(h.to_string());
        }
    }
    if !listen.is_unspecified() && !listen.is_loopback() {
        names.push(listen.to_string());
    }
    let mut params = rcgen::CertificateParams::new(names)
        .map_err(|e| format!("cannot make the branch certificate: {e}"))?;
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "UnlockDesk branch server");
    let pair =
        rcgen::KeyPair::generate().map_err(|e| format!("cannot make the branch key: {e}"))?;
    let c = params
        .self_signed(&pair)
        .map_err(|e| format!("cannot sign the branch certificate: {e}"))?;
    write_private(&key, pair.serialize_pem().as_bytes())?;
    std::fs::write(&cert, c.pem()).map_err(|e| format!("cannot write {}: {e}", cert.display()))?;
    Ok((cert, key))
}

fn write_private(path: &Path, bytes: &[u8]) -> Result<(), String> {
    use std::io::Write;
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    let mut f = o
        .open(path)
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    f.write_all(bytes)
        .map_err(|e| format!("cannot write {}: {e}", path.display()))
}
