//! Organisations, users and roles — for admins in the UI and the operator at the command line.

use crate::auth::hash_password;
use crate::{App, AppError, AppResult, FieldErrors};
use domain::{
    Action, Actor, Email, Name, OrgId, OrgKind, Organisation, Password, Resource, Roles, UserId,
    authorize_actor,
};
use store::{UserRecord, UserWithOrg};

/// A new account as typed.
#[derive(Clone, Debug, Default)]
pub struct NewUserInput {
    /// The organisation, by id or by (case-insensitive) name.
    pub org: String,
    pub email: String,
    pub display_name: String,
    /// Comma-separated role names, e.g. `portal_user,manager`.
    pub roles: String,
    /// Optional initial password; without one the account cannot sign in until one is set.
    pub password: Option<String>,
}

/// Changes to an existing account.
#[derive(Clone, Debug, Default)]
pub struct UserUpdate {
    pub display_name: Option<String>,
    pub roles: Option<String>,
    pub disabled: Option<bool>,
}

pub(crate) fn administer(actor: Actor<'_>) -> AppResult<()> {
    authorize_actor(actor, Action::Administer, Resource::Portal)
        .check()
        .map_err(AppError::from)
}

impl App {
    pub async fn list_orgs(&self, actor: Actor<'_>) -> AppResult<Vec<Organisation>> {
        administer(actor)?;
        let mut tx = self.store.read().await?;
        Ok(tx.list_orgs().await?)
    }

    /// Creates an organisation. There is exactly one studio; a second one is refused.
    pub async fn create_org(
        &self,
        actor: Actor<'_>,
        name: &str,
        kind: &str,
    ) -> AppResult<Organisation> {
        administer(actor)?;
        let mut errors = FieldErrors::new();
        let name = errors.take("name", Name::parse(name));
        let kind = errors.take("kind", kind.parse::<OrgKind>());
        let (Some(name), Some(kind)) = (name, kind) else {
            return Err(AppError::Invalid(errors));
        };
        let mut tx = self.store.begin().await?;
        if kind == OrgKind::Studio
            && let Some(studio) = tx.studio_org().await?
        {
            return Err(AppError::conflict(
                "kind",
                format!(
                    "{} is already the studio; every other organisation is a partner",
                    studio.name
                ),
            ));
        }
        let org = Organisation {
            id: OrgId::new(),
            name,
            kind,
        };
        tx.insert_org(&org).await?;
        tx.commit().await?;
        Ok(org)
    }

    pub async fn rename_org(
        &self,
        actor: Actor<'_>,
        id: OrgId,
        name: &str,
    ) -> AppResult<Organisation> {
        administer(actor)?;
        let name = Name::parse(name).map_err(|e| AppError::invalid("name", e.0))?;
        let mut tx = self.store.begin().await?;
        let mut org = tx.get_org(id).await?.ok_or(AppError::NotFound)?;
        tx.rename_org(id, &name).await?;
        tx.commit().await?;
        org.name = name;
        Ok(org)
    }

    pub async fn list_users(&self, actor: Actor<'_>) -> AppResult<Vec<UserWithOrg>> {
        administer(actor)?;
        let mut tx = self.store.read().await?;
        Ok(tx.list_users().await?)
    }

    pub async fn get_user_admin(&self, actor: Actor<'_>, id: UserId) -> AppResult<UserWithOrg> {
        administer(actor)?;
        let mut tx = self.store.read().await?;
        tx.get_user(id).await?.ok_or(AppError::NotFound)
    }

    pub async fn create_user(
        &self,
        actor: Actor<'_>,
        input: &NewUserInput,
    ) -> AppResult<UserWithOrg> {
        administer(actor)?;
        let mut errors = FieldErrors::new();
        let email = errors.take("email", Email::parse(&input.email));
        let display_name = errors.take("display_name", Name::parse(&input.display_name));
        let roles = errors.take("roles", Roles::parse_csv(&input.roles));
        let password = match input.password.as_deref() {
            Some(p) if !p.is_empty() => errors.take("password", Password::parse(p)),
            _ => None,
        };
        let hash = match &password {
            Some(p) => Some(hash_password(p).await?),
            None => None,
        };
        let mut tx = self.store.begin().await?;
        let org = find_org(&mut tx, &input.org).await?;
        if org.is_none() {
            errors.add(
                "org",
                format!(
                    "no organisation called {:?}; create it first or pick one from the list",
                    input.org.trim()
                ),
            );
        }
        if let (Some(org), Some(roles)) = (&org, roles)
            && org.kind == OrgKind::Partner
            && (roles.contains(domain::Role::Admin) || roles.contains(domain::Role::Manager))
        {
            errors.add(
                "roles",
                "admin and manager are studio roles; a partner user cannot hold them",
            );
        }
        let (Some(org), Some(email), Some(display_name), Some(roles)) =
            (org, email, display_name, roles)
        else {
            return Err(AppError::Invalid(errors));
        };
        errors.into_result()?;
        let user = UserRecord {
            id: UserId::new(),
            org_id: org.id,
            email,
            display_name,
            roles,
            password_hash: hash,
            disabled: false,
            created_at: self.now(),
            // Studio users see the Internal channel unless they turn it off; everyone starts
            // with every language of their organisation.
            prefs: domain::ChannelPrefs {
                internal_messages: org.kind == OrgKind::Studio,
                languages: domain::WorkLanguages::All,
            },
        };
        tx.insert_user(&user).await?;
        tx.commit().await?;
        Ok(UserWithOrg { user, org })
    }

    /// Changes a user's name, roles or disabled flag. Admins cannot take away their own admin
    /// role or disable themselves, so a portal can never lose its last way in by accident.
    pub async fn update_user(
        &self,
        actor: Actor<'_>,
        id: UserId,
        change: &UserUpdate,
    ) -> AppResult<UserWithOrg> {
        administer(actor)?;
        let mut errors = FieldErrors::new();
        let mut tx = self.store.begin().await?;
        let UserWithOrg { mut user, org } = tx.get_user(id).await?.ok_or(AppError::NotFound)?;
        if let Some(n) = &change.display_name
            && let Some(n) = errors.take("display_name", Name::parse(n))
        {
            user.display_name = n;
        }
        if let Some(r) = &change.roles
            && let Some(r) = errors.take("roles", Roles::parse_csv(r))
        {
            if org.kind == OrgKind::Partner
                && (r.contains(domain::Role::Admin) || r.contains(domain::Role::Manager))
            {
                errors.add(
                    "roles",
                    "admin and manager are studio roles; a partner user cannot hold them",
                );
            }
            user.roles = r;
        }
        if let Some(d) = change.disabled {
            user.disabled = d;
        }
        if let Actor::User(me) = actor
            && me.user_id == id
        {
            if !user.roles.contains(domain::Role::Admin)
                || !user.roles.contains(domain::Role::PortalUser)
            {
                errors.add(
                    "roles",
                    "you cannot remove your own admin or portal access; ask another admin",
                );
            }
            if user.disabled {
                errors.add("disabled", "you cannot disable your own account");
            }
        }
        errors.into_result()?;
        tx.update_user(&user).await?;
        if user.disabled {
            self.end_credentials(&mut tx, id).await?;
        }
        tx.commit().await?;
        if user.disabled {
            self.events.revoke(crate::live::Revocation::User(id));
        }
        Ok(UserWithOrg { user, org })
    }

    /// Sets a user's password (admin or operator); the user is signed out everywhere and their API
    /// tokens are revoked.
    pub async fn set_user_password(
        &self,
        actor: Actor<'_>,
        id: UserId,
        password: &str,
    ) -> AppResult<()> {
        administer(actor)?;
        let password = Password::parse(password).map_err(|e| AppError::invalid("password", e.0))?;
        let hash = hash_password(&password).await?;
        let mut tx = self.store.begin().await?;
        tx.get_user(id).await?.ok_or(AppError::NotFound)?;
        tx.set_password_hash(id, &hash).await?;
        self.end_credentials(&mut tx, id).await?;
        tx.commit().await?;
        self.events.revoke(crate::live::Revocation::User(id));
        Ok(())
    }

    /// Looks a user up by e-mail (for the command line).
    pub async fn user_by_email(&self, actor: Actor<'_>, email: &str) -> AppResult<UserWithOrg> {
        administer(actor)?;
        let email = Email::parse(email).map_err(|e| AppError::invalid("email", e.0))?;
        let mut tx = self.store.read().await?;
        tx.find_user_by_email(&email).await?.ok_or_else(|| {
            AppError::invalid("email", format!("no user with the e-mail address {email}"))
        })
    }
}

async fn find_org(tx: &mut Box<dyn store::Tx>, key: &str) -> AppResult<Option<Organisation>> {
    let key = key.trim();
    if let Ok(id) = key.parse::<OrgId>() {
        return Ok(tx.get_org(id).await?);
    }
    Ok(tx.find_org_by_name(key).await?)
}
