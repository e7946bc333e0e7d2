//! Free-form Cypher — a Route's `hints.cypher` and the `graph_query` tool — reaches the graph as
//! written, so it is the one input a caller could use to make the graph work hard (#18.2, #18.3).
//! Who may send it:
//!
//! - on the gRPC API, when callers are checked, only the chatbot (which admits it only from the
//!   users its operator names with `--cypher-hint-principals`) and the operators' `admin`
//!   identity: the defence in depth behind the chatbot's own check, should `--allow-callers`
//!   let another service in;
//! - on `/mcp`, only the users named with `--cypher-hint-principals` (`*` for everyone); off by
//!   default, like the chatbot's hint.
//!
//! The graph refuses writes from the router either way (it is not a writer), so what is at stake
//! is the cost of a read, not the data.

use chatmesh_runtime::auth::{ADMIN, Caller, NamedPrincipals, Principal};
use tonic::Status;

/// The MCP tool that runs a free-form query.
pub(crate) const TOOL: &str = "graph_query";

/// The callers whose free-form queries the gRPC API accepts when callers are checked.
const CALLERS: [&str; 2] = ["chatbot", ADMIN];

/// The setting that names the users allowed free-form queries.
const SETTING: &str = "--cypher-hint-principals (CHATMESH_CYPHER_HINT_PRINCIPALS)";

/// A gRPC call carrying a free-form query (`detail` says how, e.g. `" with hints.cypher"`):
/// refused with PERMISSION_DENIED when callers are checked and the caller is neither the
/// chatbot nor `admin`.
pub(crate) fn check_caller(caller: Option<&Caller>, detail: &str) -> Result<(), Status> {
    match caller {
        Some(caller) if !CALLERS.contains(&caller.name.as_str()) => Err(caller.refusal(
            detail,
            "free-form Cypher is accepted from the chatbot and admin only",
        )),
        _ => Ok(()),
    }
}

/// A `/mcp` call of [`TOOL`] by `principal` (`None`: authentication is off): the refusal's
/// text when the operator has not named the caller.
pub(crate) fn check_user(
    allowed: &NamedPrincipals,
    principal: Option<&Principal>,
) -> Result<(), String> {
    if allowed.allows(principal) {
        return Ok(());
    }
    Err(match principal {
        _ if allowed.is_empty() => format!(
            "PERMISSION_DENIED: {TOOL} runs free-form Cypher, which is off on this router; the \
             operator allows it for named users with {SETTING}"
        ),
        Some(p) => format!(
            "PERMISSION_DENIED: '{}' may not call {TOOL} ({SETTING} does not name it)",
            p.subject
        ),
        None => format!("PERMISSION_DENIED: {TOOL} needs an authenticated user named in {SETTING}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caller(name: &str) -> Caller {
        Caller {
            name: name.into(),
            method: "chatmesh.router.v1.RouterService/Route".into(),
            may_write: false,
        }
    }

    #[test]
    fn only_the_chatbot_and_admin_send_free_form_queries_when_callers_are_checked() {
        assert!(check_caller(None, "").is_ok());
        assert!(check_caller(Some(&caller("chatbot")), "").is_ok());
        assert!(check_caller(Some(&caller("admin")), "").is_ok());
        let refused = check_caller(Some(&caller("vector")), " with hints.cypher").unwrap_err();
        assert_eq!(refused.code(), tonic::Code::PermissionDenied);
        assert!(
            refused.message().starts_with(
                "caller 'vector' may not call chatmesh.router.v1.RouterService/Route with hints.cypher"
            ),
            "{}",
            refused.message()
        );
    }

    #[test]
    fn mcp_users_need_naming() {
        let off = NamedPrincipals::default();
        let err = check_user(&off, Some(&Principal::user("token-1"))).unwrap_err();
        assert!(err.contains("off on this router"), "{err}");
        let named = NamedPrincipals::new(["alice"]);
        assert!(check_user(&named, Some(&Principal::user("alice"))).is_ok());
        let err = check_user(&named, Some(&Principal::user("bob"))).unwrap_err();
        assert!(err.contains("'bob' may not call graph_query"), "{err}");
        assert!(check_user(&named, None).is_err());
        assert!(check_user(&NamedPrincipals::new(["*"]), None).is_ok());
    }
}
