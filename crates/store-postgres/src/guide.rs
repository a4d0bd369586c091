//! The Show Guide: the SQL (the SQLite backend mirrors it). Records and decoding are shared in
//! `store::guide`.

use async_trait::async_trait;
use domain::{GuideItemId, LanguageTag, ProjectId, UserId};
use sqlx::Row;
use sqlx::postgres::PgRow;
use store::guide::{
    GUIDE_ITEM_COLUMNS, GUIDE_REVISION_COLUMNS, GUIDE_VERSION_COLUMNS, RevisionDecoder, item_kind,
    version,
};
use store::{
    GuideItemFilter, GuideItemRecord, GuideRepo, GuideVersionRecord, StoreError, StoreResult,
};
use time::OffsetDateTime;

use crate::PgTx;
use crate::convert::{at as stamp, db_error, language};
use uuid::Uuid;

fn get<'r, T>(row: &'r PgRow, i: usize) -> StoreResult<T>
where
    T: sqlx::Decode<'r, sqlx::Postgres> + sqlx::Type<sqlx::Postgres>,
{
    row.try_get(i).map_err(db_error)
}

fn uid<T: From<Uuid>>(row: &PgRow, i: usize) -> StoreResult<T> {
    get::<Uuid>(row, i).map(T::from)
}

fn opt_uid<T: From<Uuid>>(row: &PgRow, i: usize, _column: &str) -> StoreResult<Option<T>> {
    get::<Option<Uuid>>(row, i).map(|u| u.map(T::from))
}

fn opt_at(row: &PgRow, i: usize, _column: &str) -> StoreResult<Option<OffsetDateTime>> {
    get(row, i)
}

/// A statement assembled from the shared constant column lists (never from input).
fn sql(s: String) -> sqlx::AssertSqlSafe<String> {
    sqlx::AssertSqlSafe(s)
}

fn item_row(row: &PgRow) -> StoreResult<GuideItemRecord> {
    Ok(GuideItemRecord {
        id: uid(row, 0)?,
        project_id: uid(row, 1)?,
        kind: item_kind(&get::<String>(row, 2)?)?,
        parent_id: opt_uid(row, 3, "guide_items.parent_id")?,
        language: get::<Option<String>>(row, 4)?
            .map(|l| language("guide_items.language", &l))
            .transpose()?,
        position: get(row, 5)?,
        data: get(row, 6)?,
        removed_at: opt_at(row, 7, "guide_items.removed_at")?,
        created_at: get(row, 8)?,
        updated_at: get(row, 9)?,
    })
}

fn version_row(row: &PgRow) -> StoreResult<GuideVersionRecord> {
    Ok(GuideVersionRecord {
        project_id: uid(row, 0)?,
        version: version("guide_versions.version", get(row, 1)?)?,
        actor_id: opt_uid(row, 2, "guide_versions.actor_id")?,
        summary: get(row, 3)?,
        published_at: opt_at(row, 4, "guide_versions.published_at")?,
        created_at: get(row, 5)?,
        language: get::<Option<String>>(row, 6)?
            .map(|l| language("guide_versions.language", &l))
            .transpose()?,
    })
}

#[async_trait]
impl GuideRepo for PgTx {
    async fn insert_guide_item(&mut self, item: &GuideItemRecord) -> StoreResult<()> {
        sqlx::query(sql(format!(
            "INSERT INTO guide_items ({GUIDE_ITEM_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, \
             $8, $9, $10)"
        )))
        .bind(item.id.as_uuid())
        .bind(item.project_id.as_uuid())
        .bind(item.kind.as_str())
        .bind(item.parent_id.map(|u| u.as_uuid()))
        .bind(item.language.as_ref().map(LanguageTag::as_str))
        .bind(item.position)
        .bind(&item.data)
        .bind(item.removed_at.map(stamp))
        .bind(stamp(item.created_at))
        .bind(stamp(item.updated_at))
        .execute(self.conn())
        .await
        .map_err(db_error)?;
        Ok(())
    }

    async fn update_guide_item(&mut self, item: &GuideItemRecord) -> StoreResult<()> {
        let done = sqlx::query(
            "UPDATE guide_items SET position = $2, data = $3, removed_at = $4, updated_at = $5 \
             WHERE id = $1",
        )
        .bind(item.id.as_uuid())
        .bind(item.position)
        .bind(&item.data)
        .bind(item.removed_at.map(stamp))
        .bind(stamp(item.updated_at))
        .execute(self.conn())
        .await
        .map_err(db_error)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    async fn get_guide_item(&mut self, item: GuideItemId) -> StoreResult<Option<GuideItemRecord>> {
        let row = sqlx::query(sql(format!(
            "SELECT {GUIDE_ITEM_COLUMNS} FROM guide_items WHERE id = $1"
        )))
        .bind(item.as_uuid())
        .fetch_optional(self.conn())
        .await
        .map_err(db_error)?;
        row.as_ref().map(item_row).transpose()
    }

    async fn guide_translation(
        &mut self,
        parent: GuideItemId,
        lang: &LanguageTag,
    ) -> StoreResult<Option<GuideItemRecord>> {
        let row = sqlx::query(sql(format!(
            "SELECT {GUIDE_ITEM_COLUMNS} FROM guide_items WHERE parent_id = $1 AND language = $2"
        )))
        .bind(parent.as_uuid())
        .bind(lang.as_str())
        .fetch_optional(self.conn())
        .await
        .map_err(db_error)?;
        row.as_ref().map(item_row).transpose()
    }

    async fn guide_items(
        &mut self,
        project: ProjectId,
        filter: &GuideItemFilter,
    ) -> StoreResult<Vec<GuideItemRecord>> {
        let base = format!(
            "SELECT {GUIDE_ITEM_COLUMNS} FROM guide_items WHERE project_id = $1 \
             AND removed_at IS NULL"
        );
        let order = "ORDER BY kind, position, created_at, id";
        let rows = match (&filter.languages, filter.no_translations) {
            (_, true) => {
                sqlx::query(sql(format!("{base} AND kind <> 'translation' {order}")))
                    .bind(project.as_uuid())
                    .fetch_all(self.conn())
                    .await
            }
            (Some(langs), false) => {
                sqlx::query(sql(format!(
                    "{base} AND (kind <> 'translation' OR language = ANY($2)) {order}"
                )))
                .bind(project.as_uuid())
                .bind(
                    langs
                        .iter()
                        .map(|l| l.as_str().to_string())
                        .collect::<Vec<_>>(),
                )
                .fetch_all(self.conn())
                .await
            }
            (None, false) => {
                sqlx::query(sql(format!("{base} {order}")))
                    .bind(project.as_uuid())
                    .fetch_all(self.conn())
                    .await
            }
        }
        .map_err(db_error)?;
        rows.iter().map(item_row).collect()
    }

    async fn guide_version(&mut self, project: ProjectId) -> StoreResult<u32> {
        let n: Option<i64> =
            sqlx::query_scalar("SELECT MAX(version) FROM guide_versions WHERE project_id = $1")
                .bind(project.as_uuid())
                .fetch_one(self.conn())
                .await
                .map_err(db_error)?;
        version("guide_versions.version", n.unwrap_or(0))
    }

    async fn insert_guide_version(&mut self, v: &GuideVersionRecord) -> StoreResult<()> {
        sqlx::query(sql(format!(
            "INSERT INTO guide_versions ({GUIDE_VERSION_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)"
        )))
        .bind(v.project_id.as_uuid())
        .bind(i64::from(v.version))
        .bind(v.actor_id.map(|u| u.as_uuid()))
        .bind(&v.summary)
        .bind(v.published_at.map(stamp))
        .bind(stamp(v.created_at))
        .bind(v.language.as_ref().map(LanguageTag::as_str))
        .execute(self.conn())
        .await
        .map_err(db_error)?;
        Ok(())
    }

    async fn publish_guide_version(
        &mut self,
        project: ProjectId,
        v: u32,
        at: OffsetDateTime,
    ) -> StoreResult<()> {
        let done = sqlx::query(
            "UPDATE guide_versions SET published_at = $3 WHERE project_id = $1 AND version = $2",
        )
        .bind(project.as_uuid())
        .bind(i64::from(v))
        .bind(stamp(at))
        .execute(self.conn())
        .await
        .map_err(db_error)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    async fn guide_versions(&mut self, project: ProjectId) -> StoreResult<Vec<GuideVersionRecord>> {
        let rows = sqlx::query(sql(format!(
            "SELECT {GUIDE_VERSION_COLUMNS} FROM guide_versions WHERE project_id = $1 \
             ORDER BY version DESC"
        )))
        .bind(project.as_uuid())
        .fetch_all(self.conn())
        .await
        .map_err(db_error)?;
        rows.iter().map(version_row).collect()
    }

    async fn insert_guide_revisions(
        &mut self,
        project: ProjectId,
        revisions: &[domain::guide::Revision],
    ) -> StoreResult<()> {
        for r in revisions {
            sqlx::query(
                "INSERT INTO guide_revisions (project_id, version, kind, item, language, name, \
                 before, after) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(project.as_uuid())
            .bind(i64::from(r.version))
            .bind(r.kind.as_str())
            .bind(&r.item)
            .bind(r.language.as_ref().map(LanguageTag::as_str))
            .bind(&r.name)
            .bind(&r.before)
            .bind(&r.after)
            .execute(self.conn())
            .await
            .map_err(db_error)?;
        }
        Ok(())
    }

    async fn guide_revisions(
        &mut self,
        project: ProjectId,
        from: u32,
        to: u32,
    ) -> StoreResult<Vec<domain::guide::Revision>> {
        let rows = sqlx::query(sql(format!(
            "SELECT {GUIDE_REVISION_COLUMNS} FROM guide_revisions WHERE project_id = $1 \
             AND version > $2 AND version <= $3 ORDER BY version, id"
        )))
        .bind(project.as_uuid())
        .bind(i64::from(from))
        .bind(i64::from(to))
        .fetch_all(self.conn())
        .await
        .map_err(db_error)?;
        let mut decoder = RevisionDecoder::default();
        rows.iter()
            .map(|r| {
                decoder.revision(
                    get(r, 0)?,
                    &get::<String>(r, 1)?,
                    get(r, 2)?,
                    get(r, 3)?,
                    get(r, 4)?,
                    get(r, 5)?,
                    get(r, 6)?,
                )
            })
            .collect()
    }

    async fn set_guide_read(
        &mut self,
        user: UserId,
        project: ProjectId,
        v: u32,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO guide_reads (user_id, project_id, version) VALUES ($1, $2, $3) \
             ON CONFLICT (user_id, project_id) DO UPDATE SET version = excluded.version",
        )
        .bind(user.as_uuid())
        .bind(project.as_uuid())
        .bind(i64::from(v))
        .execute(self.conn())
        .await
        .map_err(db_error)?;
        Ok(())
    }

    async fn guide_read(&mut self, user: UserId, project: ProjectId) -> StoreResult<u32> {
        let n: Option<i64> = sqlx::query_scalar(
            "SELECT version FROM guide_reads WHERE user_id = $1 AND project_id = $2",
        )
        .bind(user.as_uuid())
        .bind(project.as_uuid())
        .fetch_optional(self.conn())
        .await
        .map_err(db_error)?;
        version("guide_reads.version", n.unwrap_or(0))
    }
}
