//! Free-form Cypher hints at the edge (#18.3): `hints.cypher` sends the user's own query to the
//! graph service, where it runs as written (read-only, but a read can be expensive). So it is
//! off by default, and on only for the users the operator names with `--cypher-hint-principals`
//! (a static token's `token-<n>`, a JWT's `sub`; `*` for every caller, authenticated or not).
//! A refusal is PERMISSION_DENIED (HTTP 403) naming the setting. The router checks again that
//! such a hint comes from the chatbot (or `admin`).

use chatmesh_proto::router::RouteHints;
use chatmesh_runtime::auth::{NamedPrincipals, Principal};

use crate::error::ChatError;

/// The setting that names the users allowed Cypher hints.
const SETTING: &str = "--cypher-hint-principals (CHATMESH_CYPHER_HINT_PRINCIPALS)";

/// Who may send a Cypher hint.
#[derive(Debug, Clone, Default)]
pub(crate) struct FreeQuery {
    allowed: NamedPrincipals,
}

impl FreeQuery {
    /// Allowed for the principals in `names` (none: off).
    pub(crate) fn new(names: &[String]) -> Self {
        Self {
            allowed: NamedPrincipals::new(names),
        }
    }

    /// Passes a request without a Cypher hint, or one from a named principal (`None`:
    /// authentication is off).
    pub(crate) fn check(
        &self,
        hints: Option<&RouteHints>,
        principal: Option<&Principal>,
    ) -> Result<(), ChatError> {
        if hints.is_none_or(|h| h.cypher.is_none()) || self.allowed.allows(principal) {
            return Ok(());
        }
        Err(ChatError::PermissionDenied(match principal {
            _ if self.allowed.is_empty() => format!(
                "hints.cypher: free-form Cypher hints are off; the operator allows them for \
                 named users with {SETTING}"
            ),
            Some(p) => format!(
                "hints.cypher: '{}' may not send Cypher hints ({SETTING} does not name it)",
                p.subject
            ),
            None => format!("hints.cypher: needs an authenticated user named in {SETTING}"),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cypher() -> Option<RouteHints> {
        Some(RouteHints {
            cypher: Some("MATCH (n) RETURN n".into()),
            ..RouteHints::default()
        })
    }

    #[test]
    fn off_by_default_and_on_for_named_users() {
        let user = Principal::user("token-2");
        let off = FreeQuery::default();
        assert!(off.check(None, None).is_ok());
        assert!(off.check(Some(&RouteHints::default()), None).is_ok());
        let err = off.check(cypher().as_ref(), Some(&user)).unwrap_err();
        assert!(err.to_string().contains("are off"), "{err}");
        let named = FreeQuery::new(&["token-2".into()]);
        assert!(named.check(cypher().as_ref(), Some(&user)).is_ok());
        let other = named
            .check(cypher().as_ref(), Some(&Principal::user("token-1")))
            .unwrap_err();
        assert!(other.to_string().contains("'token-1' may not"), "{other}");
        assert!(named.check(cypher().as_ref(), None).is_err());
        assert!(
            FreeQuery::new(&["*".into()])
                .check(cypher().as_ref(), None)
                .is_ok()
        );
    }
}
