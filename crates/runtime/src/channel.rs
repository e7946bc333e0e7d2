//! Client channels for service-to-service calls (router → backends, chatbot → router) and for
//! the `chatmesh` command: connect timeout, HTTP/2 keepalive, TCP_NODELAY, and lazy connection
//! so a service can start before the services it calls.

use std::time::Duration;

use clap::Args;
use tonic::transport::{Channel, Endpoint};

use crate::config::{ConfigError, parse_duration};

/// How a service connects to the services it calls.
#[derive(Debug, Clone, Args)]
pub struct ClientArgs {
    /// Time allowed to establish a connection to another service.
    #[arg(long, env = "CHATMESH_CONNECT_TIMEOUT", value_name = "DURATION",
          default_value = "2s", value_parser = parse_duration)]
    pub connect_timeout: Duration,

    /// Interval of HTTP/2 keepalive pings on connections to other services.
    #[arg(long, env = "CHATMESH_CLIENT_KEEPALIVE_INTERVAL", value_name = "DURATION",
          default_value = "30s", value_parser = parse_duration)]
    pub client_keepalive_interval: Duration,

    /// How long a keepalive ping to another service may go unanswered.
    #[arg(long, env = "CHATMESH_CLIENT_KEEPALIVE_TIMEOUT", value_name = "DURATION",
          default_value = "10s", value_parser = parse_duration)]
    pub client_keepalive_timeout: Duration,
}

impl Default for ClientArgs {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(2),
            client_keepalive_interval: Duration::from_secs(30),
            client_keepalive_timeout: Duration::from_secs(10),
        }
    }
}

/// An address that is not a valid endpoint URI.
#[derive(Debug, thiserror::Error)]
#[error("invalid address '{addr}': {reason}")]
pub struct InvalidAddress {
    /// The address as given.
    pub addr: String,
    /// Why it was refused.
    pub reason: String,
}

/// `host:port` or `http://host:port` as an endpoint with the shared client settings.
pub fn endpoint(addr: &str, args: &ClientArgs) -> Result<Endpoint, InvalidAddress> {
    let uri = if addr.contains("://") {
        addr.to_owned()
    } else {
        format!("http://{addr}")
    };
    let endpoint = Endpoint::from_shared(uri).map_err(|e| InvalidAddress {
        addr: addr.to_owned(),
        reason: e.to_string(),
    })?;
    Ok(endpoint
        .connect_timeout(args.connect_timeout)
        .http2_keep_alive_interval(args.client_keepalive_interval)
        .keep_alive_timeout(args.client_keepalive_timeout)
        .keep_alive_while_idle(true)
        .tcp_nodelay(true))
}

/// Start-up check of an address setting such as `--router-addr`.
pub fn check_addr(addr: &str, setting: &str, args: &ClientArgs) -> Result<(), ConfigError> {
    endpoint(addr, args).map(|_| ()).map_err(|e| ConfigError {
        setting: setting.to_owned(),
        value: addr.to_owned(),
        reason: e.reason,
    })
}

/// A channel that connects on first use and reconnects after failures.
pub fn connect_lazy(addr: &str, args: &ClientArgs) -> Result<Channel, InvalidAddress> {
    Ok(endpoint(addr, args)?.connect_lazy())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_addresses_get_a_scheme_and_garbage_is_refused() {
        let args = ClientArgs::default();
        let e = endpoint("127.0.0.1:50053", &args).unwrap();
        assert_eq!(e.uri().to_string(), "http://127.0.0.1:50053/");
        assert!(endpoint("http://[::1]:1", &args).is_ok());
        let err = endpoint("not a uri", &args).unwrap_err();
        assert!(err.to_string().contains("not a uri"), "{err}");
    }
}
