//! What chatmesh's tests share, so that each test says only what it checks. A dev-dependency
//! only: nothing here ships in a binary, and nothing here knows one service from another (a
//! test names the binary, the service and the flags it needs).
//!
//! - [`serve`]: a service's `serve_on` in this process on a loopback port; its config parsed
//!   the way its binary parses it.
//! - [`process`]: a workspace binary as a child process (its address read from its log, or on a
//!   free port), signals (SIGKILL for a crash, SIGTERM and SIGINT for a drain).
//! - [`ports`]: free and closed loopback ports.
//! - [`grpc`]: channels, health checks and waiting for SERVING, server reflection, one raw
//!   unary call over bare HTTP/2 (so no client library acts on the headers).
//! - [`http`]: one HTTP/1.1 connection, as browsers and curl make it.
//! - [`cli`]: the command-line contract of a binary (exit 2 and one line for a bad setting).
//! - [`certs`]: a test CA and the certificates it issues, for mTLS tests.
//! - [`log`]: a captured log, to check what a service logged (and that no secret was).
//! - [`otlp`]: an OTLP trace collector inside the test process.
//! - [`usage`]: a child process's memory (now and peak) and CPU time, from `/proc`.
//! - [`postgres`]: a database of its own per test on the server `CHATMESH_TEST_POSTGRES_URL`
//!   names, and taking it away and back for outage tests.

pub mod certs;
pub mod cli;
pub mod grpc;
pub mod http;
pub mod log;
pub mod otlp;
pub mod ports;
pub mod postgres;
pub mod process;
pub mod serve;
pub mod usage;
