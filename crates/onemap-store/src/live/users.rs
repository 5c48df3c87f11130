//! People's accounts: a name and a password (kept as an Argon2id hash),
//! with a role and scope as tokens have them. Signing in issues a session:
//! a token row of its own (`user_name` set), so a session is checked,
//! expires and is revoked exactly as a bearer token is, and disabling an
//! account or changing its password revokes its sessions.

use crate::StoreError;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use onemap_core::workflow::{check_grant, Scope, WorkflowError};
use onemap_core::Role;
use serde::Serialize;

/// How long a session lasts from sign-in, seconds (a working day and more).
pub const SESSION_SECS: i64 = 12 * 3600;

/// The fewest characters a password has.
pub const MIN_PASSWORD_CHARS: usize = 8;

/// A new account: who, what they may do, where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserGrant {
    /// The sign-in name: 1–64 letters, digits, `.`, `_` or `-`.
    pub name: String,
    /// The name shown and kept in every change they make (e.g. 李明).
    pub display_name: String,
    pub role: Role,
    pub scope: Scope,
}

impl UserGrant {
    /// Checks the name, the display name and that role and scope go together.
    pub fn check(&self) -> Result<(), WorkflowError> {
        check_name(&self.name)?;
        if self.display_name.trim().is_empty() || self.display_name.chars().count() > 64 {
            return Err(WorkflowError::Invalid(
                "a display name has 1 to 64 characters".into(),
            ));
        }
        if self.role == Role::ShipFeed {
            return Err(WorkflowError::Invalid(
                "a ship feed is a machine: give it a token (onemap token create), not an account"
                    .into(),
            ));
        }
        check_grant(self.role, &self.scope)
    }
}

/// A sign-in name: 1–64 ASCII letters, digits, `.`, `_` or `-`.
pub fn check_name(name: &str) -> Result<(), WorkflowError> {
    let ok = (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(WorkflowError::Invalid(format!(
            "invalid user name '{name}': 1 to 64 letters, digits, '.', '_' or '-'"
        )))
    }
}

/// An account as `onemap user list` shows it (never the password).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UserInfo {
    pub name: String,
    pub display_name: String,
    pub role: Role,
    pub scope: String,
    pub created_at: i64,
    pub disabled_at: Option<i64>,
}

impl UserInfo {
    /// The account `grant` makes at `now` (its display name trimmed), as
    /// both stores keep it.
    pub(crate) fn created(grant: &UserGrant, now: i64) -> UserInfo {
        UserInfo {
            name: grant.name.clone(),
            display_name: grant.display_name.trim().to_string(),
            role: grant.role,
            scope: grant.scope.to_string(),
            created_at: now,
            disabled_at: None,
        }
    }
}

/// The account an actor signed in as acts for: idempotency keys belong to
/// it, across its sessions.
pub fn user_account(name: &str) -> String {
    format!("usr_{name}")
}

/// An Argon2id hash of `password` (PHC string, random salt), after checking
/// its length. Costs tens of milliseconds: call it off the async threads.
pub fn hash_password(password: &str) -> Result<String, StoreError> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(WorkflowError::Invalid(format!(
            "a password has at least {MIN_PASSWORD_CHARS} characters"
        ))
        .into());
    }
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| StoreError::Worker(format!("no random salt: {e}")))?;
    let salt = SaltString::encode_b64(&salt)
        .map_err(|e| StoreError::Worker(format!("cannot encode a salt: {e}")))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| StoreError::Worker(format!("cannot hash a password: {e}")))
}

/// Whether `password` is the one `hash` was made from. A hash that does not
/// parse matches nothing.
pub fn verify_password(hash: &str, password: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| {
        Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

/// A hash to verify against when the account does not exist, so a sign-in
/// takes as long for an unknown name as for a wrong password.
pub fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| hash_password("decoy password, never a real one").unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_hash_and_verify() {
        let h = hash_password("correct horse").unwrap();
        assert!(h.starts_with("$argon2id$"), "{h}");
        assert!(verify_password(&h, "correct horse"));
        assert!(!verify_password(&h, "correct horsE"));
        assert!(!verify_password("not a hash", "correct horse"));
        // A new salt each time.
        assert_ne!(h, hash_password("correct horse").unwrap());
        assert!(hash_password("short").is_err());
        assert!(!verify_password(decoy_hash(), "correct horse"));
    }

    #[test]
    fn names_and_grants() {
        assert!(check_name("li.ming-2").is_ok());
        for bad in ["", "li ming", "李明", "a:b", &"x".repeat(65)] {
            assert!(check_name(bad).is_err(), "{bad}");
        }
        let g = UserGrant {
            name: "office".into(),
            display_name: "西天尾镇办".into(),
            role: Role::TownOffice,
            scope: "area:350304003".parse().unwrap(),
        };
        assert!(g.check().is_ok());
        let bad = UserGrant {
            scope: Scope::City,
            role: Role::UnitLeader,
            ..g.clone()
        };
        assert!(bad.check().is_err());
    }
}
