//! The command-line contract every chatmesh binary keeps, as assertions: a setting that cannot
//! be used is exit code 2 and exactly one line on stderr, starting with the program's name;
//! `--help` succeeds.

use std::process::Command;

/// Runs `binary args` with `envs` and asserts the configuration-error contract: exit code 2
/// and exactly one line on stderr, starting with the program name. Returns that line.
pub fn config_error_line(binary: &str, args: &[&str], envs: &[(&str, &str)]) -> String {
    let output = Command::new(binary)
        .args(args)
        .envs(envs.iter().copied())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {binary}: {e}"));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        output.status.code(),
        Some(i32::from(chatmesh_runtime::cli::EXIT_CONFIG)),
        "{binary} {args:?}: expected exit 2, stderr: {stderr}"
    );
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(
        lines.len(),
        1,
        "{binary} {args:?}: expected one line, got: {stderr}"
    );
    let program = std::path::Path::new(binary)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    assert!(
        lines[0].starts_with(&format!("{program}: ")),
        "line should start with the program name: {}",
        lines[0]
    );
    lines[0].to_owned()
}

/// Runs `binary --help` and returns its standard output, asserting exit code 0.
pub fn help_text(binary: &str) -> String {
    let output = Command::new(binary)
        .arg("--help")
        .output()
        .unwrap_or_else(|e| panic!("cannot run {binary}: {e}"));
    assert!(output.status.success(), "{binary} --help failed");
    String::from_utf8_lossy(&output.stdout).into_owned()
}
