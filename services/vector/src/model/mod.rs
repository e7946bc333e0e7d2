//! The vector service's domain types, free of protobuf and of any engine: collections and their
//! rules ([`spec`]), objects ([`object`]), payloads ([`payload`]) and filters over them
//! ([`filter`]), and the metrics' arithmetic ([`metric`]). Every layer above speaks these.

mod filter;
mod metric;
mod object;
mod payload;
mod spec;

pub use filter::{Bounds, Filter, Scalar};
pub use metric::{Metric, dot};
pub use object::{Object, UpsertCounts};
pub use payload::{Payload, PayloadValue};
pub use spec::{CollectionSpec, HnswParams};

pub(crate) use metric::l2;
pub(crate) use object::{check_batch, check_id, object_field};
pub(crate) use payload::MAX_TEXT_BYTES;
pub(crate) use spec::{
    DEFAULT_EF_CONSTRUCTION, DEFAULT_EF_SEARCH, DEFAULT_M, MAX_DIMENSION, check_name,
};
