//! Keys for personal data at rest.
//!
//! PIPL (2021) Art. 51 asks a handler of personal information to protect it with encryption;
//! Art. 28 counts financial accounts (bank card and wallet numbers) as sensitive, and the
//! financial-data standard JR/T 0171-2020 §5 puts identity numbers in class C2. So the
//! embedded store, its printed documents and its backups are encrypted.
//!
//! Key hierarchy:
//! - the **data key** (DEK): 256 random bits from the OS random source. It never touches the
//!   disk in plaintext. Sub-keys are derived from it with HMAC-SHA-256 under a fixed label each
//!   (NIST SP 800-108 §4.1, counter-less single block): the SQLCipher raw key, the documents'
//!   AES-256-GCM key, and (in PostgreSQL) the field key and the lookup-hash key.
//! - the **key-encryption key** (KEK), which wraps the data key (AES-256-GCM, a fresh 96-bit
//!   nonce, the key id as associated data) in the **key record** `<database>.keys` beside the
//!   database (JSON, written atomically). Its source, in this order: the key file named by
//!   `UNLOCKDESK_KEY_FILE` (64 hex digits, mode 0600, made by `unlockdesk-cli key new`); else,
//!   in the desktop app, a branch passphrase stretched with argon2id (RFC 9106 §4 second
//!   recommended option: m = 64 MiB, t = 3, p = 4) with a 16-byte salt kept in the record.
//!
//! The record may hold earlier data keys while `rekey --data-key` re-encrypts the documents,
//! so a document is read with the key its header names even after a crash half way.

use std::io::Write;
use std::path::{Path, PathBuf};

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use unlockdesk_core::{CoreError, CoreResult, ErrorCode};
use zeroize::{Zeroize, Zeroizing};

/// The environment variable naming the key file (the key-encryption key).
pub const KEY_FILE_ENV: &str = "UNLOCKDESK_KEY_FILE";
/// The environment variable holding the branch passphrase for programs without a window (the
/// CLI on a desktop terminal's store).
pub const PASSPHRASE_ENV: &str = "UNLOCKDESK_STORE_PASSPHRASE";
static PROCESS_PASSPHRASE: std::sync::OnceLock<Zeroizing<String>> = std::sync::OnceLock::new();

/// The key record's file name suffix: `unlockdesk.db.keys` beside `unlockdesk.db`.
pub const RECORD_SUFFIX: &str = ".keys";
/// The key record's format tag.
const RECORD_FORMAT: &str = "unlockdesk-key-record/1";
/// Key length in bytes (AES-256, SQLCipher raw key).
pub const KEY_LEN: usize = 32;
const NONCE_LEN: usize = 12;

type HmacSha256 = Hmac<sha2_11::Sha256>;

/// 32 bytes of key material, wiped from memory when dropped.
#[derive(Clone)]
pub struct Secret(Zeroizing<[u8; KEY_LEN]>);

impl Secret {
    /// 32 bytes from the OS random source. Errors: `storage` when the OS has none.
    pub fn random() -> CoreResult<Self> {
        let mut k = Zeroizing::new([0u8; KEY_LEN]);
        getrandom::fill(&mut k[..])
            .map_err(|e| CoreError::storage(format!("the OS random source failed: {e}")))?;
        Ok(Secret(k))
    }

    fn from_slice(b: &[u8]) -> Option<Self> {
        let arr: [u8; KEY_LEN] = b.try_into().ok()?;
        Some(Secret(Zeroizing::new(arr)))
    }

    /// The raw bytes.
    pub fn bytes(&self) -> &[u8; KEY_LEN] {
        &self.0
    }

    /// HMAC-SHA-256 of `msg` under this key (32 bytes).
    pub fn hmac(&self, msg: &[u8]) -> [u8; 32] {
        let mut m = <HmacSha256 as hmac::KeyInit>::new_from_slice(&self.0[..])
            .expect("HMAC takes a key of any length");
        m.update(msg);
        m.finalize().into_bytes().into()
    }

    /// A sub-key for one purpose: HMAC-SHA-256(key, label).
    pub fn derive(&self, label: &str) -> Secret {
        Secret(Zeroizing::new(self.hmac(label.as_bytes())))
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(..)")
    }
}

/// Random bytes for a nonce or salt.
fn random_bytes<const N: usize>() -> CoreResult<[u8; N]> {
    let mut b = [0u8; N];
    getrandom::fill(&mut b)
        .map_err(|e| CoreError::storage(format!("the OS random source failed: {e}")))?;
    Ok(b)
}

/// AES-256-GCM encryption: `nonce (12 bytes) || ciphertext || tag (16 bytes)`.
pub fn seal(key: &Secret, aad: &[u8], plain: &[u8]) -> CoreResult<Vec<u8>> {
    let cipher = Aes256Gcm::new_from_slice(&key.0[..]).expect("a 32-byte key");
    let nonce: [u8; NONCE_LEN] = random_bytes()?;
    let ct = cipher
        .encrypt(
            &Nonce::try_from(&nonce[..]).expect("12 bytes"),
            Payload { msg: plain, aad },
        )
        .map_err(|_| CoreError::storage("encryption failed"))?;
    let mut out = Vec::with_capacity(NONCE_LEN + ct.len());
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&ct);
    Ok(out)
}

/// The inverse of [`seal`]; `None` when the bytes are truncated, altered, or sealed under
/// another key or associated data (the GCM tag does not verify).
pub fn open(key: &Secret, aad: &[u8], sealed: &[u8]) -> Option<Vec<u8>> {
    if sealed.len() < NONCE_LEN + 16 {
        return None;
    }
    let cipher = Aes256Gcm::new_from_slice(&key.0[..]).expect("a 32-byte key");
    let (nonce, ct) = sealed.split_at(NONCE_LEN);
    cipher
        .decrypt(&Nonce::try_from(nonce).ok()?, Payload { msg: ct, aad })
        .ok()
}

/// A data key with its id (the first 8 bytes of HMAC(key, "unlockdesk/key-id/v1"), hex):
/// documents name the key they were sealed with.
#[derive(Clone, Debug)]
pub struct DataKey {
    /// 16 hex digits.
    pub id: String,
    key: Secret,
}

impl DataKey {
    /// A fresh random data key.
    pub fn generate() -> CoreResult<Self> {
        Ok(Self::from_secret(Secret::random()?))
    }

    fn from_secret(key: Secret) -> Self {
        let id = hex::encode(&key.hmac(b"unlockdesk/key-id/v1")[..8]);
        DataKey { id, key }
    }

    /// SQLCipher's raw key (`PRAGMA key = "x'…'"`, no PBKDF2: the key is already random).
    pub fn sqlcipher_key(&self) -> Secret {
        self.key.derive("unlockdesk/sqlcipher/v1")
    }

    /// The AES-256-GCM key of printed documents and scans.
    pub fn document_key(&self) -> Secret {
        self.key.derive("unlockdesk/documents/v1")
    }

    /// The AES-256-GCM key of PostgreSQL field values.
    pub fn field_key(&self) -> Secret {
        self.key.derive("unlockdesk/fields/v1")
    }

    /// The HMAC key of PostgreSQL equality-lookup hashes.
    pub fn lookup_key(&self) -> Secret {
        self.key.derive("unlockdesk/lookup/v1")
    }
}

/// The store's data keys: the current one and any earlier ones still needed to read documents
/// a `rekey --data-key` has not re-encrypted yet.
#[derive(Clone, Debug)]
pub struct Keyring {
    /// Encrypts everything new.
    pub current: DataKey,
    /// Read-only, newest first.
    pub previous: Vec<DataKey>,
}

impl Keyring {
    /// The key with this id, current or earlier.
    pub fn by_id(&self, id: &str) -> Option<&DataKey> {
        std::iter::once(&self.current)
            .chain(self.previous.iter())
            .find(|k| k.id == id)
    }
}

/// Where the key-encryption key comes from.
#[derive(Clone)]
pub enum KeySource {
    /// A key file (64 hex digits, mode 0600).
    KeyFile(PathBuf),
    /// A branch passphrase, stretched with argon2id (desktop app).
    Passphrase(Zeroizing<String>),
    /// No key source: the CLI and the server keep working on a plaintext store and warn.
    None,
}

impl std::fmt::Debug for KeySource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeySource::KeyFile(p) => write!(f, "KeyFile({})", p.display()),
            KeySource::Passphrase(_) => f.write_str("Passphrase(..)"),
            KeySource::None => f.write_str("None"),
        }
    }
}

impl KeySource {
    /// `UNLOCKDESK_KEY_FILE` when set and not empty; else the branch passphrase in
    /// `UNLOCKDESK_STORE_PASSPHRASE` (the CLI on a desktop terminal's store asks for it and
    /// sets it); else [`KeySource::None`].
    pub fn from_env() -> Self {
        if let Some(p) = std::env::var_os(KEY_FILE_ENV).filter(|v| !v.is_empty()) {
            return KeySource::KeyFile(PathBuf::from(p));
        }
        if let Some(p) = PROCESS_PASSPHRASE.get() {
            return KeySource::Passphrase(p.clone());
        }
        match std::env::var(PASSPHRASE_ENV).ok().filter(|v| !v.is_empty()) {
            Some(p) => KeySource::Passphrase(Zeroizing::new(p)),
            None => KeySource::None,
        }
    }

    /// Keep the branch passphrase for this process only (typed at a prompt, or taken out of
    /// the environment at start), so programs this one starts (a print job, the viewer) never
    /// inherit it. Only the first call counts.
    pub fn set_process_passphrase(p: String) {
        let _ = PROCESS_PASSPHRASE.set(Zeroizing::new(p));
    }

    /// Whether any key source is given.
    pub fn is_some(&self) -> bool {
        !matches!(self, KeySource::None)
    }

    /// Where the key comes from, for messages (never the key itself).
    pub fn describe(&self) -> String {
        match self {
            KeySource::KeyFile(p) => format!("the key file {}", p.display()),
            KeySource::Passphrase(_) => "the branch passphrase".into(),
            KeySource::None => "no key".into(),
        }
    }
}

fn key_error(msg: impl Into<String>) -> CoreError {
    CoreError::new(ErrorCode::Storage, msg)
}

/// Read a key file: 64 hex digits (surrounding white space ignored), owned by us and not
/// readable or writable by group or others (mode 0600 or stricter).
/// Errors: `storage` naming the file and the rule broken (missing, mode, content).
pub fn read_key_file(path: &Path) -> CoreResult<Secret> {
    let meta = std::fs::metadata(path)
        .map_err(|e| key_error(format!("cannot read the key file {}: {e}", path.display())))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(key_error(format!(
                "the key file {} has mode {mode:04o}: a key file must be readable by its owner only (chmod 600 {})",
                path.display(),
                path.display()
            )));
        }
    }
    if !meta.is_file() || meta.len() > 1024 {
        return Err(key_error(format!(
            "{} is not an UnlockDesk key file (64 hex digits, made by `unlockdesk-cli key new`)",
            path.display()
        )));
    }
    let text = Zeroizing::new(
        std::fs::read_to_string(path)
            .map_err(|e| key_error(format!("cannot read the key file {}: {e}", path.display())))?,
    );
    let mut raw = Zeroizing::new([0u8; KEY_LEN]);
    let t = text.trim();
    if t.len() != 2 * KEY_LEN || hex::decode_to_slice(t, &mut raw[..]).is_err() {
        return Err(key_error(format!(
            "{} is not an UnlockDesk key file (64 hex digits, made by `unlockdesk-cli key new`)",
            path.display()
        )));
    }
    Ok(Secret(raw))
}

/// Make a new key file at `out` (mode 0600, 64 hex digits from the OS random source and a
/// newline). Refuses to overwrite an existing file. Errors: `storage` naming the file.
pub fn new_key_file(out: &Path) -> CoreResult<()> {
    let key = Secret::random()?;
    let mut text = Zeroizing::new(hex::encode(key.bytes()));
    text.push('\n');
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(out).map_err(|e| {
        key_error(format!(
            "cannot create the key file {}: {e}{}",
            out.display(),
            if e.kind() == std::io::ErrorKind::AlreadyExists {
                " (an existing key is never overwritten)"
            } else {
                ""
            }
        ))
    })?;
    f.write_all(text.as_bytes())
        .and_then(|_| f.sync_all())
        .map_err(|e| key_error(format!("cannot write the key file {}: {e}", out.display())))?;
    text.zeroize();
    Ok(())
}

/// argon2id parameters of a passphrase (RFC 9106 §4, second recommended option).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Kdf {
    /// Always `argon2id`.
    pub alg: String,
    /// Memory in KiB.
    pub m_kib: u32,
    /// Passes.
    pub t: u32,
    /// Lanes.
    pub p: u32,
    /// 16 random bytes, hex.
    pub salt: String,
}

impl Kdf {
    fn new() -> CoreResult<Self> {
        Ok(Kdf {
            alg: "argon2id".into(),
            m_kib: 64 * 1024,
            t: 3,
            p: 4,
            salt: hex::encode(random_bytes::<16>()?),
        })
    }

    fn stretch(&self, pass: &str) -> CoreResult<Secret> {
        let salt = hex::decode(&self.salt).map_err(|_| key_error("the key record is damaged"))?;
        let params = argon2::Params::new(self.m_kib, self.t, self.p, Some(KEY_LEN))
            .map_err(|e| key_error(format!("the key record is damaged: {e}")))?;
        let a = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
        let mut out = Zeroizing::new([0u8; KEY_LEN]);
        a.hash_password_into(pass.as_bytes(), &salt, &mut out[..])
            .map_err(|e| key_error(format!("cannot stretch the passphrase: {e}")))?;
        Ok(Secret(out))
    }
}

/// One wrapped data key in the record.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct WrappedKey {
    id: String,
    /// nonce || AES-256-GCM(KEK, data key) || tag, hex.
    sealed: String,
}

/// The key record `<database>.keys`: the wrapped data keys and how the KEK is made.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct KeyRecord {
    format: String,
    /// `key-file` or `passphrase`.
    pub kek: String,
    /// Present for `passphrase`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kdf: Option<Kdf>,
    /// The current key first, then earlier ones still needed.
    keys: Vec<WrappedKey>,
}

/// The key record's path for a database file.
pub fn record_path(db: &Path) -> PathBuf {
    PathBuf::from(format!("{}{RECORD_SUFFIX}", db.display()))
}

fn wrap_aad(id: &str) -> Vec<u8> {
    format!("unlockdesk data key {id}").into_bytes()
}

impl KeyRecord {
    /// The record beside `db`, if any. Errors: `storage` when it exists but cannot be read.
    pub fn load(db: &Path) -> CoreResult<Option<Self>> {
        let p = record_path(db);
        let text = match std::fs::read_to_string(&p) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(key_error(format!("cannot read {}: {e}", p.display()))),
        };
        let rec: KeyRecord = serde_json::from_str(&text)
            .map_err(|e| key_error(format!("the key record {} is damaged: {e}", p.display())))?;
        if rec.format != RECORD_FORMAT || rec.keys.is_empty() {
            return Err(key_error(format!(
                "{} is not an UnlockDesk key record this version can read",
                p.display()
            )));
        }
        Ok(Some(rec))
    }

    /// Write the record beside `db` atomically (temporary file, fsync, rename, fsync of the
    /// folder), mode 0600.
    pub fn save(&self, db: &Path) -> CoreResult<()> {
        let p = record_path(db);
        write_atomic(
            &p,
            serde_json::to_string_pretty(self)
                .expect("serialisable")
                .as_bytes(),
        )
    }

    fn kek(&self, src: &KeySource) -> CoreResult<Secret> {
        match (src, self.kek.as_str()) {
            (KeySource::KeyFile(p), "key-file") => read_key_file(p),
            (KeySource::Passphrase(pass), "passphrase") => match &self.kdf {
                Some(kdf) => kdf.stretch(pass),
                None => Err(key_error(
                    "the key record is damaged: no passphrase parameters",
                )),
            },
            (KeySource::None, kind) => Err(key_error(format!(
                "it is encrypted and no key was given: {}",
                match kind {
                    "passphrase" => "type the branch passphrase (UNLOCKDESK_STORE_PASSPHRASE)",
                    _ => "set UNLOCKDESK_KEY_FILE to the store's key file",
                }
            ))),
            (given, kind) => Err(key_error(format!(
                "its key is protected by a {} but {} was given",
                if kind == "passphrase" {
                    "branch passphrase"
                } else {
                    "key file"
                },
                given.describe()
            ))),
        }
    }

    /// Unwrap the data keys with the key-encryption key from `src`.
    /// Errors: `storage` "… does not open this store" for a wrong key (nothing is changed).
    pub fn unwrap(&self, src: &KeySource) -> CoreResult<Keyring> {
        let kek = self.kek(src)?;
        let mut keys = Vec::with_capacity(self.keys.len());
        for w in &self.keys {
            let sealed =
                hex::decode(&w.sealed).map_err(|_| key_error("the key record is damaged"))?;
            let raw = Zeroizing::new(open(&kek, &wrap_aad(&w.id), &sealed).ok_or_else(|| {
                key_error(format!(
                    "{} does not open this store: it is not the key the store was encrypted with (nothing was changed)",
                    src.describe()
                ))
            })?);
            let key = DataKey::from_secret(
                Secret::from_slice(&raw).ok_or_else(|| key_error("the key record is damaged"))?,
            );
            if key.id != w.id {
                return Err(key_error(
                    "the key record is damaged: a key does not match its id",
                ));
            }
            keys.push(key);
        }
        let current = keys.remove(0);
        Ok(Keyring {
            current,
            previous: keys,
        })
    }

    /// A record wrapping `ring` under the KEK from `src` (a passphrase gets a fresh salt).
    /// Errors: `storage` when `src` is [`KeySource::None`] or unreadable.
    pub fn wrap(ring: &Keyring, src: &KeySource) -> CoreResult<Self> {
        let (kind, kdf) = match src {
            KeySource::KeyFile(_) => ("key-file", None),
            KeySource::Passphrase(_) => ("passphrase", Some(Kdf::new()?)),
            KeySource::None => return Err(key_error("no key source to protect the data key")),
        };
        let mut rec = KeyRecord {
            format: RECORD_FORMAT.into(),
            kek: kind.into(),
            kdf,
            keys: vec![],
        };
        let kek = rec.kek(src)?;
        for k in std::iter::once(&ring.current).chain(ring.previous.iter()) {
            rec.keys.push(WrappedKey {
                id: k.id.clone(),
                sealed: hex::encode(seal(&kek, &wrap_aad(&k.id), k.key.bytes())?),
            });
        }
        Ok(rec)
    }
}

/// Write `bytes` to `path` atomically: a temporary file beside it (mode 0600), fsync, rename,
/// fsync of the folder. Errors: `storage` naming the file.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> CoreResult<()> {
    let tmp = PathBuf::from(format!("{}.tmp-{}", path.display(), std::process::id()));
    let io = |e: std::io::Error| key_error(format!("cannot write {}: {e}", path.display()));
    {
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let mut f = opts.open(&tmp).map_err(io)?;
        f.write_all(bytes).and_then(|_| f.sync_all()).map_err(io)?;
    }
    std::fs::rename(&tmp, path).map_err(io)?;
    if let Some(dir) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
    }
    Ok(())
}

/// Overwrite a file with zeros, fsync, then remove it: a plaintext file replaced by its
/// encrypted copy must not stay readable on the disk. A missing file is not an error.
pub fn shred(path: &Path) -> CoreResult<()> {
    let io = |e: std::io::Error| key_error(format!("cannot shred {}: {e}", path.display()));
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(io(e)),
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        // Another name for the same bytes (a snapshot's hard link): zeroing would destroy it
        // too. Only this name goes.
        if meta.nlink() > 1 {
            tracing::warn!(file = %path.display(), "not shredded: the file has other hard links");
            return std::fs::remove_file(path).map_err(io);
        }
    }
    let len = meta.len();
    {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .open(path)
            .map_err(io)?;
        let zeros = vec![0u8; 1 << 16];
        let mut left = len;
        while left > 0 {
            let n = left.min(zeros.len() as u64) as usize;
            f.write_all(&zeros[..n]).map_err(io)?;
            left -= n as u64;
        }
        f.sync_all().map_err(io)?;
    }
    std::fs::remove_file(path).map_err(io)
}

/// Encrypted documents start with this tag, then the data key's id (16 ASCII hex digits),
/// then [`seal`]'s output.
pub const DOCUMENT_MAGIC: &[u8; 8] = b"UDENC\x01\0\0";

/// Seal a document's bytes for the file `rel` (its path under the data directory, bound as
/// associated data so a file moved to another case's place is refused).
pub fn seal_document(key: &DataKey, rel: &str, plain: &[u8]) -> CoreResult<Vec<u8>> {
    let mut aad = Vec::with_capacity(DOCUMENT_MAGIC.len() + 16 + rel.len());
    aad.extend_from_slice(DOCUMENT_MAGIC);
    aad.extend_from_slice(key.id.as_bytes());
    let mut out = aad.clone();
    aad.extend_from_slice(rel.as_bytes());
    out.extend_from_slice(&seal(&key.document_key(), &aad, plain)?);
    Ok(out)
}

/// Whether file bytes are a sealed document.
pub fn is_sealed_document(bytes: &[u8]) -> bool {
    bytes.starts_with(DOCUMENT_MAGIC)
}

/// Open a sealed document. Errors: `storage` naming `rel` when it is truncated, altered,
/// moved, or sealed under a key this store does not hold.
pub fn open_document(ring: &Keyring, rel: &str, bytes: &[u8]) -> CoreResult<Vec<u8>> {
    let head = DOCUMENT_MAGIC.len() + 16;
    let refused = |why: &str| CoreError::storage(format!("the document {rel} is refused: {why}"));
    if bytes.len() < head || !is_sealed_document(bytes) {
        return Err(refused("it is not an encrypted UnlockDesk document"));
    }
    let id = std::str::from_utf8(&bytes[DOCUMENT_MAGIC.len()..head])
        .map_err(|_| refused("its header is damaged"))?;
    let key = ring
        .by_id(id)
        .ok_or_else(|| refused("it was encrypted with a key this store does not hold"))?;
    let mut aad = bytes[..head].to_vec();
    aad.extend_from_slice(rel.as_bytes());
    open(&key.document_key(), &aad, &bytes[head..]).ok_or_else(|| {
        refused("it is truncated or was altered (its authentication tag does not verify)")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_and_open_round_trip_and_refuse_tampering() {
        let k = DataKey::generate().unwrap();
        let ring = Keyring {
            current: k.clone(),
            previous: vec![],
        };
        let s = seal_document(&k, "documents/a/b.pdf", b"%PDF-1.7 hello").unwrap();
        assert!(!s.windows(5).any(|w| w == b"hello"));
        assert_eq!(
            open_document(&ring, "documents/a/b.pdf", &s).unwrap(),
            b"%PDF-1.7 hello"
        );
        // Moved to another path.
        assert!(open_document(&ring, "documents/a/c.pdf", &s).is_err());
        // Truncated.
        assert!(open_document(&ring, "documents/a/b.pdf", &s[..s.len() - 1]).is_err());
        // One bit flipped.
        let mut t = s.clone();
        let n = t.len() - 20;
        t[n] ^= 1;
        let e = open_document(&ring, "documents/a/b.pdf", &t).unwrap_err();
        assert!(e.message.contains("altered"), "{e}");
        // Another store's key.
        let other = Keyring {
            current: DataKey::generate().unwrap(),
            previous: vec![],
        };
        assert!(open_document(&other, "documents/a/b.pdf", &s).is_err());
    }

    #[test]
    fn key_files_are_private_and_wrap_the_data_key() {
        let dir = tempfile::tempdir().unwrap();
        let kf = dir.path().join("k");
        new_key_file(&kf).unwrap();
        assert!(new_key_file(&kf).is_err(), "never overwrites");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                std::fs::metadata(&kf).unwrap().permissions().mode() & 0o777,
                0o600
            );
            std::fs::set_permissions(&kf, std::fs::Permissions::from_mode(0o644)).unwrap();
            let e = read_key_file(&kf).unwrap_err();
            assert!(e.message.contains("0644"), "{e}");
            std::fs::set_permissions(&kf, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        let src = KeySource::KeyFile(kf);
        let ring = Keyring {
            current: DataKey::generate().unwrap(),
            previous: vec![DataKey::generate().unwrap()],
        };
        let rec = KeyRecord::wrap(&ring, &src).unwrap();
        let back = rec.unwrap(&src).unwrap();
        assert_eq!(back.current.id, ring.current.id);
        assert_eq!(back.previous[0].id, ring.previous[0].id);
        let other = dir.path().join("other");
        new_key_file(&other).unwrap();
        let e = rec.unwrap(&KeySource::KeyFile(other)).unwrap_err();
        assert!(e.message.contains("does not open this store"), "{e}");
        let e = rec.unwrap(&KeySource::None).unwrap_err();
        assert!(e.message.contains("UNLOCKDESK_KEY_FILE"), "{e}");
    }

    #[test]
    fn a_passphrase_wraps_with_argon2id() {
        let src = KeySource::Passphrase(Zeroizing::new("correct horse battery".into()));
        let ring = Keyring {
            current: DataKey::generate().unwrap(),
            previous: vec![],
        };
        let rec = KeyRecord::wrap(&ring, &src).unwrap();
        assert_eq!(rec.kdf.as_ref().unwrap().alg, "argon2id");
        assert_eq!(rec.unwrap(&src).unwrap().current.id, ring.current.id);
        let wrong = KeySource::Passphrase(Zeroizing::new("wrong horse".into()));
        assert!(rec.unwrap(&wrong).is_err());
    }
}
