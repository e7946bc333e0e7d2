//! Start-up checks of `--database-url`: the engine is chosen by the URL's scheme, and an
//! embedded SQLite file must be creatable before the service claims to be configured.

use std::path::Path;

use chatmesh_runtime::config::{ConfigError, ensure_writable_dir};

const SETTING: &str = "--database-url (CHATMESH_DATABASE_URL)";

/// Accepts `sqlite://PATH`, `sqlite:PATH`, `sqlite::memory:` and `postgres[ql]://…`.
pub(crate) fn validate(url: &str) -> Result<(), ConfigError> {
    let fail = |reason: &str| ConfigError {
        setting: SETTING.to_owned(),
        value: url.to_owned(),
        reason: reason.to_owned(),
    };
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Ok(());
    }
    let Some(rest) = url.strip_prefix("sqlite:") else {
        return Err(fail("expected sqlite://PATH or postgres://USER@HOST/DB"));
    };
    let path = rest.trim_start_matches("//");
    let path = path.split('?').next().unwrap_or_default();
    if path == ":memory:" {
        return Ok(());
    }
    if path.is_empty() {
        return Err(fail("the SQLite URL names no file"));
    }
    let dir = Path::new(path)
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    ensure_writable_dir(dir, SETTING).map_err(|e| ConfigError {
        value: url.to_owned(),
        ..e
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engines_are_chosen_by_scheme() {
        assert!(validate("postgres://u@localhost/db").is_ok());
        assert!(validate("sqlite::memory:").is_ok());
        let err = validate("mysql://x").unwrap_err();
        assert!(err.to_string().contains("expected sqlite://"), "{err}");
        assert!(validate("sqlite://").is_err());
    }

    #[test]
    fn sqlite_file_directory_must_be_writable() {
        let tmp = tempfile::tempdir().unwrap();
        let ok = format!("sqlite://{}/db/chatmesh.db", tmp.path().display());
        assert!(validate(&ok).is_ok());
        let file = tmp.path().join("file");
        std::fs::write(&file, b"x").unwrap();
        let bad = format!("sqlite://{}/sub/chatmesh.db", file.display());
        let err = validate(&bad).unwrap_err();
        assert!(err.to_string().contains(&bad), "{err}");
    }
}
