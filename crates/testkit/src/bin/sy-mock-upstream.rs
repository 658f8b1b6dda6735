//! `sy-mock-upstream`: the testkit mock upstream as a process, for the
//! benchmark. Prints one line, `ready <addr> name=<name>`, once it listens,
//! then serves until killed. Single-threaded unless `--threads` says more,
//! so it can be pinned to one core beside the proxy under test.

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use sy_testkit::{MockOptions, MockUpstream};

/// Command-line flags.
#[derive(Parser, Debug)]
#[command(
    name = "sy-mock-upstream",
    about = "Fast HTTP mock upstream (OpenAI chat, echo, streams)"
)]
struct Args {
    /// Port on 127.0.0.1 (0 = any free port; the ready line tells which).
    #[arg(long, default_value_t = 18000)]
    port: u16,
    /// Name sent back in `x-upstream`.
    #[arg(long, default_value = "mock")]
    name: String,
    /// Content chunks per streamed chat completion.
    #[arg(long, default_value_t = 20)]
    chunks: usize,
    /// Milliseconds between streamed chat chunks.
    #[arg(long, default_value_t = 0)]
    interval_ms: u64,
    /// Runtime worker threads; 1 runs tokio's current-thread runtime.
    #[arg(long, default_value_t = 1)]
    threads: usize,
}

#[expect(
    clippy::print_stderr,
    reason = "a command-line tool reports start-up failures on stderr"
)]
fn main() -> ExitCode {
    let args = Args::parse();
    let runtime = if args.threads <= 1 {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(args.threads)
            .enable_all()
            .build()
    };
    let runtime = match runtime {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("sy-mock-upstream: cannot start runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(serve(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("sy-mock-upstream: {e}");
            ExitCode::FAILURE
        }
    }
}

#[expect(
    clippy::print_stdout,
    reason = "the ready line on stdout is this tool's interface"
)]
async fn serve(args: Args) -> Result<(), Box<dyn std::error::Error>> {
    let opts = MockOptions::named(args.name)
        .port(args.port)
        .chat_stream(args.chunks, Duration::from_millis(args.interval_ms));
    let handle = MockUpstream::start(opts).await?;
    println!("ready {} name={}", handle.addr(), handle.name);
    std::io::stdout().flush()?;
    std::future::pending::<()>().await;
    drop(handle);
    Ok(())
}
