//! Answers a service writes in their wire form itself: [`Encoded<M>`] is a message `M` already
//! encoded, which the codec sends as it is.
//!
//! Why: building a reply as a tree of generated messages costs an allocation per string, list
//! and map, and the tree is freed again right after it is encoded. For an answer made of many
//! small strings (a ListNeighbors page: nodes with their labels and properties) that tree was
//! most of the graph service's own work per call (docs/benchmarks.md). A service that writes
//! such an answer straight from its domain values hands it over as `Encoded<M>`; `build.rs`
//! makes the generated server of that one method return it, while every client still reads
//! the ordinary message `M`, since the bytes on the wire are the same.
//!
//! Hand-written because prost has no "pre-encoded message" type. Tests check a writer's output
//! by decoding it as `M`.

use std::fmt;
use std::marker::PhantomData;

use prost::bytes::{Buf, BufMut, Bytes, BytesMut};
use prost::encoding::{self, DecodeContext, WireType, decode_varint, encode_key, encode_varint};
use prost::{DecodeError, Message};

/// A message `M` in its protobuf encoding.
pub struct Encoded<M> {
    bytes: Bytes,
    message: PhantomData<fn() -> M>,
}

impl<M> Encoded<M> {
    /// Wraps `bytes`, which must be an encoding of an `M` (the writer's tests decode it as one).
    pub fn from_wire(bytes: impl Into<Bytes>) -> Self {
        Self {
            bytes: bytes.into(),
            message: PhantomData,
        }
    }

    /// The encoding.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }
}

impl<M: Message + Default> Encoded<M> {
    /// Decodes the message (for tests and tools; a server only sends it).
    pub fn decode_message(&self) -> Result<M, DecodeError> {
        M::decode(self.bytes.as_ref())
    }
}

impl<M: Message> From<M> for Encoded<M> {
    /// Encodes an ordinary message (a test double that answers with generated messages).
    fn from(message: M) -> Self {
        Self::from_wire(message.encode_to_vec())
    }
}

impl<M> Default for Encoded<M> {
    fn default() -> Self {
        Self::from_wire(Bytes::new())
    }
}

impl<M> Clone for Encoded<M> {
    fn clone(&self) -> Self {
        Self::from_wire(self.bytes.clone())
    }
}

impl<M> PartialEq for Encoded<M> {
    fn eq(&self, other: &Self) -> bool {
        self.bytes == other.bytes
    }
}

impl<M> fmt::Debug for Encoded<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Encoded<{}>({} bytes)",
            std::any::type_name::<M>(),
            self.bytes.len()
        )
    }
}

/// Reading an `Encoded<M>` keeps each field as it came, so that sending it on sends the same
/// message.
impl<M> Message for Encoded<M> {
    fn encode_raw(&self, buf: &mut impl BufMut) {
        buf.put_slice(&self.bytes);
    }

    fn merge_field(
        &mut self,
        tag: u32,
        wire_type: WireType,
        buf: &mut impl Buf,
        ctx: DecodeContext,
    ) -> Result<(), DecodeError> {
        let mut field = BytesMut::new();
        encode_key(tag, wire_type, &mut field);
        match wire_type {
            WireType::Varint => encode_varint(decode_varint(buf)?, &mut field),
            WireType::SixtyFourBit => {
                let mut value = 0;
                encoding::fixed64::merge(wire_type, &mut value, buf, ctx)?;
                field.put_u64_le(value);
            }
            WireType::ThirtyTwoBit => {
                let mut value = 0;
                encoding::fixed32::merge(wire_type, &mut value, buf, ctx)?;
                field.put_u32_le(value);
            }
            WireType::LengthDelimited => {
                let mut value = Vec::new();
                encoding::bytes::merge(wire_type, &mut value, buf, ctx)?;
                encode_varint(value.len() as u64, &mut field);
                field.put_slice(&value);
            }
            // Groups are proto2's and no chatmesh message has one: refused as a wrong wire type.
            WireType::StartGroup | WireType::EndGroup => {
                encoding::check_wire_type(WireType::LengthDelimited, wire_type)?;
            }
        }
        let mut bytes = BytesMut::from(std::mem::take(&mut self.bytes));
        bytes.put(field);
        self.bytes = bytes.freeze();
        Ok(())
    }

    fn encoded_len(&self) -> usize {
        self.bytes.len()
    }

    fn clear(&mut self) {
        self.bytes = Bytes::new();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A message with every wire type prost writes: varint, 64-bit, 32-bit, length-delimited.
    #[derive(Clone, PartialEq, Message)]
    struct Sample {
        #[prost(uint64, tag = "1")]
        id: u64,
        #[prost(double, tag = "2")]
        score: f64,
        #[prost(fixed32, tag = "3")]
        flags: u32,
        #[prost(string, repeated, tag = "4")]
        names: Vec<String>,
        #[prost(message, optional, tag = "5")]
        inner: Option<Box<Sample>>,
    }

    fn sample() -> Sample {
        Sample {
            id: 300,
            score: -1.5,
            flags: 7,
            names: vec!["a".into(), "ß".repeat(200)],
            inner: Some(Box::new(Sample {
                id: 1,
                ..Default::default()
            })),
        }
    }

    #[test]
    fn sends_its_bytes_as_they_are() {
        let message = sample();
        let encoded = Encoded::from(message.clone());
        assert_eq!(encoded.encode_to_vec(), message.encode_to_vec());
        assert_eq!(encoded.encoded_len(), message.encoded_len());
        assert_eq!(encoded.decode_message().unwrap(), message);
    }

    #[test]
    fn reads_back_what_it_sends() {
        let wire = sample().encode_to_vec();
        let read = Encoded::<Sample>::decode(wire.as_slice()).unwrap();
        assert_eq!(read.as_bytes(), wire.as_slice());
        assert_eq!(read.decode_message().unwrap(), sample());
        // A field cut short is an error, not a partial message.
        let cut = &wire[..wire.len() - 3];
        assert!(Encoded::<Sample>::decode(cut).is_err());
    }
}
