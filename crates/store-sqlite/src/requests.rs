//! Requests for script work: the SQL. Records and decoding are shared in `store::requests`.

use async_trait::async_trait;
use domain::{ProjectId, RequestFileId, RequestId, UserId};
use sqlx::sqlite::SqliteRow;
use sqlx::{QueryBuilder, Row};
use store::requests::{
    DependencyColumns, REQUEST_COLUMNS, RequestColumns, date_text, dependency, file_slot,
    open_group, request,
};
use store::{
    DependencyRecord, HistoryRecord, NewDependency, OpenRequestGroup, RequestFileRecord,
    RequestRecord, RequestRepo, Skip, StoreError, StoreResult,
};
use time::OffsetDateTime;

use crate::SqliteTx;
use crate::convert::{db_error, id, micros, timestamp, uuid_text};
use crate::projects::json_ids;

fn get<'r, T>(row: &'r SqliteRow, i: usize) -> StoreResult<T>
where
    T: sqlx::Decode<'r, sqlx::Sqlite> + sqlx::Type<sqlx::Sqlite>,
{
    row.try_get(i).map_err(db_error)
}

fn opt_id<T: From<uuid::Uuid>>(column: &str, s: Option<String>) -> StoreResult<Option<T>> {
    s.map(|s| id(column, &s)).transpose()
}

fn request_row(row: &SqliteRow) -> StoreResult<RequestRecord> {
    request(RequestColumns {
        id: id("requests.id", &get::<String>(row, 0)?)?,
        project_id: id("requests.project_id", &get::<String>(row, 1)?)?,
        episode_id: opt_id("requests.episode_id", get(row, 2)?)?,
        kind: get(row, 3)?,
        language: get(row, 4)?,
        instructions: get(row, 5)?,
        due_date: get(row, 6)?,
        edd: get(row, 7)?,
        state: get(row, 8)?,
        retakes: get(row, 9)?,
        assignees: [
            opt_id("requests.author_id", get(row, 10)?)?,
            opt_id("requests.proofreader_id", get(row, 11)?)?,
            opt_id("requests.qc_id", get(row, 12)?)?,
        ],
        step_due: [get(row, 13)?, get(row, 14)?, get(row, 15)?],
        created_by: opt_id("requests.created_by", get(row, 16)?)?,
        created_at: timestamp("requests.created_at", get(row, 17)?)?,
        updated_at: timestamp("requests.updated_at", get(row, 18)?)?,
    })
}

fn dependency_row(row: &SqliteRow) -> StoreResult<DependencyRecord> {
    dependency(DependencyColumns {
        id: get(row, 0)?,
        request_id: id("request_dependencies.request_id", &get::<String>(row, 1)?)?,
        on_kind: get(row, 2)?,
        on_language: get(row, 3)?,
        on_request: opt_id("request_dependencies.on_request_id", get(row, 4)?)?,
        skipped_by: opt_id("request_dependencies.skipped_by", get(row, 5)?)?,
        skip_reason: get(row, 6)?,
        skipped_at: get::<Option<i64>>(row, 7)?
            .map(|t| timestamp("request_dependencies.skipped_at", t))
            .transpose()?,
    })
}

fn file_row(row: &SqliteRow) -> StoreResult<RequestFileRecord> {
    let size: i64 = get(row, 7)?;
    let version: i64 = get(row, 3)?;
    Ok(RequestFileRecord {
        id: id("request_files.id", &get::<String>(row, 0)?)?,
        request_id: id("request_files.request_id", &get::<String>(row, 1)?)?,
        slot: file_slot(&get::<String>(row, 2)?)?,
        version: u32::try_from(version)
            .map_err(|e| store::columns::corrupt("request_files.version", version, e))?,
        name: get(row, 4)?,
        file_type: get(row, 5)?,
        sha256: get(row, 6)?,
        size: u64::try_from(size)
            .map_err(|e| store::columns::corrupt("request_files.size", size, e))?,
        storage_key: get(row, 8)?,
        uploaded_by: opt_id("request_files.uploaded_by", get(row, 9)?)?,
        created_at: timestamp("request_files.created_at", get(row, 10)?)?,
    })
}

const FILE_COLUMNS: &str = "id, request_id, slot, version, name, file_type, sha256, size, storage_key, uploaded_by, created_at";
const DEPENDENCY_COLUMNS: &str = "id, request_id, on_kind, on_language, on_request_id, \
    skipped_by, skip_reason, skipped_at";

/// A statement assembled from this file's constant column lists (never from input).
fn sql(s: String) -> sqlx::AssertSqlSafe<String> {
    sqlx::AssertSqlSafe(s)
}

fn opt_text(id: Option<impl std::fmt::Display>) -> Option<String> {
    id.map(uuid_text)
}

#[async_trait]
impl RequestRepo for SqliteTx {
    async fn lock_project_requests(&mut self, _project: ProjectId) -> StoreResult<()> {
        // Write transactions start with BEGIN IMMEDIATE on the one writer connection.
        Ok(())
    }

    async fn insert_request(&mut self, r: &RequestRecord) -> StoreResult<()> {
        sqlx::query(sql(format!(
            "INSERT INTO requests ({REQUEST_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, \
             $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)"
        )))
        .bind(uuid_text(r.id))
        .bind(uuid_text(r.project_id))
        .bind(opt_text(r.episode_id))
        .bind(r.kind.as_str())
        .bind(r.language.as_str())
        .bind(&r.instructions)
        .bind(date_text(r.due_date))
        .bind(date_text(r.edd))
        .bind(r.state.as_str())
        .bind(i64::from(r.retakes))
        .bind(opt_text(r.assignees[0]))
        .bind(opt_text(r.assignees[1]))
        .bind(opt_text(r.assignees[2]))
        .bind(r.step_due[0].map(date_text))
        .bind(r.step_due[1].map(date_text))
        .bind(r.step_due[2].map(date_text))
        .bind(opt_text(r.created_by))
        .bind(micros(r.created_at))
        .bind(micros(r.updated_at))
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
        .bind(uuid_text(r.id))
        .bind(&r.instructions)
        .bind(date_text(r.due_date))
        .bind(date_text(r.edd))
        .bind(r.state.as_str())
        .bind(i64::from(r.retakes))
        .bind(opt_text(r.assignees[0]))
        .bind(opt_text(r.assignees[1]))
        .bind(opt_text(r.assignees[2]))
        .bind(r.step_due[0].map(date_text))
        .bind(r.step_due[1].map(date_text))
        .bind(r.step_due[2].map(date_text))
        .bind(micros(r.updated_at))
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
        .bind(uuid_text(request_id))
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
        .bind(uuid_text(project))
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
        .bind(uuid_text(user))
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
        let mut q = QueryBuilder::new(
            "SELECT project_id, language, kind, count(*), min(due_date) FROM requests \
             WHERE state <> 'done' AND project_id IN (SELECT value FROM json_each(",
        );
        q.push_bind(json_ids(projects.iter().map(|p| uuid_text(*p))));
        q.push(")) GROUP BY project_id, language, kind");
        let rows: Vec<(String, String, String, i64, String)> = q
            .build_query_as()
            .fetch_all(self.conn())
            .await
            .map_err(db_error)?;
        rows.into_iter()
            .map(|(p, l, k, n, d)| open_group(id("requests.project_id", &p)?, &l, &k, n, &d))
            .collect()
    }

    async fn insert_dependency(&mut self, d: &NewDependency) -> StoreResult<i64> {
        sqlx::query_scalar(
            "INSERT INTO request_dependencies (request_id, project_id, on_kind, on_language, \
             on_request_id) SELECT id, project_id, $2, $3, $4 FROM requests WHERE id = $1 \
             RETURNING id",
        )
        .bind(uuid_text(d.request_id))
        .bind(d.on_kind.as_str())
        .bind(d.on_language.as_ref().map(|l| l.as_str().to_string()))
        .bind(opt_text(d.on_request))
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
        .bind(uuid_text(project))
        .fetch_all(self.conn())
        .await
        .map_err(db_error)?;
        rows.iter().map(dependency_row).collect()
    }

    async fn set_dependency_target(&mut self, dep: i64, on: Option<RequestId>) -> StoreResult<()> {
        sqlx::query("UPDATE request_dependencies SET on_request_id = $2 WHERE id = $1")
            .bind(dep)
            .bind(opt_text(on))
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
        .bind(skip.and_then(|s| opt_text(s.by)))
        .bind(skip.map(|s| s.reason.clone()))
        .bind(skip.map(|s| micros(s.at)))
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
        .bind(uuid_text(f.id))
        .bind(uuid_text(f.request_id))
        .bind(f.slot.as_str())
        .bind(i64::from(f.version))
        .bind(&f.name)
        .bind(&f.file_type)
        .bind(&f.sha256)
        .bind(i64::try_from(f.size).unwrap_or(i64::MAX))
        .bind(&f.storage_key)
        .bind(opt_text(f.uploaded_by))
        .bind(micros(f.created_at))
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
        .bind(uuid_text(request_id))
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
        .bind(uuid_text(file))
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
        .bind(uuid_text(h.request_id))
        .bind(opt_text(h.actor))
        .bind(&h.action)
        .bind(&h.detail)
        .bind(&h.reason)
        .bind(micros(h.at))
        .execute(self.conn())
        .await
        .map_err(db_error)?;
        Ok(())
    }

    async fn request_history(&mut self, request_id: RequestId) -> StoreResult<Vec<HistoryRecord>> {
        let rows: Vec<(Option<String>, String, String, Option<String>, i64)> = sqlx::query_as(
            "SELECT actor_id, action, detail, reason, created_at FROM request_history \
             WHERE request_id = $1 ORDER BY id",
        )
        .bind(uuid_text(request_id))
        .fetch_all(self.conn())
        .await
        .map_err(db_error)?;
        rows.into_iter()
            .map(|(actor, action, detail, reason, at)| {
                Ok(HistoryRecord {
                    request_id,
                    actor: opt_id("request_history.actor_id", actor)?,
                    action,
                    detail,
                    reason,
                    at: timestamp("request_history.created_at", at)?,
                })
            })
            .collect()
    }

    async fn set_script_viewer(
        &mut self,
        project: ProjectId,
        user: UserId,
        on: bool,
        by: Option<UserId>,
        at: OffsetDateTime,
    ) -> StoreResult<()> {
        let q = if on {
            sqlx::query(
                "INSERT INTO script_viewers (project_id, user_id, added_by, created_at) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT (project_id, user_id) DO NOTHING",
            )
            .bind(uuid_text(project))
            .bind(uuid_text(user))
            .bind(opt_text(by))
            .bind(micros(at))
        } else {
            sqlx::query("DELETE FROM script_viewers WHERE project_id = $1 AND user_id = $2")
                .bind(uuid_text(project))
                .bind(uuid_text(user))
        };
        q.execute(self.conn()).await.map_err(db_error)?;
        Ok(())
    }

    async fn script_viewers(&mut self, project: ProjectId) -> StoreResult<Vec<UserId>> {
        let rows: Vec<String> =
            sqlx::query_scalar("SELECT user_id FROM script_viewers WHERE project_id = $1")
                .bind(uuid_text(project))
                .fetch_all(self.conn())
                .await
                .map_err(db_error)?;
        rows.iter()
            .map(|s| id("script_viewers.user_id", s))
            .collect()
    }

    async fn script_viewer_projects(&mut self, user: UserId) -> StoreResult<Vec<ProjectId>> {
        let rows: Vec<String> =
            sqlx::query_scalar("SELECT project_id FROM script_viewers WHERE user_id = $1")
                .bind(uuid_text(user))
                .fetch_all(self.conn())
                .await
                .map_err(db_error)?;
        rows.iter()
            .map(|s| id("script_viewers.project_id", s))
            .collect()
    }

    async fn project_followers(&mut self, project: ProjectId) -> StoreResult<Vec<UserId>> {
        let rows: Vec<String> =
            sqlx::query_scalar("SELECT user_id FROM follows WHERE project_id = $1")
                .bind(uuid_text(project))
                .fetch_all(self.conn())
                .await
                .map_err(db_error)?;
        rows.iter().map(|s| id("follows.user_id", s)).collect()
    }
}
