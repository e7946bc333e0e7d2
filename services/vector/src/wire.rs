//! The protobuf forms of the domain's payloads, objects and collection descriptions. Two places
//! carry them: the API (`api/convert.rs`, the contract) and the embedded engine's log and
//! snapshots (`store/embedded/records.rs`, which reuse the contract's messages so that buf's
//! breaking-change check also keeps the disk format stable). The translation lives here once.

use chatmesh_proto::vector::{self as pb, payload_value::Kind};

use crate::model::{CollectionSpec, HnswParams, Metric, Object, Payload, PayloadValue};

/// A payload value from the wire (an unset value is null).
pub(crate) fn value_from_pb(value: pb::PayloadValue) -> PayloadValue {
    match value.kind {
        None | Some(Kind::NullValue(_)) => PayloadValue::Null,
        Some(Kind::BoolValue(b)) => PayloadValue::Bool(b),
        Some(Kind::IntValue(i)) => PayloadValue::Int(i),
        Some(Kind::DoubleValue(d)) => PayloadValue::Double(d),
        Some(Kind::StringValue(s)) => PayloadValue::Text(s),
        Some(Kind::ListValue(list)) => {
            PayloadValue::List(list.values.into_iter().map(value_from_pb).collect())
        }
    }
}

/// A payload value for the wire.
pub(crate) fn value_to_pb(value: PayloadValue) -> pb::PayloadValue {
    let kind = match value {
        PayloadValue::Null => Kind::NullValue(0),
        PayloadValue::Bool(b) => Kind::BoolValue(b),
        PayloadValue::Int(i) => Kind::IntValue(i),
        PayloadValue::Double(d) => Kind::DoubleValue(d),
        PayloadValue::Text(s) => Kind::StringValue(s),
        PayloadValue::List(values) => Kind::ListValue(pb::PayloadList {
            values: values.into_iter().map(value_to_pb).collect(),
        }),
    };
    pb::PayloadValue { kind: Some(kind) }
}

/// A payload from the wire.
pub(crate) fn payload_from_pb(
    payload: impl IntoIterator<Item = (String, pb::PayloadValue)>,
) -> Payload {
    payload
        .into_iter()
        .map(|(k, v)| (k, value_from_pb(v)))
        .collect()
}

/// A payload for the wire.
pub(crate) fn payload_to_pb(
    payload: Payload,
) -> std::collections::HashMap<String, pb::PayloadValue> {
    payload
        .into_iter()
        .map(|(k, v)| (k, value_to_pb(v)))
        .collect()
}

/// An object from the wire (its vector may still be empty, to be embedded from its text).
pub(crate) fn object_from_pb(object: pb::VectorObject) -> Object {
    Object {
        id: object.id,
        vector: object.vector,
        payload: payload_from_pb(object.payload),
        text: object.text,
    }
}

/// An object for the wire.
pub(crate) fn object_to_pb(object: Object) -> pb::VectorObject {
    pb::VectorObject {
        id: object.id,
        vector: object.vector,
        payload: payload_to_pb(object.payload),
        text: object.text,
    }
}

/// The contract's distance of a metric.
pub(crate) fn distance_to_pb(metric: Metric) -> pb::Distance {
    match metric {
        Metric::Cosine => pb::Distance::Cosine,
        Metric::L2 => pb::Distance::L2,
        Metric::Dot => pb::Distance::Dot,
    }
}

/// The metric of a contract distance (unspecified is cosine); `None` for an unknown value.
pub(crate) fn metric_from_pb(distance: i32) -> Option<Metric> {
    match pb::Distance::try_from(distance) {
        Ok(pb::Distance::Unspecified | pb::Distance::Cosine) => Some(Metric::Cosine),
        Ok(pb::Distance::L2) => Some(Metric::L2),
        Ok(pb::Distance::Dot) => Some(Metric::Dot),
        Err(_) => None,
    }
}

/// A collection's description with its counts, as the contract (and the log) carries it.
pub(crate) fn collection_to_pb(
    spec: &CollectionSpec,
    objects: usize,
    tombstones: usize,
) -> pb::Collection {
    pb::Collection {
        name: spec.name.clone(),
        dimension: spec.dimension as i32,
        distance: distance_to_pb(spec.metric) as i32,
        hnsw_config: Some(pb::HnswConfig {
            m: spec.params.m as i32,
            ef_construction: spec.params.ef_construction as i32,
            ef_search: spec.ef_search as i32,
        }),
        embedder: spec.embedder.clone(),
        object_count: objects as i64,
        tombstone_count: tombstones as i64,
        create_time: Some(prost_types::Timestamp {
            seconds: spec.create_time.0,
            nanos: spec.create_time.1,
        }),
    }
}

/// A description written by [`collection_to_pb`], read back without checks (the log holds
/// only descriptions that passed them).
pub(crate) fn collection_from_pb(stored: &pb::Collection) -> Option<CollectionSpec> {
    let hnsw = stored.hnsw_config.unwrap_or_default();
    let time = stored.create_time.unwrap_or_default();
    Some(CollectionSpec {
        name: stored.name.clone(),
        dimension: usize::try_from(stored.dimension).ok().filter(|d| *d > 0)?,
        metric: metric_from_pb(stored.distance)?,
        params: HnswParams {
            m: usize::try_from(hnsw.m).ok().filter(|m| *m > 1)?,
            ef_construction: usize::try_from(hnsw.ef_construction)
                .ok()
                .filter(|e| *e > 0)?,
        },
        ef_search: usize::try_from(hnsw.ef_search).ok().filter(|e| *e > 0)?,
        embedder: stored.embedder.clone(),
        create_time: (time.seconds, time.nanos),
    })
}
