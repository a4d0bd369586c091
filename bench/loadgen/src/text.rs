//! Realistic-looking text: people's names, project titles, the messages a studio and its dubbing
//! partners exchange, and the searches they type. Search is only meaningful over text with a
//! realistic spread of words: a few very common ones ("script", "reel"), many rarer ones
//! (character names, technical terms), accented words in the partners' languages, and a little
//! Japanese and Chinese, which the index matches as substrings.
//!
//! No message contains an `@`: mentions are added on purpose by the driver only.

use rand::Rng;
use rand::seq::IndexedRandom;

/// (display name, ASCII form for e-mail addresses).
pub const FIRST_NAMES: &[(&str, &str)] = &[
    ("Marta", "marta"),
    ("João", "joao"),
    ("Haruka", "haruka"),
    ("Lucía", "lucia"),
    ("Paula", "paula"),
    ("Quentin", "quentin"),
    ("Søren", "soren"),
    ("Zoë", "zoe"),
    ("François", "francois"),
    ("Ingrid", "ingrid"),
    ("Kenji", "kenji"),
    ("Wei", "wei"),
    ("Oksana", "oksana"),
    ("Tariq", "tariq"),
    ("Beatriz", "beatriz"),
    ("Lorcan", "lorcan"),
    ("Akosua", "akosua"),
    ("Matías", "matias"),
    ("Élodie", "elodie"),
    ("Björn", "bjorn"),
    ("Agnieszka", "agnieszka"),
    ("Mehmet", "mehmet"),
    ("Priya", "priya"),
    ("Chloé", "chloe"),
    ("Dmitri", "dmitri"),
    ("Yuna", "yuna"),
    ("Giulia", "giulia"),
    ("Noah", "noah"),
    ("Aylin", "aylin"),
    ("Thiago", "thiago"),
    ("Sofía", "sofia"),
    ("Minh", "minh"),
];

pub const LAST_NAMES: &[(&str, &str)] = &[
    ("Ruiz", "ruiz"),
    ("Silva", "silva"),
    ("Sato", "sato"),
    ("Gómez", "gomez"),
    ("Moreno", "moreno"),
    ("Chu", "chu"),
    ("Østergaard", "ostergaard"),
    ("Müller", "muller"),
    ("Lefèvre", "lefevre"),
    ("Nakamura", "nakamura"),
    ("Zhang", "zhang"),
    ("Kowalczyk", "kowalczyk"),
    ("Yılmaz", "yilmaz"),
    ("Haddad", "haddad"),
    ("Ferreira", "ferreira"),
    ("O'Brien", "obrien"),
    ("Mensah", "mensah"),
    ("Peña", "pena"),
    ("Dubois", "dubois"),
    ("Lindqvist", "lindqvist"),
    ("Nowak", "nowak"),
    ("Şahin", "sahin"),
    ("Iyer", "iyer"),
    ("Rossi", "rossi"),
    ("Ivanova", "ivanova"),
    ("Kim", "kim"),
    ("Conti", "conti"),
    ("Janssen", "janssen"),
    ("Nguyễn", "nguyen"),
    ("Costa", "costa"),
];

const TITLE_A: &[&str] = &[
    "Silent", "Northern", "Broken", "Golden", "Last", "Hidden", "Burning", "Frozen", "Distant",
    "Crimson", "Hollow", "Electric", "Midnight", "Wild", "Quiet", "Iron", "Paper", "Glass",
    "Velvet", "Lost",
];
const TITLE_B: &[&str] = &[
    "Harbor",
    "Crossing",
    "Orchard",
    "Signal",
    "Empire",
    "Lantern",
    "Frontier",
    "Garden",
    "River",
    "Station",
    "Tides",
    "Kingdom",
    "Witness",
    "Archive",
    "Summer",
    "Voyage",
    "Mountain",
    "Choir",
    "Circuit",
    "Lighthouse",
];

/// A project title such as "The Hidden Lantern 0042".
pub fn title(rng: &mut impl Rng, n: usize) -> String {
    let a = TITLE_A.choose(rng).copied().unwrap_or("Silent");
    let b = TITLE_B.choose(rng).copied().unwrap_or("Harbor");
    format!("The {a} {b} {n:04}")
}

/// Frequent words of the trade (each appears in many messages).
const COMMON: &[&str] = &[
    "script",
    "reel",
    "episode",
    "subtitles",
    "dubbing",
    "delivery",
    "schedule",
    "mix",
    "version",
    "casting",
    "recording",
    "session",
    "notes",
    "review",
    "timing",
];
/// Rarer technical terms (what people actually search for).
const TERMS: &[&str] = &[
    "glossary",
    "pronunciation",
    "loudness",
    "stems",
    "spotting",
    "conform",
    "retake",
    "lipsync",
    "burn-in",
    "forced narratives",
    "SDH",
    "M&E",
    "trailer",
    "frame rate",
    "locked picture",
    "dialogue list",
    "music cue sheet",
    "honorifics",
    "profanity",
    "on-screen text",
    "card",
    "title sequence",
    "end credits",
    "voice match",
    "walla",
    "ADR",
    "printmaster",
    "true peak",
    "reading speed",
    "line break",
    "shot change",
    "overlap",
    "tone",
    "accent",
    "pickup",
    "director notes",
    "QC report",
    "invoice",
    "purchase order",
    "NDA",
    "watermark",
    "proxy",
    "audio description",
    "narrator",
    "translation memory",
    "style guide",
    "deliverables",
    "metadata",
    "artwork",
    "synopsis",
];
const PROBLEMS: &[&str] = &[
    "sync drift",
    "typo",
    "missing line",
    "clipping",
    "wrong name",
    "mistranslation",
    "reading speed issue",
    "audio dropout",
    "overlapping subtitle",
    "wrong honorific",
    "untranslated sign",
    "pop in the mix",
];
/// Characters of the fictional titles.
const CHARACTERS: &[&str] = &[
    "Aldous",
    "Mireille",
    "Kenji",
    "Oksana",
    "Tariq",
    "Beatriz",
    "Lorcan",
    "Ingrid",
    "Akosua",
    "Matías",
    "Evander",
    "Solveig",
    "Ravi",
    "Ximena",
    "Corentin",
    "Hyejin",
    "Bartholomew",
    "Nadia",
    "Ptolemy",
    "Anouk",
];
const ADJECTIVES: &[&str] = &[
    "flat",
    "young",
    "harsh",
    "quiet",
    "fast",
    "slow",
    "theatrical",
    "loud",
    "nasal",
    "formal",
];
const DAYS: &[&str] = &[
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "tomorrow",
    "end of week",
    "next week",
];
const OPENERS: &[&str] = &[
    "",
    "",
    "",
    "Hi team, ",
    "Quick question: ",
    "FYI ",
    "Update: ",
    "Thanks! ",
    "Morning, ",
    "Heads up: ",
];

/// Sentences in a partner's own language, chosen for vendor channels of that language.
fn local_sentence(rng: &mut impl Rng, language: &str) -> Option<String> {
    let character = pick(rng, CHARACTERS);
    let n = rng.random_range(1..=12);
    let s = match language.split('-').next().unwrap_or_default() {
        "es" => [
            format!("La traducción del episodio {n} está lista para revisión."),
            format!("Necesitamos la pronunciación de {character} antes del doblaje."),
            format!("Los subtítulos del rollo {n} tienen un problema de sincronización."),
            "Enviamos la versión revisada del guion mañana por la mañana.".to_string(),
            format!("¿Podéis confirmar la sesión de grabación del capítulo {n}?"),
        ]
        .choose(rng)?
        .clone(),
        "pt" => [
            format!("A tradução do episódio {n} já está na pasta de entrega."),
            format!("A dublagem de {character} precisa de uma nova sessão."),
            "As legendas foram revisadas, falta a versão final do áudio.".to_string(),
            format!("Vocês podem confirmar a pronúncia de {character}?"),
        ]
        .choose(rng)?
        .clone(),
        "fr" => [
            format!("La traduction de l'épisode {n} est prête, merci de vérifier."),
            format!("Le comédien pour {character} est disponible jeudi."),
            "Les sous-titres ont été corrigés après la vérification.".to_string(),
            format!("Réplique manquante dans la bobine {n}, pouvez-vous regarder ?"),
        ]
        .choose(rng)?
        .clone(),
        "de" => [
            format!("Die Übersetzung für Folge {n} ist fertig."),
            format!("Der Synchronsprecher für {character} hat nächste Woche Zeit."),
            "Die Tonmischung ist abgenommen, Untertitel folgen morgen.".to_string(),
        ]
        .choose(rng)?
        .clone(),
        "ja" => [
            format!("お疲れ様です。第{n}話の台本を更新しました。"),
            "字幕の確認お願いします。".to_string(),
            format!("{character}の声優の収録は木曜日です。"),
            "吹き替えの納品は来週になります。".to_string(),
        ]
        .choose(rng)?
        .clone(),
        "zh" => [
            format!("第{n}集的翻译已经完成，请校对。"),
            "字幕文件已上传。".to_string(),
            format!("{character}的配音需要重新录制。"),
        ]
        .choose(rng)?
        .clone(),
        _ => return None,
    };
    Some(s)
}

fn pick<'a>(rng: &mut impl Rng, words: &[&'a str]) -> &'a str {
    words.choose(rng).copied().unwrap_or("script")
}

fn timecode(rng: &mut impl Rng) -> String {
    format!(
        "{:02}:{:02}:{:02}:{:02}",
        rng.random_range(0..2),
        rng.random_range(0..60),
        rng.random_range(0..60),
        rng.random_range(0..24)
    )
}

fn reference(rng: &mut impl Rng) -> String {
    match rng.random_range(0..4) {
        0 => format!("reel {}", rng.random_range(1..=8)),
        1 => format!("episode {}", rng.random_range(1..=12)),
        2 => format!("S{}E{}", rng.random_range(1..=3), rng.random_range(1..=10)),
        _ => "the trailer".to_string(),
    }
}

fn english_sentence(rng: &mut impl Rng) -> String {
    let common = pick(rng, COMMON);
    let term = pick(rng, TERMS);
    let character = pick(rng, CHARACTERS);
    let r = reference(rng);
    match rng.random_range(0..12) {
        0 => format!(
            "Please send the updated {term} for {r} by {}.",
            pick(rng, DAYS)
        ),
        1 => format!("The {common} for {r} is approved; the {term} still needs a pass."),
        2 => format!(
            "We found a {} at {} in {r}, can you check?",
            pick(rng, PROBLEMS),
            timecode(rng)
        ),
        3 => format!("Could you share the pronunciation of \"{character}\"?"),
        4 => format!(
            "{character} sounds too {} in {r}; please schedule a retake.",
            pick(rng, ADJECTIVES)
        ),
        5 => format!(
            "Uploaded the {term} to the portal, the {common} follows {}.",
            pick(rng, DAYS)
        ),
        6 => format!(
            "The {common} does not match the locked picture after {}.",
            timecode(rng)
        ),
        7 => format!(
            "Loudness of the {common} for {r} is -{}.{} LUFS, target is -24.",
            rng.random_range(20..28),
            rng.random_range(0..10)
        ),
        8 => format!(
            "Casting for {character}: we suggest option {}.",
            rng.random_range(1..=3)
        ),
        9 => format!("Is the {term} in the style guide final, or should we wait for notes?"),
        10 => format!(
            "{} of {r} moved to {}, the {term} is unchanged.",
            capitalised(common),
            pick(rng, DAYS)
        ),
        _ => format!("Confirmed, the {common} and the {term} for {r} are in the delivery folder."),
    }
}

fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// A message body for a channel (in `language` for a vendor channel: a quarter of the messages
/// are then in that language when we have sentences for it).
pub fn message(rng: &mut impl Rng, language: Option<&str>) -> String {
    let mut out = String::from(pick(rng, OPENERS));
    let sentences = rng.random_range(1..=3);
    for i in 0..sentences {
        if i > 0 {
            out.push(' ');
        }
        let local = match language {
            Some(l) if rng.random_bool(0.25) => local_sentence(rng, l),
            _ => None,
        };
        out.push_str(&local.unwrap_or_else(|| english_sentence(rng)));
    }
    out
}

/// A search as people type it: mostly one or two terms, sometimes a phrase, an accented word
/// typed without its accents, or Japanese/Chinese.
pub fn search_query(rng: &mut impl Rng) -> String {
    const UNACCENTED: &[&str] = &[
        "traduccion",
        "pronunciacion",
        "dublagem",
        "legendas",
        "episodio",
        "verification",
        "uebersetzung",
        "tonmischung",
        "sous-titres",
        "revision",
    ];
    const PHRASES: &[&str] = &[
        "\"locked picture\"",
        "\"forced narratives\"",
        "\"schedule a retake\"",
        "\"style guide\"",
        "\"delivery folder\"",
        "\"reading speed\"",
    ];
    const CJK: &[&str] = &["字幕", "台本", "吹き替え", "収録", "翻译", "配音", "確認"];
    match rng.random_range(0..10) {
        0..=3 => pick(rng, TERMS).to_string(),
        4 | 5 => format!("{} {}", pick(rng, TERMS), pick(rng, CHARACTERS)),
        6 => pick(rng, UNACCENTED).to_string(),
        7 => pick(rng, PHRASES).to_string(),
        8 => pick(rng, CJK).to_string(),
        _ => pick(rng, CHARACTERS).to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn messages_are_valid_and_never_mention() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        for lang in [
            None,
            Some("es-ES"),
            Some("ja"),
            Some("zh-Hans"),
            Some("pl-PL"),
        ] {
            for _ in 0..200 {
                let m = message(&mut rng, lang);
                assert!(!m.trim().is_empty());
                assert!(!m.contains('@'));
                assert!(domain::MessageBody::parse(&m).is_ok());
            }
        }
        for _ in 0..200 {
            assert!(domain::search::SearchQuery::parse(&search_query(&mut rng)).is_ok());
        }
    }
}
