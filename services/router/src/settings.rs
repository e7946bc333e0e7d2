//! The setting groups of the router's [`crate::Config`]: how it calls its backends
//! ([`ResilienceArgs`]), what its MCP endpoint accepts and from whom ([`McpArgs`]), and the checks and loading
//! `Config::validate` runs (backend address lists, the rules file).

use std::time::Duration;

use chatmesh_runtime::channel::ClientArgs;
use chatmesh_runtime::config::{ConfigError, parse_duration};

use crate::pool::PoolSettings;
use crate::pool::breaker::BreakerSettings;
use crate::pool::retry::RetrySettings;
use crate::routing::Rules;

const RULES_SETTING: &str = "--rules (CHATMESH_ROUTER_RULES)";

/// How the router calls its backends.
#[derive(Debug, Clone, clap::Args)]
pub struct ResilienceArgs {
    /// Longest a backend call may take (a caller's shorter deadline wins).
    #[arg(long, env = "CHATMESH_BACKEND_TIMEOUT", value_name = "DURATION",
          default_value = "5s", value_parser = parse_duration)]
    pub backend_timeout: Duration,
    /// Attempts per backend call, the first included; reads failing with UNAVAILABLE are
    /// retried on another address.
    #[arg(long, env = "CHATMESH_BACKEND_MAX_ATTEMPTS", value_name = "N", default_value_t = 3,
          value_parser = clap::value_parser!(u32).range(1..=10))]
    pub backend_max_attempts: u32,
    /// Retries allowed per backend call on average (the retry budget).
    #[arg(
        long,
        env = "CHATMESH_RETRY_BUDGET_RATIO",
        value_name = "RATIO",
        default_value_t = 0.2
    )]
    pub retry_budget_ratio: f64,
    /// Consecutive failures of an address that open its circuit breaker.
    #[arg(long, env = "CHATMESH_BREAKER_FAILURES", value_name = "N", default_value_t = 5,
          value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub breaker_failures: u32,
    /// How long an open breaker fails calls fast before a probe call.
    #[arg(long, env = "CHATMESH_BREAKER_OPEN_FOR", value_name = "DURATION",
          default_value = "2s", value_parser = parse_duration)]
    pub breaker_open_for: Duration,
    /// Wait between attempts to (re)open a backend's health watch.
    #[arg(long, env = "CHATMESH_HEALTH_RETRY_INTERVAL", value_name = "DURATION",
          default_value = "250ms", value_parser = parse_duration)]
    pub health_retry_interval: Duration,
    /// How often backend DNS names are resolved again.
    #[arg(long, env = "CHATMESH_RESOLVE_INTERVAL", value_name = "DURATION",
          default_value = "5s", value_parser = parse_duration)]
    pub resolve_interval: Duration,
}

impl Default for ResilienceArgs {
    fn default() -> Self {
        Self {
            backend_timeout: Duration::from_secs(5),
            backend_max_attempts: 3,
            retry_budget_ratio: 0.2,
            breaker_failures: 5,
            breaker_open_for: Duration::from_secs(2),
            health_retry_interval: Duration::from_millis(250),
            resolve_interval: Duration::from_secs(5),
        }
    }
}

impl ResilienceArgs {
    pub(crate) fn pool_settings(&self, client: &ClientArgs) -> PoolSettings {
        PoolSettings {
            timeout: self.backend_timeout,
            retry: RetrySettings {
                max_attempts: self.backend_max_attempts,
                base_backoff: Duration::from_millis(10),
                max_backoff: Duration::from_millis(200),
                budget_ratio: self.retry_budget_ratio,
                budget_reserve: 10.0,
            },
            breaker: BreakerSettings {
                failure_threshold: self.breaker_failures,
                open_for: self.breaker_open_for,
            },
            resolve_interval: self.resolve_interval,
            health_retry: self.health_retry_interval,
            client: client.clone(),
        }
    }
}

pub(crate) fn check_backend_addrs(
    spec: &str,
    setting: &str,
    client: &ClientArgs,
) -> Result<(), ConfigError> {
    let entries = crate::pool::resolve::parse_spec(spec).map_err(|reason| ConfigError {
        setting: setting.to_owned(),
        value: spec.to_owned(),
        reason,
    })?;
    for entry in entries {
        chatmesh_runtime::channel::check_addr(&entry.address(), setting, client)?;
    }
    Ok(())
}

/// Reads and validates a rules file, or the built-in rules when `path` is `None`.
pub(crate) fn load_rules(path: Option<&std::path::Path>) -> Result<Rules, ConfigError> {
    let Some(path) = path else {
        return Ok(Rules::built_in());
    };
    let fail = |reason: String| ConfigError {
        setting: RULES_SETTING.to_owned(),
        value: path.display().to_string(),
        reason,
    };
    let text = std::fs::read_to_string(path).map_err(|e| fail(format!("cannot read it: {e}")))?;
    Rules::parse(&text).map_err(|e| fail(e.to_string()))
}

/// MCP settings of the router.
#[derive(Debug, Clone, clap::Args)]
pub struct McpArgs {
    /// Host names (or host:port) the MCP endpoint at /mcp accepts in the Host header, and
    /// (port ignored) as the host of a browser's Origin, comma-separated; `*` accepts any.
    #[arg(
        long = "mcp-allowed-hosts",
        env = "CHATMESH_MCP_ALLOWED_HOSTS",
        value_name = "HOSTS",
        value_delimiter = ',',
        default_value = "localhost,127.0.0.1,::1"
    )]
    pub allowed_hosts: Vec<String>,
    /// Users allowed the free-form Cypher tool `graph_query` on /mcp (a static token's
    /// `token-<n>`, a JWT's `sub`), comma-separated; `*` allows every caller (with
    /// authentication off: anyone). Off by default. The gRPC `CallTool` checks the calling
    /// service instead (the chatbot and admin only, when callers are checked).
    #[arg(
        long,
        env = "CHATMESH_CYPHER_HINT_PRINCIPALS",
        value_name = "NAMES",
        value_delimiter = ','
    )]
    pub cypher_hint_principals: Vec<String>,
}

impl Default for McpArgs {
    fn default() -> Self {
        Self {
            allowed_hosts: ["localhost", "127.0.0.1", "::1"].map(String::from).to_vec(),
            cypher_hint_principals: Vec::new(),
        }
    }
}
