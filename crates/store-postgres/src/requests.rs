//! Requests for script work: the SQL. Records and decoding are shared in `store::requests`.

use async_trait::async_trait;
use domain::{ProjectId, RequestFileId, RequestId, UserId};
use sqlx::Row;
use sqlx::postgres::PgRow;
use store::columns::corrupt;
use store::requests::{
    DependencyColumns, REQUEST_COLUMNS, RequestColumns, date_text, dependency, file_slot,
    open_group, request,
};
use store::{
    DependencyRecord, HistoryRecord, NewDependency, OpenRequestGroup, RequestFileRecord,
    RequestRecord, RequestRepo, Skip, StoreError, StoreResult,
};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::PgTx;
use crate::convert::{at, db_error};

fn get<'r, T>(row: &'r PgRow, i: usize) -> StoreResult<T>
where
    T: sqlx::Decode<'r, sqlx::Postgres> + sqlx::Type<sqlx::Postgres>,
{
    row.try_get(i).map_err(db_error)
}

fn id<T: From<Uuid>>(row: &PgRow, i: usize) -> StoreResult<T> {
    get::<Uuid>(row, i).map(T::from)
}

fn opt_id<T: From<Uuid>>(row: &PgRow, i: usize) -> StoreResult<Option<T>> {
    get::<Option<Uuid>>(row, i).map(|u| u.map(T::from))
}

fn request_row(row: &PgRow) -> StoreResult<RequestRecord> {
    request(RequestColumns {
        id: id(row, 0)?,
        project_id: id(row, 1)?,
        episode_id: opt_id(row, 2)?,
        kind: get(row, 3)?,
        language: get(row, 4)?,
        instructions: get(row, 5)?,
        due_date: get(row, 6)?,
        edd: get(row, 7)?,
        state: get(row, 8)?,
        retakes: i64::from(get::<i32>(row, 9)?),
        assignees: [opt_id(row, 10)?, opt_id(row, 11)?, opt_id(row, 12)?],
        step_due: [get(row, 13)?, get(row, 14)?, get(row, 15)?],
        created_by: opt_id(row, 16)?,
        created_at: get(row, 17)?,
        updated_at: get(row, 18)?,
    })
}

fn dependency_row(row: &PgRow) -> StoreResult<DependencyRecord> {
    dependency(DependencyColumns {
        id: get(row, 0)?,
        request_id: id(row, 1)?,
        on_kind: get(row, 2)?,
        on_language: get(row, 3)?,
        on_request: opt_id(row, 4)?,
        skipped_by: opt_id(row, 5)?,
        skip_reason: get(row, 6)?,
        skipped_at: get(row, 7)?,
    })
}

fn file_row(row: &PgRow) -> StoreResult<RequestFileRecord> {
    let version: i32 = get(row, 3)?;
    let size: i64 = get(row, 7)?;
    Ok(RequestFileRecord {
        id: id(row, 0)?,
        request_id: id(row, 1)?,
        slot: file_slot(&get::<String>(row, 2)?)?,
        version: u32::try_from(version)
            .map_err(|e| corrupt("request_files.version", version, e))?,
        name: get(row, 4)?,
        file_type: get(row, 5)?,
        sha256: get(row, 6)?,
        size: u64::try_from(size).map_err(|e| corrupt("request_files.size", size, e))?,
        storage_key: get(row, 8)?,
        uploaded_by: opt_id(row, 9)?,
        created_at: get(row, 10)?,
    })
}

const FILE_COLUMNS: &str = "id, request_id, slot, version, name, file_type, sha256, size, \
    storage_key, uploaded_by, created_at";
const DEPENDENCY_COLUMNS: &str = "id, request_id, on_kind, on_language, on_request_id, \
    skipped_by, skip_reason, skipped_at";

/// A statement assembled from this file's constant column lists (never from input).
fn sql(s: String) -> sqlx::AssertSqlSafe<String> {
    sqlx::AssertSqlSafe(s)
}

/// A count as stored (`integer`).
fn int(column: &str, n: u32) -> StoreResult<i32> {
    i32::try_from(n).map_err(|e| corrupt(column, n, e))
}

#[async_trait]
impl RequestRepo for PgTx {
    async fn lock_project_requests(&mut self, project: ProjectId) -> StoreResult<()> {
        sqlx::query("SELECT 1 FROM projects WHERE id = $1 FOR UPDATE")
            .bind(project.as_uuid())
            .execute(self.conn())
            .await
            .map_err(db_error)?;
        Ok(())
    }

    async fn insert_request(&mut self, r: &RequestRecord) -> StoreResult<()> {
        sqlx::query(sql(format!(
            "INSERT INTO requests ({REQUEST_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, \
             $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)"
        )))
        .bind(r.id.as_uuid())
        .bind(r.project_id.as_uuid())
        .bind(r.episode_id.map(|e| e.as_uuid()))
        .bind(r.kind.as_str())
        .bind(r.language.as_str())
        .bind(&r.instructions)
        .bind(date_text(r.due_date))
        .bind(date_text(r.edd))
        .bind(r.state.as_str())
        .bind(int("requests.retakes", r.retakes)?)
        .bind(r.assignees[0].map(|u| u.as_uuid()))
        .bind(r.assignees[1].map(|u| u.as_uuid()))
        .bind(r.assignees[2].map(|u| u.as_uuid()))
        .bind(r.step_due[0].map(date_text))
        .bind(r.step_due[1].map(date_text))
        .bind(r.step_due[2].map(date_text))
        .bind(r.created_by.map(|u| u.as_uuid()))
        .bind(at(r.created_at))
        .bind(at(r.updated_at))
        .execute(self.conn())
        .await
        .map_err(db_error)?;
        Ok(())
    }

    async fn update_request(&mut self, r: &RequestRecord) -> StoreResult<()> {
        let done = sqlx::query(
            "UPDATE requests SET instructions = $2, due_date = $3, edd = $4, state = $5, \
             retakes = $6, author_id = $7, proofreader_id = $8, qc_id = $9, author_due = $10, \
             proofread_due = $11, qc_due = $12, updated_at = $13 WHERE id = $1",
        )
        .bind(r.id.as_uuid())
        .bind(&r.instructions)
        .bind(date_text(r.due_date))
        .bind(date_text(r.edd))
        .bind(r.state.as_str())
        .bind(int("requests.retakes", r.retakes)?)
        .bind(r.assignees[0].map(|u| u.as_uuid()))
        .bind(r.assignees[1].map(|u| u.as_uuid()))
        .bind(r.assignees[2].map(|u| u.as_uuid()))
        .bind(r.step_due[0].map(date_text))
        .bind(r.step_due[1].map(date_text))
        .bind(r.step_due[2].map(date_text))
        .bind(at(r.updated_at))
        .execute(self.conn())
        .await
        .map_err(db_error)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    async fn get_request(&mut self, request_id: RequestId) -> StoreResult<Option<RequestRecord>> {
        let row = sqlx::query(sql(format!(
            "SELECT {REQUEST_COLUMNS} FROM requests WHERE id = $1"
        )))
        .bind(request_id.as_uuid())
        .fetch_optional(self.conn())
        .await
        .map_err(db_error)?;
        row.as_ref().map(request_row).transpose()
    }

    async fn project_requests(&mut self, project: ProjectId) -> StoreResult<Vec<RequestRecord>> {
        let rows = sqlx::query(sql(format!(
            "SELECT {REQUEST_COLUMNS} FROM requests WHERE project_id = $1 \
             ORDER BY created_at, id"
        )))
        .bind(project.as_uuid())
        .fetch_all(self.conn())
        .await
        .map_err(db_error)?;
        rows.iter().map(request_row).collect()
    }

    async fn requests_assigned_to(&mut self, user: UserId) -> StoreResult<Vec<RequestRecord>> {
        let rows = sqlx::query(sql(format!(
            "SELECT {REQUEST_COLUMNS} FROM requests WHERE author_id = $1 \
             UNION SELECT {REQUEST_COLUMNS} FROM requests WHERE proofreader_id = $1 \
             UNION SELECT {REQUEST_COLUMNS} FROM requests WHERE qc_id = $1 \
             ORDER BY created_at, id"
        )))
        .bind(user.as_uuid())
        .fetch_all(self.conn())
        .await
        .map_err(db_error)?;
        rows.iter().map(request_row).collect()
    }

    async fn open_request_groups(
        &mut self,
        projects: &[ProjectId],
    ) -> StoreResult<Vec<OpenRequestGroup>> {
        if projects.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<Uuid> = projects.iter().map(|p| p.as_uuid()).collect();
        let rows: Vec<(Uuid, String, String, i64, String)> = sqlx::query_as(
            "SELECT project_id, language, kind, count(*), min(due_date) FROM requests \
             WHERE state <> 'done' AND project_id = ANY($1) GROUP BY project_id, language, kind",
        )
        .bind(&ids)
        .fetch_all(self.conn())
        .await
        .map_err(db_error)?;
        rows.into_iter()
            .map(|(p, l, k, n, d)| open_group(p.into(), &l, &k, n, &d))
            .collect()
    }

    async fn insert_dependency(&mut self, d: &NewDependency) -> StoreResult<i64> {
        sqlx::query_scalar(
            "INSERT INTO request_dependencies (request_id, project_id, on_kind, on_language, \
             on_request_id) SELECT id, project_id, $2, $3, $4 FROM requests WHERE id = $1 \
             RETURNING id",
        )
        .bind(d.request_id.as_uuid())
        .bind(d.on_kind.as_str())
        .bind(d.on_language.as_ref().map(|l| l.as_str().to_string()))
        .bind(d.on_request.map(|r| r.as_uuid()))
        .fetch_optional(self.conn())
        .await
        .map_err(db_error)?
        .ok_or(StoreError::NotFound)
    }

    async fn project_dependencies(
        &mut self,
        project: ProjectId,
    ) -> StoreResult<Vec<DependencyRecord>> {
        let rows = sqlx::query(sql(format!(
            "SELECT {DEPENDENCY_COLUMNS} FROM request_dependencies WHERE project_id = $1 \
             ORDER BY id"
        )))
        .bind(project.as_uuid())
        .fetch_all(self.conn())
        .await
        .map_err(db_error)?;
        rows.iter().map(dependency_row).collect()
    }

    async fn set_dependency_target(&mut self, dep: i64, on: Option<RequestId>) -> StoreResult<()> {
        sqlx::query("UPDATE request_dependencies SET on_request_id = $2 WHERE id = $1")
            .bind(dep)
            .bind(on.map(|r| r.as_uuid()))
            .execute(self.conn())
            .await
            .map_err(db_error)?;
        Ok(())
    }

    async fn set_dependency_skip(&mut self, dep: i64, skip: Option<&Skip>) -> StoreResult<()> {
        sqlx::query(
            "UPDATE request_dependencies SET skipped_by = $2, skip_reason = $3, skipped_at = $4 \
             WHERE id = $1",
        )
        .bind(dep)
        .bind(skip.and_then(|s| s.by.map(|u| u.as_uuid())))
        .bind(skip.map(|s| s.reason.clone()))
        .bind(skip.map(|s| at(s.at)))
        .execute(self.conn())
        .await
        .map_err(db_error)?;
        Ok(())
    }

    async fn delete_dependency(&mut self, dep: i64) -> StoreResult<()> {
        sqlx::query("DELETE FROM request_dependencies WHERE id = $1")
            .bind(dep)
            .execute(self.conn())
            .await
            .map_err(db_error)?;
        Ok(())
    }

    async fn insert_request_file(&mut self, f: &RequestFileRecord) -> StoreResult<()> {
        sqlx::query(sql(format!(
            "INSERT INTO request_files ({FILE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, \
             $9, $10, $11)"
        )))
        .bind(f.id.as_uuid())
        .bind(f.request_id.as_uuid())
        .bind(f.slot.as_str())
        .bind(int("request_files.version", f.version)?)
        .bind(&f.name)
        .bind(&f.file_type)
        .bind(&f.sha256)
        .bind(i64::try_from(f.size).map_err(|e| corrupt("request_files.size", f.size, e))?)
        .bind(&f.storage_key)
        .bind(f.uploaded_by.map(|u| u.as_uuid()))
        .bind(at(f.created_at))
        .execute(self.conn())
        .await
        .map_err(db_error)?;
        Ok(())
    }

    async fn request_files(
        &mut self,
        request_id: RequestId,
    ) -> StoreResult<Vec<RequestFileRecord>> {
        let rows = sqlx::query(sql(format!(
            "SELECT {FILE_COLUMNS} FROM request_files WHERE request_id = $1 \
             ORDER BY created_at, id"
        )))
        .bind(request_id.as_uuid())
        .fetch_all(self.conn())
        .await
        .map_err(db_error)?;
        rows.iter().map(file_row).collect()
    }

    async fn get_request_file(
        &mut self,
        file: RequestFileId,
    ) -> StoreResult<Option<RequestFileRecord>> {
        let row = sqlx::query(sql(format!(
            "SELECT {FILE_COLUMNS} FROM request_files WHERE id = $1"
        )))
        .bind(file.as_uuid())
        .fetch_optional(self.conn())
        .await
        .map_err(db_error)?;
        row.as_ref().map(file_row).transpose()
    }

    async fn insert_request_history(&mut self, h: &HistoryRecord) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO request_history (request_id, actor_id, action, detail, reason, \
             created_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(h.request_id.as_uuid())
        .bind(h.actor.map(|u| u.as_uuid()))
        .bind(&h.action)
        .bind(&h.detail)
        .bind(&h.reason)
        .bind(at(h.at))
        .execute(self.conn())
        .await
        .map_err(db_error)?;
        Ok(())
    }

    async fn request_history(&mut self, request_id: RequestId) -> StoreResult<Vec<HistoryRecord>> {
        let rows: Vec<(Option<Uuid>, String, String, Option<String>, OffsetDateTime)> =
            sqlx::query_as(
                "SELECT actor_id, action, detail, reason, created_at FROM request_history \
                 WHERE request_id = $1 ORDER BY id",
            )
            .bind(request_id.as_uuid())
            .fetch_all(self.conn())
            .await
            .map_err(db_error)?;
        Ok(rows
            .into_iter()
            .map(|(actor, action, detail, reason, when)| HistoryRecord {
                request_id,
                actor: actor.map(UserId::from),
                action,
                detail,
                reason,
                at: when,
            })
            .collect())
    }

    async fn set_script_viewer(
        &mut self,
        project: ProjectId,
        user: UserId,
        on: bool,
        by: Option<UserId>,
        when: OffsetDateTime,
    ) -> StoreResult<()> {
        let q = if on {
            sqlx::query(
                "INSERT INTO script_viewers (project_id, user_id, added_by, created_at) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT (project_id, user_id) DO NOTHING",
            )
            .bind(project.as_uuid())
            .bind(user.as_uuid())
            .bind(by.map(|u| u.as_uuid()))
            .bind(at(when))
        } else {
            sqlx::query("DELETE FROM script_viewers WHERE project_id = $1 AND user_id = $2")
                .bind(project.as_uuid())
                .bind(user.as_uuid())
        };
        q.execute(self.conn()).await.map_err(db_error)?;
        Ok(())
    }

    async fn script_viewers(&mut self, project: ProjectId) -> StoreResult<Vec<UserId>> {
        let rows: Vec<Uuid> =
            sqlx::query_scalar("SELECT user_id FROM script_viewers WHERE project_id = $1")
                .bind(project.as_uuid())
                .fetch_all(self.conn())
                .await
                .map_err(db_error)?;
        Ok(rows.into_iter().map(UserId::from).collect())
    }

    async fn script_viewer_projects(&mut self, user: UserId) -> StoreResult<Vec<ProjectId>> {
        let rows: Vec<Uuid> =
            sqlx::query_scalar("SELECT project_id FROM script_viewers WHERE user_id = $1")
                .bind(user.as_uuid())
                .fetch_all(self.conn())
                .await
                .map_err(db_error)?;
        Ok(rows.into_iter().map(ProjectId::from).collect())
    }

    async fn project_followers(&mut self, project: ProjectId) -> StoreResult<Vec<UserId>> {
        let rows: Vec<Uuid> =
            sqlx::query_scalar("SELECT user_id FROM follows WHERE project_id = $1")
                .bind(project.as_uuid())
                .fetch_all(self.conn())
                .await
                .map_err(db_error)?;
        Ok(rows.into_iter().map(UserId::from).collect())
    }
}
