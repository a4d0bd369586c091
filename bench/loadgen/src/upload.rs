//! `loadgen upload`: the performance targets of issue 12 (audio fulfilment uploads).
//!
//! A 45-minute mono 24-bit 48 kHz premix (≈389 MB) is written to disk, a premix of exactly that
//! length is asked for on a fresh database, and the partner's PM sends the file with the
//! resumable protocol (one `PATCH`, streamed from disk) to the real router running in this
//! process on a loopback port. Measured per run:
//! - throughput: bytes / time from the first byte sent to the last;
//! - verdict latency: from the last byte sent to the answer carrying the checker's verdict
//!   (structure, exact length, QC with true peak and loudness, waveform);
//! - memory: the process's resident set sampled every 10 ms, its peak minus the value before
//!   the upload (the client streams from disk in 1 MiB pieces, so the growth is the portal's);
//! - the submission that keeps the file (a rename on disk; a multipart upload to a bucket).
//!
//! With `--s3` the files go to an S3-compatible server (`s3s-fs`, started here on a temporary
//! directory, as the tests start it).

use anyhow::{Context, bail};
use app::App;
use app::fulfilment::NewAudioRequestInput;
use app::uploads::{NewUpload, Purpose};
use clap::Args;
use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Args, Debug)]
pub struct UploadArgs {
    /// Minutes of programme (45: ≈389 MB).
    #[arg(long, default_value_t = 45)]
    minutes: u64,
    /// Timed uploads.
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// Keep the files in an S3-compatible server (s3s-fs) instead of on the local disk.
    #[arg(long)]
    s3: bool,
    /// Where the database, the WAV and the local files go (started afresh).
    #[arg(long, default_value = "/tmp/locportal-uploadbench")]
    dir: std::path::PathBuf,
}

/// Writes a mono 24-bit 48 kHz WAV of `samples` frames: a voice-like tone with pauses.
fn write_premix(path: &std::path::Path, samples: u64) -> anyhow::Result<u64> {
    let data = samples * 3;
    let mut w = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(path)?);
    w.write_all(b"RIFF")?;
    w.write_all(
        &u32::try_from(36 + data)
            .context("over 4 GiB: use fewer minutes")?
            .to_le_bytes(),
    )?;
    w.write_all(b"WAVEfmt ")?;
    w.write_all(&16u32.to_le_bytes())?;
    w.write_all(&1u16.to_le_bytes())?;
    w.write_all(&1u16.to_le_bytes())?;
    w.write_all(&48_000u32.to_le_bytes())?;
    w.write_all(&144_000u32.to_le_bytes())?;
    w.write_all(&3u16.to_le_bytes())?;
    w.write_all(&24u16.to_le_bytes())?;
    w.write_all(b"data")?;
    w.write_all(&u32::try_from(data)?.to_le_bytes())?;
    let full = f64::from((1u32 << 23) - 1);
    for i in 0..samples {
        let t = i as f64 / 48_000.0;
        let syllables = (std::f64::consts::TAU * 2.2 * t).sin().max(0.0);
        let tone = (std::f64::consts::TAU * 180.0 * t).sin() * 0.7
            + (std::f64::consts::TAU * 540.0 * t).sin() * 0.2;
        let v = (tone * syllables * 0.35 * full).round() as i32;
        w.write_all(&v.to_le_bytes()[..3])?;
    }
    w.flush()?;
    Ok(44 + data)
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

/// Samples the resident set every 10 ms until stopped; the peak.
struct RssWatch {
    stop: Arc<AtomicBool>,
    peak: Arc<AtomicU64>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl RssWatch {
    fn start() -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let peak = Arc::new(AtomicU64::new(rss_kib()));
        let (s, p) = (stop.clone(), peak.clone());
        let thread = std::thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                p.fetch_max(rss_kib(), Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(10));
            }
        });
        Self {
            stop,
            peak,
            thread: Some(thread),
        }
    }

    fn finish(mut self) -> u64 {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        self.peak.load(Ordering::Relaxed).max(rss_kib())
    }
}

pub async fn upload(args: UploadArgs) -> anyhow::Result<()> {
    let _ = std::fs::remove_dir_all(&args.dir);
    std::fs::create_dir_all(&args.dir)?;
    let wav = args.dir.join("premix.wav");
    let samples = args.minutes * 60 * 48_000;
    let started = Instant::now();
    let size = write_premix(&wav, samples)?;
    println!(
        "wrote {} ({:.1} MB, {samples} samples) in {:.1} s",
        wav.display(),
        size as f64 / 1e6,
        started.elapsed().as_secs_f64()
    );

    let db_url = format!("sqlite://{}", args.dir.join("bench.db").display());
    let store: Arc<dyn store::Store> = Arc::new(store_sqlite::SqliteStore::open(&db_url).await?);
    store.migrate().await?;
    let s3 = if args.s3 {
        Some(
            testkit::s3_server()
                .await
                .context("s3s-fs is needed for --s3 (see .ci/run)")?,
        )
    } else {
        None
    };
    let files = match &s3 {
        None => app::files::FileStore::new(args.dir.join("files")),
        Some(server) => app::files::FileStore::s3(
            args.dir.join("files"),
            &app::files::BucketSettings {
                url: format!("s3://{}/bench", server.bucket),
                endpoint: Some(server.endpoint.clone()),
                region: Some("us-east-1".into()),
                access_key_id: Some(server.access_key.clone()),
                secret_access_key: Some(server.secret_key.clone()),
            },
        )
        .map_err(|e| anyhow::anyhow!(e))?,
    };
    let app = App::new(store.clone()).with_files(files);
    app.seed_demo_base().await?;
    let who = |email: &'static str| {
        let app = app.clone();
        async move {
            let s = app
                .sign_in(email, app::demo::DEMO_PASSWORD, "127.0.0.1")
                .await?;
            app.authenticate_session(&s.secret)
                .await?
                .context("no session")
        }
    };
    let pm = who("pm@northlight.test").await?;
    let marta = who("marta@iberiavoices.test").await?;
    let ferry: domain::ProjectId = {
        let mut tx = store.read().await?;
        tx.project_id_by_movie_id(domain::MovieId::new(81_000_300)?)
            .await?
            .context("the demo series")?
    };
    let (_, token) = app.create_api_token(&marta, "upload bench").await?;

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    {
        let app = app.clone();
        let config = web::WebConfig::new(base.clone());
        tokio::spawn(
            async move { web::serve(listener, app, config, std::future::pending()).await },
        );
    }
    let client = reqwest::Client::builder()
        .no_proxy()
        .tcp_nodelay(true)
        .build()?;

    let frames = args.minutes * 60 * 24;
    let tc_out = format!("{:02}:{:02}:00:00", args.minutes / 60, args.minutes % 60);
    let mut results = Vec::new();
    for run in 0..args.runs {
        let request = app
            .create_audio_request(
                &pm,
                ferry,
                &NewAudioRequestInput {
                    kind: "premix".into(),
                    title: format!("Bench premix {run}"),
                    frame_rate: "24".into(),
                    tc_in: "00:00:00:00".into(),
                    tc_out: tc_out.clone(),
                    episode: "S1E1".into(),
                    languages: vec!["es-ES".into()],
                    ..NewAudioRequestInput::default()
                },
            )
            .await?;
        let fulfilment = {
            let mut tx = store.read().await?;
            tx.project_fulfilments(ferry)
                .await?
                .into_iter()
                .find(|f| f.audio_request_id == request)
                .context("the premix's fulfilment")?
                .id
        };
        let rec = app
            .create_upload(
                &marta,
                NewUpload {
                    purpose: Purpose::Delivery {
                        fulfilment,
                        mix: "premix".into(),
                        talent: String::new(),
                    },
                    name: "FerryToJeju_S1E1_premix.wav".into(),
                    length: size,
                },
            )
            .await?;
        debug_assert_eq!(frames * 2000, samples);

        let first_byte: Arc<Mutex<Option<Instant>>> = Arc::new(Mutex::new(None));
        let last_byte: Arc<Mutex<Option<Instant>>> = Arc::new(Mutex::new(None));
        let (f1, l1) = (first_byte.clone(), last_byte.clone());
        let file = tokio::fs::File::open(&wav).await?;
        let mut sent: u64 = 0;
        // The last byte is stamped when it is handed over (the client stops asking for more
        // once the declared length has gone, so the end of the stream is never polled).
        let ended = futures::StreamExt::map(
            tokio_util::io::ReaderStream::with_capacity(file, 1 << 20),
            move |chunk| {
                let now = Instant::now();
                if let Ok(mut f) = f1.lock() {
                    f.get_or_insert(now);
                }
                if let Ok(c) = &chunk {
                    sent += c.len() as u64;
                    if sent >= size
                        && let Ok(mut l) = l1.lock()
                    {
                        l.get_or_insert(now);
                    }
                }
                chunk.map(http_body::Frame::data)
            },
        );
        let rss_before = rss_kib();
        let watch = RssWatch::start();
        let response = client
            .patch(format!("{base}/api/v1/uploads/{}", rec.id))
            .bearer_auth(&token)
            .header("tus-resumable", "1.0.0")
            .header("upload-offset", "0")
            .header("content-type", "application/offset+octet-stream")
            .header("content-length", size.to_string())
            .body(reqwest::Body::wrap(http_body_util::StreamBody::new(ended)))
            .send()
            .await?;
        let answered = Instant::now();
        let status = response.status();
        let body: serde_json::Value = response.json().await?;
        let peak = watch.finish();
        if status != reqwest::StatusCode::OK {
            bail!("the upload was not accepted ({status}): {body}");
        }
        let (Some(first), Some(last)) = (
            *first_byte.lock().map_err(|_| anyhow::anyhow!("lock"))?,
            *last_byte.lock().map_err(|_| anyhow::anyhow!("lock"))?,
        ) else {
            bail!("the body was never read");
        };
        let sending = last.duration_since(first).as_secs_f64();
        let verdict_ms = answered.saturating_duration_since(last).as_secs_f64() * 1000.0;
        let kept = Instant::now();
        app.submit_delivery(&marta, fulfilment, &[rec.id]).await?;
        let keep_ms = kept.elapsed().as_secs_f64() * 1000.0;
        let mbps = size as f64 / 1e6 / sending;
        let growth_mib = peak.saturating_sub(rss_before) as f64 / 1024.0;
        println!(
            "run {}: {:.0} MB/s ({sending:.2} s to send), verdict {verdict_ms:.0} ms after the last byte, \
             RSS +{growth_mib:.1} MiB (peak {:.1} MiB), kept in {keep_ms:.0} ms; true peak {} dBTP, {} LUFS, {} warning(s)",
            run + 1,
            mbps,
            peak as f64 / 1024.0,
            body["report"]["qc"]["true_peak_dbtp"],
            body["report"]["qc"]["integrated_lufs"],
            body["report"]["warnings"].as_array().map_or(0, Vec::len),
        );
        results.push((mbps, verdict_ms, growth_mib, keep_ms));
    }
    let median = |f: fn(&(f64, f64, f64, f64)) -> f64| {
        let mut v: Vec<f64> = results.iter().map(f).collect();
        v.sort_by(f64::total_cmp);
        v.get(v.len() / 2).copied().unwrap_or(0.0)
    };
    println!(
        "median of {} run(s) on {}: {:.0} MB/s, verdict {:.0} ms after the last byte, RSS +{:.1} MiB, kept in {:.0} ms",
        results.len(),
        if args.s3 { "s3s-fs" } else { "the local disk" },
        median(|r| r.0),
        median(|r| r.1),
        median(|r| r.2),
        median(|r| r.3),
    );
    drop(s3);
    Ok(())
}
