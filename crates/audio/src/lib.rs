//! The audio deliverable checker: a streaming WAV/BWF/RF64 validator with exact clip-length
//! matching, naming rules, loudness/peak QC and a waveform picture.
//!
//! Everything works on a caller's `Read + Seek`; nothing here prints, opens files or walks
//! directories. Start with [`check`]; [`inspect`] alone is the structural check (it seeks over
//! the audio and reads only headers and bounded metadata).

pub mod dsp;
pub mod finding;
pub mod meta;
pub mod qc;
pub mod report;
pub mod rules;
pub mod wav;
pub mod waveform;

pub use finding::{Code, Finding, Severity};
pub use qc::{Qc, QcOptions, measure};
pub use report::{CheckRequest, DEFAULT_WAVEFORM_COLUMNS, Report, Verdict, check, check_arriving};
pub use rules::{ExpectedLength, Profile};
pub use wav::{Container, Encoding, Format, Inspection, inspect};
pub use waveform::Waveform;
