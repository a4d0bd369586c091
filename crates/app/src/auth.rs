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

/// Whether `s` is shaped like a [`random_secret`] (64 hex digits), as every secret the portal
/// hands out is: anything else was not made here.
pub fn is_secret_shaped(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
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
    /// Signs in with e-mail and password from `client_addr`. The attempt is reserved under the
    /// throttle's keys before the password is checked (see [`domain::throttle`]), so parallel
    /// guesses count against each other; every failure looks the same.
    pub async fn sign_in(
        &self,
        email: &str,
        password: &str,
        client_addr: &str,
    ) -> AppResult<NewSession> {
        let now = self.now();
        let pair = throttle::pair_key(email, client_addr);
        let keys = [
            pair.clone(),
            throttle::address_key(client_addr),
            throttle::account_key(email),
        ];
        let reserved = self
            .reserve_attempt(&keys, |c| throttle::sign_in_wait(c[0], c[1], c[2], now))
            .await?;

        let user = match Email::parse(email) {
            Ok(e) => self.store.read().await?.find_user_by_email(&e).await?,
            Err(_) => None,
        };
        let stored_hash = user.as_ref().and_then(|u| u.user.password_hash.clone());
        let password_ok = verify_password(stored_hash, password).await;
        let user = match user {
            Some(u) if password_ok && !u.user.disabled => u,
            // The reservation stays: it is the failure.
            _ => return Err(AppError::BadCredentials),
        };
        let mut tx = self.store.begin().await?;
        for id in reserved {
            tx.forget_sign_in_failure(id).await?;
        }
        // Typos from this address are forgiven; the account's count stays, so an attack on it
        // goes on being noticed.
        tx.clear_sign_in_failures(&pair).await?;
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

    /// Reads the failures under `keys`, asks `wait` whether an attempt may go ahead, and if so
    /// records it under every key, all under the keys' lock in one transaction. Returns the ids
    /// of the recorded attempts (to forget when the attempt succeeds), or `Throttled`.
    async fn reserve_attempt(
        &self,
        keys: &[String],
        wait: impl Fn(&[throttle::Failures]) -> Option<time::Duration>,
    ) -> AppResult<Vec<i64>> {
        let now = self.now();
        let since = now - throttle::WINDOW;
        let mut tx = self.store.begin().await?;
        let refs: Vec<&str> = keys.iter().map(String::as_str).collect();
        tx.lock_throttle_keys(&refs).await?;
        let mut counts = Vec::with_capacity(keys.len());
        for key in keys {
            let (count, latest) = tx.sign_in_failures(key, since).await?;
            counts.push(throttle::Failures::new(count, latest));
        }
        if let Some(wait) = wait(&counts) {
            return Err(AppError::Throttled {
                retry_after_secs: throttle::retry_after_secs(wait),
            });
        }
        tx.prune_sign_in_failures(since).await?;
        let mut ids = Vec::with_capacity(keys.len());
        for key in keys {
            ids.push(tx.record_sign_in_failure(key, now).await?);
        }
        tx.commit().await?;
        Ok(ids)
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
    /// from the address must wait (429 with the wait), whatever token it brings. Known tokens
    /// cost no write; an unknown one is counted and judged under the address's lock, so parallel
    /// guesses cannot all slip through.
    pub async fn authenticate_api_token_from(
        &self,
        secret: &str,
        client_addr: &str,
    ) -> AppResult<Option<Authenticated>> {
        let now = self.now();
        let key = throttle::token_address_key(client_addr);
        let since = now - throttle::WINDOW;
        // A throttled address is refused before its token is even looked up.
        {
            let mut tx = self.store.read().await?;
            let (count, latest) = tx.sign_in_failures(&key, since).await?;
            if let Some(wait) = throttle::token_wait(throttle::Failures::new(count, latest), now) {
                return Err(AppError::Throttled {
                    retry_after_secs: throttle::retry_after_secs(wait),
                });
            }
        }
        let found = self.authenticate_api_token(secret).await?;
        // Only something shaped like one of our tokens is a guess; anything else is a client
        // sending the wrong header, answered 401 without counting.
        let well_formed = secret
            .strip_prefix(API_TOKEN_PREFIX)
            .is_some_and(is_secret_shaped);
        if found.is_none() && well_formed {
            self.reserve_attempt(std::slice::from_ref(&key), |c| {
                throttle::token_wait(c[0], now)
            })
            .await?;
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

    /// Ends one browser session, and at once the live streams opened with it.
    pub async fn sign_out(&self, secret: &str) -> AppResult<()> {
        let hash = sha256_hex(secret);
        let mut tx = self.store.begin().await?;
        tx.delete_session(&hash).await?;
        tx.commit().await?;
        self.events.revoke(crate::live::Revocation::Session(hash));
        Ok(())
    }

    /// Ends every way `user` is signed in: browser sessions are deleted and API tokens revoked,
    /// in the caller's transaction. After committing, the caller announces
    /// `Revocation::User` so open live streams end too.
    pub(crate) async fn end_credentials(
        &self,
        tx: &mut Box<dyn store::Tx>,
        user: domain::UserId,
    ) -> AppResult<()> {
        tx.delete_user_sessions(user).await?;
        tx.revoke_user_api_tokens(user, self.now()).await?;
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
        self.events.revoke(crate::live::Revocation::Token(id));
        Ok(())
    }

    /// Changes one's own password; every session and API token of the account ends (open live
    /// streams included), so whoever held a stolen one is out. Wrong current passwords are
    /// throttled per account like sign-ins.
    pub async fn change_own_password(
        &self,
        who: &Authenticated,
        current: &str,
        new: &str,
    ) -> AppResult<()> {
        let now = self.now();
        let reserved = self
            .reserve_attempt(&[throttle::password_change_key(&who.user.id)], |c| {
                throttle::password_change_wait(c[0], now)
            })
            .await?;
        let mut errors = crate::FieldErrors::new();
        let new = errors.take("new_password", Password::parse(new));
        if !verify_password(who.user.password_hash.clone(), current).await {
            // The reservation stays: it is the failure.
            errors.add("current_password", "this is not your current password");
            return Err(AppError::Invalid(errors));
        }
        let hash = match &new {
            Some(new) => Some(hash_password(new).await?),
            None => None,
        };
        let mut tx = self.store.begin().await?;
        for id in reserved {
            tx.forget_sign_in_failure(id).await?;
        }
        let Some(hash) = hash else {
            tx.commit().await?;
            return Err(AppError::Invalid(errors));
        };
        tx.set_password_hash(who.user.id, &hash).await?;
        self.end_credentials(&mut tx, who.user.id).await?;
        tx.commit().await?;
        self.events
            .revoke(crate::live::Revocation::User(who.user.id));
        Ok(())
    }
}

pub(crate) fn require(who: &Authenticated, action: domain::Action) -> AppResult<()> {
    domain::authorize(Some(&who.subject), action, domain::Resource::Portal)
        .check()
        .map_err(AppError::from)
}
