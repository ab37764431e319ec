//! Staff password hashing (argon2id, the `argon2` crate's defaults: m=19 MiB, t=2, p=1,
//! OWASP's recommended minimum) and the password rules.
//!
//! Only staff passwords live here. A customer's password or SMS code is C3 data
//! (JR/T 0171-2020) and is never typed, stored or logged anywhere in UnlockDesk.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;

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

/// Hash with argon2id and a caller-provided 16-byte salt (randomness is passed in).
/// Returns PHC string text (`$argon2id$v=19$...`).
pub fn hash(password: &str, salt: [u8; 16]) -> CoreResult<String> {
    let salt = SaltString::encode_b64(&salt)
        .map_err(|e| CoreError::new(crate::ErrorCode::Internal, e.to_string()))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| {
            CoreError::new(
                crate::ErrorCode::Internal,
                format!("password hashing failed: {e}"),
            )
        })
}

/// Verify `password` against a PHC hash. A malformed hash verifies as false.
pub fn verify(password: &str, phc: &str) -> bool {
    match PasswordHash::new(phc) {
        Ok(h) => Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok(),
        Err(_) => false,
    }
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
