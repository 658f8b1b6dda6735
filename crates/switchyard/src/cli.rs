//! Command-line interface.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
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
    /// Create or upgrade the store's tables (also done at every start).
    Migrate {
        /// Take the store URL from this configuration file.
        #[arg(short, long, env = "SWITCHYARD_CONFIG", conflicts_with = "store")]
        config: Option<PathBuf>,
        /// The store URL (`sqlite://data/switchyard.db`, `postgres://…`);
        /// default: the config's `store`, else the embedded default.
        #[arg(long, env = "SWITCHYARD_STORE")]
        store: Option<String>,
    },
    /// Re-encrypt every stored provider credential under a new secret key.
    /// The current key comes from SWITCHYARD_SECRET_KEY(_FILE); then point
    /// those at the new key and restart.
    RotateSecretKey {
        /// File holding the new key: base64 of 32 random bytes.
        #[arg(long)]
        new_key_file: PathBuf,
        /// Take the store URL from this configuration file.
        #[arg(short, long, env = "SWITCHYARD_CONFIG", conflicts_with = "store")]
        config: Option<PathBuf>,
        /// The store URL.
        #[arg(long, env = "SWITCHYARD_STORE")]
        store: Option<String>,
    },
    /// The admin API's commands: login, tenants, users, consumers, keys,
    /// products, subscriptions, audit.
    #[command(flatten)]
    Admin(Box<crate::cli_admin::AdminCommand>),
}

/// Run the chosen command.
pub fn dispatch(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Admin(cmd) => crate::cli_admin::run(*cmd),
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
        Command::Migrate { config, store } => {
            let url = store_url(config, store)?;
            block_on(async {
                crate::control::open(&url).await?;
                Ok(())
            })?;
            writeln!(
                std::io::stdout(),
                "{}: migrated",
                crate::control::redact_url(&url)
            )?;
            Ok(ExitCode::SUCCESS)
        }
        Command::RotateSecretKey {
            new_key_file,
            config,
            store,
        } => {
            let url = store_url(config, store)?;
            let text = std::fs::read_to_string(&new_key_file)
                .with_context(|| format!("reading {}", new_key_file.display()))?;
            let new = sy_store::SecretBox::from_base64(text.trim())?;
            let old = sy_store::SecretBox::from_env_or_file()?.ok_or_else(|| {
                anyhow::anyhow!(
                    "the current key is needed: set {} or {}",
                    sy_store::SECRET_KEY_ENV,
                    sy_store::SECRET_KEY_FILE_ENV
                )
            })?;
            let n = block_on(async {
                let store = crate::control::open(&url).await?;
                Ok(store
                    .rotate_secrets(&sy_store::Actor::bootstrap(), &old, &new)
                    .await?)
            })?;
            writeln!(
                std::io::stdout(),
                "re-encrypted {n} secret(s) under key {}",
                new.key_id()
            )?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// The store URL: given, else the config file's, else the default.
fn store_url(config: Option<PathBuf>, store: Option<String>) -> anyhow::Result<String> {
    if let Some(url) = store {
        return Ok(url);
    }
    let spec = match config {
        Some(path) => sy_config::load_file(&path).map_err(|e| anyhow::anyhow!("{e}"))?,
        None => sy_config::defaults().map_err(|e| anyhow::anyhow!("{e}"))?,
    };
    spec.store
        .ok_or_else(|| anyhow::anyhow!("the configuration has `store: null`; nothing to migrate"))
}

fn block_on<T>(f: impl std::future::Future<Output = anyhow::Result<T>>) -> anyhow::Result<T> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(f)
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
