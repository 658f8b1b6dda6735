//! Command-line interface.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Switchyard: one fast gateway for your APIs and every AI model.
#[derive(Debug, Parser)]
#[command(name = "switchyard", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Start the gateway. Without --config it runs on embedded defaults:
    /// 127.0.0.1:8080, admin on 127.0.0.1:9901, and a built-in mock AI provider.
    Serve {
        /// Configuration file (YAML). Reloaded on change and on SIGHUP.
        #[arg(short, long, env = "SWITCHYARD_CONFIG")]
        config: Option<PathBuf>,
    },
    /// Check a configuration file and print every error with its line and column.
    Validate {
        /// Configuration file (YAML).
        file: PathBuf,
    },
    /// Print the JSON Schema of the configuration file (for editor completion).
    Schema,
    /// Print the embedded default configuration.
    Defaults,
}

/// Run the chosen command.
pub fn dispatch(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Serve { config } => crate::gateway::serve(config),
        Command::Validate { file } => Ok(validate(&file)),
        Command::Schema => {
            let schema = serde_json::to_string_pretty(&sy_config::json_schema())?;
            writeln!(std::io::stdout(), "{schema}")?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Defaults => {
            write!(std::io::stdout(), "{}", sy_config::DEFAULT_CONFIG_YAML)?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn validate(file: &std::path::Path) -> ExitCode {
    match sy_config::load_file(file) {
        Ok(_) => {
            let _ = writeln!(std::io::stdout(), "{}: ok", file.display());
            ExitCode::SUCCESS
        }
        Err(errors) => {
            let mut err = std::io::stderr();
            for e in &errors.0 {
                let _ = writeln!(err, "{e}");
            }
            let _ = writeln!(err, "{} error(s)", errors.0.len());
            ExitCode::FAILURE
        }
    }
}
