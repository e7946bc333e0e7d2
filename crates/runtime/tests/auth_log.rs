//! No token reaches the log of a run at debug level: a server requiring tokens (static, HS256,
//! RS256) answers accepted and refused calls, gRPC and HTTP, while every event is captured; the
//! log must show the run (refusals included) and none of the tokens, signatures or the secret.
//! Its own test binary: a subscriber set for one test sees every event only when no other test
//! runs beside it (tracing caches per call site whether anyone listens).

mod edge;

use chatmesh_runtime::test_support::CapturedLog;
use std::time::{SystemTime, UNIX_EPOCH};

use jsonwebtoken::{Algorithm, EncodingKey, Header};

const STATIC_TOKEN: &str = "static-token-5ab1c9e07d";
const HS256_SECRET: &str = "hs256-secret-for-tests-0123456789abcdef";
const AUDIENCE: &str = "chatmesh-edge";
const RS256_PUBLIC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/jwt-test-rs256.pub");
// A test-only RSA key, generated for these tests and used nowhere else.
const RS256_PRIVATE: &[u8] = include_bytes!("data/jwt-test-rs256.key");

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn jwt(algorithm: Algorithm, key: &EncodingKey, exp: u64) -> String {
    let claims = serde_json::json!({"sub": "alice", "aud": AUDIENCE, "exp": exp});
    jsonwebtoken::encode(&Header::new(algorithm), &claims, key).unwrap()
}

// One thread, so that the subscriber set for this test sees the server's and the clients' tasks.
#[tokio::test(flavor = "current_thread")]
async fn tokens_never_reach_the_debug_log() {
    let captured = CapturedLog::default();
    let subscriber = tracing_subscriber::fmt()
        .with_env_filter("debug")
        .with_writer(captured.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let dir = tempfile::tempdir().unwrap();
    let tokens = dir.path().join("tokens");
    std::fs::write(&tokens, format!("{STATIC_TOKEN}\n")).unwrap();
    let secret = dir.path().join("hs256");
    std::fs::write(&secret, HS256_SECRET).unwrap();
    let server = edge::start(&[
        "--auth-tokens-file",
        tokens.to_str().unwrap(),
        "--jwt-hs256-secret-file",
        secret.to_str().unwrap(),
        "--jwt-rs256-public-key-file",
        RS256_PUBLIC,
        "--jwt-audience",
        AUDIENCE,
    ])
    .await;
    let channel = server.channel().await;
    let hs256 = EncodingKey::from_secret(HS256_SECRET.as_bytes());
    let rs256 = EncodingKey::from_rsa_pem(RS256_PRIVATE).unwrap();
    let jwt_ok = jwt(Algorithm::HS256, &hs256, now() + 600);
    let expired = jwt(Algorithm::RS256, &rs256, now() - 3600);
    let wrong = "wrong-token-7f3e9a";
    edge::sleep(&channel, 0, Some(STATIC_TOKEN)).await.unwrap();
    edge::sleep(&channel, 0, Some(&jwt_ok)).await.unwrap();
    edge::sleep(&channel, 0, Some(wrong)).await.unwrap_err();
    edge::sleep(&channel, 0, Some(&expired)).await.unwrap_err();
    edge::http(server.addr, "POST", "/v1/slow", Some(STATIC_TOKEN), "0").await;
    edge::http(server.addr, "POST", "/v1/slow", Some(wrong), "0").await;
    drop(server);

    let log = captured.text();
    // The run was logged at debug level, refusals included…
    assert!(log.contains("bearer tokens required"), "{log}");
    assert!(log.contains("request not authenticated"), "{log}");
    assert!(log.lines().count() > 20, "{log}");
    // …and no token, nor the JWT's signature, nor the HS256 secret appears in it.
    let jwt_signature = jwt_ok.rsplit('.').next().unwrap();
    let expired_signature = expired.rsplit('.').next().unwrap();
    for secret in [
        STATIC_TOKEN,
        wrong,
        jwt_ok.as_str(),
        jwt_signature,
        expired_signature,
        HS256_SECRET,
    ] {
        assert!(!log.contains(secret), "a secret appears in the log:\n{log}");
    }
}
