//! The peer tokens table: the bearer tokens other services (and operators' tools) present to
//! this one when no client certificate names them, each mapped to the caller's name. It is the
//! identity source of deployments without mTLS that want every hop checked (each service given
//! `--peer-tokens-file`, see `docs/security.md`); the caller check (`super::callers`) reads it.
//!
//! Entries come from `--peer-tokens-file` (lines `NAME TOKEN`, `#` comments) and
//! `--peer-tokens` / `CHATMESH_PEER_TOKENS` (`NAME:TOKEN,...`). An entry whose token is empty
//! is skipped, so that a compose file can pass `router:${CHATMESH_ROUTER_TOKEN}` whether or not
//! the variable is set. Tokens are compared in constant time and never printed.

use std::path::Path;

use super::auth::find_token;
use crate::setting::{ConfigError, Secret};

/// Shortest accepted peer token: it is a credential between machines, so it should be random
/// (e.g. `openssl rand -hex 24`, 48 characters).
pub(crate) const MIN_TOKEN_LEN: usize = 16;

const FLAG_SETTING: &str = "--peer-tokens (CHATMESH_PEER_TOKENS)";
const FILE_SETTING: &str = "--peer-tokens-file (CHATMESH_PEER_TOKENS_FILE)";

/// One `NAME:TOKEN` entry of `--peer-tokens`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerToken {
    /// The caller's name, as the allow lists name it.
    pub name: String,
    /// Its token.
    pub token: Secret,
}

impl PeerToken {
    /// The entry for `name` and `token` (used by `chatmesh up` for the tokens it generates).
    pub fn new(name: &str, token: &str) -> Self {
        Self {
            name: name.trim().to_ascii_lowercase(),
            token: Secret::new(token.trim()),
        }
    }
}

/// Parses `NAME:TOKEN` (clap's value parser); the token is checked with the rest of the table.
pub(crate) fn parse_peer_token(text: &str) -> Result<PeerToken, String> {
    let (name, token) = text
        .split_once(':')
        .ok_or_else(|| "expected NAME:TOKEN, e.g. router:<a random token>".to_owned())?;
    check_name(name.trim())?;
    Ok(PeerToken::new(name, token))
}

/// A caller name: what a certificate's DNS name or an allow list can say.
fn check_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "caller name '{name}' must be letters, digits, '-', '.' or '_'"
        ))
    }
}

/// The table, ready for lookups.
#[derive(Default)]
pub(crate) struct PeerTokens {
    names: Vec<String>,
    tokens: Vec<Secret>,
}

impl std::fmt::Debug for PeerTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PeerTokens")
            .field("names", &self.names)
            .finish_non_exhaustive()
    }
}

impl PeerTokens {
    /// The table from the flag's entries and the file's lines. Refuses short tokens and a token
    /// given to two names (it would not say who calls); the errors never show a token.
    pub(crate) fn load(entries: &[PeerToken], file: Option<&Path>) -> Result<Self, ConfigError> {
        let mut table = Self::default();
        for entry in entries {
            table.add(entry, FLAG_SETTING, &entry.name)?;
        }
        if let Some(path) = file {
            let shown = path.display().to_string();
            let text = std::fs::read_to_string(path).map_err(|e| {
                ConfigError::new(FILE_SETTING, &shown, format!("cannot read it: {e}"))
            })?;
            for (number, line) in text.lines().enumerate() {
                let line = line.trim();
                if line.is_empty() || line.starts_with('#') {
                    continue;
                }
                let bad = |reason: String| {
                    ConfigError::new(
                        FILE_SETTING,
                        &shown,
                        format!("line {}: {reason}", number + 1),
                    )
                };
                let (name, token) = line
                    .split_once(char::is_whitespace)
                    .ok_or_else(|| bad("expected NAME TOKEN".into()))?;
                check_name(name).map_err(bad)?;
                table
                    .add(&PeerToken::new(name, token), FILE_SETTING, &shown)
                    .map_err(|e| bad(e.reason))?;
            }
        }
        Ok(table)
    }

    fn add(&mut self, entry: &PeerToken, setting: &str, shown: &str) -> Result<(), ConfigError> {
        let token = entry.token.expose();
        if token.is_empty() {
            return Ok(());
        }
        if token.len() < MIN_TOKEN_LEN {
            return Err(ConfigError::new(
                setting,
                shown,
                format!(
                    "the token of '{}' is shorter than {MIN_TOKEN_LEN} characters",
                    entry.name
                ),
            ));
        }
        if let Some(i) = find_token(&self.tokens, token) {
            return Err(ConfigError::new(
                setting,
                shown,
                format!(
                    "'{}' and '{}' have the same token; each caller needs its own",
                    self.names[i], entry.name
                ),
            ));
        }
        self.names.push(entry.name.clone());
        self.tokens.push(entry.token.clone());
        Ok(())
    }

    /// Whether the table holds no token.
    pub(crate) fn is_empty(&self) -> bool {
        self.tokens.is_empty()
    }

    /// The name of the caller whose token is `token`.
    pub(crate) fn name_of(&self, token: &str) -> Option<&str> {
        find_token(&self.tokens, token).map(|i| self.names[i].as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROUTER: &str = "router-token-0123456789";
    const ADMIN: &str = "admin-token-0123456789";

    #[test]
    fn entries_and_file_lines_name_their_callers() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("peers");
        std::fs::write(&file, format!("# peers\n\nadmin {ADMIN}\n")).unwrap();
        let entries = [parse_peer_token(&format!("Router:{ROUTER}")).unwrap()];
        let table = PeerTokens::load(&entries, Some(&file)).unwrap();
        assert_eq!(table.name_of(ROUTER), Some("router"));
        assert_eq!(table.name_of(ADMIN), Some("admin"));
        assert_eq!(table.name_of("router-token-012345678"), None);
        assert!(!format!("{table:?}").contains(ROUTER));
    }

    #[test]
    fn empty_tokens_are_skipped_and_bad_ones_refused_without_showing_them() {
        let skipped = PeerTokens::load(&[parse_peer_token("chatbot:").unwrap()], None).unwrap();
        assert!(skipped.is_empty());
        assert!(parse_peer_token("no-colon").is_err());
        assert!(parse_peer_token("bad name:x").is_err());
        let short = PeerTokens::load(&[PeerToken::new("router", "short")], None).unwrap_err();
        assert!(short.reason.contains("shorter than 16"), "{short}");
        assert_eq!(short.value, "router", "{short}");
        let twice = [
            PeerToken::new("router", ROUTER),
            PeerToken::new("admin", ROUTER),
        ];
        let err = PeerTokens::load(&twice, None).unwrap_err();
        assert!(err.reason.contains("same token"), "{err}");
        assert!(!err.to_string().contains(ROUTER), "{err}");
    }

    #[test]
    fn bad_file_lines_are_named_by_number() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("peers");
        std::fs::write(&file, format!("admin {ADMIN}\nrouter\n")).unwrap();
        let err = PeerTokens::load(&[], Some(&file)).unwrap_err();
        assert!(
            err.reason.starts_with("line 2: expected NAME TOKEN"),
            "{err}"
        );
        let missing = PeerTokens::load(&[], Some(&dir.path().join("nope"))).unwrap_err();
        assert!(missing.reason.starts_with("cannot read it"), "{missing}");
    }
}
