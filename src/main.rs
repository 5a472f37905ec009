//! The `mentions` binary: parse arguments, set up logging, run the command,
//! map its outcome to an exit code (0 ok, 1 a source failed, 2 usage or
//! config, 3 storage). Log lines and the closing message go through
//! `secrets::mask`: `${VAR}` values never reach stderr.

use clap::Parser;
use mentions::cli::{Cli, LogFormat};
use mentions::commands;
use mentions::secrets::{self, MaskedWriter};
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    init_logging(cli.log_format);
    // Every TLS configuration here names ring; this only makes it the
    // process's default too, for any client built without one.
    let _ = rustls::crypto::ring::default_provider().install_default();
    match commands::run(cli) {
        Ok(code) => code,
        Err(failure) => {
            eprintln!("mentions: {}", secrets::mask(failure.message()));
            ExitCode::from(failure.exit_code())
        }
    }
}

fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(MaskedWriter(std::io::stderr))
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()));
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}
