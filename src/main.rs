//! `payer-sandbox`: parse the flags, build the application, announce it, serve until SIGTERM or
//! SIGINT. `--healthcheck URL` instead checks a running server and exits.

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;
use payer_sandbox::settings::{LogFormat, Settings};
use payer_sandbox::startup::Application;
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> ExitCode {
    let settings = Settings::parse();
    if let Some(url) = &settings.healthcheck {
        return match payer_sandbox::healthcheck::check(url) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("payer-sandbox: healthcheck: {e}");
                ExitCode::FAILURE
            }
        };
    }
    init_logging(settings.log_format);
    let app = match Application::build(settings).await {
        Ok(app) => app,
        Err(e) => {
            eprintln!("payer-sandbox: {e}");
            return ExitCode::FAILURE;
        }
    };
    for warning in &app.warnings {
        tracing::warn!("{warning}");
    }
    let shutdown = shutdown_signal();
    // CI scripts wait for this exact line; the socket is already accepting connections.
    let mut stdout = std::io::stdout();
    let _ = writeln!(stdout, "payer-sandbox listening on {}", app.public_url());
    let _ = stdout.flush();
    match app.run_until_stopped(shutdown).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("payer-sandbox: {e}");
            ExitCode::FAILURE
        }
    }
}

fn init_logging(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("payer_sandbox=info,warn"));
    // Colours only for a person at a terminal: a test fixture or a container reading the log
    // through a pipe gets plain text (and `NO_COLOR`, https://no-color.org, turns them off).
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr())
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

/// Installs the SIGTERM and SIGINT handlers now, before the listening line is printed, so that a
/// CI script that stops the server right after reading that line gets a graceful exit, never
/// the default action of the signal. The returned future completes on the first signal.
fn shutdown_signal() -> impl std::future::Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let terminate = signal(SignalKind::terminate());
        let interrupt = signal(SignalKind::interrupt());
        async move {
            match (terminate, interrupt) {
                (Ok(mut terminate), Ok(mut interrupt)) => {
                    tokio::select! {
                        _ = terminate.recv() => {},
                        _ = interrupt.recv() => {},
                    }
                }
                _ => {
                    let _ = tokio::signal::ctrl_c().await;
                }
            }
            tracing::info!("shutting down");
        }
    }
    #[cfg(not(unix))]
    async {
        let _ = tokio::signal::ctrl_c().await;
        tracing::info!("shutting down");
    }
}
