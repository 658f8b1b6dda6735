//! `switchyard`: parses the command line and runs the chosen command.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = switchyard::cli::Cli::parse();
    match switchyard::cli::dispatch(cli) {
        Ok(code) => code,
        Err(e) => {
            #[expect(clippy::print_stderr, reason = "the CLI reports fatal errors on stderr")]
            {
                eprintln!("error: {e:#}");
            }
            ExitCode::FAILURE
        }
    }
}
