//! Page tokens, one format for every list RPC of every service: opaque to clients, checksummed,
//! and bound to the request they continue.
//!
//! A token is URL-safe base64 (no padding) of: a format byte (`2`), the 8-byte fingerprint of the
//! request's other fields (so a token used with another filter, sort or start node is refused),
//! the cursor the service wrote with [`Fields`], and an 8-byte FNV-1a checksum of all of that.
//! A truncated, edited or foreign token is [`PageTokenError::Malformed`]; a well-formed one from
//! another listing is [`PageTokenError::OtherRequest`]. Both are INVALID_ARGUMENT at the edge.
//! The checksum catches accidents, not forgers: a cursor must be safe whatever it holds (ids
//! and keys are bound as parameters, never spliced into queries).
//!
//! Hand-written: the format is a few bytes, and the crates that sign tokens would add keys to
//! manage for no gain (a forged cursor can only move the page boundary).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

const FORMAT: u8 = 2;

/// Why a page token was refused; the messages name the `page_token` field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PageTokenError {
    /// Not something this service issued (or damaged on the way).
    #[error("page_token: is not a page token issued by this service")]
    Malformed,
    /// Issued for a request with other parameters.
    #[error("page_token: belongs to a listing with other parameters")]
    OtherRequest,
}

/// Typed fields written in a fixed order: a cursor's position, or the request parameters a
/// [`Fields::fingerprint`] stands for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Fields(Vec<u8>);

impl Fields {
    /// No fields yet, with room for the few a cursor or a request fingerprint holds (one
    /// allocation instead of growing from 8 bytes: every ListNeighbors call fingerprints its
    /// request).
    pub fn new() -> Self {
        Self(Vec::with_capacity(64))
    }

    /// Appends an unsigned integer.
    pub fn u64(mut self, value: u64) -> Self {
        self.0.extend_from_slice(&value.to_le_bytes());
        self
    }

    /// Appends a signed integer.
    pub fn i64(mut self, value: i64) -> Self {
        self.0.extend_from_slice(&value.to_le_bytes());
        self
    }

    /// Appends a string (length-prefixed, so `("ab","c")` and `("a","bc")` differ).
    pub fn str(mut self, value: &str) -> Self {
        self.0
            .extend_from_slice(&(value.len() as u32).to_le_bytes());
        self.0.extend_from_slice(value.as_bytes());
        self
    }

    /// Appends raw bytes, length-prefixed (an encoded message, say).
    pub fn bytes(self, value: &[u8]) -> Self {
        let mut this = self.u64(value.len() as u64);
        this.0.extend_from_slice(value);
        this
    }

    /// A stable 64-bit hash of the fields (the same in every process and version).
    pub fn fingerprint(&self) -> u64 {
        fnv1a(&self.0)
    }
}

/// Reads back the fields of a cursor, in the order they were written; `None` when the token
/// holds something else.
pub struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    /// The next unsigned integer.
    pub fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.array()?))
    }

    /// The next signed integer.
    pub fn i64(&mut self) -> Option<i64> {
        Some(i64::from_le_bytes(self.array()?))
    }

    /// The next string.
    pub fn string(&mut self) -> Option<String> {
        let len = u32::from_le_bytes(self.array()?) as usize;
        let bytes = self.take(len)?;
        String::from_utf8(bytes.to_vec()).ok()
    }

    fn take(&mut self, n: usize) -> Option<&[u8]> {
        let (head, rest) = self.0.split_at_checked(n)?;
        self.0 = rest;
        Some(head)
    }

    fn array<const N: usize>(&mut self) -> Option<[u8; N]> {
        self.take(N)?.try_into().ok()
    }
}

/// The token that continues a listing at `cursor`, for the request whose other parameters have
/// the fingerprint `request`.
pub fn encode(request: u64, cursor: &Fields) -> String {
    let mut bytes = Vec::with_capacity(1 + 8 + cursor.0.len() + 8);
    bytes.push(FORMAT);
    bytes.extend_from_slice(&request.to_le_bytes());
    bytes.extend_from_slice(&cursor.0);
    bytes.extend_from_slice(&fnv1a(&bytes).to_le_bytes());
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Checks `token` against the request's fingerprint and reads its cursor with `read`, which must
/// consume all of it.
pub fn decode<T>(
    token: &str,
    request: u64,
    read: impl FnOnce(&mut Reader<'_>) -> Option<T>,
) -> Result<T, PageTokenError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(token)
        .map_err(|_| PageTokenError::Malformed)?;
    let (body, sum) = bytes
        .split_at_checked(bytes.len().wrapping_sub(8))
        .ok_or(PageTokenError::Malformed)?;
    if sum != fnv1a(body).to_le_bytes() || body.len() < 9 || body[0] != FORMAT {
        return Err(PageTokenError::Malformed);
    }
    let print = u64::from_le_bytes(body[1..9].try_into().expect("8 bytes"));
    if print != request {
        return Err(PageTokenError::OtherRequest);
    }
    let mut reader = Reader(&body[9..]);
    match read(&mut reader) {
        Some(value) if reader.0.is_empty() => Ok(value),
        _ => Err(PageTokenError::Malformed),
    }
}

/// 64-bit FNV-1a: stable across processes and versions, unlike `std`'s hasher.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cursor() -> Fields {
        Fields::new().str("it's; DROP").i64(-42).u64(7)
    }

    fn read(r: &mut Reader<'_>) -> Option<(String, i64, u64)> {
        Some((r.string()?, r.i64()?, r.u64()?))
    }

    #[test]
    fn a_token_round_trips() {
        let request = Fields::new().str("customer").fingerprint();
        let token = encode(request, &cursor());
        assert_eq!(
            decode(&token, request, read).unwrap(),
            ("it's; DROP".to_string(), -42, 7)
        );
    }

    #[test]
    fn every_single_byte_edit_and_every_cut_is_refused() {
        let token = encode(1, &cursor());
        let bytes = URL_SAFE_NO_PAD.decode(&token).unwrap();
        for i in 0..bytes.len() {
            let mut edited = bytes.clone();
            edited[i] ^= 0x01;
            let edited = URL_SAFE_NO_PAD.encode(&edited);
            assert!(decode(&edited, 1, read).is_err(), "byte {i}");
        }
        for cut in 0..token.len() {
            assert_eq!(
                decode(&token[..cut], 1, read),
                Err(PageTokenError::Malformed),
                "cut at {cut}"
            );
        }
        for garbage in ["", "!!", "AAAA", "n1.2.3.4.deadbeef", "c1.6661712d646f6373"] {
            assert_eq!(decode(garbage, 1, read), Err(PageTokenError::Malformed));
        }
    }

    #[test]
    fn a_token_is_bound_to_its_request_and_its_shape() {
        let token = encode(1, &cursor());
        assert_eq!(decode(&token, 2, read), Err(PageTokenError::OtherRequest));
        // The right request but a reader expecting another cursor: malformed, not a panic.
        assert_eq!(
            decode(&token, 1, |r| r.u64()),
            Err(PageTokenError::Malformed)
        );
        let message = PageTokenError::OtherRequest.to_string();
        assert!(message.starts_with("page_token: "), "{message}");
    }

    #[test]
    fn fingerprints_separate_fields() {
        let a = Fields::new().str("ab").str("c").fingerprint();
        let b = Fields::new().str("a").str("bc").fingerprint();
        assert_ne!(a, b);
        assert_eq!(a, Fields::new().str("ab").str("c").fingerprint());
    }
}
