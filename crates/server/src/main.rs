//! `guihai-server`: reads the settings and starts the server; everything else lives in the library.

use std::process::ExitCode;

use guihai_server::config::{Command, ConfigError, USAGE};
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> ExitCode {
    // Logs go to stderr: stdout carries only the listening line and the demo sheet, which scripts read.
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")))
        .init();
    let command = match Command::from_env() {
        Ok(command) => command,
        Err(ConfigError::Help) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(error) => {
            eprintln!("{error}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let config = match command {
        Command::Serve(config) => config,
        Command::Keys(action, config) => {
            return match guihai_server::keys_command(action, &config).await {
                Ok(done) => {
                    print!("{done}");
                    ExitCode::SUCCESS
                }
                Err(error) => {
                    eprintln!("{error}");
                    ExitCode::FAILURE
                }
            };
        }
    };
    match guihai_server::serve(config).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(%error, "the server stopped");
            ExitCode::FAILURE
        }
    }
}
