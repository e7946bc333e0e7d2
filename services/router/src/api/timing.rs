//! How long a `Route` spent in its backend, told to the caller as response metadata in the
//! W3C Server-Timing syntax (`graph;dur=0.412`, milliseconds, retries included), so a caller can
//! show each hop's share of a turn (the chatbot's web page does) without a trace backend.
//! One metadata entry per response: formatting it costs well under a microsecond.

use std::time::Duration;

use chatmesh_proto::router::Target;
use tonic::metadata::{MetadataMap, MetadataValue};

use crate::pool::target_name;

/// The metadata key; the same name as the HTTP header browsers read.
pub(crate) const SERVER_TIMING: &str = "server-timing";

/// Records that the call to `target` took `spent`.
pub(crate) fn record(metadata: &mut MetadataMap, target: Target, spent: Duration) {
    let value = format!(
        "{};dur={:.3}",
        target_name(target),
        spent.as_secs_f64() * 1e3
    );
    // Always ASCII (a target name and a number), so the conversion cannot fail.
    if let Ok(value) = MetadataValue::try_from(value) {
        metadata.insert(SERVER_TIMING, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_entry_names_the_backend_and_its_milliseconds() {
        let mut metadata = MetadataMap::new();
        record(&mut metadata, Target::Graph, Duration::from_micros(1_234));
        assert_eq!(metadata.get(SERVER_TIMING).unwrap(), "graph;dur=1.234");
    }
}
