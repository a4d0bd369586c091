use async_trait::async_trait;
use domain::{ProjectId, ProjectScope, UserId};
use sqlx::QueryBuilder;
use store::{FollowRepo, ProjectSummary, StoreResult};
use time::OffsetDateTime;

use crate::SqliteTx;
use crate::convert::{db_error, micros, uuid_text};
use crate::projects::{ProjectRow, SUMMARY_COLUMNS, push_scope};

#[async_trait]
impl FollowRepo for SqliteTx {
    async fn follow(
        &mut self,
        user_id: UserId,
        project_id: ProjectId,
        at: OffsetDateTime,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO follows (user_id, project_id, created_at) VALUES ($1, $2, $3) \
             ON CONFLICT (user_id, project_id) DO NOTHING",
        )
        .bind(uuid_text(user_id))
        .bind(uuid_text(project_id))
        .bind(micros(at))
        .execute(self.conn())
        .await
        .map_err(db_error)?;
        Ok(())
    }

    async fn unfollow(&mut self, user_id: UserId, project_id: ProjectId) -> StoreResult<()> {
        sqlx::query("DELETE FROM follows WHERE user_id = $1 AND project_id = $2")
            .bind(uuid_text(user_id))
            .bind(uuid_text(project_id))
            .execute(self.conn())
            .await
            .map_err(db_error)?;
        Ok(())
    }

    async fn is_following(&mut self, user_id: UserId, project_id: ProjectId) -> StoreResult<bool> {
        let n: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM follows WHERE user_id = $1 AND project_id = $2",
        )
        .bind(uuid_text(user_id))
        .bind(uuid_text(project_id))
        .fetch_one(self.conn())
        .await
        .map_err(db_error)?;
        Ok(n > 0)
    }

    async fn project_summaries(&mut self, ids: &[ProjectId]) -> StoreResult<Vec<ProjectSummary>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut q = QueryBuilder::new("SELECT ");
        q.push(SUMMARY_COLUMNS);
        q.push(" FROM projects p WHERE p.id IN (SELECT value FROM json_each(");
        q.push_bind(crate::projects::json_ids(ids.iter().map(|i| uuid_text(*i))));
        q.push("))");
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
        q.push_bind(uuid_text(user_id));
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
