//! Bearer tokens: made here once for both stores, which keep only the hash.
//!
//! A token's public id is `tok_` and the first 16 hex digits of its hash:
//! it names the token in `onemap token list` and `revoke`, and is the
//! account an actor acts as, without ever revealing the secret.

use crate::StoreError;
use onemap_core::workflow::{check_grant, Scope};
use onemap_core::Role;
use serde::Serialize;
use sha2::{Digest, Sha256};

/// What a new token may do, for whom, and until when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenGrant {
    pub role: Role,
    pub scope: Scope,
    /// Who it is for (kept in every change made with it).
    pub name: String,
    /// Unix seconds after which it is refused; `None`: until revoked.
    pub expires_at: Option<i64>,
}

impl TokenGrant {
    /// Checks that the role and scope go together ([`check_grant`]) and
    /// that the name is not empty.
    pub fn check(&self) -> Result<(), onemap_core::workflow::WorkflowError> {
        check_grant(self.role, &self.scope)?;
        if self.name.trim().is_empty() {
            return Err(onemap_core::workflow::WorkflowError::Invalid(
                "a token is issued to someone: give a name".into(),
            ));
        }
        Ok(())
    }
}

/// A token just made: the secret, shown once, and its public id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedToken {
    pub token: String,
    pub id: String,
}

/// A token as `onemap token list` shows it (never the secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TokenInfo {
    pub id: String,
    pub role: Role,
    pub scope: String,
    pub name: String,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

/// A new bearer token (`om_` and 32 random bytes in hex) and the hash the
/// store keeps of it.
pub(crate) fn issue() -> std::io::Result<(String, String)> {
    let mut raw = [0u8; 32];
    getrandom::fill(&mut raw).map_err(|e| std::io::Error::other(e.to_string()))?;
    let token = format!("om_{}", hex(&raw));
    let hash = token_hash(&token);
    Ok((token, hash))
}

/// What is kept of a token: its SHA-256, in hex.
pub(crate) fn token_hash(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

/// The public id of the token with this hash.
pub(crate) fn token_id(hash: &str) -> String {
    format!("tok_{}", &hash[..hash.len().min(16)])
}

/// The hash prefix a public id (or a longer prefix of the hash) stands
/// for; `None` for text that is not one.
pub(crate) fn id_prefix(id: &str) -> Option<String> {
    let hex = id.trim().strip_prefix("tok_").unwrap_or(id.trim());
    (hex.len() >= 8 && hex.len() <= 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| hex.to_ascii_lowercase())
}

/// The SHA-256 of `text`, in hex.
/// The one token of `tokens` that `id` (a public id, or at least 8 hex
/// digits of the hash) names; both stores revoke through it.
pub(crate) fn one_named(tokens: Vec<TokenInfo>, id: &str) -> Result<TokenInfo, StoreError> {
    let prefix = id_prefix(id).ok_or_else(|| {
        StoreError::UnknownToken(format!("'{id}' is not a token id (tok_ and hex digits)"))
    })?;
    let wanted = &prefix[..prefix.len().min(16)];
    let mut matching: Vec<TokenInfo> = tokens
        .into_iter()
        .filter(|t| t.id[4..].starts_with(wanted))
        .collect();
    match matching.len() {
        1 => Ok(matching.remove(0)),
        0 => Err(StoreError::UnknownToken(format!("no token {id}"))),
        n => Err(StoreError::UnknownToken(format!(
            "{id} names {n} tokens; give more of its id"
        ))),
    }
}

pub(crate) fn sha256_hex(text: &str) -> String {
    hex(&Sha256::digest(text.as_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_is_random_and_only_its_hash_is_kept() {
        let (a, ha) = issue().unwrap();
        let (b, _) = issue().unwrap();
        assert_ne!(a, b);
        assert!(a.starts_with("om_") && a.len() == 3 + 64, "{a}");
        assert_eq!(ha, token_hash(&a));
        assert_eq!(ha.len(), 64);
        assert!(!ha.contains(&a[3..]));
        // SHA-256 of the empty string, as published.
        assert_eq!(
            token_hash(""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        let id = token_id(&ha);
        assert_eq!(id.len(), 4 + 16);
        assert!(!a.contains(&id[4..]), "the id is not part of the secret");
        assert_eq!(id_prefix(&id).as_deref(), Some(&ha[..16]));
        assert_eq!(id_prefix("tok_12"), None, "too short to name one token");
        assert_eq!(id_prefix("tok_zzzzzzzzzz"), None);
    }
}
