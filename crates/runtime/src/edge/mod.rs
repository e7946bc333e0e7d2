//! The layers every request passes on its way in, before a handler sees it: each one either
//! lets the request through (perhaps annotated) or answers for the handler. `crate::server`
//! stacks them; none of them knows the others.
//!
//! - `deadline`: `grpc-timeout` becomes a [`deadline::Deadline`], enforced with
//!   DEADLINE_EXCEEDED.
//! - `message_limit`: the size of one gRPC request message, RESOURCE_EXHAUSTED beyond it.
//! - `honest_status`: on the way out, a request that did not decode is INVALID_ARGUMENT (tonic
//!   says INTERNAL) and a status message is at most 1 KiB.
//! - `shed`: concurrency limit and a bounded wait queue, RESOURCE_EXHAUSTED / 503 beyond them.
//! - `connection`: the accepted connection's facts (addresses, the client certificate's name)
//!   into each request.
//! - `gate`: the one layer shape of the policies on the paths they guard: on a server's public
//!   paths (its *edge paths*, named with `GrpcServer::edge`) `auth` (bearer tokens,
//!   UNAUTHENTICATED / 401) and `rate_limit` (per client, RESOURCE_EXHAUSTED / 429); on its own
//!   API (named with `GrpcServer::callers`) `callers` (who may call which method, from a
//!   certificate's name or a `peer_tokens` entry; UNAUTHENTICATED or PERMISSION_DENIED).
//!   `identity` is who the caller is, as those policies and the handlers share it.
//! - `refusal`: the answer of any of them, gRPC or JSON.
//! - `cors`: which other web origins' pages may call the port from a browser (outermost, off
//!   by default; named with the edge paths' settings).
//!
//! Bottom-up: `refusal` and `identity` know nothing here; `connection` fills `identity`; `gate`
//! uses `refusal`; the policies use `gate`, `refusal` and `identity` (`callers` also `auth`'s
//! header parsing and `peer_tokens`); `deadline`, `message_limit` and
//! `honest_status` stand alone, and so does `cors`.

pub(crate) mod auth;
pub(crate) mod callers;
pub(crate) mod connection;
pub(crate) mod cors;
pub mod deadline;
pub(crate) mod gate;
pub(crate) mod honest_status;
pub(crate) mod identity;
pub(crate) mod message_limit;
pub(crate) mod peer_tokens;
pub(crate) mod rate_limit;
pub(crate) mod refusal;
pub(crate) mod shed;
