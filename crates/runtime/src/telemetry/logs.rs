//! Log lines on stderr: human-readable (coloured only on a terminal) or one JSON object per
//! line for collectors, filtered by the `--log` directive (`tracing` env-filter syntax).

use std::io::IsTerminal;

use clap::ValueEnum;
use tracing_subscriber::{EnvFilter, Layer, Registry};

/// How logs are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Human,
    /// One JSON object per line, for log collectors.
    Json,
}

/// Checks a `--log` directive (the value parser of the flag).
pub fn parse_log_filter(text: &str) -> Result<String, String> {
    EnvFilter::builder()
        .parse(text)
        .map(|_| text.to_owned())
        .map_err(|e| e.to_string())
}

/// Log lines on stderr, filtered by `--log`.
pub(super) fn layer(
    format: LogFormat,
    filter: EnvFilter,
) -> Box<dyn Layer<Registry> + Send + Sync> {
    let layer = tracing_subscriber::fmt::layer().with_writer(std::io::stderr);
    match format {
        LogFormat::Human => layer
            .with_ansi(std::io::stderr().is_terminal())
            .with_filter(filter)
            .boxed(),
        LogFormat::Json => layer.json().flatten_event(true).with_filter(filter).boxed(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_filter_is_validated() {
        assert!(parse_log_filter("chatmesh_graph=debug,info").is_ok());
        assert!(parse_log_filter("=[").is_err());
    }
}
