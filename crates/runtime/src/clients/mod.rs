//! What a chatmesh process uses to call a chatmesh server: `channel` (connect timeout,
//! keepalive, mTLS, trace context on service-to-service calls), `bearer` (sending a token) and
//! `probe` (the `health` subcommand of every binary and of `chatmesh health`, built on
//! `channel`).

pub(crate) mod bearer;
pub mod channel;
pub mod probe;
