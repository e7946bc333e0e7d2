//! The answer a server layer gives when it refuses a request before the handler sees it
//! (authentication, rate limit, overload): a trailers-only gRPC status for gRPC calls, and for
//! plain HTTP the JSON error shape the chatbot's HTTP API uses
//! (`{"error": {"code": "UNAUTHENTICATED", "message": "…"}}`) with a fitting HTTP status.

use http::{HeaderName, HeaderValue, StatusCode};
use tonic::body::Body;
use tonic::{Code, Status};

use crate::status::code_name;

/// A refusal being built: the gRPC code, the HTTP status and the headers both answers carry.
#[derive(Debug)]
pub(crate) struct Refusal {
    code: Code,
    http_status: StatusCode,
    message: String,
    headers: Vec<(HeaderName, HeaderValue)>,
}

impl Refusal {
    pub(crate) fn new(code: Code, http_status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            code,
            http_status,
            message: message.into(),
            headers: Vec::new(),
        }
    }

    /// Adds a header to either answer (for gRPC it reaches the client as metadata).
    pub(crate) fn header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.headers.push((name, value));
        self
    }

    /// The response: gRPC when `grpc`, JSON otherwise.
    pub(crate) fn into_response(self, grpc: bool) -> http::Response<Body> {
        let mut response = if grpc {
            Status::new(self.code, self.message).into_http::<Body>()
        } else {
            let body = serde_json::json!({
                "error": {"code": code_name(self.code), "message": self.message}
            });
            let mut response =
                http::Response::new(Body::new(axum::body::Body::from(body.to_string())));
            *response.status_mut() = self.http_status;
            response.headers_mut().insert(
                http::header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            response
        };
        for (name, value) in self.headers {
            response.headers_mut().append(name, value);
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grpc_refusals_are_trailers_only_with_the_code() {
        let response = Refusal::new(Code::Unauthenticated, StatusCode::UNAUTHORIZED, "no")
            .header(
                http::header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer"),
            )
            .into_response(true);
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()["grpc-status"], "16");
        assert_eq!(response.headers()["www-authenticate"], "Bearer");
    }

    #[test]
    fn http_refusals_carry_the_status_and_a_json_error() {
        let response = Refusal::new(Code::ResourceExhausted, StatusCode::TOO_MANY_REQUESTS, "x")
            .into_response(false);
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(response.headers()["content-type"], "application/json");
    }
}
