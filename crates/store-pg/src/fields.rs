//! Field-level encryption of the C2 values on PostgreSQL (PIPL Art. 51; JR/T 0171-2020 §5 puts
//! identity numbers, and the financial-account numbers PIPL Art. 28 calls sensitive, in C2).
//!
//! With a key source (`UNLOCKDESK_KEY_FILE` on the server), the branch's data key lives in the
//! `key_record` row, wrapped by the key file's key exactly like the embedded store's
//! `<db>.keys` record ([`unlockdesk_store::keys`]). From it:
//! - every C2 value in a case's `jsonb` (any member named `phone`, `id_number`, `number`,
//!   `wallet_id`, `bank_card`, at any depth) is replaced by `enc1:` + hex(nonce ‖ AES-256-GCM
//!   ciphertext ‖ tag), a fresh 96-bit nonce per value, the case id and the member name as
//!   associated data (a value moved to another case or member does not open);
//! - an appointment's `phone` and `id_number` columns hold `h1:` + hex(HMAC-SHA-256(lookup key,
//!   member name ‖ 0x00 ‖ normalised value)) for equality lookups, and the values themselves
//!   sit sealed in its `sealed` column;
//! - a document's bytes are sealed with its id as associated data.
//!
//! Last-4 tails stay plain: screens show them anyway, and the lookup indexes start with them.

use postgres::Client;
use serde_json::Value;
use unlockdesk_core::{CoreError, CoreResult};
use unlockdesk_store::keys::{self, DataKey, KeyRecord, KeySource, Keyring, Secret};

/// Members of a case document that hold a C2 value.
const C2_MEMBERS: [&str; 5] = ["phone", "id_number", "number", "wallet_id", "bank_card"];
const SEALED: &str = "enc1:";
const HASHED: &str = "h1:";

/// The keys a store holds while its C2 fields are encrypted.
pub struct FieldKeys {
    field: Secret,
    lookup: Secret,
    /// The data key's id, for messages and the benchmark.
    pub key_id: String,
}

impl std::fmt::Debug for FieldKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "FieldKeys({})", self.key_id)
    }
}

impl FieldKeys {
    fn new(k: &DataKey) -> Self {
        FieldKeys {
            field: k.field_key(),
            lookup: k.lookup_key(),
            key_id: k.id.clone(),
        }
    }

    /// The equality-lookup form of a C2 value (`h1:` + 64 hex digits).
    pub fn lookup(&self, member: &str, value: &str) -> String {
        let mut msg = Vec::with_capacity(member.len() + 1 + value.len());
        msg.extend_from_slice(member.as_bytes());
        msg.push(0);
        msg.extend_from_slice(value.as_bytes());
        format!("{HASHED}{}", hex::encode(self.lookup.hmac(&msg)))
    }

    /// A sealed text value (`enc1:` + hex).
    pub fn seal_text(&self, member: &str, value: &str) -> CoreResult<String> {
        Ok(format!(
            "{SEALED}{}",
            hex::encode(keys::seal(
                &self.field,
                member.as_bytes(),
                value.as_bytes()
            )?)
        ))
    }

    /// The inverse of [`seal_text`](Self::seal_text); a value without the prefix is returned
    /// as it is (a row written before the store was encrypted).
    pub fn open_text(&self, member: &str, value: &str) -> CoreResult<String> {
        let Some(h) = value.strip_prefix(SEALED) else {
            return Ok(value.to_string());
        };
        let sealed = hex::decode(h).map_err(|_| damaged(member))?;
        let plain =
            keys::open(&self.field, member.as_bytes(), &sealed).ok_or_else(|| damaged(member))?;
        String::from_utf8(plain).map_err(|_| damaged(member))
    }

    /// Seal every C2 member of a JSON document, in place; `owner` (e.g. `case/<id>`) is bound
    /// into each value's associated data with the member's name.
    pub fn seal_json(&self, owner: &str, v: &mut Value) -> CoreResult<()> {
        match v {
            Value::Object(m) => {
                for (k, x) in m.iter_mut() {
                    match x {
                        Value::String(s)
                            if C2_MEMBERS.contains(&k.as_str())
                                && !s.is_empty()
                                && !s.starts_with(SEALED) =>
                        {
                            *s = self.seal_text(&format!("{owner}/{k}"), s)?;
                        }
                        _ => self.seal_json(owner, x)?,
                    }
                }
            }
            Value::Array(a) => {
                for x in a {
                    self.seal_json(owner, x)?;
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// Open every sealed C2 member of a JSON document sealed for `owner`, in place.
    pub fn open_json(&self, owner: &str, v: &mut Value) -> CoreResult<()> {
        match v {
            Value::Object(m) => {
                for (k, x) in m.iter_mut() {
                    match x {
                        Value::String(s) if C2_MEMBERS.contains(&k.as_str()) => {
                            if s.starts_with(SEALED) {
                                *s = self.open_text(&format!("{owner}/{k}"), s)?;
                            }
                        }
                        _ => self.open_json(owner, x)?,
                    }
                }
            }
            Value::Array(a) => {
                for x in a {
                    self.open_json(owner, x)?;
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// Sealed document bytes (`enc1:` as bytes, then nonce ‖ ciphertext ‖ tag), bound to the
    /// document's id.
    pub fn seal_bytes(&self, id: &str, bytes: &[u8]) -> CoreResult<Vec<u8>> {
        let mut out = SEALED.as_bytes().to_vec();
        out.extend_from_slice(&keys::seal(&self.field, id.as_bytes(), bytes)?);
        Ok(out)
    }

    /// The inverse of [`seal_bytes`](Self::seal_bytes); unsealed bytes are returned as they
    /// are. Errors: `storage` when the bytes are truncated or altered.
    pub fn open_bytes(&self, id: &str, bytes: Vec<u8>) -> CoreResult<Vec<u8>> {
        match bytes.strip_prefix(SEALED.as_bytes()) {
            Some(rest) => keys::open(&self.field, id.as_bytes(), rest).ok_or_else(|| {
                CoreError::storage(format!(
                    "the document {id} is refused: it is truncated or was altered (its authentication tag does not verify)"
                ))
            }),
            None => Ok(bytes),
        }
    }
}

fn damaged(member: &str) -> CoreError {
    CoreError::storage(format!(
        "a stored {member} does not decrypt with the branch key: the row was altered or written under another key"
    ))
}

/// Read or create the branch's key record and return the field keys, on the owner's
/// connection at open. With a source and no record: a fresh data key is made, its record
/// stored, and every existing row encrypted, all in one transaction. With a record and no
/// source: refused (the server must be given the branch key file). Neither: `None`
/// (plaintext; the caller warns).
pub fn setup(owner: &mut Client, source: &KeySource) -> CoreResult<Option<FieldKeys>> {
    let pg = |e: postgres::Error| CoreError::storage(format!("the branch key record: {e}"));
    let mut tx = owner.transaction().map_err(pg)?;
    // One server at a time creates the record; the others wait and read it.
    tx.batch_execute("LOCK TABLE key_record IN SHARE ROW EXCLUSIVE MODE")
        .map_err(pg)?;
    let row = tx
        .query_opt("SELECT record FROM key_record WHERE id = 1", &[])
        .map_err(pg)?;
    match (row, source) {
        (Some(r), _) => {
            let rec: KeyRecord = serde_json::from_value(r.get::<_, Value>(0)).map_err(|e| {
                CoreError::storage(format!("the branch key record is damaged: {e}"))
            })?;
            let ring = rec.unwrap(source).map_err(|e| {
                CoreError::storage(format!(
                    "the branch database's personal data is encrypted: {}",
                    e.message
                ))
            })?;
            tx.commit().map_err(pg)?;
            Ok(Some(FieldKeys::new(&ring.current)))
        }
        (None, KeySource::None) => Ok(None),
        (None, src) => {
            let ring = Keyring {
                current: DataKey::generate()?,
                previous: vec![],
            };
            let rec = KeyRecord::wrap(&ring, src)?;
            let keys = FieldKeys::new(&ring.current);
            tx.execute(
                "INSERT INTO key_record (id, record) VALUES (1, $1)",
                &[&serde_json::to_value(&rec).expect("serialisable")],
            )
            .map_err(pg)?;
            // No other server writes while the existing rows are encrypted: every write
            // transaction locks the audit head before it writes, and checks for this record
            // right after (`Tx::lock_head`), so a server without the key sees the record and
            // refuses before its first write; the table locks hold off anything else.
            tx.query(crate::audit::HEAD_LOCK, &[]).map_err(pg)?;
            tx.batch_execute("LOCK TABLE cases, appointments, documents IN EXCLUSIVE MODE")
                .map_err(pg)?;
            encrypt_existing(&mut tx, &keys)?;
            tx.commit().map_err(pg)?;
            // The plaintext versions of the rows are dead tuples now: rewrite the tables so
            // the data files hold none (outside a transaction; waiting at most 5 s for the
            // table locks, so a busy branch is never stalled: then it is left to autovacuum,
            // and the note in the log says so). WAL segments, archives and replicas written
            // before keep their plaintext: the operator's to rotate.
            let vacuum = owner.batch_execute(
                "SET lock_timeout = '5s'; VACUUM FULL cases, appointments, documents; RESET lock_timeout",
            );
            if let Err(e) = vacuum {
                let _ = owner.batch_execute("RESET lock_timeout");
                tracing::warn!(error = %e, "VACUUM FULL after encrypting the rows did not run: dead plaintext tuples stay until autovacuum");
            }
            tracing::info!(key = %keys.key_id, "the branch database's personal data is now encrypted");
            Ok(Some(keys))
        }
    }
}

/// Encrypt every row written before the store had a key.
fn encrypt_existing(tx: &mut postgres::Transaction<'_>, k: &FieldKeys) -> CoreResult<()> {
    let pg = |e: postgres::Error| CoreError::storage(format!("encrypting the stored rows: {e}"));
    for r in tx.query("SELECT id, data FROM cases", &[]).map_err(pg)? {
        let id: uuid::Uuid = r.get(0);
        let mut data: Value = r.get(1);
        k.seal_json(&format!("case/{id}"), &mut data)?;
        tx.execute("UPDATE cases SET data = $2 WHERE id = $1", &[&id, &data])
            .map_err(pg)?;
    }
    for r in tx
        .query(
            "SELECT id, phone, id_number FROM appointments WHERE sealed IS NULL",
            &[],
        )
        .map_err(pg)?
    {
        let id: uuid::Uuid = r.get(0);
        let (phone, id_number): (String, String) = (r.get(1), r.get(2));
        let (ph, ih, sealed) = appointment_columns(k, id, &phone, &id_number)?;
        tx.execute(
            "UPDATE appointments SET phone = $2, id_number = $3, sealed = $4 WHERE id = $1",
            &[&id, &ph, &ih, &sealed],
        )
        .map_err(pg)?;
    }
    for r in tx
        .query("SELECT id, content FROM documents", &[])
        .map_err(pg)?
    {
        let id: String = r.get(0);
        let content: Vec<u8> = r.get(1);
        if content.starts_with(SEALED.as_bytes()) {
            continue;
        }
        tx.execute(
            "UPDATE documents SET content = $2 WHERE id = $1",
            &[&id, &k.seal_bytes(&id, &content)?],
        )
        .map_err(pg)?;
    }
    Ok(())
}

/// An appointment's `phone`, `id_number` (lookup hashes) and `sealed` columns.
pub fn appointment_columns(
    k: &FieldKeys,
    id: uuid::Uuid,
    phone: &str,
    id_number: &str,
) -> CoreResult<(String, String, String)> {
    let both = serde_json::json!({"phone": phone, "id_number": id_number}).to_string();
    Ok((
        k.lookup("phone", phone),
        k.lookup("id_number", id_number),
        k.seal_text(&format!("appointment/{id}"), &both)?,
    ))
}

/// The appointment's (phone, id number) from its `sealed` column.
pub fn open_appointment(
    k: &FieldKeys,
    id: uuid::Uuid,
    sealed: &str,
) -> CoreResult<(String, String)> {
    let text = k.open_text(&format!("appointment/{id}"), sealed)?;
    let v: Value = serde_json::from_str(&text).map_err(|_| damaged("appointment"))?;
    let get = |m: &str| {
        v[m].as_str()
            .map(str::to_string)
            .ok_or_else(|| damaged("appointment"))
    };
    Ok((get("phone")?, get("id_number")?))
}
