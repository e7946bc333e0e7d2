//! Who is calling, as the edge policies put it in an admitted request's extensions for the
//! layers after them and the handlers to read. Two sources make a [`Principal`]: bearer-token
//! authentication of users on the public paths (`super::auth`), and the caller check of
//! service-to-service paths (`super::callers`, from a client certificate's name or a peer token),
//! which also leaves its verdict as a [`Caller`]. The readers are the per-client rate limit
//! (`super::rate_limit`) and handlers whose rule depends on the request's body (a graph query in
//! write mode, a free-form query hint). It sits apart from its sources and readers so that none
//! of them depends on another.

use std::sync::Arc;

use tonic::Status;

/// The authenticated caller, in the extensions of an accepted request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// A user: `token-<n>` for the n-th static token (1-based), the JWT's `sub` for a JWT (`jwt`
    /// when it has none). Never the token itself. A service: its name (`router`, `admin`).
    pub subject: String,
    /// Whether a user token or a service identity named it.
    pub kind: PrincipalKind,
}

/// Where a [`Principal`] comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrincipalKind {
    /// A user's bearer token or JWT on a public path.
    User,
    /// Another service, or an operator's tool: a client certificate's name or a peer token.
    Service,
}

impl Principal {
    /// A user named `subject`.
    pub fn user(subject: impl Into<String>) -> Self {
        Self {
            subject: subject.into(),
            kind: PrincipalKind::User,
        }
    }

    /// A service (or operator tool) named `name`.
    pub fn service(name: impl Into<String>) -> Self {
        Self {
            subject: name.into(),
            kind: PrincipalKind::Service,
        }
    }

    /// The principal of `request`, when an edge policy named one.
    pub fn of<T>(request: &tonic::Request<T>) -> Option<&Self> {
        request.extensions().get::<Self>()
    }
}

/// The name a connection's client certificate gives its holder (see `crate::tls::peer`), put in
/// every request of the connection by `super::connection`.
#[derive(Debug, Clone)]
pub(crate) struct PeerName(pub(crate) Arc<str>);

/// The caller check's verdict on an admitted request: who called which method, and whether that
/// caller may write. Present on the checked paths while callers are checked, absent otherwise
/// (then nothing is checked: see `crate::GrpcServer::callers`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The caller's name.
    pub name: String,
    /// `package.Service/Method`, as refusals name it.
    pub method: String,
    /// Whether the service's writers include the caller.
    pub may_write: bool,
}

impl Caller {
    /// The verdict on `request`, when callers are checked.
    pub fn of<T>(request: &tonic::Request<T>) -> Option<&Self> {
        request.extensions().get::<Self>()
    }

    /// PERMISSION_DENIED for this caller and method, `detail` saying what was asked beyond the
    /// method (e.g. `" in ACCESS_MODE_WRITE"`) and `hint` which setting decides.
    pub fn refusal(&self, detail: &str, hint: &str) -> Status {
        Status::permission_denied(self.denial(detail, hint))
    }

    /// The message of [`Self::refusal`].
    pub(crate) fn denial(&self, detail: &str, hint: &str) -> String {
        format!(
            "caller '{}' may not call {}{detail} ({hint})",
            self.name, self.method
        )
    }
}

/// For a method that writes or reads depending on its request (a query's access mode): passes
/// when callers are not checked (`caller` is `None`) or the caller may write, else
/// PERMISSION_DENIED naming the caller, the method and `detail`.
pub fn require_writer(caller: Option<&Caller>, detail: &str) -> Result<(), Status> {
    match caller {
        Some(caller) if !caller.may_write => Err(caller.refusal(
            detail,
            "the service's --allow-writers (CHATMESH_ALLOW_WRITERS) does not name it",
        )),
        _ => Ok(()),
    }
}

/// Principals an operator names for a privilege (`--cypher-hint-principals`): user subjects
/// (`token-2`, a JWT `sub`) or service names, or `*` for every caller, authenticated or not.
/// Empty by default: nobody.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NamedPrincipals {
    names: Vec<String>,
    everyone: bool,
}

impl NamedPrincipals {
    /// The principals in `names` (blank entries ignored; `*` means everyone).
    pub fn new<I: IntoIterator<Item = S>, S: AsRef<str>>(names: I) -> Self {
        let mut named = Self::default();
        for name in names {
            match name.as_ref().trim() {
                "" => {}
                "*" => named.everyone = true,
                name => named.names.push(name.to_owned()),
            }
        }
        named
    }

    /// Whether nobody is named.
    pub fn is_empty(&self) -> bool {
        !self.everyone && self.names.is_empty()
    }

    /// Whether `principal` (`None`: an anonymous caller) is named.
    pub fn allows(&self, principal: Option<&Principal>) -> bool {
        self.everyone || principal.is_some_and(|p| self.names.contains(&p.subject))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn named_principals_name_subjects_or_everyone() {
        let none = NamedPrincipals::new(["", " "]);
        assert!(none.is_empty());
        assert!(!none.allows(Some(&Principal::user("token-1"))));
        let some = NamedPrincipals::new(["token-2", "alice"]);
        assert!(some.allows(Some(&Principal::user("alice"))));
        assert!(!some.allows(Some(&Principal::user("token-1"))));
        assert!(!some.allows(None));
        let all = NamedPrincipals::new(["*"]);
        assert!(all.allows(None));
    }

    #[test]
    fn writes_are_refused_only_to_checked_callers_that_may_not_write() {
        let reader = Caller {
            name: "router".into(),
            method: "chatmesh.graph.v1.GraphService/ExecuteQuery".into(),
            may_write: false,
        };
        assert!(require_writer(None, "").is_ok());
        let refused = require_writer(Some(&reader), " in ACCESS_MODE_WRITE").unwrap_err();
        assert_eq!(refused.code(), tonic::Code::PermissionDenied);
        assert!(
            refused.message().starts_with(
                "caller 'router' may not call chatmesh.graph.v1.GraphService/ExecuteQuery in ACCESS_MODE_WRITE"
            ),
            "{}",
            refused.message()
        );
        let writer = Caller {
            may_write: true,
            ..reader
        };
        assert!(require_writer(Some(&writer), "").is_ok());
    }
}
