//! Two corrections around rmcp's streamable HTTP service at `/mcp`, as one middleware:
//!
//! - `Origin`: the MCP specification says servers must check it, against DNS rebinding from
//!   browsers. A request whose `Origin` names a host outside `--mcp-allowed-hosts` (any scheme,
//!   any port; `null` included) is refused with `403 Forbidden` before rmcp sees it, so it
//!   changes nothing. A request without `Origin` passes: non-browser clients send none.
//! - `DELETE` of a session: rmcp answers `202 Accepted`, which the Python MCP SDK logs as
//!   "Session termination failed: 202" (it accepts 200, 204 and 405); a successful `DELETE`
//!   answers `200 OK` instead.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::{Method, StatusCode, header};

/// The hosts an `Origin` may name; `None` allows every origin (`--mcp-allowed-hosts '*'`).
#[derive(Debug, Clone)]
pub(crate) struct AllowedOrigins(Option<Arc<[String]>>);

impl AllowedOrigins {
    /// From the `--mcp-allowed-hosts` entries (`host` or `host:port`; the port is ignored here).
    pub(crate) fn new(allowed_hosts: &[String]) -> Self {
        if allowed_hosts.iter().any(|h| h.trim() == "*") {
            return Self(None);
        }
        let hosts = allowed_hosts
            .iter()
            .map(|entry| strip_port(entry.trim()).to_ascii_lowercase())
            .collect();
        Self(Some(hosts))
    }

    /// Whether the `Origin` header value `origin` names an allowed host.
    fn allows(&self, origin: &str) -> bool {
        let Some(hosts) = &self.0 else { return true };
        let Some((_scheme, rest)) = origin.trim().split_once("://") else {
            return false; // `null`, or not an origin at all
        };
        let authority = rest.split('/').next().unwrap_or_default();
        let authority = authority.rsplit('@').next().unwrap_or_default();
        let host = strip_port(authority).to_ascii_lowercase();
        !host.is_empty() && hosts.contains(&host)
    }
}

/// `host` of `host`, `host:port`, `[v6]` or `[v6]:port`; a bare IPv6 address stays whole.
fn strip_port(authority: &str) -> &str {
    if let Some(rest) = authority.strip_prefix('[') {
        return rest.split(']').next().unwrap_or_default();
    }
    match authority.rsplit_once(':') {
        Some((host, port)) if !host.contains(':') && port.bytes().all(|b| b.is_ascii_digit()) => {
            host
        }
        _ => authority,
    }
}

/// The middleware: refuses a foreign `Origin`, and turns a successful `DELETE`'s 202 into 200.
pub(crate) async fn guard(
    State(origins): State<AllowedOrigins>,
    request: Request,
    next: Next,
) -> Response {
    if let Some(origin) = request.headers().get(header::ORIGIN) {
        let allowed = origin.to_str().is_ok_and(|o| origins.allows(o));
        if !allowed {
            let shown = String::from_utf8_lossy(origin.as_bytes()).into_owned();
            tracing::debug!(origin = %shown, "MCP request from a foreign origin refused");
            return (
                StatusCode::FORBIDDEN,
                [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
                format!("Forbidden: origin {shown} is not allowed\n"),
            )
                .into_response();
        }
    }
    let delete = request.method() == Method::DELETE;
    let mut response = next.run(request).await;
    if delete && response.status() == StatusCode::ACCEPTED {
        *response.status_mut() = StatusCode::OK;
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn origins(hosts: &[&str]) -> AllowedOrigins {
        AllowedOrigins::new(&hosts.iter().map(|h| h.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn an_origin_is_allowed_by_its_host_alone() {
        let allowed = origins(&["localhost", "127.0.0.1", "::1", "chat.example.com:8443"]);
        for origin in [
            "http://localhost",
            "http://localhost:6274",
            "https://LOCALHOST",
            "http://127.0.0.1:8080",
            "http://[::1]:3000",
            "https://chat.example.com",
        ] {
            assert!(allowed.allows(origin), "{origin}");
        }
        for origin in [
            "null",
            "localhost",
            "http://attacker.example",
            "http://localhost.attacker.example",
            "http://127.0.0.1.nip.io",
            "http://[::2]",
            "https://example.com",
        ] {
            assert!(!allowed.allows(origin), "{origin}");
        }
        assert!(origins(&["*"]).allows("http://anything.example"));
    }
}
