//! Audio fulfilment: the SQL. Records and decoding are shared in `store::audio`.

use async_trait::async_trait;
use domain::{AudioRequestId, FulfilmentId, ProjectId, SubmissionFileId, UploadId};
use sqlx::Row;
use sqlx::sqlite::SqliteRow;
use store::audio::{
    AUDIO_REQUEST_COLUMNS, AudioRequestColumns, FULFILMENT_COLUMNS, FulfilmentColumns,
    NOTE_COLUMNS, SUBMISSION_COLUMNS, SUBMISSION_FILE_COLUMNS, UPLOAD_COLUMNS, audio_request,
    count, fulfilment, note, stored, submission, upload_state,
};
use store::{
    AudioRepo, AudioRequestRecord, FulfilmentRecord, NoteRecord, StoreError, StoreResult,
    SubmissionFileRecord, SubmissionRecord, UploadRecord,
};
use time::OffsetDateTime;

use crate::SqliteTx;
use crate::convert::{db_error, id, micros, timestamp, uuid_text};

fn get<'r, T>(row: &'r SqliteRow, i: usize) -> StoreResult<T>
where
    T: sqlx::Decode<'r, sqlx::Sqlite> + sqlx::Type<sqlx::Sqlite>,
{
    row.try_get(i).map_err(db_error)
}

fn uid<T: From<uuid::Uuid>>(row: &SqliteRow, i: usize, column: &str) -> StoreResult<T> {
    id(column, &get::<String>(row, i)?)
}

fn opt_uid<T: From<uuid::Uuid>>(row: &SqliteRow, i: usize, column: &str) -> StoreResult<Option<T>> {
    get::<Option<String>>(row, i)?
        .map(|s| id(column, &s))
        .transpose()
}

fn at(row: &SqliteRow, i: usize, column: &str) -> StoreResult<OffsetDateTime> {
    timestamp(column, get(row, i)?)
}

fn opt_text(id: Option<impl std::fmt::Display>) -> Option<String> {
    id.map(uuid_text)
}

/// A statement assembled from the shared constant column lists (never from input).
fn sql(s: String) -> sqlx::AssertSqlSafe<String> {
    sqlx::AssertSqlSafe(s)
}

fn audio_request_row(row: &SqliteRow) -> StoreResult<AudioRequestRecord> {
    audio_request(AudioRequestColumns {
        id: uid(row, 0, "audio_requests.id")?,
        project_id: uid(row, 1, "audio_requests.project_id")?,
        episode_id: opt_uid(row, 2, "audio_requests.episode_id")?,
        kind: get(row, 3)?,
        title: get(row, 4)?,
        description: get(row, 5)?,
        instructions: get(row, 6)?,
        frame_rate: get(row, 7)?,
        tc_in: get(row, 8)?,
        tc_out: get(row, 9)?,
        frames: get(row, 10)?,
        true_peak_limit: get(row, 11)?,
        clip_key: get(row, 12)?,
        clip_name: get(row, 13)?,
        clip_size: get(row, 14)?,
        clip_sha256: get(row, 15)?,
        clip_duration: get(row, 16)?,
        clip_timescale: get(row, 17)?,
        created_by: opt_uid(row, 18, "audio_requests.created_by")?,
        created_at: at(row, 19, "audio_requests.created_at")?,
        character_id: opt_uid(row, 20, "audio_requests.character_id")?,
    })
}

fn fulfilment_row(row: &SqliteRow) -> StoreResult<FulfilmentRecord> {
    fulfilment(FulfilmentColumns {
        id: uid(row, 0, "fulfilments.id")?,
        audio_request_id: uid(row, 1, "fulfilments.audio_request_id")?,
        project_id: uid(row, 2, "fulfilments.project_id")?,
        language: get(row, 3)?,
        partner_id: uid(row, 4, "fulfilments.partner_id")?,
        state: get(row, 5)?,
        version: get(row, 6)?,
        created_at: at(row, 7, "fulfilments.created_at")?,
        updated_at: at(row, 8, "fulfilments.updated_at")?,
    })
}

fn submission_row(row: &SqliteRow) -> StoreResult<SubmissionRecord> {
    submission(
        uid(row, 0, "submissions.id")?,
        uid(row, 1, "submissions.fulfilment_id")?,
        get(row, 2)?,
        &get::<String>(row, 3)?,
        get(row, 4)?,
        opt_uid(row, 5, "submissions.submitted_by")?,
        at(row, 6, "submissions.created_at")?,
    )
}

fn file_row(row: &SqliteRow) -> StoreResult<SubmissionFileRecord> {
    Ok(SubmissionFileRecord {
        id: uid(row, 0, "submission_files.id")?,
        submission_id: uid(row, 1, "submission_files.submission_id")?,
        fulfilment_id: uid(row, 2, "submission_files.fulfilment_id")?,
        name: get(row, 3)?,
        size: count("submission_files.size", get(row, 4)?)?,
        sha256: get(row, 5)?,
        storage_key: get(row, 6)?,
        report: get(row, 7)?,
        waveform_svg: get(row, 8)?,
        created_at: at(row, 9, "submission_files.created_at")?,
    })
}

fn note_row(row: &SqliteRow) -> StoreResult<NoteRecord> {
    note(
        uid(row, 0, "fulfilment_notes.id")?,
        uid(row, 1, "fulfilment_notes.fulfilment_id")?,
        get(row, 2)?,
        opt_uid(row, 3, "fulfilment_notes.author_id")?,
        &get::<String>(row, 4)?,
        get(row, 5)?,
        get(row, 6)?,
        at(row, 7, "fulfilment_notes.created_at")?,
    )
}

fn upload_row(row: &SqliteRow) -> StoreResult<UploadRecord> {
    Ok(UploadRecord {
        id: uid(row, 0, "uploads.id")?,
        user_id: uid(row, 1, "uploads.user_id")?,
        purpose: get(row, 2)?,
        name: get(row, 3)?,
        length: count("uploads.length", get(row, 4)?)?,
        received: count("uploads.received", get(row, 5)?)?,
        state: upload_state(&get::<String>(row, 6)?)?,
        outcome: get(row, 7)?,
        waveform_svg: get(row, 8)?,
        sha256: get(row, 9)?,
        created_at: at(row, 10, "uploads.created_at")?,
        updated_at: at(row, 11, "uploads.updated_at")?,
    })
}

fn changed(done: sqlx::sqlite::SqliteQueryResult) -> StoreResult<()> {
    if done.rows_affected() == 0 {
        Err(StoreError::NotFound)
    } else {
        Ok(())
    }
}

#[async_trait]
impl AudioRepo for SqliteTx {
    async fn insert_audio_request(&mut self, r: &AudioRequestRecord) -> StoreResult<()> {
        let clip = r.clip.as_ref();
        sqlx::query(sql(format!(
            "INSERT INTO audio_requests ({AUDIO_REQUEST_COLUMNS}) VALUES ($1, $2, $3, $4, $5, \
             $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21)"
        )))
        .bind(uuid_text(r.id))
        .bind(uuid_text(r.project_id))
        .bind(opt_text(r.episode_id))
        .bind(r.kind.as_str())
        .bind(&r.title)
        .bind(&r.description)
        .bind(&r.instructions)
        .bind(&r.frame_rate)
        .bind(&r.tc_in)
        .bind(&r.tc_out)
        .bind(stored(r.frames))
        .bind(r.true_peak_limit)
        .bind(clip.map(|c| c.storage_key.clone()))
        .bind(clip.map(|c| c.name.clone()))
        .bind(clip.map(|c| stored(c.size)))
        .bind(clip.map(|c| c.sha256.clone()))
        .bind(clip.map(|c| stored(c.duration)))
        .bind(clip.map(|c| stored(c.timescale)))
        .bind(opt_text(r.created_by))
        .bind(micros(r.created_at))
        .bind(opt_text(r.character_id))
        .execute(self.conn())
        .await
        .map_err(db_error)?;
        Ok(())
    }

    async fn get_audio_request(
        &mut self,
        request: AudioRequestId,
    ) -> StoreResult<Option<AudioRequestRecord>> {
        let row = sqlx::query(sql(format!(
            "SELECT {AUDIO_REQUEST_COLUMNS} FROM audio_requests WHERE id = $1"
        )))
        .bind(uuid_text(request))
        .fetch_optional(self.conn())
        .await
        .map_err(db_error)?;
        row.as_ref().map(audio_request_row).transpose()
    }

    async fn project_audio_requests(
        &mut self,
        project: ProjectId,
    ) -> StoreResult<Vec<AudioRequestRecord>> {
        let rows = sqlx::query(sql(format!(
            "SELECT {AUDIO_REQUEST_COLUMNS} FROM audio_requests WHERE project_id = $1 \
             ORDER BY created_at, id"
        )))
        .bind(uuid_text(project))
        .fetch_all(self.conn())
        .await
        .map_err(db_error)?;
        rows.iter().map(audio_request_row).collect()
    }

    async fn insert_fulfilment(&mut self, f: &FulfilmentRecord) -> StoreResult<()> {
        sqlx::query(sql(format!(
            "INSERT INTO fulfilments ({FULFILMENT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, \
             $8, $9)"
        )))
        .bind(uuid_text(f.id))
        .bind(uuid_text(f.audio_request_id))
        .bind(uuid_text(f.project_id))
        .bind(f.language.as_str())
        .bind(uuid_text(f.partner_id))
        .bind(f.state.as_str())
        .bind(i64::from(f.version))
        .bind(micros(f.created_at))
        .bind(micros(f.updated_at))
        .execute(self.conn())
        .await
        .map_err(db_error)?;
        Ok(())
    }

    async fn update_fulfilment(&mut self, f: &FulfilmentRecord) -> StoreResult<()> {
        let done = sqlx::query(
            "UPDATE fulfilments SET state = $2, version = $3, updated_at = $4 WHERE id = $1",
        )
        .bind(uuid_text(f.id))
        .bind(f.state.as_str())
        .bind(i64::from(f.version))
        .bind(micros(f.updated_at))
        .execute(self.conn())
        .await
        .map_err(db_error)?;
        changed(done)
    }

    async fn get_fulfilment(&mut self, f: FulfilmentId) -> StoreResult<Option<FulfilmentRecord>> {
        let row = sqlx::query(sql(format!(
            "SELECT {FULFILMENT_COLUMNS} FROM fulfilments WHERE id = $1"
        )))
        .bind(uuid_text(f))
        .fetch_optional(self.conn())
        .await
        .map_err(db_error)?;
        row.as_ref().map(fulfilment_row).transpose()
    }

    async fn project_fulfilments(
        &mut self,
        project: ProjectId,
    ) -> StoreResult<Vec<FulfilmentRecord>> {
        let rows = sqlx::query(sql(format!(
            "SELECT {FULFILMENT_COLUMNS} FROM fulfilments WHERE project_id = $1 \
             ORDER BY created_at, language, id"
        )))
        .bind(uuid_text(project))
        .fetch_all(self.conn())
        .await
        .map_err(db_error)?;
        rows.iter().map(fulfilment_row).collect()
    }

    async fn insert_submission(&mut self, s: &SubmissionRecord) -> StoreResult<()> {
        sqlx::query(sql(format!(
            "INSERT INTO submissions ({SUBMISSION_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)"
        )))
        .bind(uuid_text(s.id))
        .bind(uuid_text(s.fulfilment_id))
        .bind(i64::from(s.version))
        .bind(s.mix.as_str())
        .bind(&s.talent)
        .bind(opt_text(s.submitted_by))
        .bind(micros(s.created_at))
        .execute(self.conn())
        .await
        .map_err(db_error)?;
        Ok(())
    }

    async fn submissions_of(&mut self, f: FulfilmentId) -> StoreResult<Vec<SubmissionRecord>> {
        let rows = sqlx::query(sql(format!(
            "SELECT {SUBMISSION_COLUMNS} FROM submissions WHERE fulfilment_id = $1 \
             ORDER BY version"
        )))
        .bind(uuid_text(f))
        .fetch_all(self.conn())
        .await
        .map_err(db_error)?;
        rows.iter().map(submission_row).collect()
    }

    async fn insert_submission_file(&mut self, f: &SubmissionFileRecord) -> StoreResult<()> {
        sqlx::query(sql(format!(
            "INSERT INTO submission_files ({SUBMISSION_FILE_COLUMNS}) VALUES ($1, $2, $3, $4, \
             $5, $6, $7, $8, $9, $10)"
        )))
        .bind(uuid_text(f.id))
        .bind(uuid_text(f.submission_id))
        .bind(uuid_text(f.fulfilment_id))
        .bind(&f.name)
        .bind(stored(f.size))
        .bind(&f.sha256)
        .bind(&f.storage_key)
        .bind(&f.report)
        .bind(&f.waveform_svg)
        .bind(micros(f.created_at))
        .execute(self.conn())
        .await
        .map_err(db_error)?;
        Ok(())
    }

    async fn submission_files_of(
        &mut self,
        f: FulfilmentId,
    ) -> StoreResult<Vec<SubmissionFileRecord>> {
        let rows = sqlx::query(sql(format!(
            "SELECT {SUBMISSION_FILE_COLUMNS} FROM submission_files WHERE fulfilment_id = $1 \
             ORDER BY created_at, name, id"
        )))
        .bind(uuid_text(f))
        .fetch_all(self.conn())
        .await
        .map_err(db_error)?;
        rows.iter().map(file_row).collect()
    }

    async fn get_submission_file(
        &mut self,
        file: SubmissionFileId,
    ) -> StoreResult<Option<SubmissionFileRecord>> {
        let row = sqlx::query(sql(format!(
            "SELECT {SUBMISSION_FILE_COLUMNS} FROM submission_files WHERE id = $1"
        )))
        .bind(uuid_text(file))
        .fetch_optional(self.conn())
        .await
        .map_err(db_error)?;
        row.as_ref().map(file_row).transpose()
    }

    async fn insert_note(&mut self, n: &NoteRecord) -> StoreResult<()> {
        sqlx::query(sql(format!(
            "INSERT INTO fulfilment_notes ({NOTE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, \
             $8)"
        )))
        .bind(uuid_text(n.id))
        .bind(uuid_text(n.fulfilment_id))
        .bind(n.version.map(i64::from))
        .bind(opt_text(n.author_id))
        .bind(n.kind.as_str())
        .bind(&n.body)
        .bind(n.at_frame.map(stored))
        .bind(micros(n.created_at))
        .execute(self.conn())
        .await
        .map_err(db_error)?;
        Ok(())
    }

    async fn notes_of(&mut self, f: FulfilmentId) -> StoreResult<Vec<NoteRecord>> {
        let rows = sqlx::query(sql(format!(
            "SELECT {NOTE_COLUMNS} FROM fulfilment_notes WHERE fulfilment_id = $1 \
             ORDER BY created_at, id"
        )))
        .bind(uuid_text(f))
        .fetch_all(self.conn())
        .await
        .map_err(db_error)?;
        rows.iter().map(note_row).collect()
    }

    async fn insert_upload(&mut self, u: &UploadRecord) -> StoreResult<()> {
        sqlx::query(sql(format!(
            "INSERT INTO uploads ({UPLOAD_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, \
             $10, $11, $12)"
        )))
        .bind(uuid_text(u.id))
        .bind(uuid_text(u.user_id))
        .bind(&u.purpose)
        .bind(&u.name)
        .bind(stored(u.length))
        .bind(stored(u.received))
        .bind(u.state.as_str())
        .bind(&u.outcome)
        .bind(&u.waveform_svg)
        .bind(&u.sha256)
        .bind(micros(u.created_at))
        .bind(micros(u.updated_at))
        .execute(self.conn())
        .await
        .map_err(db_error)?;
        Ok(())
    }

    async fn update_upload(&mut self, u: &UploadRecord) -> StoreResult<()> {
        let done = sqlx::query(
            "UPDATE uploads SET received = $2, state = $3, outcome = $4, waveform_svg = $5, \
             sha256 = $6, updated_at = $7 WHERE id = $1",
        )
        .bind(uuid_text(u.id))
        .bind(stored(u.received))
        .bind(u.state.as_str())
        .bind(&u.outcome)
        .bind(&u.waveform_svg)
        .bind(&u.sha256)
        .bind(micros(u.updated_at))
        .execute(self.conn())
        .await
        .map_err(db_error)?;
        changed(done)
    }

    async fn get_upload(&mut self, upload: UploadId) -> StoreResult<Option<UploadRecord>> {
        let row = sqlx::query(sql(format!(
            "SELECT {UPLOAD_COLUMNS} FROM uploads WHERE id = $1"
        )))
        .bind(uuid_text(upload))
        .fetch_optional(self.conn())
        .await
        .map_err(db_error)?;
        row.as_ref().map(upload_row).transpose()
    }

    async fn delete_upload(&mut self, upload: UploadId) -> StoreResult<()> {
        sqlx::query("DELETE FROM uploads WHERE id = $1")
            .bind(uuid_text(upload))
            .execute(self.conn())
            .await
            .map_err(db_error)?;
        Ok(())
    }

    async fn stale_uploads(&mut self, before: OffsetDateTime) -> StoreResult<Vec<UploadId>> {
        let rows = sqlx::query("SELECT id FROM uploads WHERE updated_at < $1 ORDER BY id")
            .bind(micros(before))
            .fetch_all(self.conn())
            .await
            .map_err(db_error)?;
        rows.iter().map(|r| uid(r, 0, "uploads.id")).collect()
    }
}
