//! `locportal check wav`: the command-line front of the `audio` crate.

use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args, Debug)]
pub struct CheckWavArgs {
    /// WAV files to check.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
}

pub fn run(_args: &CheckWavArgs) -> ExitCode {
    eprintln!("locportal check wav: not built yet");
    ExitCode::from(2)
}
