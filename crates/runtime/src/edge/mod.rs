//! The layers every request passes on its way in, before a handler sees it: each one either
//! lets the request through (perhaps annotated) or answers for the handler. `crate::server`
//! stacks them; none of them knows the others.
//!
//! - `deadline`: `grpc-timeout` becomes a [`deadline::Deadline`], enforced with
//!   DEADLINE_EXCEEDED.
//! - `message_limit`: the size of one gRPC request message, RESOURCE_EXHAUSTED beyond it.
//! - `shed`: concurrency limit and a bounded wait queue, RESOURCE_EXHAUSTED / 503 beyond them.
//! - `gate`: the one layer shape of the policies for a server's public paths (its *edge paths*,
//!   named with `GrpcServer::edge`): `auth` (bearer tokens, UNAUTHENTICATED / 401) and
//!   `rate_limit` (per client, RESOURCE_EXHAUSTED / 429). `identity` is who the caller is, as
//!   those policies share it.
//! - `refusal`: the answer of any of them, gRPC or JSON.
//!
//! Bottom-up: `refusal` and `identity` know nothing here; `gate` uses `refusal`; the policies
//! use `gate`, `refusal` and `identity`; `deadline` and `message_limit` stand alone.

pub(crate) mod auth;
pub mod deadline;
pub(crate) mod gate;
pub(crate) mod identity;
pub(crate) mod message_limit;
pub(crate) mod rate_limit;
pub(crate) mod refusal;
pub(crate) mod shed;
