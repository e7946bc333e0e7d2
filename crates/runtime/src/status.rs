//! What every layer needs to answer in gRPC's terms: whether a request is a gRPC call at all
//! (the layers share the port with plain HTTP), and the names of gRPC status codes as the gRPC
//! spec writes them (`NOT_FOUND`), shared by the metrics labels, the refusals' JSON errors, the
//! chatbot's JSON errors and the router's tool results.

use tonic::Code;

/// gRPC status codes 0..=16, indexed by their number.
pub const CODE_NAMES: [&str; 17] = [
    "OK",
    "CANCELLED",
    "UNKNOWN",
    "INVALID_ARGUMENT",
    "DEADLINE_EXCEEDED",
    "NOT_FOUND",
    "ALREADY_EXISTS",
    "PERMISSION_DENIED",
    "RESOURCE_EXHAUSTED",
    "FAILED_PRECONDITION",
    "ABORTED",
    "OUT_OF_RANGE",
    "UNIMPLEMENTED",
    "INTERNAL",
    "UNAVAILABLE",
    "DATA_LOSS",
    "UNAUTHENTICATED",
];

/// The canonical upper-case name of a gRPC status code, e.g. `NOT_FOUND`.
pub fn code_name(code: Code) -> &'static str {
    CODE_NAMES[code as usize]
}

/// Whether a request is a gRPC call (`content-type: application/grpc` or `application/grpc+…`).
pub(crate) fn is_grpc<B>(request: &http::Request<B>) -> bool {
    request
        .headers()
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/grpc"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_code_numbers() {
        for number in 0..=16 {
            let code = Code::from_i32(number);
            assert_eq!(code as i32, number);
            let name = code_name(code);
            assert_eq!(name, name.to_uppercase());
        }
        assert_eq!(code_name(Code::NotFound), "NOT_FOUND");
        assert_eq!(code_name(Code::DeadlineExceeded), "DEADLINE_EXCEEDED");
        assert_eq!(code_name(Code::Unauthenticated), "UNAUTHENTICATED");
    }
}
