//! `chatmesh-relational`'s command line: configuration errors are one line and exit code 2.

use chatmesh_test_support::cli::{config_error_line, help_text};

/// The binary under test: cargo's build, or `CHATMESH_BIN_DIR`'s when that is set.
fn bin() -> String {
    chatmesh_test_support::process::built(env!("CARGO_BIN_EXE_chatmesh-relational"))
}

#[test]
fn unsupported_database_url() {
    let line = config_error_line(&bin(), &["--database-url", "mysql://db/orders"], &[]);
    assert!(
        line.contains("--database-url (CHATMESH_DATABASE_URL)"),
        "{line}"
    );
    assert!(line.contains("expected sqlite://"), "{line}");
}

#[test]
fn unwritable_sqlite_location() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("a-file");
    std::fs::write(&file, b"not a directory").unwrap();
    let url = format!("sqlite://{}/db/chatmesh.db", file.display());
    let line = config_error_line(&bin(), &["--database-url", &url], &[]);
    assert!(line.contains(&url), "{line}");
}

#[test]
fn help_shows_the_default_port() {
    assert!(help_text(&bin()).contains("0.0.0.0:50055"));
}
