//! The client side of bearer tokens (the server side is `crate::edge::auth` for users and
//! `crate::edge::callers` for services): [`BearerToken`] sends `authorization: Bearer <token>`
//! with every call, as an interceptor (`chatmesh chat`, tests) or inside a
//! [`crate::channel::TracedChannel`] (service-to-service calls, the `chatmesh` commands). A
//! service's own token, which names it to the services it calls when there is no mTLS, comes
//! from [`ServiceTokenArgs`].

use std::path::PathBuf;

use tonic::metadata::{Ascii, MetadataValue};

use crate::setting::{ConfigError, Secret};

/// A client-side interceptor sending `authorization: Bearer <token>` with every call (nothing
/// without a token). The value is marked sensitive, so HTTP/2 never indexes it in HPACK tables.
#[derive(Clone, Default)]
pub struct BearerToken(Option<MetadataValue<Ascii>>);

impl BearerToken {
    /// The interceptor for `token`; fails when the token is not a valid header value.
    pub fn new(token: Option<&Secret>) -> Result<Self, String> {
        let Some(token) = token else {
            return Ok(Self(None));
        };
        let mut value: MetadataValue<_> = format!("Bearer {}", token.expose().trim())
            .parse()
            .map_err(|_| "the token has characters a header cannot carry".to_owned())?;
        value.set_sensitive(true);
        Ok(Self(Some(value)))
    }

    /// Whether a token is sent.
    pub fn is_set(&self) -> bool {
        self.0.is_some()
    }

    /// Puts the header into `headers` (a request's, below tonic).
    pub(crate) fn apply(&self, headers: &mut http::HeaderMap) {
        if let Some(value) = &self.0 {
            let mut header = http::HeaderValue::from_bytes(value.as_bytes())
                .expect("a metadata value is a header value");
            header.set_sensitive(true);
            headers.insert(http::header::AUTHORIZATION, header);
        }
    }
}

impl std::fmt::Debug for BearerToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() {
            "BearerToken(<redacted>)"
        } else {
            "BearerToken(None)"
        })
    }
}

impl tonic::service::Interceptor for BearerToken {
    fn call(
        &mut self,
        mut request: tonic::Request<()>,
    ) -> Result<tonic::Request<()>, tonic::Status> {
        if let Some(value) = &self.0 {
            request
                .metadata_mut()
                .insert("authorization", value.clone());
        }
        Ok(request)
    }
}

/// The token this service presents to the services it calls: its entry in their peer tokens
/// tables. Not needed under mTLS, where the client certificate names the service.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ServiceTokenArgs {
    /// File holding this service's token (the first line), sent as `authorization: Bearer` to
    /// the services it calls.
    #[arg(long, env = "CHATMESH_SERVICE_TOKEN_FILE", value_name = "PATH")]
    pub service_token_file: Option<PathBuf>,

    /// This service's token. Prefer the environment variable or --service-token-file: a flag's
    /// value shows in the process list.
    #[arg(
        long,
        env = "CHATMESH_SERVICE_TOKEN",
        value_name = "TOKEN",
        hide_env_values = true
    )]
    pub service_token: Option<Secret>,
}

impl ServiceTokenArgs {
    /// The token to send (the flag's, else the file's first line), or none.
    pub fn bearer(&self) -> Result<BearerToken, ConfigError> {
        const FILE: &str = "--service-token-file (CHATMESH_SERVICE_TOKEN_FILE)";
        let token = match (&self.service_token, &self.service_token_file) {
            (Some(token), _) if !token.expose().trim().is_empty() => Some(token.clone()),
            (_, Some(path)) => {
                let shown = path.display().to_string();
                let text = std::fs::read_to_string(path)
                    .map_err(|e| ConfigError::new(FILE, &shown, format!("cannot read it: {e}")))?;
                let line = text.lines().next().unwrap_or_default().trim();
                if line.is_empty() {
                    return Err(ConfigError::new(FILE, shown, "the file holds no token"));
                }
                Some(Secret::new(line))
            }
            _ => None,
        };
        BearerToken::new(token.as_ref()).map_err(|reason| {
            ConfigError::new(
                "--service-token (CHATMESH_SERVICE_TOKEN)",
                "<hidden>",
                reason,
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_flag_wins_over_the_file_and_a_blank_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("token");
        std::fs::write(&file, "from-file-0123456789\n").unwrap();
        let mut args = ServiceTokenArgs {
            service_token_file: Some(file.clone()),
            ..ServiceTokenArgs::default()
        };
        let mut headers = http::HeaderMap::new();
        args.bearer().unwrap().apply(&mut headers);
        assert_eq!(headers["authorization"], "Bearer from-file-0123456789");
        args.service_token = Some(Secret::new("from-flag"));
        args.bearer().unwrap().apply(&mut headers);
        assert_eq!(headers["authorization"], "Bearer from-flag");
        assert!(headers["authorization"].is_sensitive());
        std::fs::write(&file, "\n").unwrap();
        args.service_token = None;
        assert!(args.bearer().unwrap_err().reason.contains("no token"));
        assert!(!ServiceTokenArgs::default().bearer().unwrap().is_set());
    }
}
