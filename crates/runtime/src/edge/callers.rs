//! Every hop checks its caller: on a service's own gRPC API (the paths that are not public),
//! each request must come from a caller the service's policy allows. The caller is named by the
//! connection's client certificate under mTLS (its first DNS name, see `crate::tls::peer`), else
//! by a peer token (`authorization: Bearer <token>` looked up in `super::peer_tokens`). The
//! policy is two lists: who may call the service's read methods (`--allow-callers`) and who may
//! call the methods that write (`--allow-writers`, also allowed to read), with the topology's
//! defaults declared by each service ([`CallerRules`]): chatbot → router → backends, and the
//! operators' `admin` identity.
//!
//! No identity: UNAUTHENTICATED. A known caller the lists do not allow: PERMISSION_DENIED naming
//! the caller and the method. An admitted request carries the caller as a [`Principal`] and
//! the verdict as a [`Caller`] (a handler whose method writes only in some modes checks
//! [`Caller::may_write`]); its `authorization` header is removed.
//!
//! The check is on when the service has an identity source: mTLS with required client
//! certificates, or a non-empty peer tokens table. Without either there is nothing to check a
//! caller against, so the API stays open (the default `chatmesh up`, plain compose) and the
//! server says so once at start. Health, reflection, `/metrics` and the public paths are never
//! checked here (the public ones have user authentication, `super::auth`).

use std::path::PathBuf;

use http::StatusCode;
use tonic::Code;

use super::auth::{AuthError, bearer_token};
use super::gate::{EdgeGateLayer, EdgePolicy};
use super::identity::{Caller, PeerName, Principal};
use super::peer_tokens::{PeerToken, PeerTokens, parse_peer_token};
use super::refusal::Refusal;
use crate::setting::ConfigError;
use crate::tls::TlsArgs;

/// The operators' identity: the name an operator's client certificate (first DNS name `admin`,
/// from the mesh CA) or peer token gives its holder. Every data service lets it read and write
/// by default, and the router lets it call. `chatmesh certs` does not issue it.
pub const ADMIN: &str = "admin";

const CALLERS_SETTING: &str = "--allow-callers (CHATMESH_ALLOW_CALLERS)";
const WRITERS_SETTING: &str = "--allow-writers (CHATMESH_ALLOW_WRITERS)";

/// Who may call this service's own API, and how callers prove who they are.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct CallerArgs {
    /// File of the tokens other services present to this one, one `NAME TOKEN` per line (`#`
    /// comments). A non-empty table turns the caller check on.
    #[arg(long, env = "CHATMESH_PEER_TOKENS_FILE", value_name = "PATH")]
    pub peer_tokens_file: Option<PathBuf>,

    /// Peer tokens as `NAME:TOKEN`, comma-separated (an empty token is skipped). Prefer the
    /// environment variable or --peer-tokens-file: a flag's value shows in the process list.
    #[arg(long, env = "CHATMESH_PEER_TOKENS", value_name = "NAME:TOKEN",
          value_delimiter = ',', hide_env_values = true, value_parser = parse_peer_token)]
    pub peer_tokens: Vec<PeerToken>,

    /// Callers allowed to call this service's read methods, comma-separated names (a client
    /// certificate's first DNS name, a peer token's name) [default: the service's callers in
    /// the topology: router → chatbot, admin; graph, vector, relational → router, admin].
    #[arg(
        long,
        env = "CHATMESH_ALLOW_CALLERS",
        value_name = "NAMES",
        value_delimiter = ','
    )]
    pub allow_callers: Option<Vec<String>>,

    /// Callers allowed to call this service's methods that write (and to read) [default: admin].
    #[arg(
        long,
        env = "CHATMESH_ALLOW_WRITERS",
        value_name = "NAMES",
        value_delimiter = ','
    )]
    pub allow_writers: Option<Vec<String>>,
}

impl CallerArgs {
    /// Start-up check: the names are names, and the peer tokens load.
    pub fn validate(&self) -> Result<(), ConfigError> {
        names(self.allow_callers.as_deref(), CALLERS_SETTING)?;
        names(self.allow_writers.as_deref(), WRITERS_SETTING)?;
        self.tokens().map(drop)
    }

    fn tokens(&self) -> Result<PeerTokens, ConfigError> {
        PeerTokens::load(&self.peer_tokens, self.peer_tokens_file.as_deref())
    }
}

/// The names of an allow list, trimmed and lower-cased (blank entries dropped); `None` when the
/// setting was not given.
fn names(list: Option<&[String]>, setting: &str) -> Result<Option<Vec<String>>, ConfigError> {
    let Some(list) = list else {
        return Ok(None);
    };
    let mut names = Vec::new();
    for name in list.iter().map(|n| n.trim()).filter(|n| !n.is_empty()) {
        if !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'))
        {
            return Err(ConfigError::new(
                setting,
                name,
                "a caller name is letters, digits, '-', '.' or '_'",
            ));
        }
        names.push(name.to_ascii_lowercase());
    }
    Ok(Some(names))
}

/// What a service declares about its own API: its gRPC service, the callers and writers the
/// topology gives it by default, and which of its methods write. Methods not listed read (a
/// method that writes only in some modes checks [`Caller::may_write`] in its handler).
#[derive(Debug, Clone, Copy)]
pub struct CallerRules {
    service: &'static str,
    callers: &'static [&'static str],
    writers: &'static [&'static str],
    writes: &'static [&'static str],
}

impl CallerRules {
    /// The rules of the gRPC service `service` (`package.Service`): nobody may call it until
    /// [`Self::callers`] and [`Self::writers`] say who.
    pub const fn new(service: &'static str) -> Self {
        Self {
            service,
            callers: &[],
            writers: &[],
            writes: &[],
        }
    }

    /// The default callers of the read methods.
    pub const fn callers(self, callers: &'static [&'static str]) -> Self {
        Self { callers, ..self }
    }

    /// The default callers of the methods that write.
    pub const fn writers(self, writers: &'static [&'static str]) -> Self {
        Self { writers, ..self }
    }

    /// The methods (bare names, `CreateNode`) that write.
    pub const fn writes(self, writes: &'static [&'static str]) -> Self {
        Self { writes, ..self }
    }

    /// The paths the check covers: the service's methods.
    pub(crate) fn path_prefix(&self) -> String {
        format!("/{}/", self.service)
    }
}

/// The check, for a service with an identity source.
pub(crate) struct CallerPolicy {
    rules: CallerRules,
    callers: Vec<String>,
    writers: Vec<String>,
    tokens: PeerTokens,
    certificates: bool,
}

impl std::fmt::Debug for CallerPolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CallerPolicy")
            .field("callers", &self.callers)
            .field("writers", &self.writers)
            .field("client_certificates", &self.certificates)
            .field("peer_tokens", &self.tokens)
            .finish()
    }
}

impl CallerPolicy {
    /// The check `args` and `tls` ask for, or `None` when the service has no identity source.
    pub(crate) fn new(
        rules: CallerRules,
        args: &CallerArgs,
        tls: &TlsArgs,
    ) -> Result<Option<Self>, ConfigError> {
        let tokens = args.tokens()?;
        let certificates = tls.requires_client_certificates();
        if tokens.is_empty() && !certificates {
            return Ok(None);
        }
        let defaults = |list: &[&str]| list.iter().map(|n| (*n).to_owned()).collect();
        let callers = names(args.allow_callers.as_deref(), CALLERS_SETTING)?;
        let writers = names(args.allow_writers.as_deref(), WRITERS_SETTING)?;
        Ok(Some(Self {
            rules,
            callers: callers.unwrap_or_else(|| defaults(rules.callers)),
            writers: writers.unwrap_or_else(|| defaults(rules.writers)),
            tokens,
            certificates,
        }))
    }

    /// Who is calling: the certificate's name, else the peer token's.
    fn identify<B>(&self, request: &http::Request<B>) -> Result<String, Refusal> {
        if let Some(PeerName(name)) = request.extensions().get::<PeerName>() {
            return Ok(name.to_string());
        }
        let unauthenticated = |message: String| {
            Refusal::new(Code::Unauthenticated, StatusCode::UNAUTHORIZED, message)
        };
        match bearer_token(request.headers()) {
            Ok(token) => self
                .tokens
                .name_of(token)
                .map(str::to_owned)
                .ok_or_else(|| {
                    unauthenticated(
                        "unknown peer token: this service's peer tokens do not hold it".into(),
                    )
                }),
            Err(AuthError::Missing) => Err(unauthenticated(format!(
                "no caller identity: {} checks who calls it; present {}",
                self.rules.service,
                if self.tokens.is_empty() {
                    "a client certificate from the mesh CA"
                } else {
                    "a client certificate from the mesh CA or a peer token (authorization: Bearer <token>)"
                }
            ))),
            Err(other) => Err(unauthenticated(other.to_string())),
        }
    }
}

impl EdgePolicy for CallerPolicy {
    fn admit<B>(&self, request: &mut http::Request<B>) -> Result<(), Refusal> {
        let path = request.uri().path();
        let method = path.rsplit('/').next().unwrap_or_default();
        let writes = self.rules.writes.contains(&method);
        let caller = Caller {
            name: String::new(),
            method: format!("{}/{method}", self.rules.service),
            may_write: false,
        };
        let name = self.identify(request).inspect_err(|_| {
            tracing::debug!(method = %caller.method, "caller not identified");
        })?;
        let may_write = self.writers.contains(&name);
        let allowed = may_write || (!writes && self.callers.contains(&name));
        let caller = Caller {
            name,
            may_write,
            ..caller
        };
        if !allowed {
            tracing::debug!(caller = %caller.name, method = %caller.method, "caller refused");
            let hint = if writes {
                format!("the service's {WRITERS_SETTING} does not name it")
            } else {
                format!("the service's {CALLERS_SETTING} does not name it")
            };
            return Err(Refusal::new(
                Code::PermissionDenied,
                StatusCode::FORBIDDEN,
                caller.denial("", &hint),
            ));
        }
        request.headers_mut().remove(http::header::AUTHORIZATION);
        request
            .extensions_mut()
            .insert(Principal::service(caller.name.clone()));
        request.extensions_mut().insert(caller);
        Ok(())
    }
}

/// Checks callers on a service's own API (a no-op without an identity source).
pub(crate) type CallersLayer = EdgeGateLayer<CallerPolicy>;

#[cfg(test)]
mod tests {
    use super::*;

    const RULES: CallerRules = CallerRules::new("chatmesh.graph.v1.GraphService")
        .callers(&["router", ADMIN])
        .writers(&[ADMIN])
        .writes(&["CreateNode"]);
    const ROUTER_TOKEN: &str = "router-token-0123456789";

    fn policy(args: CallerArgs) -> Option<CallerPolicy> {
        CallerPolicy::new(RULES, &args, &TlsArgs::default()).unwrap()
    }

    fn with_tokens() -> CallerPolicy {
        policy(CallerArgs {
            peer_tokens: vec![PeerToken::new("router", ROUTER_TOKEN)],
            ..CallerArgs::default()
        })
        .expect("peer tokens turn the check on")
    }

    fn request(method: &str, token: Option<&str>) -> http::Request<()> {
        let mut builder =
            http::Request::builder().uri(format!("/chatmesh.graph.v1.GraphService/{method}"));
        if let Some(token) = token {
            builder = builder.header("authorization", format!("Bearer {token}"));
        }
        builder.body(()).unwrap()
    }

    fn refusal_code(result: Result<(), Refusal>) -> String {
        let response = result.unwrap_err().into_response(true);
        response.headers()["grpc-status"]
            .to_str()
            .unwrap()
            .to_owned()
    }

    #[test]
    fn off_without_an_identity_source() {
        assert!(policy(CallerArgs::default()).is_none());
        let blank = CallerArgs {
            peer_tokens: vec![PeerToken::new("router", "")],
            ..CallerArgs::default()
        };
        assert!(policy(blank).is_none());
    }

    #[test]
    fn a_known_token_reads_and_is_named_without_its_header() {
        let policy = with_tokens();
        let mut request = request("GetNode", Some(ROUTER_TOKEN));
        policy.admit(&mut request).unwrap();
        assert!(request.headers().get("authorization").is_none());
        let caller = request.extensions().get::<Caller>().unwrap();
        assert_eq!(caller.name, "router");
        assert!(!caller.may_write);
        assert_eq!(
            request.extensions().get::<Principal>(),
            Some(&Principal::service("router"))
        );
    }

    #[test]
    fn no_or_unknown_identity_is_unauthenticated_and_a_reader_may_not_write() {
        let policy = with_tokens();
        assert_eq!(
            refusal_code(policy.admit(&mut request("GetNode", None))),
            "16"
        );
        let unknown = policy.admit(&mut request("GetNode", Some("guess-guess-guess-guess")));
        assert_eq!(refusal_code(unknown), "16");
        let write = policy.admit(&mut request("CreateNode", Some(ROUTER_TOKEN)));
        let response = write.unwrap_err().into_response(true);
        assert_eq!(response.headers()["grpc-status"], "7");
        let message = response.headers()["grpc-message"].to_str().unwrap();
        assert!(
            message.starts_with(
                "caller%20'router'%20may%20not%20call%20chatmesh.graph.v1.GraphService/CreateNode"
            ),
            "{message}"
        );
    }

    #[test]
    fn certificate_names_come_first_and_the_lists_can_be_replaced() {
        let policy = policy(CallerArgs {
            peer_tokens: vec![PeerToken::new("router", ROUTER_TOKEN)],
            allow_callers: Some(vec!["Vector".into()]),
            allow_writers: Some(vec![]),
            ..CallerArgs::default()
        })
        .unwrap();
        let mut request = request("GetNode", Some(ROUTER_TOKEN));
        request.extensions_mut().insert(PeerName("vector".into()));
        policy.admit(&mut request).unwrap();
        assert_eq!(request.extensions().get::<Caller>().unwrap().name, "vector");
        let mut router = self::request("GetNode", Some(ROUTER_TOKEN));
        assert_eq!(refusal_code(policy.admit(&mut router)), "7");
    }

    #[test]
    fn allow_lists_hold_names() {
        let bad = CallerArgs {
            allow_writers: Some(vec!["ad min".into()]),
            ..CallerArgs::default()
        };
        let err = bad.validate().unwrap_err();
        assert!(err.setting.contains("--allow-writers"), "{err}");
    }
}
