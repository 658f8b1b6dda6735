//! `switchyard`: parses the command line and runs the chosen command.

use std::process::ExitCode;

use clap::Parser;

/// mimalloc instead of the system allocator: the request path allocates
/// small, short-lived buffers, where glibc's malloc showed up at ~12 % of CPU
/// in profiles and fragments under many connections.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = switchyard::cli::Cli::parse();
    match switchyard::cli::dispatch(cli) {
        Ok(code) => code,
        Err(e) => {
            #[expect(
                clippy::print_stderr,
                reason = "the CLI reports fatal errors on stderr"
            )]
            {
                eprintln!("error: {e:#}");
            }
            ExitCode::FAILURE
        }
    }
}
