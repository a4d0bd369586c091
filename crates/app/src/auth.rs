//! Signing in and out, sessions, API tokens and passwords.
//!
//! Secrets (session cookies, API tokens) are 256 random bits shown once; only their SHA-256 is
//! stored, so a copy of the database cannot be used to sign in. Passwords are hashed with
//! argon2id on two dedicated threads so a sign-in never stalls other requests.

use crate::{App, AppError, AppResult};
use domain::throttle;
use domain::{Email, Name, Organisation, Password, Subject, TokenId};
use rand::RngCore;
use sha2::{Digest, Sha256};
use store::{ApiTokenRecord, SessionRecord, UserRecord, UserWithOrg};

/// A signed-in user, however they proved it.
#[derive(Clone, Debug)]
pub struct Authenticated {
    pub subject: Subject,
    pub user: UserRecord,
    pub org: Organisation,
    pub via: Credential,
}

#[derive(Clone, Debug)]
pub enum Credential {
    /// A browser session; state-changing forms must echo `csrf_token`.
    Session {
        token_hash: String,
        csrf_token: String,
    },
    /// A bearer API token (no CSRF: it is never sent automatically by a browser).
    ApiToken { id: TokenId },
}

/// What a successful sign-in hands back to the browser.
#[derive(Clone, Debug)]
pub struct NewSession {
    pub secret: String,
    pub csrf_token: String,
    pub expires_at: time::OffsetDateTime,
    /// Whether the account may use the portal; without it the user's home is "My tasks".
    pub portal_access: bool,
}

pub const API_TOKEN_PREFIX: &str = "lpt_";

pub fn random_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

pub fn sha256_hex(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

/// Hashes a new password with argon2id (see [`crate::passwords`]).
pub async fn hash_password(password: &Password) -> AppResult<String> {
    crate::passwords::hash(password.expose())
        .await
        .map_err(|e| AppError::Internal(format!("password hashing failed: {e}")))
}

/// Checks a password against a stored PHC string. With no stored hash, a dummy hash is checked so
/// that "no such account" takes as long as "wrong password".
async fn verify_password(stored: Option<String>, plain: &str) -> bool {
    const DUMMY: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$\
        p5kRLbrUVbcxPVVMf8rb6C6wTBrt3HHgsiRw6pQGcbQ";
    match stored {
        Some(hash) => crate::passwords::verify(plain, &hash).await,
        None => {
            crate::passwords::verify(plain, DUMMY).await;
            false
        }
    }
}

pub(crate) fn subject_of(u: &UserWithOrg) -> Subject {
    Subject {
        user_id: u.user.id,
        org_id: u.org.id,
        org_kind: u.org.kind,
        roles: u.user.roles,
        prefs: u.user.prefs.clone(),
    }
}

impl App {
    /// Signs in with e-mail and password from `client_addr`. Repeated failures are slowed down
    /// per account and per address (see [`domain::throttle`]); every failure looks the same.
    pub async fn sign_in(
        &self,
        email: &str,
        password: &str,
        client_addr: &str,
    ) -> AppResult<NewSession> {
        let now = self.now();
        let email_key = format!("account:{}", email.trim().to_lowercase());
        let addr_key = format!("addr:{client_addr}");
        let since = now - throttle::WINDOW;

        let user = {
            let mut tx = self.store.read().await?;
            for key in [&email_key, &addr_key] {
                let (failures, last) = tx.sign_in_failures(key, since).await?;
                if let Some(last) = last {
                    let ready_at = last + throttle::delay_after(failures);
                    if ready_at > now {
                        let wait = (ready_at - now).whole_seconds().max(1);
                        return Err(AppError::Throttled {
                            retry_after_secs: wait,
                        });
                    }
                }
            }
            match Email::parse(email) {
                Ok(e) => tx.find_user_by_email(&e).await?,
                Err(_) => None,
            }
        };

        let stored_hash = user.as_ref().and_then(|u| u.user.password_hash.clone());
        let password_ok = verify_password(stored_hash, password).await;
        let mut tx = self.store.begin().await?;
        let user = match user {
            Some(u) if password_ok && !u.user.disabled => u,
            _ => {
                tx.prune_sign_in_failures(since).await?;
                tx.record_sign_in_failure(&email_key, now).await?;
                tx.record_sign_in_failure(&addr_key, now).await?;
                tx.commit().await?;
                return Err(AppError::BadCredentials);
            }
        };
        tx.clear_sign_in_failures(&email_key).await?;
        let secret = random_secret();
        let session = SessionRecord {
            token_hash: sha256_hex(&secret),
            user_id: user.user.id,
            csrf_token: random_secret(),
            created_at: now,
            expires_at: now + self.config.session_lifetime,
        };
        tx.insert_session(&session).await?;
        tx.delete_expired_sessions(now).await?;
        tx.commit().await?;
        let portal_access = domain::authorize(
            Some(&subject_of(&user)),
            domain::Action::UsePortal,
            domain::Resource::Portal,
        )
        .is_allowed();
        Ok(NewSession {
            secret,
            csrf_token: session.csrf_token,
            expires_at: session.expires_at,
            portal_access,
        })
    }

    /// The user behind a session cookie, if the session is live and the account enabled.
    pub async fn authenticate_session(&self, secret: &str) -> AppResult<Option<Authenticated>> {
        let now = self.now();
        let hash = sha256_hex(secret);
        let mut tx = self.store.read().await?;
        let Some(session) = tx.get_session(&hash, now).await? else {
            return Ok(None);
        };
        let Some(u) = tx.get_user(session.user_id).await? else {
            return Ok(None);
        };
        if u.user.disabled {
            return Ok(None);
        }
        Ok(Some(Authenticated {
            subject: subject_of(&u),
            via: Credential::Session {
                token_hash: hash,
                csrf_token: session.csrf_token,
            },
            user: u.user,
            org: u.org,
        }))
    }

    /// [`App::authenticate_api_token`], slowed down per client address: after
    /// [`throttle::FREE_TOKEN_FAILURES`] unknown tokens within the hour, each further attempt
    /// from the address must wait (429 with the wait), whatever token it brings.
    pub async fn authenticate_api_token_from(
        &self,
        secret: &str,
        client_addr: &str,
    ) -> AppResult<Option<Authenticated>> {
        let now = self.now();
        let key = format!("token-addr:{client_addr}");
        let since = now - throttle::WINDOW;
        {
            let mut tx = self.store.read().await?;
            let (failures, last) = tx.sign_in_failures(&key, since).await?;
            if let Some(last) = last {
                let ready_at = last + throttle::token_delay_after(failures);
                if ready_at > now {
                    return Err(AppError::Throttled {
                        retry_after_secs: (ready_at - now).whole_seconds().max(1),
                    });
                }
            }
        }
        let found = self.authenticate_api_token(secret).await?;
        // Only something shaped like one of our tokens is a guess; anything else is a client
        // sending the wrong header, answered 401 without counting.
        let well_formed = secret
            .strip_prefix(API_TOKEN_PREFIX)
            .is_some_and(|hex| hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()));
        if found.is_none() && well_formed {
            let mut tx = self.store.begin().await?;
            tx.prune_sign_in_failures(since).await?;
            tx.record_sign_in_failure(&key, now).await?;
            tx.commit().await?;
        }
        Ok(found)
    }

    /// The user behind a bearer token, if it is unrevoked and the account enabled.
    pub async fn authenticate_api_token(&self, secret: &str) -> AppResult<Option<Authenticated>> {
        if !secret.starts_with(API_TOKEN_PREFIX) {
            return Ok(None);
        }
        let hash = sha256_hex(secret);
        let found = {
            let mut tx = self.store.read().await?;
            let Some(token) = tx.find_api_token(&hash).await? else {
                return Ok(None);
            };
            let Some(u) = tx.get_user(token.user_id).await? else {
                return Ok(None);
            };
            (token, u)
        };
        let (token, u) = found;
        if u.user.disabled {
            return Ok(None);
        }
        // Recording "last used" is a convenience; one that fails must not refuse the request.
        let now = self.now();
        let stale = token
            .last_used_at
            .is_none_or(|t| now - t > time::Duration::minutes(1));
        if stale
            && let Ok(mut tx) = self.store.begin().await
            && tx.touch_api_token(token.id, now).await.is_ok()
        {
            let _ = tx.commit().await;
        }
        Ok(Some(Authenticated {
            subject: subject_of(&u),
            via: Credential::ApiToken { id: token.id },
            user: u.user,
            org: u.org,
        }))
    }

    pub async fn sign_out(&self, secret: &str) -> AppResult<()> {
        let mut tx = self.store.begin().await?;
        tx.delete_session(&sha256_hex(secret)).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Creates an API token for the signed-in user; the secret is returned once and never again.
    pub async fn create_api_token(
        &self,
        who: &Authenticated,
        name: &str,
    ) -> AppResult<(ApiTokenRecord, String)> {
        require(who, domain::Action::ManageOwnApiTokens)?;
        let name = Name::parse(name).map_err(|e| AppError::invalid("name", e.0))?;
        let secret = format!("{API_TOKEN_PREFIX}{}", random_secret());
        let record = ApiTokenRecord {
            id: TokenId::new(),
            user_id: who.user.id,
            name,
            token_hash: sha256_hex(&secret),
            created_at: self.now(),
            last_used_at: None,
            revoked_at: None,
        };
        let mut tx = self.store.begin().await?;
        let existing = tx.list_api_tokens(who.user.id).await?;
        if existing
            .iter()
            .any(|t| t.revoked_at.is_none() && t.name == record.name)
        {
            return Err(AppError::conflict(
                "name",
                "you already have an active token with this name; choose another or revoke it first",
            ));
        }
        tx.insert_api_token(&record).await?;
        tx.commit().await?;
        Ok((record, secret))
    }

    pub async fn list_api_tokens(&self, who: &Authenticated) -> AppResult<Vec<ApiTokenRecord>> {
        require(who, domain::Action::ManageOwnApiTokens)?;
        let mut tx = self.store.read().await?;
        Ok(tx.list_api_tokens(who.user.id).await?)
    }

    pub async fn revoke_api_token(&self, who: &Authenticated, id: TokenId) -> AppResult<()> {
        require(who, domain::Action::ManageOwnApiTokens)?;
        let mut tx = self.store.begin().await?;
        if !tx.revoke_api_token(who.user.id, id, self.now()).await? {
            return Err(AppError::NotFound);
        }
        tx.commit().await?;
        Ok(())
    }

    /// Changes one's own password; every other session of the account is signed out.
    pub async fn change_own_password(
        &self,
        who: &Authenticated,
        current: &str,
        new: &str,
    ) -> AppResult<()> {
        let mut errors = crate::FieldErrors::new();
        let new = errors.take("new_password", Password::parse(new));
        if !verify_password(who.user.password_hash.clone(), current).await {
            errors.add("current_password", "this is not your current password");
        }
        errors.clone().into_result()?;
        let Some(new) = new else {
            return Err(AppError::Invalid(errors));
        };
        let hash = hash_password(&new).await?;
        let mut tx = self.store.begin().await?;
        tx.set_password_hash(who.user.id, &hash).await?;
        tx.delete_user_sessions(who.user.id).await?;
        tx.commit().await?;
        Ok(())
    }
}

pub(crate) fn require(who: &Authenticated, action: domain::Action) -> AppResult<()> {
    domain::authorize(Some(&who.subject), action, domain::Resource::Portal)
        .check()
        .map_err(AppError::from)
}
