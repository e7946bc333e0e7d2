//! Cross-origin calls from browsers: which web origins may call a server's port from a page
//! of their own (gRPC-Web, the chatbot's JSON API). Off by default, so a page may call only
//! from the port's own origin (the chatbot's page does); `--cors-allow-origin` names the
//! origins, or `*` for any.
//!
//! The policy itself is tower-http's `CorsLayer`: it answers a browser's preflight `OPTIONS`
//! and marks the answers the browser may hand to the page. This module only turns the flag into
//! that layer, with what gRPC-Web needs: `POST`, the request headers the page asks for (gRPC
//! metadata is open-ended), and the gRPC status headers exposed to the page, since a gRPC-Web
//! error without a body (trailers-only) carries `grpc-status` in the headers.

use std::time::Duration;

use http::{HeaderName, HeaderValue, Method};
use tower_http::cors::{AllowHeaders, AllowOrigin, CorsLayer, ExposeHeaders};

/// The response headers a page may read besides the CORS-safelisted ones.
const EXPOSED: [&str; 4] = [
    "grpc-status",
    "grpc-message",
    "grpc-status-details-bin",
    "retry-after",
];

/// How long a browser may reuse a preflight answer.
const MAX_AGE: Duration = Duration::from_secs(600);

/// Which web origins may call the port from a browser.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct CorsArgs {
    /// Web origins whose pages may call this port from a browser (gRPC-Web, the JSON API),
    /// comma-separated, e.g. `https://app.example.com`; `*` allows any origin. Off by default:
    /// only pages served from the port itself may call it.
    #[arg(long = "cors-allow-origin", env = "CHATMESH_CORS_ALLOW_ORIGINS", value_name = "ORIGINS",
          value_delimiter = ',', value_parser = parse_origin)]
    pub allow_origins: Vec<Origin>,
}

/// One allowed origin: `*`, or `scheme://host[:port]` as a browser sends it in `Origin`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// Any origin.
    Any,
    /// This origin only.
    Exact(HeaderValue),
}

/// The flag's value parser: `*`, or an `http`/`https` origin without path, query or user.
fn parse_origin(text: &str) -> Result<Origin, String> {
    let text = text.trim();
    if text == "*" {
        return Ok(Origin::Any);
    }
    let uri: http::Uri = text
        .parse()
        .map_err(|e| format!("not an origin such as https://app.example.com: {e}"))?;
    let scheme_ok = matches!(uri.scheme_str(), Some("http" | "https"));
    let authority = uri.authority().map(|a| a.as_str()).unwrap_or_default();
    let bare = !authority.is_empty()
        && !authority.contains('@')
        && matches!(uri.path(), "" | "/")
        && uri.query().is_none()
        && !text.ends_with('/');
    if !scheme_ok || !bare {
        return Err(
            "an origin is http:// or https://, a host and an optional port, nothing after it"
                .into(),
        );
    }
    HeaderValue::from_str(text)
        .map(Origin::Exact)
        .map_err(|e| e.to_string())
}

/// The layer the flag asks for, or `None` when no origin is allowed.
pub(crate) fn layer(args: &CorsArgs) -> Option<CorsLayer> {
    if args.allow_origins.is_empty() {
        return None;
    }
    let origin = if args.allow_origins.contains(&Origin::Any) {
        AllowOrigin::any()
    } else {
        AllowOrigin::list(args.allow_origins.iter().filter_map(|origin| match origin {
            Origin::Exact(value) => Some(value.clone()),
            Origin::Any => None,
        }))
    };
    let exposed = EXPOSED.map(HeaderName::from_static);
    Some(
        CorsLayer::new()
            .allow_origin(origin)
            .allow_methods([Method::POST, Method::GET])
            .allow_headers(AllowHeaders::mirror_request())
            .expose_headers(ExposeHeaders::list(exposed))
            .max_age(MAX_AGE),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_checked_when_read() {
        assert_eq!(parse_origin("*"), Ok(Origin::Any));
        assert_eq!(
            parse_origin("https://app.example.com:8443"),
            Ok(Origin::Exact(HeaderValue::from_static(
                "https://app.example.com:8443"
            )))
        );
        for bad in [
            "app.example.com",
            "ftp://app.example.com",
            "https://app.example.com/",
            "https://app.example.com/page",
            "https://user@app.example.com",
            "https://app.example.com?x=1",
            "",
        ] {
            assert!(parse_origin(bad).is_err(), "{bad} was accepted");
        }
    }

    #[test]
    fn no_origin_means_no_layer() {
        assert!(layer(&CorsArgs::default()).is_none());
        let args = CorsArgs {
            allow_origins: vec![Origin::Any],
        };
        assert!(layer(&args).is_some());
    }
}
