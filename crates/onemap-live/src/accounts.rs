//! People signing in and out: a name and a password give a session, which
//! then speaks for them as a bearer token does ([`Live::actor`]).

use crate::{Live, LiveError};
use onemap_store::{decoy_hash, verify_password, UserInfo};

/// A session just begun: its secret (the cookie's value) and who it is for.
#[derive(Debug, Clone)]
pub struct Session {
    pub token: String,
    pub user: UserInfo,
}

impl Live {
    /// Signs in: the account's password is checked (Argon2id, on a blocking
    /// thread; an unknown or disabled account costs as long as a wrong
    /// password) and a session issued. Every failure is the same
    /// [`LiveError::SignInFailed`], so it never tells which names exist.
    pub async fn sign_in(&self, name: &str, password: &str) -> Result<Session, LiveError> {
        let store = self.store()?;
        let found = if onemap_store::check_name(name).is_ok() {
            store.user_login(name).await?
        } else {
            None
        };
        let (hash, user) = match found {
            Some((user, hash)) if user.disabled_at.is_none() => (hash, Some(user)),
            _ => (decoy_hash().to_string(), None),
        };
        let password = password.to_string();
        let ok = tokio::task::spawn_blocking(move || verify_password(&hash, &password))
            .await
            .map_err(|e| LiveError::Worker(format!("password check failed: {e}")))?;
        let user = match (ok, user) {
            (true, Some(u)) => u,
            _ => return Err(LiveError::SignInFailed),
        };
        let issued = store
            .create_session(user.clone(), onemap_core::time::now())
            .await?;
        Ok(Session {
            token: issued.token,
            user,
        })
    }

    /// Ends a session at once on this server (every other server within
    /// [`crate::ACTOR_TTL`]).
    pub async fn sign_out(&self, token: &str) -> Result<(), LiveError> {
        self.store()?
            .end_session(token, onemap_core::time::now())
            .await?;
        self.forget_actor(token);
        Ok(())
    }
}
