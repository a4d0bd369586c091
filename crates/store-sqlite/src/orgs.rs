use async_trait::async_trait;
use domain::{Name, OrgId, Organisation};
use store::{OrgRepo, StoreError, StoreResult};

use crate::SqliteTx;
use crate::convert::{OrgRow, db_error, fold, organisation, uuid_text};

#[async_trait]
impl OrgRepo for SqliteTx {
    async fn insert_org(&mut self, org: &Organisation) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO organisations (id, name, name_folded, kind) VALUES ($1, $2, $3, $4)",
        )
        .bind(uuid_text(org.id))
        .bind(org.name.as_str())
        .bind(fold(org.name.as_str()))
        .bind(org.kind.as_str())
        .execute(self.conn())
        .await
        .map_err(db_error)?;
        Ok(())
    }

    async fn rename_org(&mut self, id: OrgId, name: &Name) -> StoreResult<()> {
        let done =
            sqlx::query("UPDATE organisations SET name = $2, name_folded = $3 WHERE id = $1")
                .bind(uuid_text(id))
                .bind(name.as_str())
                .bind(fold(name.as_str()))
                .execute(self.conn())
                .await
                .map_err(db_error)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    async fn get_org(&mut self, id: OrgId) -> StoreResult<Option<Organisation>> {
        sqlx::query_as::<_, OrgRow>("SELECT id, name, kind FROM organisations WHERE id = $1")
            .bind(uuid_text(id))
            .fetch_optional(self.conn())
            .await
            .map_err(db_error)?
            .map(organisation)
            .transpose()
    }

    async fn find_org_by_name(&mut self, name: &str) -> StoreResult<Option<Organisation>> {
        sqlx::query_as::<_, OrgRow>(
            "SELECT id, name, kind FROM organisations WHERE name_folded = $1",
        )
        .bind(fold(name))
        .fetch_optional(self.conn())
        .await
        .map_err(db_error)?
        .map(organisation)
        .transpose()
    }

    async fn list_orgs(&mut self) -> StoreResult<Vec<Organisation>> {
        sqlx::query_as::<_, OrgRow>(
            "SELECT id, name, kind FROM organisations ORDER BY name_folded, id",
        )
        .fetch_all(self.conn())
        .await
        .map_err(db_error)?
        .into_iter()
        .map(organisation)
        .collect()
    }
}
