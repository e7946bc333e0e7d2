//! No token reaches the log of a run at debug level: a server requiring tokens (static, HS256,
//! RS256) answers accepted and refused calls, gRPC and HTTP, while every event is captured; the
//! log must show the run (refusals included) and none of the tokens, signatures or the secret.
//! Its own test binary: a subscriber set for one test sees every event only when no other test
//! runs beside it (tracing caches per call site whether anyone listens).

mod edge;

use chatmesh_test_support::log::CapturedLog;
use edge::tokens::{
    AUDIENCE, HS256_SECRET, RS256_PRIVATE, STATIC_TOKEN, claims, hs256, now, rs256,
    start_with_every_kind,
};

// One thread, so that the subscriber set for this test sees the server's and the clients' tasks.
#[tokio::test(flavor = "current_thread")]
async fn tokens_never_reach_the_debug_log() {
    let (captured, _guard) = CapturedLog::debug_on_this_thread();

    let dir = tempfile::tempdir().unwrap();
    let server = start_with_every_kind(&dir).await;
    let channel = server.channel().await;
    let jwt_ok = hs256(HS256_SECRET, &claims(AUDIENCE, now() + 600));
    let expired = rs256(RS256_PRIVATE, &claims(AUDIENCE, now() - 3600));
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
