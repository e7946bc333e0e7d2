//! `chatmesh-vector`'s command line: configuration errors are one line and exit code 2.

use chatmesh_test_support::cli::{config_error_line, help_text};

/// The binary under test: cargo's build, or `CHATMESH_BIN_DIR`'s when that is set.
fn bin() -> String {
    chatmesh_test_support::process::built(env!("CARGO_BIN_EXE_chatmesh-vector"))
}

#[test]
fn unusable_data_dir_from_the_environment() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("a-file");
    std::fs::write(&file, b"not a directory").unwrap();
    let bad = file.join("vector");
    let line = config_error_line(&bin(), &[], &[("CHATMESH_DATA_DIR", bad.to_str().unwrap())]);
    assert!(line.contains("--data-dir (CHATMESH_DATA_DIR)"), "{line}");
}

#[test]
fn bad_duration() {
    let line = config_error_line(&bin(), &["--shutdown-grace", "soon"], &[]);
    assert!(line.contains("--shutdown-grace"), "{line}");
}

#[test]
fn help_shows_the_default_port() {
    assert!(help_text(&bin()).contains("0.0.0.0:50054"));
}

#[test]
fn a_bad_database_url_is_named_without_its_password() {
    let line = config_error_line(
        &bin(),
        &[],
        &[(
            "CHATMESH_VECTOR_DATABASE_URL",
            "postgres://vec:hunter2@db:notaport/vectors",
        )],
    );
    assert!(line.contains("--database-url"), "{line}");
    assert!(!line.contains("hunter2"), "{line}");
}

#[test]
fn help_names_the_database_url_but_never_its_value() {
    let out = std::process::Command::new(bin())
        .arg("--help")
        .env(
            "CHATMESH_VECTOR_DATABASE_URL",
            "postgres://vec:hunter2@db/vectors",
        )
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(help.contains("--database-url") && help.contains("CHATMESH_VECTOR_DATABASE_URL"));
    assert!(!help.contains("hunter2"), "{help}");
}
