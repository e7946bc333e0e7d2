//! `chatmesh-router`'s command line: configuration errors are one line and exit code 2.

use chatmesh_test_support::cli::{config_error_line, help_text};

/// The binary under test: cargo's build, or `CHATMESH_BIN_DIR`'s when that is set.
fn bin() -> String {
    chatmesh_test_support::process::built(env!("CARGO_BIN_EXE_chatmesh-router"))
}

#[test]
fn bad_backend_address() {
    let line = config_error_line(&bin(), &["--graph-addr", "http://bad host:1"], &[]);
    assert!(
        line.contains("--graph-addr (CHATMESH_GRAPH_ADDR)"),
        "{line}"
    );
}

#[test]
fn bad_log_filter() {
    let line = config_error_line(&bin(), &["--log", "=["], &[]);
    assert!(
        line.contains("invalid value '=['") && line.contains("--log"),
        "{line}"
    );
}

#[test]
fn help_shows_the_default_port() {
    assert!(help_text(&bin()).contains("0.0.0.0:50052"));
}

#[test]
fn a_bad_rules_file_names_the_rule() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rules.toml");
    std::fs::write(
        &path,
        "[[rules]]\nname = \"broken_order\"\naction = \"get_order\"\npatterns = ['(?P<order_id>\\d+']\nconfidence = 0.9\n",
    )
    .unwrap();
    let path = path.display().to_string();
    let line = config_error_line(&bin(), &["--rules", &path], &[]);
    assert!(
        line.contains("--rules (CHATMESH_ROUTER_RULES)") && line.contains("rule 'broken_order'"),
        "{line}"
    );
    let line = config_error_line(
        &bin(),
        &[],
        &[("CHATMESH_ROUTER_RULES", "/no/such/rules.toml")],
    );
    assert!(line.contains("cannot read"), "{line}");
}

#[test]
fn bad_backend_lists() {
    let line = config_error_line(&bin(), &["--vector-addr", "127.0.0.1:1,,127.0.0.2:1"], &[]);
    assert!(
        line.contains("--vector-addr (CHATMESH_VECTOR_ADDR)"),
        "{line}"
    );
}
