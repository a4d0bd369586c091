use async_trait::async_trait;
use domain::{ChannelPrefs, Email, OrgId, UserId};
use store::columns::sort_users;
use store::{StoreError, StoreResult, UserRecord, UserRepo, UserWithOrg};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::PgTx;
use crate::convert::{at, db_error, email, name, organisation, roles, work_languages};

/// The user columns joined with the organisation's, followed by `$tail`.
macro_rules! select_user {
    ($tail:literal) => {
        concat!(
            "SELECT u.id, u.org_id, u.email, u.display_name, u.roles, u.password_hash, ",
            "u.disabled, u.created_at, u.internal_messages, u.work_languages, ",
            "o.id, o.name, o.kind ",
            "FROM users u JOIN organisations o ON o.id = u.org_id ",
            $tail
        )
    };
}

type UserRow = (
    Uuid,
    Uuid,
    String,
    String,
    String,
    Option<String>,
    bool,
    OffsetDateTime,
    bool,
    Option<String>,
    Uuid,
    String,
    String,
);

fn user_with_org(row: UserRow) -> StoreResult<UserWithOrg> {
    let (
        uid,
        org_id,
        email_s,
        display,
        roles_s,
        hash,
        disabled,
        created,
        internal_messages,
        languages,
        oid,
        oname,
        okind,
    ) = row;
    Ok(UserWithOrg {
        user: UserRecord {
            id: uid.into(),
            org_id: org_id.into(),
            email: email("users.email", &email_s)?,
            display_name: name("users.display_name", &display)?,
            roles: roles("users.roles", &roles_s)?,
            password_hash: hash,
            disabled,
            prefs: ChannelPrefs {
                internal_messages,
                languages: work_languages("users.work_languages", languages.as_deref())?,
            },
            created_at: created,
        },
        org: organisation((oid, oname, okind))?,
    })
}

#[async_trait]
impl UserRepo for PgTx {
    async fn insert_user(&mut self, user: &UserRecord) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO users \
             (id, org_id, email, display_name, roles, password_hash, disabled, created_at, \
              internal_messages, work_languages) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(user.id.as_uuid())
        .bind(user.org_id.as_uuid())
        .bind(user.email.as_str())
        .bind(user.display_name.as_str())
        .bind(user.roles.to_csv())
        .bind(user.password_hash.as_deref())
        .bind(user.disabled)
        .bind(at(user.created_at))
        .bind(user.prefs.internal_messages)
        .bind(user.prefs.languages.to_stored())
        .execute(self.conn())
        .await
        .map_err(db_error)?;
        Ok(())
    }

    async fn update_user(&mut self, user: &UserRecord) -> StoreResult<()> {
        let done = sqlx::query(
            "UPDATE users SET org_id = $2, email = $3, display_name = $4, roles = $5, \
             disabled = $6, internal_messages = $7, work_languages = $8 WHERE id = $1",
        )
        .bind(user.id.as_uuid())
        .bind(user.org_id.as_uuid())
        .bind(user.email.as_str())
        .bind(user.display_name.as_str())
        .bind(user.roles.to_csv())
        .bind(user.disabled)
        .bind(user.prefs.internal_messages)
        .bind(user.prefs.languages.to_stored())
        .execute(self.conn())
        .await
        .map_err(db_error)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    async fn set_password_hash(&mut self, user_id: UserId, hash: &str) -> StoreResult<()> {
        let done = sqlx::query("UPDATE users SET password_hash = $2 WHERE id = $1")
            .bind(user_id.as_uuid())
            .bind(hash)
            .execute(self.conn())
            .await
            .map_err(db_error)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    async fn get_user(&mut self, user_id: UserId) -> StoreResult<Option<UserWithOrg>> {
        sqlx::query_as::<_, UserRow>(select_user!("WHERE u.id = $1"))
            .bind(user_id.as_uuid())
            .fetch_optional(self.conn())
            .await
            .map_err(db_error)?
            .map(user_with_org)
            .transpose()
    }

    async fn get_users(&mut self, ids: &[UserId]) -> StoreResult<Vec<UserWithOrg>> {
        let ids: Vec<Uuid> = ids.iter().map(|i| i.as_uuid()).collect();
        self.users_matching(select_user!("WHERE u.id = ANY($1)"), ids)
            .await
    }

    async fn users_of_orgs(&mut self, orgs: &[OrgId]) -> StoreResult<Vec<UserWithOrg>> {
        let orgs: Vec<Uuid> = orgs.iter().map(|i| i.as_uuid()).collect();
        self.users_matching(select_user!("WHERE u.org_id = ANY($1)"), orgs)
            .await
    }

    async fn find_user_by_email(&mut self, address: &Email) -> StoreResult<Option<UserWithOrg>> {
        sqlx::query_as::<_, UserRow>(select_user!("WHERE u.email = $1"))
            .bind(address.as_str())
            .fetch_optional(self.conn())
            .await
            .map_err(db_error)?
            .map(user_with_org)
            .transpose()
    }

    async fn list_users(&mut self) -> StoreResult<Vec<UserWithOrg>> {
        let mut users = sqlx::query_as::<_, UserRow>(select_user!(""))
            .fetch_all(self.conn())
            .await
            .map_err(db_error)?
            .into_iter()
            .map(user_with_org)
            .collect::<StoreResult<Vec<_>>>()?;
        sort_users(&mut users);
        Ok(users)
    }
}

impl PgTx {
    /// The users `sql` selects with `$1` bound to `ids` (none for no ids).
    async fn users_matching(
        &mut self,
        sql: &'static str,
        ids: Vec<Uuid>,
    ) -> StoreResult<Vec<UserWithOrg>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        sqlx::query_as::<_, UserRow>(sql)
            .bind(&ids)
            .fetch_all(self.conn())
            .await
            .map_err(db_error)?
            .into_iter()
            .map(user_with_org)
            .collect()
    }
}
