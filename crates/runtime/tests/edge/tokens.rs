//! The tokens the auth tests send: a static token, HS256 and RS256 JWTs made with test-only keys,
//! and a server that accepts all three.

use std::time::{SystemTime, UNIX_EPOCH};

use jsonwebtoken::{Algorithm, EncodingKey, Header};

pub(crate) const STATIC_TOKEN: &str = "static-token-5ab1c9e07d";
pub(crate) const HS256_SECRET: &str = "hs256-secret-for-tests-0123456789abcdef";
pub(crate) const AUDIENCE: &str = "chatmesh-edge";
pub(crate) const RS256_PUBLIC: &str =
    concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/jwt-test-rs256.pub");
// Test-only RSA keys, generated for these tests and used nowhere else.
pub(crate) const RS256_PRIVATE: &[u8] = include_bytes!("../data/jwt-test-rs256.key");
pub(crate) const OTHER_PRIVATE: &[u8] = include_bytes!("../data/jwt-test-other.key");

/// Seconds since the Unix epoch, as JWTs count time.
pub(crate) fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

pub(crate) fn claims(aud: &str, exp: u64) -> serde_json::Value {
    serde_json::json!({"sub": "alice", "aud": aud, "exp": exp})
}

pub(crate) fn hs256(secret: &str, claims: &serde_json::Value) -> String {
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

pub(crate) fn rs256(private_pem: &[u8], claims: &serde_json::Value) -> String {
    jsonwebtoken::encode(
        &Header::new(Algorithm::RS256),
        claims,
        &EncodingKey::from_rsa_pem(private_pem).unwrap(),
    )
    .unwrap()
}

/// A server accepting the static token and both kinds of JWT.
pub(crate) async fn start_with_every_kind(dir: &tempfile::TempDir) -> super::Server {
    let tokens = dir.path().join("tokens");
    std::fs::write(&tokens, format!("# clients\n{STATIC_TOKEN}\n")).unwrap();
    let secret = dir.path().join("hs256");
    std::fs::write(&secret, HS256_SECRET).unwrap();
    super::start(&[
        "--auth-tokens-file",
        tokens.to_str().unwrap(),
        "--jwt-hs256-secret-file",
        secret.to_str().unwrap(),
        "--jwt-rs256-public-key-file",
        RS256_PUBLIC,
        "--jwt-audience",
        AUDIENCE,
    ])
    .await
}
