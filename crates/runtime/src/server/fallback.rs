//! What a port answers for a path no route serves. Every port speaks HTTP/1.1 next to gRPC
//! (`/metrics`, a service's HTTP extras), so uptime checkers and browsers reach it too: a plain
//! HTTP request to an unknown path (`/favicon.ico`, `/healthz`) gets `404 Not Found` with a
//! text body naming the path, not a `200` carrying gRPC status 12 that they would read as
//! success. A gRPC call (`content-type: application/grpc*`) to an unknown method keeps
//! answering UNIMPLEMENTED, as tonic's own fallback does.

use axum::body::Body;
use axum::response::{IntoResponse, Response};
use http::{Request, StatusCode, header};

/// The router's fallback: UNIMPLEMENTED for gRPC, `404 Not Found` for anything else.
pub(crate) async fn unknown_path(request: Request<Body>) -> Response {
    if crate::status::is_grpc(&request) {
        let (parts, ()) = tonic::Status::unimplemented("")
            .into_http::<()>()
            .into_parts();
        return Response::from_parts(parts, Body::empty());
    }
    (
        StatusCode::NOT_FOUND,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        format!(
            "404 Not Found: nothing is served at {}\n",
            request.uri().path()
        ),
    )
        .into_response()
}
