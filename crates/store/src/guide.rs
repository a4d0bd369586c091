//! The Show Guide as stored: its items (characters, key names, translations of key names,
//! reference files) as rows with a JSON body each, the revisions every change recorded, the
//! versions (with the published ones), and the version each reader last opened.
//!
//! The items' fields live in `data` (JSON the app reads), so adding a field needs no migration
//! and both backends share one shape; what lists and filters need (kind, key name, language,
//! position, removal) are columns.

use crate::StoreResult;
use crate::columns::corrupt;
use async_trait::async_trait;
use domain::guide::ItemKind;
use domain::{GuideItemId, LanguageTag, ProjectId, UserId};
use time::OffsetDateTime;

/// One item of a Show Guide.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GuideItemRecord {
    pub id: GuideItemId,
    pub project_id: ProjectId,
    pub kind: ItemKind,
    /// A translation's key name.
    pub parent_id: Option<GuideItemId>,
    /// A translation's language.
    pub language: Option<LanguageTag>,
    pub position: i64,
    /// The item's fields, as JSON.
    pub data: String,
    pub removed_at: Option<OffsetDateTime>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

/// A version of a Show Guide: who made it and when; published ones were announced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GuideVersionRecord {
    pub project_id: ProjectId,
    pub version: u32,
    pub actor_id: Option<UserId>,
    /// What the change was, in words ("Added the character Mina").
    pub summary: String,
    /// The one language whose translations the change touched (and nothing else).
    pub language: Option<LanguageTag>,
    pub published_at: Option<OffsetDateTime>,
    pub created_at: OffsetDateTime,
}

/// Which items a listing wants.
#[derive(Clone, Debug, Default)]
pub struct GuideItemFilter {
    /// Translations only in these languages (`None`: every language).
    pub languages: Option<Vec<LanguageTag>>,
    /// Leave translations out altogether.
    pub no_translations: bool,
}

#[async_trait]
pub trait GuideRepo {
    async fn insert_guide_item(&mut self, item: &GuideItemRecord) -> StoreResult<()>;
    /// Saves an item's data, position, removal and time.
    async fn update_guide_item(&mut self, item: &GuideItemRecord) -> StoreResult<()>;
    async fn get_guide_item(&mut self, id: GuideItemId) -> StoreResult<Option<GuideItemRecord>>;
    /// The translation of key name `parent` into `language`, removed or not.
    async fn guide_translation(
        &mut self,
        parent: GuideItemId,
        language: &LanguageTag,
    ) -> StoreResult<Option<GuideItemRecord>>;
    /// A title's live items (not removed), by kind, position and creation.
    async fn guide_items(
        &mut self,
        project: ProjectId,
        filter: &GuideItemFilter,
    ) -> StoreResult<Vec<GuideItemRecord>>;
    /// The newest version of a title's guide (0: none yet).
    async fn guide_version(&mut self, project: ProjectId) -> StoreResult<u32>;
    async fn insert_guide_version(&mut self, v: &GuideVersionRecord) -> StoreResult<()>;
    async fn publish_guide_version(
        &mut self,
        project: ProjectId,
        version: u32,
        at: OffsetDateTime,
    ) -> StoreResult<()>;
    /// A title's versions, newest first.
    async fn guide_versions(&mut self, project: ProjectId) -> StoreResult<Vec<GuideVersionRecord>>;
    async fn insert_guide_revisions(
        &mut self,
        project: ProjectId,
        revisions: &[domain::guide::Revision],
    ) -> StoreResult<()>;
    /// The revisions of versions `from` (exclusive) to `to` (inclusive).
    async fn guide_revisions(
        &mut self,
        project: ProjectId,
        from: u32,
        to: u32,
    ) -> StoreResult<Vec<domain::guide::Revision>>;
    async fn set_guide_read(
        &mut self,
        user: UserId,
        project: ProjectId,
        version: u32,
    ) -> StoreResult<()>;
    /// The version `user` last opened (0: never).
    async fn guide_read(&mut self, user: UserId, project: ProjectId) -> StoreResult<u32>;
}

pub const GUIDE_ITEM_COLUMNS: &str =
    "id, project_id, kind, parent_id, language, position, data, removed_at, created_at, updated_at";
pub const GUIDE_VERSION_COLUMNS: &str =
    "project_id, version, actor_id, summary, published_at, created_at, language";
pub const GUIDE_REVISION_COLUMNS: &str = "version, kind, item, language, name, before, after";

pub fn item_kind(s: &str) -> StoreResult<ItemKind> {
    ItemKind::parse(s).ok_or_else(|| corrupt("guide_items.kind", s, "unknown kind"))
}

pub fn version(column: &str, n: i64) -> StoreResult<u32> {
    u32::try_from(n).map_err(|e| corrupt(column, n, e))
}

/// Turns stored revision rows back into the domain's, parsing each distinct language tag once
/// (a whole history has tens of thousands of rows and a handful of languages).
#[derive(Default)]
pub struct RevisionDecoder {
    languages: std::collections::HashMap<String, LanguageTag>,
}

impl RevisionDecoder {
    #[allow(clippy::too_many_arguments)]
    pub fn revision(
        &mut self,
        v: i64,
        kind: &str,
        item: String,
        language: Option<String>,
        name: String,
        before: Option<String>,
        after: Option<String>,
    ) -> StoreResult<domain::guide::Revision> {
        let language = match language {
            None => None,
            Some(l) => Some(match self.languages.get(&l) {
                Some(tag) => tag.clone(),
                None => {
                    let tag = crate::columns::language("guide_revisions.language", &l)?;
                    self.languages.insert(l, tag.clone());
                    tag
                }
            }),
        };
        Ok(domain::guide::Revision {
            version: version("guide_revisions.version", v)?,
            kind: item_kind(kind)?,
            item,
            language,
            name,
            before,
            after,
        })
    }
}
