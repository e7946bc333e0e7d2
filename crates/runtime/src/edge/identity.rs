//! Who is calling: the [`Principal`] an edge policy puts in an admitted request's extensions,
//! for the layers after it and the handlers to read. Today bearer-token authentication
//! (`super::auth`) is its one source and the per-client rate limit (`super::rate_limit`) its one
//! reader. It sits apart from both so that other sources (a client certificate's subject
//! alternative name under mTLS) and other readers (authorization of callers by identity) join
//! without depending on each other.

/// The authenticated caller, in the extensions of an accepted request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// `token-<n>` for the n-th static token (1-based), the JWT's `sub` for a JWT (`jwt` when it
    /// has none). Never the token itself.
    pub subject: String,
}
