//! Projects (titles), their episodes, target languages and partner assignments.

use crate::ids::{EpisodeId, OrgId, ProjectId, SeasonId};
use crate::values::{LanguageTag, MovieId, Name, ValueError};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProjectKind {
    Film,
    Series,
}

impl ProjectKind {
    pub fn as_str(&self) -> &'static str {
        match self {
            ProjectKind::Film => "film",
            ProjectKind::Series => "series",
        }
    }
}

impl fmt::Display for ProjectKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ProjectKind {
    type Err = ValueError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "film" => Ok(ProjectKind::Film),
            "series" => Ok(ProjectKind::Series),
            other => Err(ValueError::new(format!(
                "unknown kind {other:?}: a project is a \"film\" or a \"series\""
            ))),
        }
    }
}

/// The kinds of localization work a partner is assigned to, per language.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Service {
    Dubbing,
    Subtitles,
    AudioDescription,
    Scripting,
}

impl Service {
    pub const ALL: [Service; 4] = [
        Service::Dubbing,
        Service::Subtitles,
        Service::AudioDescription,
        Service::Scripting,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            Service::Dubbing => "dubbing",
            Service::Subtitles => "subtitles",
            Service::AudioDescription => "audio_description",
            Service::Scripting => "scripting",
        }
    }

    pub fn label(&self) -> &'static str {
        match self {
            Service::Dubbing => "Dubbing",
            Service::Subtitles => "Subtitles",
            Service::AudioDescription => "Audio description",
            Service::Scripting => "Scripting",
        }
    }
}

impl fmt::Display for Service {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Service {
    type Err = ValueError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim().to_ascii_lowercase().replace([' ', '-'], "_");
        Service::ALL
            .into_iter()
            .find(|x| x.as_str() == wanted)
            .ok_or_else(|| {
                ValueError::new(format!(
                    "unknown service {s:?}: use one of {}",
                    Service::ALL.map(|x| x.as_str()).join(", ")
                ))
            })
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Episode {
    pub id: EpisodeId,
    pub number: u32,
    pub movie_id: MovieId,
    pub name: Option<Name>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Season {
    pub id: SeasonId,
    pub number: u32,
    pub episodes: Vec<Episode>,
}

/// Which partner organisation does which service for which language.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Assignment {
    pub language: LanguageTag,
    pub service: Service,
    pub org_id: OrgId,
}

/// A project with everything that belongs to it. What a given viewer may see of it is decided by
/// [`crate::policy`], never by the caller.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Project {
    pub id: ProjectId,
    pub movie_id: MovieId,
    pub name: Name,
    pub kind: ProjectKind,
    pub original_language: LanguageTag,
    pub target_languages: Vec<LanguageTag>,
    pub seasons: Vec<Season>,
    pub assignments: Vec<Assignment>,
}

impl Project {
    /// The organisations assigned to at least one of this project's languages.
    pub fn assigned_orgs(&self) -> BTreeSet<OrgId> {
        self.assignments.iter().map(|a| a.org_id).collect()
    }

    /// Checks the rules a project must always satisfy, reporting every problem with the field it
    /// belongs to (`movie_id`, `seasons`, `assignments`, …) so a form can show it in place.
    pub fn check(&self) -> Result<(), Vec<(&'static str, String)>> {
        let mut errors = Vec::new();
        let mut langs = BTreeSet::new();
        for l in &self.target_languages {
            if !langs.insert(l) {
                errors.push(("target_languages", format!("{l} is listed twice")));
            }
            if *l == self.original_language {
                errors.push((
                    "target_languages",
                    format!("{l} is the original language; a target language must differ"),
                ));
            }
        }
        if self.kind == ProjectKind::Film && !self.seasons.is_empty() {
            errors.push((
                "seasons",
                "a film has no seasons; choose \"series\"".to_string(),
            ));
        }
        let mut numbers = BTreeSet::new();
        let mut movie_ids = BTreeSet::from([self.movie_id]);
        for s in &self.seasons {
            if s.number == 0 {
                errors.push(("seasons", "season numbers start at 1".to_string()));
            }
            if !numbers.insert(s.number) {
                errors.push(("seasons", format!("season {} is listed twice", s.number)));
            }
            let mut eps = BTreeSet::new();
            for e in &s.episodes {
                if e.number == 0 {
                    errors.push(("seasons", "episode numbers start at 1".to_string()));
                }
                if !eps.insert(e.number) {
                    errors.push((
                        "seasons",
                        format!("season {} has episode {} twice", s.number, e.number),
                    ));
                }
                if !movie_ids.insert(e.movie_id) {
                    errors.push((
                        "seasons",
                        format!(
                            "movie ID {} is used twice (each episode needs its own, different from the series)",
                            e.movie_id
                        ),
                    ));
                }
            }
        }
        let mut slots = BTreeSet::new();
        for a in &self.assignments {
            // The dialogue list is written in the original language, by a scripting partner.
            let original_script =
                a.language == self.original_language && a.service == Service::Scripting;
            if !langs.contains(&a.language) && !original_script {
                errors.push((
                    "assignments",
                    format!(
                        "{} is not a target language of this project (only scripting may be assigned in the original language, for the dialogue list)",
                        a.language
                    ),
                ));
            }
            if !slots.insert((&a.language, a.service)) {
                errors.push((
                    "assignments",
                    format!(
                        "{} {} has more than one partner; one partner per language and service",
                        a.language,
                        a.service.label()
                    ),
                ));
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }

    /// Every movie ID this project claims: its own and its episodes'.
    pub fn all_movie_ids(&self) -> Vec<MovieId> {
        let mut v = vec![self.movie_id];
        v.extend(
            self.seasons
                .iter()
                .flat_map(|s| s.episodes.iter().map(|e| e.movie_id)),
        );
        v
    }
}
