//! Demo audio fulfilment: a Moments clip on The Lighthouse Keeper (approved for pt-BR, a second
//! version in review for es-ES after the studio asked for changes at a timecode, still open for
//! ja) and premixes of Ferry to Jeju S1E1 (one in review with a limiter warning, one open). Every
//! file goes through the same resumable upload and checker a partner's browser uses.

use crate::auth::Authenticated;
use crate::fulfilment::{Decision, NewAudioRequestInput};
use crate::uploads::{NewUpload, Purpose};
use crate::{App, AppError, AppResult};
use domain::{FulfilmentId, MovieId, ProjectId, UploadId};

/// The demo's Moments clip: 48 frames at 23.976 fps (see `assets/README.md`).
pub const DEMO_CLIP: &[u8] = include_bytes!("../assets/moments-demo.mp4");

/// Samples at 48 kHz of the demo clip (48 frames at 23.976 fps).
pub const DEMO_CLIP_SAMPLES: u64 = 96_096;

/// A 48 kHz PCM WAV of `samples` frames: a voice-like tone (a 220 Hz fundamental with
/// harmonics under a syllable-rate envelope) peaking at `peak` (0–1 of full scale), with a
/// quarter second of quiet at each end.
pub fn demo_wav(channels: u16, bits: u16, samples: u64, peak: f64) -> Vec<u8> {
    let bytes = u32::from(bits / 8);
    let block = u32::from(channels) * bytes;
    let data_len = u32::try_from(samples).unwrap_or(u32::MAX / 4) * block;
    let mut out = Vec::with_capacity(44 + data_len as usize);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + data_len).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&channels.to_le_bytes());
    out.extend_from_slice(&48_000u32.to_le_bytes());
    out.extend_from_slice(&(48_000 * block).to_le_bytes());
    out.extend_from_slice(&u16::try_from(block).unwrap_or(6).to_le_bytes());
    out.extend_from_slice(&bits.to_le_bytes());
    out.extend_from_slice(b"data");
    out.extend_from_slice(&data_len.to_le_bytes());
    let full = f64::from((1u32 << (bits - 1)) - 1);
    let quiet = 12_000.0;
    let n = samples as f64;
    for i in 0..samples {
        let t = i as f64 / 48_000.0;
        let x = i as f64;
        let edge =
            ((x - quiet) / 2400.0).clamp(0.0, 1.0) * ((n - quiet - x) / 2400.0).clamp(0.0, 1.0);
        // Syllables with short pauses between them, as speech has.
        let syllables = (2.0 * std::f64::consts::PI * 2.2 * t)
            .sin()
            .max(0.0)
            .powf(0.7);
        let tone = (2.0 * std::f64::consts::PI * 220.0 * t).sin() * 0.6
            + (2.0 * std::f64::consts::PI * 440.0 * t).sin() * 0.25
            + (2.0 * std::f64::consts::PI * 660.0 * t).sin() * 0.15;
        let v = (tone * syllables * edge * peak * full).round() as i64;
        for _ in 0..channels {
            out.extend_from_slice(&v.to_le_bytes()[..bytes as usize]);
        }
    }
    out
}

impl App {
    /// Sends `bytes` as a resumable upload for `purpose`, in two pieces (as a browser resuming
    /// after a dropped connection would). The accepted upload's id.
    pub async fn demo_upload(
        &self,
        who: &Authenticated,
        purpose: Purpose,
        name: &str,
        bytes: Vec<u8>,
    ) -> AppResult<UploadId> {
        let length = bytes.len() as u64;
        let rec = self
            .create_upload(
                who,
                NewUpload {
                    purpose,
                    name: name.into(),
                    length,
                },
            )
            .await?;
        let half = bytes.len() / 2;
        let first = bytes::Bytes::copy_from_slice(&bytes[..half]);
        let rest = bytes::Bytes::copy_from_slice(&bytes[half..]);
        self.append_upload(
            who,
            rec.id,
            0,
            futures::stream::iter([Ok::<_, String>(first)]),
        )
        .await?;
        let done = self
            .append_upload(
                who,
                rec.id,
                half as u64,
                futures::stream::iter([Ok::<_, String>(rest)]),
            )
            .await?;
        match done.state {
            store::UploadState::Accepted => Ok(rec.id),
            _ => Err(AppError::Internal(format!(
                "demo upload {name} was not accepted: {}",
                done.outcome.unwrap_or_default()
            ))),
        }
    }

    async fn demo_project(&self, movie_id: &str) -> AppResult<Option<ProjectId>> {
        let Ok(m) = MovieId::parse(movie_id) else {
            return Ok(None);
        };
        Ok(self.store.read().await?.project_id_by_movie_id(m).await?)
    }

    async fn fulfilment_of(
        &self,
        project: ProjectId,
        language: &str,
        title: &str,
    ) -> AppResult<Option<FulfilmentId>> {
        let mut tx = self.store.read().await?;
        let requests = tx.project_audio_requests(project).await?;
        let Some(r) = requests.iter().find(|r| r.title == title) else {
            return Ok(None);
        };
        Ok(tx
            .project_fulfilments(project)
            .await?
            .into_iter()
            .find(|f| f.audio_request_id == r.id && f.language.as_str() == language)
            .map(|f| f.id))
    }

    /// Seeds the demo's audio fulfilment once (nothing is added when The Lighthouse Keeper
    /// already has an audio request).
    pub async fn seed_demo_audio(&self) -> AppResult<()> {
        let (Some(film), Some(ferry)) = (
            self.demo_project("81000001").await?,
            self.demo_project(crate::demo::FERRY_TO_JEJU).await?,
        ) else {
            return Ok(());
        };
        if !self
            .store
            .read()
            .await?
            .project_audio_requests(film)
            .await?
            .is_empty()
        {
            return Ok(());
        }
        let (Some(pm), Some(qc), Some(marta), Some(joao)) = (
            self.demo_person("pm@northlight.test").await?,
            self.demo_person("qc@northlight.test").await?,
            self.demo_person("marta@iberiavoices.test").await?,
            self.demo_person("joao@vozdobrasil.test").await?,
        ) else {
            return Ok(());
        };

        // The Moments clip, for every dubbed language of the film.
        let title = "The keeper's farewell";
        let clip = self
            .demo_upload(
                &qc,
                Purpose::Clip { project: film },
                "keepers_farewell.mp4",
                DEMO_CLIP.to_vec(),
            )
            .await?;
        self.create_audio_request(
            &qc,
            film,
            &NewAudioRequestInput {
                kind: "moments".into(),
                title: title.into(),
                description: "The keeper says goodbye to the lamp before the storm.".into(),
                instructions: "Whispered, close to the microphone; keep the breath before \"adiós\". Record against the clip: the WAV must last exactly 48 frames at 23.976.".into(),
                frame_rate: "23.976".into(),
                tc_in: "01:00:00:00".into(),
                tc_out: "01:00:02:00".into(),
                episode: String::new(),
                languages: Vec::new(),
                true_peak_limit: None,
                clip_upload: Some(clip),
                character: None,
            },
        )
        .await?;
        let delivery = |f: FulfilmentId, mix: &str, talent: &str| Purpose::Delivery {
            fulfilment: f,
            mix: mix.into(),
            talent: talent.into(),
        };
        if let Some(f) = self.fulfilment_of(film, "pt-BR", title).await? {
            let up = self
                .demo_upload(
                    &joao,
                    delivery(f, "mixed", "Camila"),
                    "TheLighthouseKeeper_Camila_Moments_Mixed.wav",
                    demo_wav(2, 24, DEMO_CLIP_SAMPLES, 0.4),
                )
                .await?;
            self.submit_delivery(&joao, f, &[up]).await?;
            self.decide_fulfilment(&qc, f, Decision::Approve, "Lovely and intimate.")
                .await?;
        }
        if let Some(f) = self.fulfilment_of(film, "es-ES", title).await? {
            let up = self
                .demo_upload(
                    &marta,
                    delivery(f, "asrecord", "Lucia"),
                    "TheLighthouseKeeper_Lucia_Moments_AsRecord.wav",
                    demo_wav(1, 24, DEMO_CLIP_SAMPLES, 0.9),
                )
                .await?;
            self.submit_delivery(&marta, f, &[up]).await?;
            self.comment_fulfilment(
                &qc,
                f,
                "The breath here is too loud; bring it down a little.",
                Some("01:00:00:20"),
            )
            .await?;
            self.decide_fulfilment(
                &qc,
                f,
                Decision::RequestChanges,
                "Softer delivery, please: this is a whisper.",
            )
            .await?;
            let up = self
                .demo_upload(
                    &marta,
                    delivery(f, "mixed", "Lucia"),
                    "TheLighthouseKeeper_Lucia_Moments_Mixed.wav",
                    demo_wav(2, 24, DEMO_CLIP_SAMPLES, 0.3),
                )
                .await?;
            self.submit_delivery(&marta, f, &[up]).await?;
            self.comment_fulfilment(&marta, f, "Softer take, recorded closer.", None)
                .await?;
        }

        // Premixes of Ferry to Jeju S1E1: es-ES delivered (with a limiter warning), pt-BR open.
        let premix = "S1E1 dialogue premix";
        self.create_audio_request(
            &pm,
            ferry,
            &NewAudioRequestInput {
                kind: "premix".into(),
                title: premix.into(),
                description: "Dialogue-only premix for the M&E mix.".into(),
                instructions:
                    "Mono, 24-bit, 48 kHz; programme from 00:00:00:00. Limit true peaks to -6 dBTP."
                        .into(),
                frame_rate: "24".into(),
                tc_in: "00:00:00:00".into(),
                tc_out: "00:00:04:00".into(),
                episode: "S1E1".into(),
                languages: vec!["es-ES".into(), "pt-BR".into()],
                true_peak_limit: Some(-6.0),
                clip_upload: None,
                character: None,
            },
        )
        .await?;
        if let Some(f) = self.fulfilment_of(ferry, "es-ES", premix).await? {
            let up = self
                .demo_upload(
                    &marta,
                    Purpose::Delivery {
                        fulfilment: f,
                        mix: "premix".into(),
                        talent: String::new(),
                    },
                    "FerryToJeju_S1E1_premix_es-ES.wav",
                    demo_wav(1, 24, 4 * 48_000, 0.75),
                )
                .await?;
            self.submit_delivery(&marta, f, &[up]).await?;
        }
        Ok(())
    }
}

impl App {
    /// Seeds the demo's Show Guide and casting on Ferry to Jeju once (nothing is added when its
    /// guide has a version): four characters, key names with translations in every state, a
    /// published version and a change after it, and auditions — Mina cast in Spanish, samples in
    /// review in Portuguese, Joon still open.
    pub async fn seed_demo_guide(&self) -> AppResult<()> {
        use crate::guide::{CharacterInput, KeyNameInput};
        use domain::fulfilment::SampleDecision;
        let Some(ferry) = self.demo_project(crate::demo::FERRY_TO_JEJU).await? else {
            return Ok(());
        };
        if self.store.read().await?.guide_version(ferry).await? > 0 {
            return Ok(());
        }
        let (Some(pm), Some(qc), Some(marta), Some(joao)) = (
            self.demo_person("pm@northlight.test").await?,
            self.demo_person("qc@northlight.test").await?,
            self.demo_person("marta@iberiavoices.test").await?,
            self.demo_person("joao@vozdobrasil.test").await?,
        ) else {
            return Ok(());
        };
        let character =
            |name: &str, kind: &str, age: &str, description: &str, notes: &str, says: &str| {
                CharacterInput {
                    name: name.into(),
                    kind: kind.into(),
                    description: description.into(),
                    age_range: age.into(),
                    notes: notes.into(),
                    pronunciation: says.into(),
                }
            };
        let mina = self
            .save_character(
                &pm,
                ferry,
                None,
                &character(
                    "Mina",
                    "main",
                    "30s",
                    "Runs the ferry's café; left Seoul for Jeju.",
                    "Warm, tired, never shouts. Her humour is dry: keep it understated.",
                    "MEE-nah",
                ),
                None,
            )
            .await?;
        let joon = self
            .save_character(
                &pm,
                ferry,
                None,
                &character(
                    "Joon",
                    "main",
                    "20s",
                    "The new deckhand.",
                    "Nervous energy; speaks fast when he lies.",
                    "JOON (rhymes with moon)",
                ),
                None,
            )
            .await?;
        self.save_character(
            &pm,
            ferry,
            None,
            &character(
                "Captain Oh",
                "secondary",
                "60s",
                "Has sailed the Gull for 30 years.",
                "Gravel voice; few words.",
                "OH",
            ),
            None,
        )
        .await?;
        self.save_character(
            &pm,
            ferry,
            None,
            &character(
                "Passengers",
                "walla",
                "",
                "Morning commuters and tourists.",
                "Korean walla in the original: dub it.",
                "",
            ),
            None,
        )
        .await?;
        let key = |term: &str, category: &str, context: &str| KeyNameInput {
            term: term.into(),
            category: category.into(),
            context: context.into(),
        };
        let gull = self
            .save_key_name(
                &pm,
                ferry,
                None,
                &key(
                    "the Gull",
                    "organization",
                    "The ferry's name; never translate as a bird in dialogue.",
                ),
            )
            .await?;
        let jeju = self
            .save_key_name(&pm, ferry, None, &key("Jeju", "location", "The island."))
            .await?;
        let pier = self
            .save_key_name(
                &pm,
                ferry,
                None,
                &key("Seogwipo pier", "location", "Where the ferry docks."),
            )
            .await?;
        self.save_key_name(
            &pm,
            ferry,
            None,
            &key(
                "Safe travels",
                "phrase",
                "Mina's goodbye to every passenger; a running line.",
            ),
        )
        .await?;
        self.propose_translation(&marta, gull, "es-ES", "el Gaviota")
            .await?;
        self.decide_translation(&pm, gull, "es-ES", true, "")
            .await?;
        self.propose_translation(&joao, gull, "pt-BR", "o Gaivota")
            .await?;
        self.decide_translation(&pm, gull, "pt-BR", true, "")
            .await?;
        self.propose_translation(&marta, jeju, "es-ES", "Jeju")
            .await?;
        self.propose_translation(&marta, pier, "es-ES", "el muelle de Seogwipo")
            .await?;
        self.decide_translation(
            &pm,
            pier,
            "es-ES",
            false,
            "Keep it as a name: «Seogwipo Pier».",
        )
        .await?;
        self.publish_guide(&pm, ferry).await?;
        // After the publication: a change partners see as new.
        self.save_character(
            &pm,
            ferry,
            Some(joon),
            &character(
                "Joon",
                "main",
                "early 20s",
                "The new deckhand; Mina's nephew (revealed in S1E3).",
                "Nervous energy; speaks fast when he lies.",
                "JOON (rhymes with moon)",
            ),
            None,
        )
        .await?;

        // Auditions: Mina in both languages, Joon in Spanish.
        let audition =
            |character: domain::GuideItemId, languages: Vec<String>| NewAudioRequestInput {
                kind: "casting".into(),
                instructions: "Read the pier scene (S1E1, 00:12:40) and the goodbye.".into(),
                languages,
                character: Some(character),
                ..NewAudioRequestInput::default()
            };
        self.create_audio_request(
            &qc,
            ferry,
            &audition(mina, vec!["es-ES".into(), "pt-BR".into()]),
        )
        .await?;
        self.create_audio_request(&qc, ferry, &audition(joon, vec!["es-ES".into()]))
            .await?;
        let matrix = self.casting_matrix(&qc, ferry).await?;
        let cell = |c: domain::GuideItemId, l: &str| {
            matrix
                .cells
                .iter()
                .find(|((ch, lang), _)| *ch == c && lang.as_str() == l)
                .map(|(_, cell)| cell.fulfilment)
        };
        let sample = |f: FulfilmentId, actor: &str| Purpose::Delivery {
            fulfilment: f,
            mix: "sample".into(),
            talent: actor.into(),
        };
        if let Some(f) = cell(mina, "es-ES") {
            for (n, actor) in ["Lucia", "Pilar"].iter().enumerate() {
                let up = self
                    .demo_upload(
                        &marta,
                        sample(f, actor),
                        &format!("Mina_{actor}.wav"),
                        demo_wav(1, 24, (38 + n as u64 * 6) * 48_000, 0.3),
                    )
                    .await?;
                self.submit_delivery(&marta, f, &[up]).await?;
            }
            self.decide_sample(
                &qc,
                f,
                1,
                SampleDecision::Reject,
                "Too bright for Mina: she is tired, not cheerful.",
            )
            .await?;
            self.decide_sample(&qc, f, 2, SampleDecision::Approve, "The dryness is right.")
                .await?;
            self.decide_sample(&qc, f, 2, SampleDecision::Cast, "")
                .await?;
        }
        if let Some(f) = cell(mina, "pt-BR") {
            let up = self
                .demo_upload(
                    &joao,
                    sample(f, "Camila"),
                    "Mina_Camila.wav",
                    demo_wav(1, 24, 45 * 48_000, 0.3),
                )
                .await?;
            self.submit_delivery(&joao, f, &[up]).await?;
        }
        Ok(())
    }
}
