//! What a chatmesh process uses to call a chatmesh server: `http2` (the connection of
//! service-to-service calls), `channel` (connect timeout,
//! keepalive, mTLS, trace context on service-to-service calls), `bearer` (sending a token) and
//! `probe` (the `health` subcommand of every binary and of `chatmesh health`, built on
//! `channel`).

pub(crate) mod bearer;
pub mod channel;
pub mod http2;
pub mod probe;
