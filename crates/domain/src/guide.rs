//! The Show Guide of a title: its characters (with creative notes and pronunciation), its key
//! names and phrases with an approved translation per target language, and its reference files.
//! Every change makes a new version; the difference between two versions is computed here from
//! the revisions each change recorded, exactly (added, changed, removed per item), and so is the
//! text the robot posts when a version is published (never anything of one language).

use crate::values::LanguageTag;
use std::collections::BTreeMap;
use std::fmt;

/// How big a part a character has.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CharacterKind {
    Main,
    Secondary,
    /// Background voices: a group, not a person.
    Walla,
}

impl CharacterKind {
    pub const ALL: [CharacterKind; 3] = [
        CharacterKind::Main,
        CharacterKind::Secondary,
        CharacterKind::Walla,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CharacterKind::Main => "main",
            CharacterKind::Secondary => "secondary",
            CharacterKind::Walla => "walla",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            CharacterKind::Main => "Main",
            CharacterKind::Secondary => "Secondary",
            CharacterKind::Walla => "Walla / group",
        }
    }

    pub fn parse(s: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == s.trim().to_ascii_lowercase())
            .ok_or_else(|| format!("unknown part {s:?}; use main, secondary or walla"))
    }
}

/// What a key name is (the glossary's categories).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum KeyCategory {
    Person,
    Location,
    Organization,
    Phrase,
}

impl KeyCategory {
    pub const ALL: [KeyCategory; 4] = [
        KeyCategory::Person,
        KeyCategory::Location,
        KeyCategory::Organization,
        KeyCategory::Phrase,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            KeyCategory::Person => "person",
            KeyCategory::Location => "location",
            KeyCategory::Organization => "organization",
            KeyCategory::Phrase => "phrase",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            KeyCategory::Person => "Person",
            KeyCategory::Location => "Location",
            KeyCategory::Organization => "Organization",
            KeyCategory::Phrase => "Phrase",
        }
    }

    pub fn parse(s: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == s.trim().to_ascii_lowercase())
            .ok_or_else(|| {
                format!("unknown category {s:?}; use person, location, organization or phrase")
            })
    }
}

/// Where a translation of a key name stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TranslationStatus {
    /// Proposed by the partner (or the studio), waiting for the studio.
    Proposed,
    Approved,
    Rejected,
}

impl TranslationStatus {
    pub const ALL: [TranslationStatus; 3] = [
        TranslationStatus::Proposed,
        TranslationStatus::Approved,
        TranslationStatus::Rejected,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TranslationStatus::Proposed => "proposed",
            TranslationStatus::Approved => "approved",
            TranslationStatus::Rejected => "rejected",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

impl fmt::Display for TranslationStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What happens to a translation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TranslationEvent {
    /// New text (a proposal; the studio's own text is approved at once).
    Propose,
    Approve,
    Reject,
}

/// The translation workflow: anyone who may translate proposes (the studio's own text counts as
/// approved); the studio approves or rejects a proposal; a new proposal replaces any text.
pub fn translation_apply(
    status: Option<TranslationStatus>,
    event: TranslationEvent,
    studio: bool,
) -> Result<TranslationStatus, String> {
    use TranslationEvent as E;
    use TranslationStatus as S;
    match (event, studio, status) {
        (E::Propose, true, _) => Ok(S::Approved),
        (E::Propose, false, _) => Ok(S::Proposed),
        (E::Approve | E::Reject, false, _) => {
            Err("only the studio approves or rejects translations".into())
        }
        (E::Approve | E::Reject, true, None) => {
            Err("there is no translation to decide on yet".into())
        }
        (E::Approve, true, Some(S::Proposed | S::Rejected)) => Ok(S::Approved),
        (E::Reject, true, Some(S::Proposed | S::Approved)) => Ok(S::Rejected),
        (E::Approve, true, Some(S::Approved)) => Err("this translation is already approved".into()),
        (E::Reject, true, Some(S::Rejected)) => Err("this translation is already rejected".into()),
    }
}

/// The kinds of item a Show Guide holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ItemKind {
    Character,
    KeyName,
    /// A translation of a key name into one language.
    Translation,
    Reference,
}

impl ItemKind {
    pub const ALL: [ItemKind; 4] = [
        ItemKind::Character,
        ItemKind::KeyName,
        ItemKind::Translation,
        ItemKind::Reference,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ItemKind::Character => "character",
            ItemKind::KeyName => "key_name",
            ItemKind::Translation => "translation",
            ItemKind::Reference => "reference",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    fn noun(self, n: usize) -> &'static str {
        match (self, n == 1) {
            (ItemKind::Character, true) => "character",
            (ItemKind::Character, false) => "characters",
            (ItemKind::KeyName, true) => "key name",
            (ItemKind::KeyName, false) => "key names",
            (ItemKind::Translation, true) => "translation",
            (ItemKind::Translation, false) => "translations",
            (ItemKind::Reference, true) => "reference file",
            (ItemKind::Reference, false) => "reference files",
        }
    }
}

/// One item's change in one version: what it was before (`None`: it did not exist) and after
/// (`None`: removed), each as the item's shown text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Revision {
    pub version: u32,
    pub kind: ItemKind,
    /// The item's id (a translation: its key name's id).
    pub item: String,
    /// A translation's language.
    pub language: Option<LanguageTag>,
    /// The item's name as shown in a diff ("Mina", "Jeju ferry terminal").
    pub name: String,
    pub before: Option<String>,
    pub after: Option<String>,
}

/// How an item differs between two versions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Change {
    Added,
    Changed,
    Removed,
}

impl Change {
    pub fn as_str(self) -> &'static str {
        match self {
            Change::Added => "added",
            Change::Changed => "changed",
            Change::Removed => "removed",
        }
    }
}

/// One line of a diff.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DiffEntry {
    pub kind: ItemKind,
    pub item: String,
    pub language: Option<LanguageTag>,
    pub name: String,
    pub change: Change,
    pub before: Option<String>,
    pub after: Option<String>,
}

/// What changed from version `from` (exclusive) to `to` (inclusive), from the revisions of the
/// versions in between (any order): each item once, compared as it was at `from` and as it is
/// at `to`. An item added and removed in between, or changed and changed back, is no change.
pub fn diff(revisions: &[Revision], from: u32, to: u32) -> Vec<DiffEntry> {
    type Key<'a> = (ItemKind, &'a str, Option<&'a LanguageTag>);
    let mut span: std::collections::HashMap<Key<'_>, (&Revision, &Revision)> =
        std::collections::HashMap::new();
    for r in revisions
        .iter()
        .filter(|r| r.version > from && r.version <= to)
    {
        let key = (r.kind, r.item.as_str(), r.language.as_ref());
        span.entry(key)
            .and_modify(|(first, last)| {
                if r.version < first.version {
                    *first = r;
                }
                if r.version >= last.version {
                    *last = r;
                }
            })
            .or_insert((r, r));
    }
    // In a stable order: by kind, item and language.
    let mut spans: Vec<(Key<'_>, (&Revision, &Revision))> = span.into_iter().collect();
    spans.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    spans
        .into_iter()
        .filter_map(|(_, (first, last))| {
            let change = match (&first.before, &last.after) {
                (None, Some(_)) => Change::Added,
                (Some(_), None) => Change::Removed,
                (Some(a), Some(b)) if a != b => Change::Changed,
                _ => return None,
            };
            Some(DiffEntry {
                kind: first.kind,
                item: first.item.clone(),
                language: first.language.clone(),
                name: last.name.clone(),
                change,
                before: first.before.clone(),
                after: last.after.clone(),
            })
        })
        .collect()
}

/// Counts of a diff per kind of item and change.
pub fn counts(entries: &[DiffEntry]) -> BTreeMap<(ItemKind, Change), usize> {
    let mut out = BTreeMap::new();
    for e in entries {
        *out.entry((e.kind, e.change)).or_insert(0) += 1;
    }
    out
}

/// What the robot says in Broadcast when version `version` is published: counts of characters,
/// key names and reference files added, changed and removed. Translations are one language's
/// business, so they are never counted here.
pub fn announcement(version: u32, entries: &[DiffEntry]) -> String {
    let counted = counts(entries);
    let mut parts = Vec::new();
    for kind in [ItemKind::Character, ItemKind::KeyName, ItemKind::Reference] {
        for change in [Change::Added, Change::Changed, Change::Removed] {
            if let Some(n) = counted.get(&(kind, change)) {
                parts.push(format!("{n} {} {}", kind.noun(*n), change.as_str()));
            }
        }
    }
    if parts.is_empty() {
        format!(
            "Show Guide v{version} is published (no change to its characters, key names or files)"
        )
    } else {
        format!("Show Guide v{version}: {}", parts.join(", "))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn rev(
        version: u32,
        kind: ItemKind,
        item: &str,
        before: Option<&str>,
        after: Option<&str>,
    ) -> Revision {
        Revision {
            version,
            kind,
            item: item.into(),
            language: None,
            name: item.to_uppercase(),
            before: before.map(str::to_string),
            after: after.map(str::to_string),
        }
    }

    #[test]
    fn diffs_are_exact_per_item() {
        use ItemKind::*;
        let es = LanguageTag::parse("es-ES").unwrap();
        let mut t = rev(3, Translation, "k1", None, Some("Terminal"));
        t.language = Some(es.clone());
        let revs = vec![
            rev(1, Character, "mina", None, Some("Mina v1")),
            rev(2, Character, "mina", Some("Mina v1"), Some("Mina v2")),
            rev(2, Character, "joon", None, Some("Joon")),
            rev(3, Character, "joon", Some("Joon"), None),
            rev(3, KeyName, "k1", None, Some("terminal")),
            t,
            rev(4, Character, "mina", Some("Mina v2"), Some("Mina v1")),
            rev(4, Reference, "r1", None, Some("map.pdf")),
        ];
        let d = diff(&revs, 0, 4);
        let got: Vec<(ItemKind, &str, Change)> = d
            .iter()
            .map(|e| (e.kind, e.item.as_str(), e.change))
            .collect();
        // Mina is added (v1 → v1 text in the end); Joon came and went; k1 and its es-ES
        // translation and the reference file are added.
        assert_eq!(
            got,
            vec![
                (Character, "mina", Change::Added),
                (KeyName, "k1", Change::Added),
                (Translation, "k1", Change::Added),
                (Reference, "r1", Change::Added),
            ]
        );
        // From v1: Mina changed and changed back is no change; Joon is no change either.
        let d = diff(&revs, 1, 4);
        assert!(
            d.iter().all(|e| e.item != "mina" && e.item != "joon"),
            "{d:?}"
        );
        // From v2 to v3: Joon removed, k1 added.
        let d = diff(&revs, 2, 3);
        let got: Vec<(&str, Change)> = d.iter().map(|e| (e.item.as_str(), e.change)).collect();
        assert_eq!(
            got,
            vec![
                ("joon", Change::Removed),
                ("k1", Change::Added),
                ("k1", Change::Added)
            ]
        );
        assert_eq!(d[0].before.as_deref(), Some("Joon"));
        // Changed: before from the first revision after `from`, after from the last.
        let d = diff(&revs, 1, 2);
        let mina = d.iter().find(|e| e.item == "mina").unwrap();
        assert_eq!(mina.change, Change::Changed);
        assert_eq!(
            (mina.before.as_deref(), mina.after.as_deref()),
            (Some("Mina v1"), Some("Mina v2"))
        );
        assert!(diff(&revs, 4, 4).is_empty());
    }

    #[test]
    fn announcements_count_and_name_no_language() {
        use ItemKind::*;
        let es = LanguageTag::parse("es-ES").unwrap();
        let mut revs = vec![
            rev(1, Character, "a", None, Some("A")),
            rev(1, Character, "b", None, Some("B")),
            rev(1, KeyName, "k1", Some("x"), Some("y")),
        ];
        for i in 0..5 {
            let mut t = rev(1, Translation, &format!("k{i}"), None, Some("Hola"));
            t.language = Some(es.clone());
            revs.push(t);
        }
        let text = announcement(4, &diff(&revs, 0, 1));
        assert_eq!(
            text,
            "Show Guide v4: 2 characters added, 1 key name changed"
        );
        assert!(!text.contains("es-ES") && !text.contains("Hola") && !text.contains("translation"));
        assert!(announcement(5, &[]).contains("no change"));
    }

    #[test]
    fn the_translation_workflow_as_a_table() {
        use TranslationEvent as E;
        use TranslationStatus as S;
        let states = [
            None,
            Some(S::Proposed),
            Some(S::Approved),
            Some(S::Rejected),
        ];
        for status in states {
            for studio in [true, false] {
                for event in [E::Propose, E::Approve, E::Reject] {
                    let got = translation_apply(status, event, studio).ok();
                    let want = match (event, studio, status) {
                        (E::Propose, true, _) => Some(S::Approved),
                        (E::Propose, false, _) => Some(S::Proposed),
                        (E::Approve, true, Some(S::Proposed | S::Rejected)) => Some(S::Approved),
                        (E::Reject, true, Some(S::Proposed | S::Approved)) => Some(S::Rejected),
                        _ => None,
                    };
                    assert_eq!(got, want, "{event:?} studio={studio} on {status:?}");
                }
            }
        }
    }

    #[test]
    fn names_round_trip() {
        for k in CharacterKind::ALL {
            assert_eq!(CharacterKind::parse(k.as_str()), Ok(k));
        }
        for k in KeyCategory::ALL {
            assert_eq!(KeyCategory::parse(k.as_str()), Ok(k));
        }
        for k in ItemKind::ALL {
            assert_eq!(ItemKind::parse(k.as_str()), Some(k));
        }
        for s in TranslationStatus::ALL {
            assert_eq!(TranslationStatus::parse(s.as_str()), Some(s));
        }
    }
}
