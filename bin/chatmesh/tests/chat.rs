//! `chatmesh chat` against `chatmesh up`'s demo data: one question answered with its sources and
//! the backend that answered, the workflow's steps with `--events`, a routing hint with
//! `--target`, a conversation read from standard input (`/reset`, `/quit`), and failures
//! reported with the gRPC status and exit code 1.

mod common;

use std::io::Write;
use std::process::{Command, Stdio};

use chatmesh_test_support::ports::closed_port;
use common::{Up, bin, chatmesh, text};

/// Runs `chatmesh chat <args>` with `input` on standard input.
fn chat_with_input(args: &[&str], input: &str) -> std::process::Output {
    let mut child = Command::new(bin())
        .arg("chat")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn chat_answers_questions_once_and_in_a_conversation() {
    let up = Up::start(&[]);
    let addr = up.chatbot();
    one_question_is_answered_with_sources(&addr);
    events_show_the_workflow_steps(&addr);
    a_target_hint_picks_the_backend(&addr);
    a_conversation_is_read_from_stdin(&addr);
    a_refused_line_fails_only_that_line(&addr);
    a_refused_question_is_exit_one(&addr);
    let (code, rest) = up.stop();
    assert_eq!(code, Some(0), "{rest}");
}

fn one_question_is_answered_with_sources(addr: &str) {
    let output = chatmesh(&["chat", "--addr", addr, "who", "manages", "Alan Turing?"]);
    let (stdout, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    let first = stdout.lines().next().unwrap_or_default();
    assert!(first.contains("Grace Hopper"), "{stdout}");
    assert!(
        stdout.contains("  [graph node ") && stdout.contains("] Grace Hopper"),
        "{stdout}"
    );
    assert!(stdout.contains("  answered by: graph ("), "{stdout}");
}

/// The workflow's steps, then the same kind of answer.
fn events_show_the_workflow_steps(addr: &str) {
    let output = chatmesh(&[
        "chat",
        "--addr",
        addr,
        "--events",
        "--session",
        "events-1",
        "who manages Alan Turing?",
    ]);
    let (stdout, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    let steps: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with("  · step "))
        .collect();
    assert!(steps.len() >= 2, "{stdout}");
    assert!(steps.iter().any(|s| s.contains(" wrote ")), "{stdout}");
    assert!(steps.iter().all(|s| s.ends_with(" ms)")), "{stdout}");
    assert!(stdout.contains("Grace Hopper"), "{stdout}");
    assert!(stdout.contains("  answered by: graph"), "{stdout}");
}

/// A hint sends the question to the relational service.
fn a_target_hint_picks_the_backend(addr: &str) {
    let output = chatmesh(&[
        "chat",
        "--addr",
        addr,
        "--target",
        "relational",
        "status of order 100002",
    ]);
    let (stdout, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(stdout.contains("  [order 100002] "), "{stdout}");
    assert!(stdout.contains("  answered by: relational"), "{stdout}");
}

/// A conversation on standard input: blank lines are skipped, /reset forgets the session,
/// /quit ends before the last line.
fn a_conversation_is_read_from_stdin(addr: &str) {
    let output = chat_with_input(
        &["--addr", addr, "--session", "stdin-1", "--target", "graph"],
        "who manages Alan Turing?\n\n/reset\nwho manages Grace Hopper?\n/quit\nnever asked\n",
    );
    let (stdout, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert_eq!(
        stdout.matches("  answered by: graph").count(),
        2,
        "{stdout}"
    );
    assert!(stdout.contains("session reset\n"), "{stdout}");
    assert!(!stdout.contains("never asked"), "{stdout}");
}

/// A question the chatbot refuses fails that line, not the conversation: the next one is still
/// answered, and the exit code says something failed.
fn a_refused_line_fails_only_that_line(addr: &str) {
    let too_long = "x".repeat(9000);
    let output = chat_with_input(
        &["--addr", addr, "--events"],
        &format!("{too_long}\nwho manages Alan Turing?\n"),
    );
    let (stdout, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert!(
        stderr.starts_with("error: InvalidArgument: ") && stderr.contains("message"),
        "{stderr}"
    );
    assert!(stdout.contains("Grace Hopper"), "{stdout}");
}

/// One question refused: the status on stderr, exit 1.
fn a_refused_question_is_exit_one(addr: &str) {
    let long_session = "s".repeat(200);
    let output = chatmesh(&["chat", "--addr", addr, "--session", &long_session, "hello"]);
    let (stdout, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert!(
        stderr.starts_with("chatmesh chat: InvalidArgument: ") && stderr.contains("session"),
        "{stderr}"
    );
}

#[test]
fn chat_reports_what_it_cannot_do() {
    let unreachable = format!("127.0.0.1:{}", closed_port());
    let output = chatmesh(&["chat", "--addr", &unreachable, "hello"]);
    let (_, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr.starts_with(&format!("chatmesh chat: cannot connect to {unreachable}: ")),
        "{stderr}"
    );

    let output = chatmesh(&["chat", "--addr", "http://[::1", "hello"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(text(&output).1.starts_with("chatmesh chat: "));

    for args in [
        vec!["chat", "--target", "oracle", "hello"],
        vec!["chat", "--timeout", "whenever", "hello"],
    ] {
        let output = chatmesh(&args);
        let (_, stderr) = text(&output);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
    }
}
