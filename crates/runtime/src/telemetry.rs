//! Logging set-up: `tracing` events as human-readable lines or as JSON, filtered by the
//! `--log` directive. Installed once per process (a second call is a harmless no-op).

use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;

/// Installs the global subscriber. Errors only when the filter directive is invalid.
pub fn init_logging(format: LogFormat, filter: &str) -> Result<(), String> {
    let filter = EnvFilter::builder()
        .parse(filter)
        .map_err(|e| format!("invalid value '{filter}' for --log (CHATMESH_LOG): {e}"))?;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    // `try_init` fails when a subscriber is already installed (tests, `chatmesh up`): keep it.
    let _ = match format {
        LogFormat::Human => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
    Ok(())
}
