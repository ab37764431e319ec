//! Staff password hashing (argon2id, m = 7 MiB, t = 5, p = 1) and the password rules.
//!
//! The parameters are one of the five argon2id configurations the OWASP Password Storage Cheat
//! Sheet (section "Argon2id") lists as giving an equal level of defence, trading memory for
//! passes: m=47104 t=1, m=19456 t=2 (the `argon2` crate's default), m=12288 t=3, m=9216 t=4,
//! m=7168 t=5, all with p=1. On the branch server's 2-core machine the 7 MiB one takes about a
//! third less CPU time per check than the 19 MiB one (12 ms against 18 ms, measured with the
//! same crate; its block array stays in the processor's shared cache), and each check running
//! at once holds 7 MiB instead of 19. Hashes made with other parameters still verify (the PHC
//! text names its own) and are made again with these at the account's next sign-in
//! ([`needs_rehash`]).
//!
//! Until then such an account's check costs what its parameters cost (about 18 ms for the
//! 19 MiB ones), a few milliseconds more than the check against the dummy hash that answers
//! for unknown staff ids: a timing difference that tells an id with an old hash exists. Staff
//! ids are not secrets at a branch (they are printed on every form), and the disabled and
//! locked accounts' refusals already name them; it ends with the account's next sign-in.
//!
//! Only staff passwords live here. A customer's password or SMS code is C3 data
//! (JR/T 0171-2020) and is never typed, stored or logged anywhere in UnlockDesk.

use std::sync::{Mutex, OnceLock};

use argon2::password_hash::{self, Output, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};

use crate::error::{CoreError, CoreResult, FieldError};

/// Minimum password length (characters).
pub const MIN_LEN: usize = 10;

/// Check the password rules for a new staff password: at least [`MIN_LEN`] characters, at
/// least three of the four classes (lower, upper, digit, other), not containing the staff id,
/// and not all one repeated character. Errors: field `password` (or `new_password`), rules
/// `length`, `classes`, `contains-id`.
pub fn check_rules(field: &str, password: &str, staff_id: &str) -> CoreResult<()> {
    let mut errs = Vec::new();
    if password.chars().count() < MIN_LEN {
        errs.push(FieldError::new(
            field,
            "length",
            format!("at least {MIN_LEN} characters"),
        ));
    }
    let classes = [
        password.chars().any(|c| c.is_lowercase()),
        password.chars().any(|c| c.is_uppercase()),
        password.chars().any(|c| c.is_ascii_digit()),
        password.chars().any(|c| !c.is_alphanumeric()),
    ]
    .iter()
    .filter(|b| **b)
    .count();
    if classes < 3 {
        errs.push(FieldError::new(
            field,
            "classes",
            "use at least three of: lower-case, upper-case, digits, symbols",
        ));
    }
    if !staff_id.is_empty() && password.to_lowercase().contains(&staff_id.to_lowercase()) {
        errs.push(FieldError::new(
            field,
            "contains-id",
            "must not contain the staff id",
        ));
    }
    if errs.is_empty() {
        Ok(())
    } else {
        Err(CoreError::invalid(errs))
    }
}

/// The parameters of every new hash: argon2id v1.3, m = 7,168 KiB, t = 5 passes, p = 1 lane,
/// 32-byte output (OWASP Password Storage Cheat Sheet, "Argon2id": one of its equal-defence
/// minimum configurations).
pub fn params() -> Params {
    // Constant inputs inside argon2's bounds: `new` cannot refuse them.
    Params::new(7168, 5, 1, Some(Params::DEFAULT_OUTPUT_LEN)).unwrap_or_default()
}

fn hasher() -> Argon2<'static> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params())
}

/// Hash with argon2id ([`params`]) and a caller-provided 16-byte salt (randomness is passed
/// in). Returns PHC string text (`$argon2id$v=19$m=7168,t=5,p=1$...`).
/// Errors: code `internal` when the hasher refuses its inputs (it does not for a 16-byte salt).
pub fn hash(password: &str, salt: [u8; 16]) -> CoreResult<String> {
    let failed = |e: String| {
        CoreError::new(
            crate::ErrorCode::Internal,
            format!("password hashing failed: {e}"),
        )
    };
    let salt_text = SaltString::encode_b64(&salt).map_err(|e| failed(e.to_string()))?;
    let params = params();
    let mut out = vec![0u8; params.output_len().unwrap_or(Params::DEFAULT_OUTPUT_LEN)];
    with_blocks(&params, |blocks| {
        hasher().hash_password_into_with_memory(password.as_bytes(), &salt, &mut out, blocks)
    })
    .map_err(|e| failed(e.to_string()))?;
    let output = Output::new(&out).map_err(|e| failed(e.to_string()))?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: params
            .try_into()
            .map_err(|e: password_hash::Error| failed(e.to_string()))?,
        salt: Some(salt_text.as_salt()),
        hash: Some(output),
    };
    Ok(phc.to_string())
}

/// Verify `password` against a PHC hash (argon2id, argon2i or argon2d, with the parameters
/// the hash names). A malformed hash verifies as false. The comparison of outputs is in
/// constant time (`password_hash::Output`'s equality).
pub fn verify(password: &str, phc: &str) -> bool {
    let Ok(h) = PasswordHash::new(phc) else {
        return false;
    };
    let (Ok(alg), Ok(params), Some(salt), Some(expected)) = (
        Algorithm::try_from(h.algorithm),
        Params::try_from(&h),
        h.salt,
        h.hash,
    ) else {
        return false;
    };
    let version = match h.version.map(Version::try_from) {
        None => Version::default(),
        Some(Ok(v)) => v,
        Some(Err(_)) => return false,
    };
    let mut salt_buf = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_buf) else {
        return false;
    };
    let mut out = vec![0u8; expected.len()];
    let argon = Argon2::new(alg, version, params.clone());
    let done = with_blocks(&params, |blocks| {
        argon.hash_password_into_with_memory(password.as_bytes(), salt, &mut out, blocks)
    });
    match (done, Output::new(&out)) {
        (Ok(()), Ok(got)) => got == expected,
        _ => false,
    }
}

/// Whether a stored hash should be made again with [`params`] at the next sign-in:
/// it is not argon2id v1.3 with exactly these parameters (an older default such as
/// `m=19456,t=2,p=1`, or a test hash). A malformed hash does not verify anyway: false.
pub fn needs_rehash(phc: &str) -> bool {
    let Ok(h) = PasswordHash::new(phc) else {
        return false;
    };
    let current = params();
    let same = Algorithm::try_from(h.algorithm) == Ok(Algorithm::Argon2id)
        && h.version == Some(Version::V0x13.into())
        && Params::try_from(&h).is_ok_and(|p| {
            p.m_cost() == current.m_cost()
                && p.t_cost() == current.t_cost()
                && p.p_cost() == current.p_cost()
                && h.hash
                    .is_some_and(|o| Some(o.len()) == current.output_len())
        });
    !same
}

/// Work memory for password checks, kept between them.
///
/// Why: the crate's own entry points allocate and free the whole block array per check. On a
/// server that checks passwords on many threads, glibc keeps those freed blocks in its
/// per-thread arenas (its mmap threshold rises to the array's size after the first free), so
/// resident memory grew to about 1 GiB under load (with 19 MiB arrays) while the live heap
/// was ~120 MiB. Idle, at most [`idle_buffers`] buffers are kept; at a peak there is one per
/// check running at once (the branch server lets one per two cores run), and the extra ones are
/// freed after use. A buffer serves any check that needs no more blocks than it has, so
/// hashes of earlier versions (19,456 blocks) are checked from the pool too, which then keeps
/// buffers of their size; larger arrays than [`POOLED_MAX_BLOCKS`] (nothing this program
/// makes) get a buffer of their own. The buffers are not wiped between checks (a wipe would
/// cost a tenth of a check): they hold argon2's internal state, from which the password can
/// only be brute-forced as from the stored hash, and whoever can read this process's memory
/// reads the passwords in the requests in flight anyway.
static POOL: Mutex<Vec<Vec<Block>>> = Mutex::new(Vec::new());

/// The largest block array the pool keeps: the 19,456 blocks (19 MiB) of the hashes earlier
/// versions made.
const POOLED_MAX_BLOCKS: usize = 19_456;

/// Buffers kept when idle: one per core (read once).
fn idle_buffers() -> usize {
    static N: OnceLock<usize> = OnceLock::new();
    *N.get_or_init(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2)
    })
}

fn with_blocks<T>(asked: &Params, f: impl FnOnce(&mut [Block]) -> T) -> T {
    let wanted = asked.block_count();
    if wanted > POOLED_MAX_BLOCKS {
        return f(&mut vec![Block::new(); wanted]);
    }
    let taken = POOL.lock().unwrap_or_else(|p| p.into_inner()).pop();
    // A buffer too small for these parameters is dropped for one that fits: the pool grows to
    // the largest parameters it meets (at most POOLED_MAX_BLOCKS), never per check.
    let mut blocks = match taken {
        Some(b) if b.len() >= wanted => b,
        _ => vec![Block::new(); wanted],
    };
    let r = f(&mut blocks[..wanted]);
    let mut pool = POOL.lock().unwrap_or_else(|p| p.into_inner());
    if pool.len() < idle_buffers() {
        pool.push(blocks);
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_and_verify() {
        let h = hash("Counter#2026", [7; 16]).unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify("Counter#2026", &h));
        assert!(!verify("counter#2026", &h));
        assert!(!verify("x", "not a hash"));
    }

    /// The pooled path gives the crate's own PHC text, and hashes with other parameters (made
    /// by the crate itself) still verify.
    #[test]
    fn same_as_the_crate_and_other_parameters_verify() {
        use argon2::password_hash::{PasswordHasher, SaltString};
        let salt = [9u8; 16];
        let ours = hash("Counter#2026", salt).unwrap();
        let theirs = hasher()
            .hash_password(b"Counter#2026", &SaltString::encode_b64(&salt).unwrap())
            .unwrap()
            .to_string();
        assert_eq!(ours, theirs);
        assert!(ours.starts_with("$argon2id$v=19$m=7168,t=5,p=1$"), "{ours}");
        assert!(!needs_rehash(&ours));
        // The crate's default (m=19456, t=2), as earlier versions stored it: verifies, and is
        // due to be made again.
        let older = Argon2::default()
            .hash_password(b"Counter#2026", &SaltString::encode_b64(&salt).unwrap())
            .unwrap()
            .to_string();
        assert!(older.contains("$m=19456,t=2,p=1$"), "{older}");
        assert!(verify("Counter#2026", &older));
        assert!(!verify("Counter#2027", &older));
        assert!(needs_rehash(&older));
        assert!(!needs_rehash("not a hash"));
        let cheap = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(64, 1, 1, None).unwrap(),
        )
        .hash_password(b"Counter#2026", &SaltString::encode_b64(&salt).unwrap())
        .unwrap()
        .to_string();
        assert!(verify("Counter#2026", &cheap));
        assert!(!verify("Counter#2027", &cheap));
        assert!(needs_rehash(&cheap));
        // Many checks reuse the pool's buffers and stay correct, a larger buffer (left by an
        // older hash's check) serving a smaller array too.
        for _ in 0..3 {
            assert!(verify("Counter#2026", &ours));
            assert!(!verify("Counter#2020", &ours));
            assert!(verify("Counter#2026", &older));
            assert!(!verify("Counter#2020", &older));
        }
        // A truncated hash or one naming an unknown algorithm is false, not a panic.
        assert!(!verify("Counter#2026", &ours[..ours.len() - 4]));
        assert!(!verify("Counter#2026", &ours.replace("argon2id", "argon9")));
    }

    #[test]
    fn rules() {
        assert!(check_rules("password", "Counter#2026", "tel01").is_ok());
        let e = check_rules("password", "short", "tel01").unwrap_err();
        assert!(e.fields.iter().any(|f| f.rule == "length"));
        let e = check_rules("password", "alllowercaseletters", "x").unwrap_err();
        assert!(e.fields.iter().any(|f| f.rule == "classes"));
        let e = check_rules("password", "Tel01-Password9", "tel01").unwrap_err();
        assert!(e.fields.iter().any(|f| f.rule == "contains-id"));
    }
}
