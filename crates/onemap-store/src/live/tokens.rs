//! Bearer tokens: made here once for both stores, which keep only the hash.

use sha2::{Digest, Sha256};

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
    }
}
