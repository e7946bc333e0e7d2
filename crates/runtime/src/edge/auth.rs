//! Bearer-token authentication at the edge: the public paths a service names (the chatbot's
//! ChatService and `POST /v1/chat`, the router's `/mcp`) ask for `authorization: Bearer <token>`,
//! where the token is one of a list of static tokens or a JWT signed with HS256 or RS256 whose
//! `exp` and `aud` (and `iss`, when configured) are checked. Everything else on the port (health,
//! reflection, `/metrics`) stays open so that probes and tools keep working.
//!
//! A missing or refused token gets UNAUTHENTICATED (gRPC) or 401 with `WWW-Authenticate: Bearer`
//! (HTTP). Tokens never reach a log: [`Secret`] hides them from `Debug`, the refusal messages
//! name only the reason, and the layer removes the `authorization` header from an accepted
//! request, so handlers below never see it. The caller's identity travels on as a
//! [`Principal`] in the request's extensions (the rate limiter keys on it).
//!
//! Off unless at least one of the token settings is given. The client side (sending a token) is
//! `crate::clients::bearer`; the flags' [`Secret`] keeps tokens out of `Debug`.
//!
//! This is the users' side of identity. Services calling services are checked by
//! `super::callers` on the paths that are not public (a client certificate's name or a peer
//! token), with the same [`Principal`] as the outcome.

use std::path::{Path, PathBuf};

use http::{HeaderMap, HeaderValue, StatusCode};
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use subtle::ConstantTimeEq;
use tonic::Code;

use super::gate::{EdgeGateLayer, EdgePolicy};
use super::identity::Principal;
use super::refusal::Refusal;
use crate::setting::{ConfigError, Secret};

/// Who may call the edge paths.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct AuthArgs {
    /// File of accepted static bearer tokens, one per line (blank lines and lines starting with
    /// `#` are ignored). Turns authentication on for the public API.
    #[arg(long, env = "CHATMESH_AUTH_TOKENS_FILE", value_name = "PATH")]
    pub auth_tokens_file: Option<PathBuf>,

    /// Accepted static bearer tokens, comma-separated. Prefer the environment variable or
    /// --auth-tokens-file: a flag's value shows in the process list.
    #[arg(
        long,
        env = "CHATMESH_AUTH_TOKENS",
        value_name = "TOKENS",
        value_delimiter = ',',
        hide_env_values = true
    )]
    pub auth_tokens: Vec<Secret>,

    /// File holding the HS256 secret; bearer JWTs signed with it are accepted.
    #[arg(long, env = "CHATMESH_JWT_HS256_SECRET_FILE", value_name = "PATH")]
    pub jwt_hs256_secret_file: Option<PathBuf>,

    /// PEM file of the RSA public key; bearer JWTs signed RS256 with its private key are
    /// accepted.
    #[arg(long, env = "CHATMESH_JWT_RS256_PUBLIC_KEY_FILE", value_name = "PATH")]
    pub jwt_rs256_public_key_file: Option<PathBuf>,

    /// The `aud` a JWT must carry (required when a JWT key is given).
    #[arg(long, env = "CHATMESH_JWT_AUDIENCE", value_name = "AUDIENCE")]
    pub jwt_audience: Option<String>,

    /// The `iss` a JWT must carry [default: any issuer].
    #[arg(long, env = "CHATMESH_JWT_ISSUER", value_name = "ISSUER")]
    pub jwt_issuer: Option<String>,
}

/// Why a request was not authenticated. The messages never contain the token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum AuthError {
    /// No `authorization` header.
    #[error("missing bearer token: send the header `authorization: Bearer <token>`")]
    Missing,
    /// An `authorization` header that is not `Bearer <token>`.
    #[error("the authorization header is not `Bearer <token>`")]
    NotBearer,
    /// A token that is neither a known static token nor a valid JWT.
    #[error("invalid bearer token: {0}")]
    Invalid(&'static str),
}

/// Checks bearer tokens against the configured static tokens and JWT keys.
pub(crate) struct Authenticator {
    tokens: Vec<Secret>,
    jwt: Vec<JwtKey>,
}

struct JwtKey {
    key: DecodingKey,
    validation: Validation,
}

impl std::fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authenticator")
            .field("static_tokens", &self.tokens.len())
            .field("jwt_keys", &self.jwt.len())
            .finish()
    }
}

impl Authenticator {
    /// The authenticator the settings ask for, or `None` when authentication is off. Reads the
    /// token and key files; an unreadable or unusable one is a [`ConfigError`] naming it.
    pub(crate) fn from_args(args: &AuthArgs) -> Result<Option<Self>, ConfigError> {
        let mut tokens: Vec<Secret> = args
            .auth_tokens
            .iter()
            .filter(|t| !t.expose().trim().is_empty())
            .map(|t| Secret::new(t.expose().trim()))
            .collect();
        if let Some(path) = &args.auth_tokens_file {
            let setting = "--auth-tokens-file (CHATMESH_AUTH_TOKENS_FILE)";
            let text = read(path, setting)?;
            let from_file: Vec<Secret> = text
                .lines()
                .map(str::trim)
                .filter(|line| !line.is_empty() && !line.starts_with('#'))
                .map(Secret::new)
                .collect();
            if from_file.is_empty() {
                return Err(config_error(setting, path, "the file holds no token"));
            }
            tokens.extend(from_file);
        }
        let mut jwt = Vec::new();
        if let Some(path) = &args.jwt_hs256_secret_file {
            let setting = "--jwt-hs256-secret-file (CHATMESH_JWT_HS256_SECRET_FILE)";
            let secret = read(path, setting)?;
            let secret = secret.trim_end_matches(['\r', '\n']);
            if secret.len() < 32 {
                return Err(config_error(
                    setting,
                    path,
                    "the secret must be at least 32 bytes",
                ));
            }
            let key = DecodingKey::from_secret(secret.as_bytes());
            jwt.push(JwtKey::new(key, Algorithm::HS256, args)?);
        }
        if let Some(path) = &args.jwt_rs256_public_key_file {
            let setting = "--jwt-rs256-public-key-file (CHATMESH_JWT_RS256_PUBLIC_KEY_FILE)";
            let pem = read(path, setting)?;
            let key = DecodingKey::from_rsa_pem(pem.as_bytes())
                .map_err(|e| config_error(setting, path, &format!("not an RSA public key: {e}")))?;
            jwt.push(JwtKey::new(key, Algorithm::RS256, args)?);
        }
        if jwt.is_empty() && (args.jwt_audience.is_some() || args.jwt_issuer.is_some()) {
            return Err(ConfigError {
                setting: "--jwt-audience / --jwt-issuer".into(),
                value: String::new(),
                reason: "needs --jwt-hs256-secret-file or --jwt-rs256-public-key-file".into(),
            });
        }
        if tokens.is_empty() && jwt.is_empty() {
            return Ok(None);
        }
        Ok(Some(Self { tokens, jwt }))
    }

    /// The caller named by the `authorization` header, or why it is refused.
    pub(crate) fn authenticate(&self, headers: &HeaderMap) -> Result<Principal, AuthError> {
        let token = bearer_token(headers)?;
        if let Some(n) = self.static_token(token) {
            return Ok(Principal::user(format!("token-{n}")));
        }
        if self.jwt.is_empty() {
            return Err(AuthError::Invalid("not an accepted token"));
        }
        self.jwt(token)
    }

    /// The 1-based number of the static token equal to `token`.
    fn static_token(&self, token: &str) -> Option<usize> {
        find_token(&self.tokens, token).map(|i| i + 1)
    }

    fn jwt(&self, token: &str) -> Result<Principal, AuthError> {
        let header = jsonwebtoken::decode_header(token)
            .map_err(|_| AuthError::Invalid("not an accepted token or JWT"))?;
        let key = self
            .jwt
            .iter()
            .find(|k| k.validation.algorithms.contains(&header.alg))
            .ok_or(AuthError::Invalid("JWT algorithm not accepted"))?;
        let data = jsonwebtoken::decode::<Claims>(token, &key.key, &key.validation)
            .map_err(|e| AuthError::Invalid(jwt_reason(e.kind())))?;
        Ok(Principal::user(
            data.claims.sub.unwrap_or_else(|| "jwt".to_owned()),
        ))
    }
}

impl JwtKey {
    fn new(key: DecodingKey, algorithm: Algorithm, args: &AuthArgs) -> Result<Self, ConfigError> {
        let Some(audience) = &args.jwt_audience else {
            return Err(ConfigError {
                setting: "--jwt-audience (CHATMESH_JWT_AUDIENCE)".into(),
                value: String::new(),
                reason: "required when a JWT key is given".into(),
            });
        };
        let mut validation = Validation::new(algorithm);
        validation.leeway = 30;
        validation.validate_nbf = true;
        validation.set_audience(&[audience]);
        let mut required = vec!["exp", "aud"];
        if let Some(issuer) = &args.jwt_issuer {
            validation.set_issuer(&[issuer]);
            required.push("iss");
        }
        validation.set_required_spec_claims(&required);
        Ok(Self { key, validation })
    }
}

/// The claims read from an accepted JWT (the checked ones are checked by `jsonwebtoken`).
#[derive(serde::Deserialize)]
struct Claims {
    sub: Option<String>,
}

/// The index of the secret in `known` equal to `token`, comparing every one in constant time
/// so that timing does not reveal how much of a guess was right.
pub(crate) fn find_token(known: &[Secret], token: &str) -> Option<usize> {
    let mut found = None;
    for (i, known) in known.iter().enumerate() {
        if bool::from(known.expose().as_bytes().ct_eq(token.as_bytes())) {
            found = Some(i);
        }
    }
    found
}

/// The token of an `authorization: Bearer <token>` header (the scheme in any case).
pub(crate) fn bearer_token(headers: &HeaderMap) -> Result<&str, AuthError> {
    let value = headers
        .get(http::header::AUTHORIZATION)
        .ok_or(AuthError::Missing)?;
    let value = value.to_str().map_err(|_| AuthError::NotBearer)?;
    let (scheme, token) = value.split_once(' ').ok_or(AuthError::NotBearer)?;
    let token = token.trim();
    if !scheme.eq_ignore_ascii_case("bearer") || token.is_empty() {
        return Err(AuthError::NotBearer);
    }
    Ok(token)
}

fn jwt_reason(kind: &ErrorKind) -> &'static str {
    match kind {
        ErrorKind::ExpiredSignature => "JWT expired",
        ErrorKind::ImmatureSignature => "JWT not valid yet (nbf)",
        ErrorKind::InvalidAudience => "JWT audience not accepted",
        ErrorKind::InvalidIssuer => "JWT issuer not accepted",
        ErrorKind::InvalidSignature => "JWT signature does not verify",
        ErrorKind::InvalidAlgorithm => "JWT algorithm not accepted",
        ErrorKind::MissingRequiredClaim(claim) if claim == "exp" => "JWT has no exp claim",
        ErrorKind::MissingRequiredClaim(claim) if claim == "aud" => "JWT has no aud claim",
        ErrorKind::MissingRequiredClaim(_) => "JWT lacks a required claim",
        _ => "malformed JWT",
    }
}

fn read(path: &Path, setting: &str) -> Result<String, ConfigError> {
    std::fs::read_to_string(path)
        .map_err(|e| config_error(setting, path, &format!("cannot read it: {e}")))
}

fn config_error(setting: &str, path: &Path, reason: &str) -> ConfigError {
    ConfigError::new(setting, path.display().to_string(), reason)
}

/// Authentication as an edge policy: the token must pass; the `authorization` header is then
/// removed and the caller's [`Principal`] put in the request's extensions.
impl EdgePolicy for Authenticator {
    fn admit<B>(&self, request: &mut http::Request<B>) -> Result<(), Refusal> {
        match self.authenticate(request.headers()) {
            Ok(principal) => {
                request.headers_mut().remove(http::header::AUTHORIZATION);
                request.extensions_mut().insert(principal);
                Ok(())
            }
            Err(error) => {
                tracing::debug!(path = request.uri().path(), %error, "request not authenticated");
                let challenge = match error {
                    AuthError::Missing => HeaderValue::from_static("Bearer realm=\"chatmesh\""),
                    _ => HeaderValue::from_static(
                        "Bearer realm=\"chatmesh\", error=\"invalid_token\"",
                    ),
                };
                Err(Refusal::new(
                    Code::Unauthenticated,
                    StatusCode::UNAUTHORIZED,
                    error.to_string(),
                )
                .header(http::header::WWW_AUTHENTICATE, challenge))
            }
        }
    }
}

/// Asks for a bearer token on the edge paths (a no-op when authentication is off).
pub(crate) type AuthLayer = EdgeGateLayer<Authenticator>;

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(http::header::AUTHORIZATION, value.parse().unwrap());
        headers
    }

    fn static_tokens(tokens: &[&str]) -> Authenticator {
        let args = AuthArgs {
            auth_tokens: tokens.iter().map(|t| t.parse().unwrap()).collect(),
            ..AuthArgs::default()
        };
        Authenticator::from_args(&args).unwrap().unwrap()
    }

    #[test]
    fn off_without_settings_and_blank_tokens_do_not_count() {
        assert!(
            Authenticator::from_args(&AuthArgs::default())
                .unwrap()
                .is_none()
        );
        let blank = AuthArgs {
            auth_tokens: vec!["".parse().unwrap(), " ".parse().unwrap()],
            ..AuthArgs::default()
        };
        assert!(Authenticator::from_args(&blank).unwrap().is_none());
    }

    #[test]
    fn static_tokens_name_their_number_never_the_token() {
        let auth = static_tokens(&["alpha-token", "beta-token"]);
        let principal = auth.authenticate(&headers("Bearer beta-token")).unwrap();
        assert_eq!(principal.subject, "token-2");
        assert_eq!(
            auth.authenticate(&headers("bearer alpha-token"))
                .unwrap()
                .subject,
            "token-1"
        );
    }

    #[test]
    fn refusals_say_why_without_the_token() {
        let auth = static_tokens(&["alpha-token"]);
        assert_eq!(
            auth.authenticate(&HeaderMap::new()),
            Err(AuthError::Missing)
        );
        assert_eq!(
            auth.authenticate(&headers("Basic alpha-token")),
            Err(AuthError::NotBearer)
        );
        assert_eq!(
            auth.authenticate(&headers("Bearer")),
            Err(AuthError::NotBearer)
        );
        let wrong = auth
            .authenticate(&headers("Bearer alpha-tokem"))
            .unwrap_err();
        assert!(!wrong.to_string().contains("alpha"), "{wrong}");
    }

    #[test]
    fn jwt_settings_need_an_audience_and_a_long_secret() {
        let dir = tempfile::tempdir().unwrap();
        let secret = dir.path().join("secret");
        std::fs::write(&secret, "0123456789abcdef0123456789abcdef\n").unwrap();
        let mut args = AuthArgs {
            jwt_hs256_secret_file: Some(secret.clone()),
            ..AuthArgs::default()
        };
        let err = Authenticator::from_args(&args).unwrap_err();
        assert!(err.setting.contains("--jwt-audience"), "{err}");
        args.jwt_audience = Some("chatmesh".into());
        assert!(Authenticator::from_args(&args).unwrap().is_some());
        std::fs::write(&secret, "short").unwrap();
        let err = Authenticator::from_args(&args).unwrap_err();
        assert!(err.reason.contains("32 bytes"), "{err}");
        assert!(!err.to_string().contains("short"), "{err}");
    }

    #[test]
    fn unreadable_and_empty_token_files_are_config_errors() {
        let dir = tempfile::tempdir().unwrap();
        let mut args = AuthArgs {
            auth_tokens_file: Some(dir.path().join("missing")),
            ..AuthArgs::default()
        };
        let err = Authenticator::from_args(&args).unwrap_err();
        assert!(err.reason.starts_with("cannot read it"), "{err}");
        let empty = dir.path().join("empty");
        std::fs::write(&empty, "# only a comment\n\n").unwrap();
        args.auth_tokens_file = Some(empty);
        let err = Authenticator::from_args(&args).unwrap_err();
        assert!(err.reason.contains("no token"), "{err}");
    }

    #[test]
    fn secrets_do_not_debug_print() {
        let args = AuthArgs {
            auth_tokens: vec!["s3cr3t-value".parse().unwrap()],
            ..AuthArgs::default()
        };
        assert!(!format!("{args:?}").contains("s3cr3t"));
    }
}
