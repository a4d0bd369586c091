//! Files attached to messages.

use async_trait::async_trait;
use domain::attachments::{Attachment, FileType};
use domain::{AttachmentId, MessageId};
use store::columns::corrupt;
use store::{AttachmentRepo, StoreResult};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::PgTx;
use crate::convert::{at, db_error};

/// id, message_id, name, file_type, size, sha256, storage_key, created_at.
type Row = (
    Uuid,
    Uuid,
    String,
    String,
    i64,
    String,
    String,
    OffsetDateTime,
);

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
    let (id, message_id, name, file_type, size, sha256, storage_key, created_at) = row;
    Ok(Attachment {
        id: id.into(),
        message_id: message_id.into(),
        name,
        file_type: FileType::from_extension(&file_type)
            .ok_or_else(|| corrupt("attachments.file_type", &file_type, "not an accepted type"))?,
        size: u64::try_from(size).map_err(|e| corrupt("attachments.size", size, e))?,
        sha256,
        storage_key,
        created_at,
    })
}

#[async_trait]
impl AttachmentRepo for PgTx {
    async fn insert_attachment(&mut self, a: &Attachment, position: u32) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO attachments (id, message_id, position, name, file_type, size, sha256, \
             storage_key, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(a.id.as_uuid())
        .bind(a.message_id.as_uuid())
        .bind(i32::try_from(position).map_err(|e| corrupt("attachments.position", position, e))?)
        .bind(&a.name)
        .bind(a.file_type.extension())
        .bind(i64::try_from(a.size).map_err(|e| corrupt("attachments.size", a.size, e))?)
        .bind(&a.sha256)
        .bind(&a.storage_key)
        .bind(at(a.created_at))
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
            .bind(attachment_id.as_uuid())
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
        let ids: Vec<Uuid> = messages.iter().map(|m| m.as_uuid()).collect();
        sqlx::query_as::<_, Row>(select_attachment!(
            "WHERE message_id = ANY($1) ORDER BY message_id, position"
        ))
        .bind(&ids)
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
        sqlx::query_as::<_, Row>(
            "DELETE FROM attachments WHERE message_id = $1 \
             RETURNING id, message_id, name, file_type, size, sha256, storage_key, created_at",
        )
        .bind(message_id.as_uuid())
        .fetch_all(self.conn())
        .await
        .map_err(db_error)?
        .into_iter()
        .map(attachment)
        .collect()
    }
}
