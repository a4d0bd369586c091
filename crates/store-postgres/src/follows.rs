use async_trait::async_trait;
use domain::{ProjectId, ProjectScope, UserId};
use sqlx::QueryBuilder;
use store::{FollowRepo, ProjectSummary, StoreResult};
use time::OffsetDateTime;

use crate::PgTx;
use crate::convert::{at, db_error};
use crate::projects::{ProjectRow, SUMMARY_COLUMNS, push_scope};

#[async_trait]
impl FollowRepo for PgTx {
    async fn follow(
        &mut self,
        user_id: UserId,
        project_id: ProjectId,
        when: OffsetDateTime,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO follows (user_id, project_id, created_at) VALUES ($1, $2, $3) \
             ON CONFLICT (user_id, project_id) DO NOTHING",
        )
        .bind(user_id.as_uuid())
        .bind(project_id.as_uuid())
        .bind(at(when))
        .execute(self.conn())
        .await
        .map_err(db_error)?;
        Ok(())
    }

    async fn unfollow(&mut self, user_id: UserId, project_id: ProjectId) -> StoreResult<()> {
        sqlx::query("DELETE FROM follows WHERE user_id = $1 AND project_id = $2")
            .bind(user_id.as_uuid())
            .bind(project_id.as_uuid())
            .execute(self.conn())
            .await
            .map_err(db_error)?;
        Ok(())
    }

    async fn is_following(&mut self, user_id: UserId, project_id: ProjectId) -> StoreResult<bool> {
        sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM follows WHERE user_id = $1 AND project_id = $2)",
        )
        .bind(user_id.as_uuid())
        .bind(project_id.as_uuid())
        .fetch_one(self.conn())
        .await
        .map_err(db_error)
    }

    async fn project_summaries(&mut self, ids: &[ProjectId]) -> StoreResult<Vec<ProjectSummary>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let uuids: Vec<uuid::Uuid> = ids.iter().map(|i| i.as_uuid()).collect();
        let mut q = QueryBuilder::new("SELECT ");
        q.push(SUMMARY_COLUMNS);
        q.push(" FROM projects p WHERE p.id = ANY(");
        q.push_bind(uuids);
        q.push(")");
        let rows: Vec<ProjectRow> = q
            .build_query_as()
            .fetch_all(self.conn())
            .await
            .map_err(db_error)?;
        self.summaries(rows).await
    }

    async fn followed_projects(
        &mut self,
        user_id: UserId,
        scope: ProjectScope,
    ) -> StoreResult<Vec<ProjectSummary>> {
        if scope == ProjectScope::Nothing {
            return Ok(Vec::new());
        }
        let mut q = QueryBuilder::new("SELECT ");
        q.push(SUMMARY_COLUMNS);
        q.push(" FROM follows f JOIN projects p ON p.id = f.project_id WHERE f.user_id = ");
        q.push_bind(user_id.as_uuid());
        push_scope(&mut q, scope);
        q.push(" ORDER BY p.name_folded, p.id");
        let rows: Vec<ProjectRow> = q
            .build_query_as()
            .fetch_all(self.conn())
            .await
            .map_err(db_error)?;
        self.summaries(rows).await
    }
}
