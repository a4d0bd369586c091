//! Feeds arbitrary bytes to the structural check, then to the full check with the QC pass and
//! a waveform, as a partner's upload would be. Any panic, hang or runaway allocation is a bug.
#![no_main]

use std::io::Cursor;

use audio::{CheckRequest, ExpectedLength, Profile};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = audio::inspect(&mut Cursor::new(data));
    let req = CheckRequest {
        profile: Profile::MomentsMixed,
        expected: Some(ExpectedLength::Samples(1000)),
        name: Some("Show_Talent_Moments_Mixed.wav".into()),
        qc: true,
        waveform_columns: 64,
        threads: 1,
        ..CheckRequest::default()
    };
    if let Ok(report) = audio::check(&mut Cursor::new(data), &req) {
        let _ = report.to_json_line("fuzz.wav");
        if let Some(w) = &report.waveform {
            let _ = w.svg("fuzz.wav");
        }
    }
});
