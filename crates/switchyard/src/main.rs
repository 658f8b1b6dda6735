//! `switchyard`: parses the command line and runs the chosen command.

use std::process::ExitCode;

use clap::Parser;

/// mimalloc instead of the system allocator: the request path allocates
/// small, short-lived buffers, where glibc's malloc showed up at ~12 % of CPU
/// in profiles and fragments under many connections.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    tune_allocator();
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

/// mimalloc reads its options from the environment once, before `main`
/// runs, so the only safe way to set them is to exec ourselves again with
/// them set. Committing arenas lazily and purging freed pages after 10 ms
/// keeps an idle gateway small (1,000 idle keep-alive connections: ~40 MiB
/// instead of ~90 MiB). The delay matters under load: purging at once
/// (delay 0) made every burst of frees an `madvise` and every reuse a page
/// fault, ~20 % of the proxy's CPU per request once the upstream client
/// stopped dominating; 10 ms costs ~2 MiB at idle. Skipped when the caller
/// set any of them, and at most once (the marker variable).
fn tune_allocator() {
    use std::os::unix::process::CommandExt;
    const MARKER: &str = "SWITCHYARD_ALLOCATOR_TUNED";
    if std::env::var_os(MARKER).is_some()
        || std::env::var_os("MIMALLOC_PURGE_DELAY").is_some()
        || std::env::var_os("MIMALLOC_ARENA_EAGER_COMMIT").is_some()
    {
        return;
    }
    let Ok(exe) = std::env::current_exe() else {
        return;
    };
    let mut args = std::env::args_os();
    let arg0 = args.next().unwrap_or_else(|| exe.clone().into_os_string());
    // `exec` only returns on failure; then carry on with the defaults.
    let _ = std::process::Command::new(&exe)
        .arg0(arg0)
        .args(args)
        .env(MARKER, "1")
        .env("MIMALLOC_PURGE_DELAY", "10")
        .env("MIMALLOC_ARENA_EAGER_COMMIT", "0")
        .exec();
}
