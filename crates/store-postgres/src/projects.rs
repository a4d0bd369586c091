use async_trait::async_trait;
use domain::{Assignment, Episode, MovieId, Project, ProjectId, ProjectScope, Season};
use sqlx::{Postgres, QueryBuilder};
use std::collections::HashMap;
use store::columns::movie_id_prefix_ranges;
use store::page::{cut_extra, fetch_limit};
use store::{Page, ProjectKey, ProjectRepo, ProjectSummary, StoreError, StoreResult};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::PgTx;
use crate::convert::{
    at, corrupt, db_error, fold, language, like_escape, movie_id, name, number, position,
    project_kind, service,
};

/// The columns of a [`ProjectRow`], from `projects p`.
pub(crate) const SUMMARY_COLUMNS: &str = "p.id, p.movie_id, p.name, p.kind, p.original_language";
/// id, movie_id, name, kind, original_language.
pub(crate) type ProjectRow = (Uuid, i64, String, String, String);

/// A [`ProjectRow`] followed by the rest of its [`ProjectKey`]: rank and folded name.
type KeyedProjectRow = (Uuid, i64, String, String, String, i32, String);

fn project_key(row: &KeyedProjectRow) -> StoreResult<ProjectKey> {
    Ok(ProjectKey {
        rank: u8::try_from(row.5).map_err(|e| corrupt("rank", row.5, e))?,
        name_folded: row.6.clone(),
        id: row.0.into(),
    })
}

/// Appends ` AND <the project p is in scope>`.
pub(crate) fn push_scope(q: &mut QueryBuilder<Postgres>, scope: ProjectScope) {
    match scope {
        ProjectScope::All => {}
        ProjectScope::AssignedTo(org) => {
            q.push(" AND p.id IN (SELECT a.project_id FROM assignments a WHERE a.org_id = ");
            q.push_bind(org.as_uuid());
            q.push(")");
        }
        ProjectScope::Nothing => {
            q.push(" AND false");
        }
    }
}

fn summary_head(row: ProjectRow) -> StoreResult<ProjectSummary> {
    let (pid, mid, pname, kind, original) = row;
    Ok(ProjectSummary {
        id: pid.into(),
        movie_id: movie_id("projects.movie_id", mid)?,
        name: name("projects.name", &pname)?,
        kind: project_kind(&kind)?,
        original_language: language("projects.original_language", &original)?,
        target_languages: Vec::new(),
        assignments: Vec::new(),
    })
}

fn assignment(lang: &str, svc: &str, org: Uuid) -> StoreResult<Assignment> {
    Ok(Assignment {
        language: language("assignments.language", lang)?,
        service: service(svc)?,
        org_id: org.into(),
    })
}

impl PgTx {
    /// Completes project rows with their target languages and assignments, keeping their order.
    pub(crate) async fn summaries(
        &mut self,
        rows: Vec<ProjectRow>,
    ) -> StoreResult<Vec<ProjectSummary>> {
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<Uuid> = rows.iter().map(|r| r.0).collect();
        let languages: Vec<(Uuid, String)> = sqlx::query_as(
            "SELECT project_id, language FROM project_languages \
             WHERE project_id = ANY($1) ORDER BY project_id, position",
        )
        .bind(&ids)
        .fetch_all(self.conn())
        .await
        .map_err(db_error)?;
        let assignments: Vec<(Uuid, String, String, Uuid)> = sqlx::query_as(
            "SELECT project_id, language, service, org_id FROM assignments \
             WHERE project_id = ANY($1) ORDER BY project_id, position",
        )
        .bind(&ids)
        .fetch_all(self.conn())
        .await
        .map_err(db_error)?;

        let mut langs_of: HashMap<Uuid, Vec<_>> = HashMap::new();
        for (pid, lang) in languages {
            langs_of
                .entry(pid)
                .or_default()
                .push(language("project_languages.language", &lang)?);
        }
        let mut assignments_of: HashMap<Uuid, Vec<_>> = HashMap::new();
        for (pid, lang, svc, org) in assignments {
            assignments_of
                .entry(pid)
                .or_default()
                .push(assignment(&lang, &svc, org)?);
        }
        rows.into_iter()
            .map(|row| {
                let key = row.0;
                let mut s = summary_head(row)?;
                s.target_languages = langs_of.remove(&key).unwrap_or_default();
                s.assignments = assignments_of.remove(&key).unwrap_or_default();
                Ok(s)
            })
            .collect()
    }

    /// Writes languages, seasons, episodes, the movie-ID registry and assignments of a project
    /// whose row exists and whose languages, registry entries and assignments do not. Seasons
    /// and episodes are updated in place when they exist (so their ids, and whatever later
    /// refers to them, survive an edit) and inserted otherwise.
    async fn write_parts(&mut self, p: &Project) -> StoreResult<()> {
        let pid = p.id.as_uuid();
        for (i, lang) in p.target_languages.iter().enumerate() {
            sqlx::query(
                "INSERT INTO project_languages (project_id, language, position) \
                 VALUES ($1, $2, $3)",
            )
            .bind(pid)
            .bind(lang.as_str())
            .bind(position(i))
            .execute(self.conn())
            .await
            .map_err(db_error)?;
        }
        for (si, season) in p.seasons.iter().enumerate() {
            let sid = season.id.as_uuid();
            let updated = sqlx::query(
                "UPDATE seasons SET number = $3, position = $4 WHERE id = $1 AND project_id = $2",
            )
            .bind(sid)
            .bind(pid)
            .bind(i64::from(season.number))
            .bind(position(si))
            .execute(self.conn())
            .await
            .map_err(db_error)?;
            if updated.rows_affected() == 0 {
                sqlx::query(
                    "INSERT INTO seasons (id, project_id, number, position) VALUES ($1, $2, $3, $4)",
                )
                .bind(sid)
                .bind(pid)
                .bind(i64::from(season.number))
                .bind(position(si))
                .execute(self.conn())
                .await
                .map_err(db_error)?;
            }
            for (ei, ep) in season.episodes.iter().enumerate() {
                let eid = ep.id.as_uuid();
                let ep_name = ep.name.as_ref().map(|n| n.as_str());
                let updated = sqlx::query(
                    "UPDATE episodes SET season_id = $3, number = $4, movie_id = $5, name = $6, \
                     position = $7 WHERE id = $1 AND project_id = $2",
                )
                .bind(eid)
                .bind(pid)
                .bind(sid)
                .bind(i64::from(ep.number))
                .bind(ep.movie_id.get())
                .bind(ep_name)
                .bind(position(ei))
                .execute(self.conn())
                .await
                .map_err(db_error)?;
                if updated.rows_affected() == 0 {
                    sqlx::query(
                        "INSERT INTO episodes \
                         (id, project_id, season_id, number, movie_id, name, position) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7)",
                    )
                    .bind(eid)
                    .bind(pid)
                    .bind(sid)
                    .bind(i64::from(ep.number))
                    .bind(ep.movie_id.get())
                    .bind(ep_name)
                    .bind(position(ei))
                    .execute(self.conn())
                    .await
                    .map_err(db_error)?;
                }
            }
        }
        let episodes = p.seasons.iter().flat_map(|s| &s.episodes);
        let registry = std::iter::once((p.movie_id, None))
            .chain(episodes.map(|e| (e.movie_id, Some(e.id.as_uuid()))));
        for (mid, episode) in registry {
            sqlx::query(
                "INSERT INTO movie_ids (movie_id, project_id, episode_id) VALUES ($1, $2, $3)",
            )
            .bind(mid.get())
            .bind(pid)
            .bind(episode)
            .execute(self.conn())
            .await
            .map_err(db_error)?;
        }
        for (i, a) in p.assignments.iter().enumerate() {
            sqlx::query(
                "INSERT INTO assignments (project_id, language, service, org_id, position) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(pid)
            .bind(a.language.as_str())
            .bind(a.service.as_str())
            .bind(a.org_id.as_uuid())
            .bind(position(i))
            .execute(self.conn())
            .await
            .map_err(db_error)?;
        }
        Ok(())
    }
}

#[async_trait]
impl ProjectRepo for PgTx {
    async fn insert_project(&mut self, p: &Project, when: OffsetDateTime) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO projects \
             (id, movie_id, name, name_folded, kind, original_language, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $7)",
        )
        .bind(p.id.as_uuid())
        .bind(p.movie_id.get())
        .bind(p.name.as_str())
        .bind(fold(p.name.as_str()))
        .bind(p.kind.as_str())
        .bind(p.original_language.as_str())
        .bind(at(when))
        .execute(self.conn())
        .await
        .map_err(db_error)?;
        self.write_parts(p).await
    }

    async fn update_project(&mut self, p: &Project, when: OffsetDateTime) -> StoreResult<()> {
        let pid = p.id.as_uuid();
        let updated = sqlx::query(
            "UPDATE projects SET movie_id = $2, name = $3, name_folded = $4, kind = $5, \
             original_language = $6, updated_at = $7 WHERE id = $1",
        )
        .bind(pid)
        .bind(p.movie_id.get())
        .bind(p.name.as_str())
        .bind(fold(p.name.as_str()))
        .bind(p.kind.as_str())
        .bind(p.original_language.as_str())
        .bind(at(when))
        .execute(self.conn())
        .await
        .map_err(db_error)?;
        if updated.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        for sql in [
            "DELETE FROM movie_ids WHERE project_id = $1",
            "DELETE FROM assignments WHERE project_id = $1",
            "DELETE FROM project_languages WHERE project_id = $1",
        ] {
            sqlx::query(sql)
                .bind(pid)
                .execute(self.conn())
                .await
                .map_err(db_error)?;
        }
        let kept_episodes: Vec<Uuid> = p
            .seasons
            .iter()
            .flat_map(|s| &s.episodes)
            .map(|e| e.id.as_uuid())
            .collect();
        sqlx::query("DELETE FROM episodes WHERE project_id = $1 AND NOT (id = ANY($2))")
            .bind(pid)
            .bind(&kept_episodes)
            .execute(self.conn())
            .await
            .map_err(db_error)?;
        let kept_seasons: Vec<Uuid> = p.seasons.iter().map(|s| s.id.as_uuid()).collect();
        sqlx::query("DELETE FROM seasons WHERE project_id = $1 AND NOT (id = ANY($2))")
            .bind(pid)
            .bind(&kept_seasons)
            .execute(self.conn())
            .await
            .map_err(db_error)?;
        self.write_parts(p).await
    }

    async fn project_assignments(
        &mut self,
        project_id: ProjectId,
    ) -> StoreResult<Option<Vec<Assignment>>> {
        // One query: the project row, joined to its assignments if it has any.
        let rows: Vec<(Option<String>, Option<String>, Option<Uuid>)> = sqlx::query_as(
            "SELECT a.language, a.service, a.org_id FROM projects p \
             LEFT JOIN assignments a ON a.project_id = p.id WHERE p.id = $1 \
             ORDER BY a.position",
        )
        .bind(project_id.as_uuid())
        .fetch_all(self.conn())
        .await
        .map_err(db_error)?;
        if rows.is_empty() {
            return Ok(None);
        }
        rows.into_iter()
            .filter_map(|(l, s, o)| Some((l?, s?, o?)))
            .map(|(l, s, o)| assignment(&l, &s, o))
            .collect::<StoreResult<Vec<_>>>()
            .map(Some)
    }

    async fn get_project(&mut self, project_id: ProjectId) -> StoreResult<Option<Project>> {
        let pid = project_id.as_uuid();
        let row: Option<ProjectRow> = sqlx::query_as(
            "SELECT id, movie_id, name, kind, original_language FROM projects WHERE id = $1",
        )
        .bind(pid)
        .fetch_optional(self.conn())
        .await
        .map_err(db_error)?;
        let Some(row) = row else {
            return Ok(None);
        };
        let head = summary_head(row)?;

        let languages: Vec<String> = sqlx::query_scalar(
            "SELECT language FROM project_languages WHERE project_id = $1 ORDER BY position",
        )
        .bind(pid)
        .fetch_all(self.conn())
        .await
        .map_err(db_error)?;
        let seasons: Vec<(Uuid, i64)> = sqlx::query_as(
            "SELECT id, number FROM seasons WHERE project_id = $1 ORDER BY position",
        )
        .bind(pid)
        .fetch_all(self.conn())
        .await
        .map_err(db_error)?;
        let episodes: Vec<(Uuid, Uuid, i64, i64, Option<String>)> = sqlx::query_as(
            "SELECT id, season_id, number, movie_id, name FROM episodes \
             WHERE project_id = $1 ORDER BY position",
        )
        .bind(pid)
        .fetch_all(self.conn())
        .await
        .map_err(db_error)?;
        let assignments: Vec<(String, String, Uuid)> = sqlx::query_as(
            "SELECT language, service, org_id FROM assignments \
             WHERE project_id = $1 ORDER BY position",
        )
        .bind(pid)
        .fetch_all(self.conn())
        .await
        .map_err(db_error)?;

        let mut episodes_of: HashMap<Uuid, Vec<Episode>> = HashMap::new();
        for (eid, sid, num, mid, ep_name) in episodes {
            episodes_of.entry(sid).or_default().push(Episode {
                id: eid.into(),
                number: number("episodes.number", num)?,
                movie_id: movie_id("episodes.movie_id", mid)?,
                name: ep_name.map(|n| name("episodes.name", &n)).transpose()?,
            });
        }
        let seasons = seasons
            .into_iter()
            .map(|(sid, num)| {
                Ok(Season {
                    id: sid.into(),
                    number: number("seasons.number", num)?,
                    episodes: episodes_of.remove(&sid).unwrap_or_default(),
                })
            })
            .collect::<StoreResult<Vec<_>>>()?;
        Ok(Some(Project {
            id: head.id,
            movie_id: head.movie_id,
            name: head.name,
            kind: head.kind,
            original_language: head.original_language,
            target_languages: languages
                .iter()
                .map(|l| language("project_languages.language", l))
                .collect::<StoreResult<_>>()?,
            seasons,
            assignments: assignments
                .iter()
                .map(|(l, s, o)| assignment(l, s, *o))
                .collect::<StoreResult<_>>()?,
        }))
    }

    async fn project_id_by_movie_id(&mut self, mid: MovieId) -> StoreResult<Option<ProjectId>> {
        let pid: Option<Uuid> =
            sqlx::query_scalar("SELECT project_id FROM movie_ids WHERE movie_id = $1")
                .bind(mid.get())
                .fetch_optional(self.conn())
                .await
                .map_err(db_error)?;
        Ok(pid.map(ProjectId::from))
    }

    async fn find_projects(
        &mut self,
        scope: ProjectScope,
        query: &str,
        after: Option<&ProjectKey>,
        limit: u32,
    ) -> StoreResult<Page<ProjectSummary, ProjectKey>> {
        if scope == ProjectScope::Nothing || limit == 0 {
            return Ok(Page::default());
        }
        let digits = query.trim();
        let folded = fold(query);
        let exact = digits
            .bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| MovieId::parse(digits).ok())
            .flatten();
        // The rank of the key: 0 for an exact movie-ID match (own or an episode's), 1 otherwise.
        let push_rank = |q: &mut QueryBuilder<Postgres>| match exact {
            Some(exact) => {
                q.push(
                    "(CASE WHEN EXISTS (SELECT 1 FROM movie_ids x \
                     WHERE x.project_id = p.id AND x.movie_id = ",
                );
                q.push_bind(exact.get());
                q.push(") THEN 0 ELSE 1 END)");
            }
            None => {
                q.push("1");
            }
        };
        let mut q = QueryBuilder::new("SELECT ");
        q.push(SUMMARY_COLUMNS);
        q.push(", ");
        push_rank(&mut q);
        q.push(" AS key_rank, p.name_folded FROM projects p WHERE true");
        push_scope(&mut q, scope);
        if !folded.is_empty() {
            q.push(" AND (p.name_folded LIKE ");
            q.push_bind(format!("%{}%", like_escape(&folded)));
            q.push(" ESCAPE '\\'");
            let ranges = movie_id_prefix_ranges(digits);
            if !ranges.is_empty() {
                q.push(" OR p.id IN (SELECT m.project_id FROM movie_ids m WHERE ");
                for (i, (lo, hi)) in ranges.into_iter().enumerate() {
                    if i > 0 {
                        q.push(" OR ");
                    }
                    q.push("m.movie_id BETWEEN ");
                    q.push_bind(lo);
                    q.push(" AND ");
                    q.push_bind(hi);
                }
                q.push(")");
            }
            q.push(")");
        }
        if let Some(key) = after {
            q.push(" AND (");
            push_rank(&mut q);
            q.push(", p.name_folded, p.id) > (");
            q.push_bind(i32::from(key.rank));
            q.push(", ");
            q.push_bind(key.name_folded.clone());
            q.push(", ");
            q.push_bind(key.id.as_uuid());
            q.push(")");
        }
        q.push(" ORDER BY key_rank, p.name_folded, p.id LIMIT ");
        q.push_bind(fetch_limit(limit));
        let mut rows: Vec<KeyedProjectRow> = q
            .build_query_as()
            .fetch_all(self.conn())
            .await
            .map_err(db_error)?;
        let next = if cut_extra(&mut rows, limit) {
            rows.last().map(project_key).transpose()?
        } else {
            None
        };
        let rows = rows
            .into_iter()
            .map(|(pid, mid, pname, kind, original, _, _)| (pid, mid, pname, kind, original))
            .collect();
        Ok(Page {
            items: self.summaries(rows).await?,
            next,
        })
    }
}
