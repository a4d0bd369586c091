mod check_wav;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser, Debug)]
#[command(name = "locportal", version, about = "Content Localization Portal")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Check deliverables from the command line.
    Check {
        #[command(subcommand)]
        what: CheckCommand,
    },
}

#[derive(Subcommand, Debug)]
enum CheckCommand {
    /// Check WAV/BWF/RF64 files against a delivery profile.
    Wav(check_wav::CheckWavArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Check {
            what: CheckCommand::Wav(args),
        } => check_wav::run(&args),
    }
}
