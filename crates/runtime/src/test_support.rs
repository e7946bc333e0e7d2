//! Shared assertions for the services' own command-line tests (each service crate's
//! `tests/cli.rs` runs its real binary). Not part of the runtime's API.

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
        Some(crate::cli::EXIT_CONFIG as i32),
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

/// A log sink for tests that read what a service logged (for example, that no secret reached
/// the log): give it to `tracing_subscriber::fmt().with_writer(..)`, then read [`Self::text`].
#[derive(Clone, Default)]
pub struct CapturedLog(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl CapturedLog {
    /// Captures every event at debug level and above, on this thread, until the guard drops.
    /// Run the test on one thread (`flavor = "current_thread"`) so that the servers' and the
    /// clients' tasks are on it too.
    pub fn debug_on_this_thread() -> (Self, tracing::subscriber::DefaultGuard) {
        let captured = Self::default();
        let subscriber = tracing_subscriber::fmt()
            .with_env_filter("debug")
            .with_writer(captured.clone())
            .with_ansi(false)
            .finish();
        (captured, tracing::subscriber::set_default(subscriber))
    }

    /// Everything written so far.
    pub fn text(&self) -> String {
        let bytes = self.0.lock().unwrap_or_else(|e| e.into_inner());
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

impl std::io::Write for CapturedLog {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        let mut log = self.0.lock().unwrap_or_else(|e| e.into_inner());
        log.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for CapturedLog {
    type Writer = CapturedLog;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}
