//! The protobuf codec every generated client and server of the mesh uses: tonic's prost codec
//! with smaller per-call buffers. tonic gives every call an 8 KiB encode buffer and an 8 KiB
//! decode buffer up front; a forwarding hop (the chatbot, the router) holds four of them per
//! call in flight, while the mesh's messages are mostly a few hundred bytes. Under the chat mix
//! at c=64, heaptrack of the chatbot had its router client's decode buffers as the largest
//! single holder of heap (64 calls × 8 KiB). Here each call starts with [`BUFFER_SIZE`]; a
//! larger message grows its buffer as tonic grows any buffer (the decoder reserves the length a
//! message's header announces, after checking it against the size limit; the encoder's buffer
//! grows as prost writes), so large messages still work, at the price of one reallocation.
//!
//! Hand-written because tonic's build takes a codec by path (`codec_path` in `build.rs`) and its
//! default has no knob for the buffer size; the encoding itself is tonic-prost's.

use tonic::codec::{BufferSettings, Codec};
use tonic_prost::{ProstCodec, ProstDecoder, ProstEncoder};

/// Initial size of each call's encode and decode buffer (and tonic's growth step when it
/// compresses).
pub const BUFFER_SIZE: usize = 1024;

/// The batch size up to which a streaming call's ready messages are encoded together before
/// they are sent (tonic's default).
const YIELD_THRESHOLD: usize = 32 * 1024;

/// [`ProstCodec`] with [`BUFFER_SIZE`] buffers; the generated code makes one per call.
#[derive(Debug, Clone)]
pub struct SmallBufferCodec<T, U>(ProstCodec<T, U>);

impl<T, U> Default for SmallBufferCodec<T, U> {
    fn default() -> Self {
        Self(ProstCodec::default())
    }
}

fn settings() -> BufferSettings {
    BufferSettings::new(BUFFER_SIZE, YIELD_THRESHOLD)
}

impl<T, U> Codec for SmallBufferCodec<T, U>
where
    T: prost::Message + Send + 'static,
    U: prost::Message + Default + Send + 'static,
{
    type Encode = T;
    type Decode = U;
    type Encoder = ProstEncoder<T>;
    type Decoder = ProstDecoder<U>;

    fn encoder(&mut self) -> Self::Encoder {
        ProstCodec::<T, U>::raw_encoder(settings())
    }

    fn decoder(&mut self) -> Self::Decoder {
        ProstCodec::<T, U>::raw_decoder(settings())
    }
}

#[cfg(test)]
mod tests {
    use tonic::codec::{Codec, Decoder, Encoder};

    use super::*;

    #[test]
    fn calls_start_with_the_small_buffers() {
        let mut codec = SmallBufferCodec::<prost_types::Duration, prost_types::Duration>::default();
        let expected = format!("{:?}", settings());
        assert!(expected.contains(&format!("buffer_size: {BUFFER_SIZE}")));
        assert_eq!(format!("{:?}", codec.encoder().buffer_settings()), expected);
        assert_eq!(format!("{:?}", codec.decoder().buffer_settings()), expected);
    }
}
