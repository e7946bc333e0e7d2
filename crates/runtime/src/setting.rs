//! The ground floor of every flags struct: [`ConfigError`], the one error a setting whose value
//! cannot be used turns into (`crate::cli` prints it as one line and exits 2), [`Secret`] for
//! values that must never be printed, and the value parsers more than one concern's flags share. Each concern (TLS, authentication, rate limits,
//! load shedding, logs, client channels) owns its own flags struct and builds on this module
//! alone, so that `crate::config`, which composes them, sits above all of them.

use std::str::FromStr;
use std::time::Duration;

/// A setting whose value was parsed but cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("invalid value '{value}' for {setting}: {reason}")]
pub struct ConfigError {
    /// The flag and its environment variable, e.g. `--data-dir (CHATMESH_DATA_DIR)`.
    pub setting: String,
    /// The offending value as given.
    pub value: String,
    /// Why it cannot be used.
    pub reason: String,
}

impl ConfigError {
    /// The error for `setting` given `value`.
    pub(crate) fn new(
        setting: impl Into<String>,
        value: impl Into<String>,
        reason: impl Into<String>,
    ) -> Self {
        Self {
            setting: setting.into(),
            value: value.into(),
            reason: reason.into(),
        }
    }
}

/// A value that must not be printed (a bearer token): `Debug` shows only that it is there.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub(crate) fn new(text: &str) -> Self {
        Self(text.to_owned())
    }

    /// The secret itself, for the places that compare or send it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl FromStr for Secret {
    type Err = std::convert::Infallible;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Ok(Self::new(text))
    }
}

/// Parses a duration such as `250ms`, `10s` or `1m 30s`.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    humantime::parse_duration(text).map_err(|e| format!("{e} (examples: 250ms, 10s, 1m)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_accept_units_and_reject_garbage() {
        assert_eq!(parse_duration("250ms").unwrap(), Duration::from_millis(250));
        assert_eq!(parse_duration("1m 30s").unwrap(), Duration::from_secs(90));
        assert!(parse_duration("soon").is_err());
    }
}
