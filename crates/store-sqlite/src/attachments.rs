//! Files attached to messages.

use async_trait::async_trait;
use domain::attachments::{Attachment, FileType};
use domain::{AttachmentId, MessageId};
use store::columns::corrupt;
use store::{AttachmentRepo, StoreResult};

use crate::SqliteTx;
use crate::convert::{db_error, id, micros, timestamp, uuid_text};

/// id, message_id, name, file_type, size, sha256, storage_key, created_at.
type Row = (String, String, String, String, i64, String, String, i64);

macro_rules! select_attachment {
    ($($tail:literal),*) => {
        concat!(
            "SELECT id, message_id, name, file_type, size, sha256, storage_key, created_at ",
            "FROM attachments ",
            $($tail),*
        )
    };
}

fn attachment(row: Row) -> StoreResult<Attachment> {
    let (id_s, message_s, name, file_type, size, sha256, storage_key, created) = row;
    Ok(Attachment {
        id: id("attachments.id", &id_s)?,
        message_id: id("attachments.message_id", &message_s)?,
        name,
        file_type: FileType::from_extension(&file_type)
            .ok_or_else(|| corrupt("attachments.file_type", &file_type, "not an accepted type"))?,
        size: u64::try_from(size).map_err(|e| corrupt("attachments.size", size, e))?,
        sha256,
        storage_key,
        created_at: timestamp("attachments.created_at", created)?,
    })
}

#[async_trait]
impl AttachmentRepo for SqliteTx {
    async fn insert_attachment(&mut self, a: &Attachment, position: u32) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO attachments (id, message_id, position, name, file_type, size, sha256, \
             storage_key, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(uuid_text(a.id))
        .bind(uuid_text(a.message_id))
        .bind(i64::from(position))
        .bind(&a.name)
        .bind(a.file_type.extension())
        .bind(i64::try_from(a.size).map_err(|e| corrupt("attachments.size", a.size, e))?)
        .bind(&a.sha256)
        .bind(&a.storage_key)
        .bind(micros(a.created_at))
        .execute(self.conn())
        .await
        .map_err(db_error)?;
        Ok(())
    }

    async fn get_attachment(
        &mut self,
        attachment_id: AttachmentId,
    ) -> StoreResult<Option<Attachment>> {
        sqlx::query_as::<_, Row>(select_attachment!("WHERE id = $1"))
            .bind(uuid_text(attachment_id))
            .fetch_optional(self.conn())
            .await
            .map_err(db_error)?
            .map(attachment)
            .transpose()
    }

    async fn attachments_of(&mut self, messages: &[MessageId]) -> StoreResult<Vec<Attachment>> {
        if messages.is_empty() {
            return Ok(Vec::new());
        }
        // The ids as one JSON array parameter, however many there are.
        let ids = format!(
            "[{}]",
            messages
                .iter()
                .map(|m| format!("\"{m}\""))
                .collect::<Vec<_>>()
                .join(",")
        );
        sqlx::query_as::<_, Row>(select_attachment!(
            "WHERE message_id IN (SELECT value FROM json_each($1)) ",
            "ORDER BY message_id, position"
        ))
        .bind(ids)
        .fetch_all(self.conn())
        .await
        .map_err(db_error)?
        .into_iter()
        .map(attachment)
        .collect()
    }

    async fn delete_attachments_of(
        &mut self,
        message_id: MessageId,
    ) -> StoreResult<Vec<Attachment>> {
        let gone = sqlx::query_as::<_, Row>(select_attachment!(
            "WHERE message_id = $1 ORDER BY position"
        ))
        .bind(uuid_text(message_id))
        .fetch_all(self.conn())
        .await
        .map_err(db_error)?
        .into_iter()
        .map(attachment)
        .collect::<StoreResult<Vec<_>>>()?;
        sqlx::query("DELETE FROM attachments WHERE message_id = $1")
            .bind(uuid_text(message_id))
            .execute(self.conn())
            .await
            .map_err(db_error)?;
        Ok(gone)
    }
}
