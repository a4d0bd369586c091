//! The Show Guide: the SQL. Records and decoding are shared in `store::guide`.

use async_trait::async_trait;
use domain::{GuideItemId, LanguageTag, ProjectId, UserId};
use sqlx::Row;
use sqlx::sqlite::SqliteRow;
use store::guide::{
    GUIDE_ITEM_COLUMNS, GUIDE_REVISION_COLUMNS, GUIDE_VERSION_COLUMNS, RevisionDecoder, item_kind,
    version,
};
use store::{
    GuideItemFilter, GuideItemRecord, GuideRepo, GuideVersionRecord, StoreError, StoreResult,
};
use time::OffsetDateTime;

use crate::SqliteTx;
use crate::convert::{db_error, id, language, micros, timestamp, uuid_text};
use crate::projects::json_ids;

fn get<'r, T>(row: &'r SqliteRow, i: usize) -> StoreResult<T>
where
    T: sqlx::Decode<'r, sqlx::Sqlite> + sqlx::Type<sqlx::Sqlite>,
{
    row.try_get(i).map_err(db_error)
}

fn opt_uid<T: From<uuid::Uuid>>(row: &SqliteRow, i: usize, column: &str) -> StoreResult<Option<T>> {
    get::<Option<String>>(row, i)?
        .map(|s| id(column, &s))
        .transpose()
}

fn opt_at(row: &SqliteRow, i: usize, column: &str) -> StoreResult<Option<OffsetDateTime>> {
    get::<Option<i64>>(row, i)?
        .map(|t| timestamp(column, t))
        .transpose()
}

fn opt_text(id: Option<impl std::fmt::Display>) -> Option<String> {
    id.map(uuid_text)
}

/// A statement assembled from the shared constant column lists (never from input).
fn sql(s: String) -> sqlx::AssertSqlSafe<String> {
    sqlx::AssertSqlSafe(s)
}

fn item_row(row: &SqliteRow) -> StoreResult<GuideItemRecord> {
    Ok(GuideItemRecord {
        id: id("guide_items.id", &get::<String>(row, 0)?)?,
        project_id: id("guide_items.project_id", &get::<String>(row, 1)?)?,
        kind: item_kind(&get::<String>(row, 2)?)?,
        parent_id: opt_uid(row, 3, "guide_items.parent_id")?,
        language: get::<Option<String>>(row, 4)?
            .map(|l| language("guide_items.language", &l))
            .transpose()?,
        position: get(row, 5)?,
        data: get(row, 6)?,
        removed_at: opt_at(row, 7, "guide_items.removed_at")?,
        created_at: timestamp("guide_items.created_at", get(row, 8)?)?,
        updated_at: timestamp("guide_items.updated_at", get(row, 9)?)?,
    })
}

fn version_row(row: &SqliteRow) -> StoreResult<GuideVersionRecord> {
    Ok(GuideVersionRecord {
        project_id: id("guide_versions.project_id", &get::<String>(row, 0)?)?,
        version: version("guide_versions.version", get(row, 1)?)?,
        actor_id: opt_uid(row, 2, "guide_versions.actor_id")?,
        summary: get(row, 3)?,
        published_at: opt_at(row, 4, "guide_versions.published_at")?,
        created_at: timestamp("guide_versions.created_at", get(row, 5)?)?,
        language: get::<Option<String>>(row, 6)?
            .map(|l| language("guide_versions.language", &l))
            .transpose()?,
    })
}

#[async_trait]
impl GuideRepo for SqliteTx {
    async fn insert_guide_item(&mut self, item: &GuideItemRecord) -> StoreResult<()> {
        sqlx::query(sql(format!(
            "INSERT INTO guide_items ({GUIDE_ITEM_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, \
             $8, $9, $10)"
        )))
        .bind(uuid_text(item.id))
        .bind(uuid_text(item.project_id))
        .bind(item.kind.as_str())
        .bind(opt_text(item.parent_id))
        .bind(item.language.as_ref().map(LanguageTag::as_str))
        .bind(item.position)
        .bind(&item.data)
        .bind(item.removed_at.map(micros))
        .bind(micros(item.created_at))
        .bind(micros(item.updated_at))
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
        .bind(uuid_text(item.id))
        .bind(item.position)
        .bind(&item.data)
        .bind(item.removed_at.map(micros))
        .bind(micros(item.updated_at))
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
        .bind(uuid_text(item))
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
        .bind(uuid_text(parent))
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
            (_, true) => sqlx::query(sql(format!("{base} AND kind <> 'translation' {order}")))
                .bind(uuid_text(project))
                .fetch_all(self.conn())
                .await,
            (Some(langs), false) => sqlx::query(sql(format!(
                "{base} AND (kind <> 'translation' OR language IN (SELECT value FROM json_each($2))) {order}"
            )))
            .bind(uuid_text(project))
            .bind(json_ids(langs.iter().map(|l| l.as_str().to_string())))
            .fetch_all(self.conn())
            .await,
            (None, false) => sqlx::query(sql(format!("{base} {order}")))
                .bind(uuid_text(project))
                .fetch_all(self.conn())
                .await,
        }
        .map_err(db_error)?;
        rows.iter().map(item_row).collect()
    }

    async fn guide_version(&mut self, project: ProjectId) -> StoreResult<u32> {
        let n: Option<i64> =
            sqlx::query_scalar("SELECT MAX(version) FROM guide_versions WHERE project_id = $1")
                .bind(uuid_text(project))
                .fetch_one(self.conn())
                .await
                .map_err(db_error)?;
        version("guide_versions.version", n.unwrap_or(0))
    }

    async fn insert_guide_version(&mut self, v: &GuideVersionRecord) -> StoreResult<()> {
        sqlx::query(sql(format!(
            "INSERT INTO guide_versions ({GUIDE_VERSION_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)"
        )))
        .bind(uuid_text(v.project_id))
        .bind(i64::from(v.version))
        .bind(opt_text(v.actor_id))
        .bind(&v.summary)
        .bind(v.published_at.map(micros))
        .bind(micros(v.created_at))
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
        .bind(uuid_text(project))
        .bind(i64::from(v))
        .bind(micros(at))
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
        .bind(uuid_text(project))
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
            .bind(uuid_text(project))
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
        .bind(uuid_text(project))
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
        .bind(uuid_text(user))
        .bind(uuid_text(project))
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
        .bind(uuid_text(user))
        .bind(uuid_text(project))
        .fetch_optional(self.conn())
        .await
        .map_err(db_error)?;
        version("guide_reads.version", n.unwrap_or(0))
    }
}
