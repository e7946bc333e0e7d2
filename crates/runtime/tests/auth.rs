//! Bearer tokens at the edge, over real sockets: every refusal (no token, a wrong token, an
//! expired JWT, a wrong audience, a wrong signature) is UNAUTHENTICATED for gRPC and 401 with
//! `WWW-Authenticate: Bearer` for HTTP; static tokens and HS256 and RS256 JWTs are accepted;
//! health and `/metrics` stay open. (`auth_log.rs` checks that no token reaches the log.)

mod edge;

use edge::tokens::{
    AUDIENCE, HS256_SECRET, OTHER_PRIVATE, RS256_PRIVATE, STATIC_TOKEN, claims, hs256, now, rs256,
    start_with_every_kind,
};
use tonic::Code;

/// Asserts a gRPC call was refused as unauthenticated, with `reason` in the message.
fn assert_unauthenticated(
    result: Result<tonic::Response<tonic_health::pb::HealthCheckResponse>, tonic::Status>,
    reason: &str,
) {
    let status = result.expect_err("refused");
    assert_eq!(status.code(), Code::Unauthenticated, "{status:?}");
    assert!(status.message().contains(reason), "{status:?}");
}

#[tokio::test]
async fn grpc_refusals_are_unauthenticated_and_good_tokens_pass() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_every_kind(&dir).await;
    let channel = server.channel().await;
    let later = now() + 600;

    assert_unauthenticated(edge::sleep(&channel, 0, None).await, "missing bearer token");
    assert_unauthenticated(
        edge::sleep(&channel, 0, Some("not-a-token")).await,
        "invalid bearer token",
    );
    assert_unauthenticated(
        edge::sleep(
            &channel,
            0,
            Some(&hs256(HS256_SECRET, &claims(AUDIENCE, now() - 3600))),
        )
        .await,
        "expired",
    );
    assert_unauthenticated(
        edge::sleep(
            &channel,
            0,
            Some(&hs256(HS256_SECRET, &claims("elsewhere", later))),
        )
        .await,
        "audience",
    );
    let forged = hs256(
        "another-secret-of-enough-length-0123456",
        &claims(AUDIENCE, later),
    );
    assert_unauthenticated(edge::sleep(&channel, 0, Some(&forged)).await, "signature");
    let wrong_key = rs256(OTHER_PRIVATE, &claims(AUDIENCE, later));
    assert_unauthenticated(
        edge::sleep(&channel, 0, Some(&wrong_key)).await,
        "signature",
    );
    assert_unauthenticated(
        edge::sleep(
            &channel,
            0,
            Some(&rs256(RS256_PRIVATE, &claims(AUDIENCE, now() - 3600))),
        )
        .await,
        "expired",
    );
    assert_eq!(
        server.progress.started(),
        0,
        "no refused call reached the handler"
    );

    for token in [
        STATIC_TOKEN.to_owned(),
        hs256(HS256_SECRET, &claims(AUDIENCE, later)),
        rs256(RS256_PRIVATE, &claims(AUDIENCE, later)),
    ] {
        let response = edge::sleep(&channel, 0, Some(&token)).await;
        assert_eq!(response.expect("accepted").into_inner().status, 1);
    }
    assert_eq!(server.progress.finished(), 3);
}

#[tokio::test]
async fn http_refusals_are_401_with_a_bearer_challenge() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_every_kind(&dir).await;
    let later = now() + 600;

    let (status, headers, body) = edge::http(server.addr, "POST", "/v1/slow", None, "0").await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(headers["www-authenticate"], "Bearer realm=\"chatmesh\"");
    let error: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(error["error"]["code"], "UNAUTHENTICATED");

    let expired = hs256(HS256_SECRET, &claims(AUDIENCE, now() - 3600));
    let wrong_aud = rs256(RS256_PRIVATE, &claims("elsewhere", later));
    for (token, reason) in [
        ("nope", "invalid bearer token"),
        (expired.as_str(), "expired"),
        (wrong_aud.as_str(), "audience"),
    ] {
        let (status, headers, body) =
            edge::http(server.addr, "POST", "/v1/slow", Some(token), "0").await;
        assert_eq!(status, 401, "{body}");
        let challenge = headers["www-authenticate"].to_str().unwrap();
        assert!(challenge.starts_with("Bearer "), "{challenge}");
        assert!(challenge.contains("error=\"invalid_token\""), "{challenge}");
        assert!(body.contains(reason), "{body}");
    }

    let rs = rs256(RS256_PRIVATE, &claims(AUDIENCE, later));
    for token in [STATIC_TOKEN, rs.as_str()] {
        let (status, _, body) = edge::http(server.addr, "POST", "/v1/slow", Some(token), "0").await;
        assert_eq!((status, body.as_str()), (200, "slept"));
    }
}

#[tokio::test]
async fn health_and_metrics_stay_open() {
    let server = edge::start(&["--auth-tokens", STATIC_TOKEN]).await;
    let channel = server.channel().await;
    assert_eq!(edge::health(&channel).await.unwrap(), 1, "SERVING");
    let (status, _, body) = edge::http(server.addr, "GET", "/metrics", None, "").await;
    assert_eq!(status, 200, "{body}");
    // The refused call is still counted, under its own method.
    assert_unauthenticated(edge::sleep(&channel, 0, None).await, "missing");
    let (_, _, body) = edge::http(server.addr, "GET", "/metrics", None, "").await;
    assert!(
        body.lines()
            .any(|l| l.contains("Sleep") && l.contains("UNAUTHENTICATED")),
        "{body}"
    );
}

#[tokio::test]
async fn without_auth_settings_the_edge_is_open() {
    let server = edge::start(&[]).await;
    let channel = server.channel().await;
    edge::sleep(&channel, 0, None).await.expect("open");
    let (status, _, _) = edge::http(server.addr, "POST", "/v1/slow", None, "0").await;
    assert_eq!(status, 200);
}
