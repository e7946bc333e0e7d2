//! Two corrections to the status of an answer, on its way out, for answers that carry their
//! status in the response headers (trailers-only: every unary refusal).
//!
//! - **A request that does not decode is the caller's fault.** tonic's protobuf codec answers
//!   any decode failure (a field of the wrong wire type, a string that is not UTF-8, a truncated
//!   message) with INTERNAL, as gRPC's table of library-generated codes says. But INTERNAL means
//!   "the server broke": it is what the error-rate metrics, alerts and the router's breaker count
//!   against a service, so any client could page an operator with garbage. Here it becomes
//!   INVALID_ARGUMENT, the code of every other malformed request; the answer keeps tonic's
//!   message, which names the field.
//! - **A message never outgrows a header.** A handler that quotes the caller's input in its
//!   message (a name too long, a value out of range) could produce a `grpc-message` larger than
//!   a client accepts in headers (16 KiB by default in h2), and the client then sees a protocol
//!   error instead of the refusal. Messages are cut at [`MAX_MESSAGE_BYTES`].
//!
//! Hand-written: the decoder is generated inside each service's server code, so no codec option
//! reaches only the server side; this layer sees the server's answers only.

use std::task::{Context, Poll};

use futures::TryFutureExt;
use futures::future::MapOk;
use http::HeaderValue;
use tower_layer::Layer;
use tower_service::Service;

/// The longest `grpc-message` sent, in its percent-encoded form.
pub(crate) const MAX_MESSAGE_BYTES: usize = 1024;

/// The start of every message of tonic's decode failures, as sent (percent-encoded).
const DECODE_FAILURE: &[u8] = b"failed%20to%20decode%20Protobuf%20message";

const GRPC_STATUS: &str = "grpc-status";
const GRPC_MESSAGE: &str = "grpc-message";
const INTERNAL: &[u8] = b"13";
const INVALID_ARGUMENT: &str = "3";

/// Applies both corrections to every answer.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct HonestStatusLayer;

impl<S> Layer<S> for HonestStatusLayer {
    type Service = HonestStatus<S>;

    fn layer(&self, inner: S) -> Self::Service {
        HonestStatus { inner }
    }
}

/// See [`HonestStatusLayer`].
#[derive(Debug, Clone)]
pub(crate) struct HonestStatus<S> {
    inner: S,
}

impl<S, Req, B> Service<Req> for HonestStatus<S>
where
    S: Service<Req, Response = http::Response<B>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = MapOk<S::Future, fn(http::Response<B>) -> http::Response<B>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Req) -> Self::Future {
        self.inner.call(request).map_ok(correct::<B>)
    }
}

fn correct<B>(mut response: http::Response<B>) -> http::Response<B> {
    let headers = response.headers_mut();
    let Some(message) = headers.get(GRPC_MESSAGE) else {
        return response;
    };
    let decode_failure = message.as_bytes().starts_with(DECODE_FAILURE)
        && headers.get(GRPC_STATUS).map(HeaderValue::as_bytes) == Some(INTERNAL);
    if let Some(cut) = cut(message.as_bytes()) {
        headers.insert(GRPC_MESSAGE, cut);
    }
    if decode_failure {
        headers.insert(GRPC_STATUS, HeaderValue::from_static(INVALID_ARGUMENT));
    }
    response
}

/// `message` cut to at most [`MAX_MESSAGE_BYTES`] with an ellipsis, never inside a `%XX`
/// escape nor inside the escapes of one UTF-8 character (clients decode the message as UTF-8
/// and refuse a broken one); `None` when it is short enough already.
fn cut(message: &[u8]) -> Option<HeaderValue> {
    const ELLIPSIS: &[u8] = b"%E2%80%A6";
    if message.len() <= MAX_MESSAGE_BYTES {
        return None;
    }
    let mut end = MAX_MESSAGE_BYTES - ELLIPSIS.len();
    // An escape is three bytes; back up to its `%` when the cut falls inside one.
    if let Some(back) = message[end.saturating_sub(2)..end]
        .iter()
        .rposition(|&b| b == b'%')
    {
        end = end - 2 + back;
    }
    // Non-ASCII bytes are always escaped, so each byte of an unfinished character at the end
    // is one three-byte escape to drop.
    let decoded = percent_decode(&message[..end]);
    if let Err(error) = std::str::from_utf8(&decoded)
        && error.error_len().is_none()
    {
        end -= 3 * (decoded.len() - error.valid_up_to());
    }
    let mut cut = message[..end].to_vec();
    cut.extend_from_slice(ELLIPSIS);
    HeaderValue::from_bytes(&cut).ok()
}

/// The bytes a percent-encoded `grpc-message` stands for.
fn percent_decode(encoded: &[u8]) -> Vec<u8> {
    let hex = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    let mut decoded = Vec::with_capacity(encoded.len());
    let mut i = 0;
    while i < encoded.len() {
        let escape = match encoded.get(i..i + 3) {
            Some([b'%', high, low]) => hex(*high).zip(hex(*low)).map(|(h, l)| h << 4 | l),
            _ => None,
        };
        match escape {
            Some(byte) => {
                decoded.push(byte);
                i += 3;
            }
            None => {
                decoded.push(encoded[i]);
                i += 1;
            }
        }
    }
    decoded
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: &'static str, message: &str) -> http::Response<()> {
        http::Response::builder()
            .header(GRPC_STATUS, status)
            .header(GRPC_MESSAGE, message)
            .body(())
            .unwrap()
    }

    fn header<'a>(response: &'a http::Response<()>, name: &str) -> &'a str {
        response.headers()[name].to_str().unwrap()
    }

    #[test]
    fn a_decode_failure_is_invalid_argument_with_tonics_message() {
        let message = "failed%20to%20decode%20Protobuf%20message%3A%20GetNodeRequest.id";
        let corrected = correct(answer("13", message));
        assert_eq!(header(&corrected, GRPC_STATUS), "3");
        assert_eq!(header(&corrected, GRPC_MESSAGE), message);
    }

    #[test]
    fn other_internal_errors_stay_internal() {
        let corrected = correct(answer("13", "the%20store%20failed"));
        assert_eq!(header(&corrected, GRPC_STATUS), "13");
        // The same words under another code are left as they are.
        let message = "failed%20to%20decode%20Protobuf%20message";
        assert_eq!(header(&correct(answer("14", message)), GRPC_STATUS), "14");
    }

    #[test]
    fn long_messages_are_cut_outside_escapes_and_characters() {
        // Two-, three- and four-byte characters, shifted so the cut meets every position.
        for character in ["é", "€", "😀"] {
            let encoded: String = character.bytes().map(|b| format!("%{b:02X}")).collect();
            for shift in 0..12 {
                let message = format!("{}{}", "a".repeat(shift), encoded.repeat(400));
                let corrected = correct(answer("3", &message));
                let sent = header(&corrected, GRPC_MESSAGE);
                // At most one character (four escapes) shorter than the limit allows.
                assert!(sent.len() <= MAX_MESSAGE_BYTES, "{}", sent.len());
                assert!(sent.len() > MAX_MESSAGE_BYTES - 12, "{}", sent.len());
                assert!(sent.ends_with("%E2%80%A6"), "{sent}");
                let kept = sent.trim_end_matches("%E2%80%A6");
                assert!(message.starts_with(kept));
                // What a client decodes is whole characters.
                let decoded = percent_decode(sent.as_bytes());
                let text = String::from_utf8(decoded).expect("the cut message is UTF-8");
                assert!(text.ends_with('…'), "{text}");
                assert_eq!(header(&corrected, GRPC_STATUS), "3");
            }
        }
        let short = "short";
        assert_eq!(header(&correct(answer("3", short)), GRPC_MESSAGE), short);
    }

    #[test]
    fn percent_decoding_keeps_what_is_not_an_escape() {
        assert_eq!(percent_decode(b"a%20b%C3%A9"), "a bé".as_bytes());
        assert_eq!(percent_decode(b"100%"), b"100%");
        assert_eq!(percent_decode(b"%zz%4"), b"%zz%4");
    }
}
