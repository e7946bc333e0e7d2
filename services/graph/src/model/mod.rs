//! The graph's vocabulary, the bottom layer every other module builds on: property values and
//! the rules for names and sizes ([`value`]), the entities ([`entity`]), the walks
//! ([`walk`]) and the Cypher request and answer ([`query`]). Plain data: no locks, no petgraph,
//! no protobuf, so a second engine (Bolt) and the gRPC edge can both speak it.

mod entity;
mod query;
mod start;
mod value;
mod walk;

pub(crate) use entity::{KeyCount, NodeUpdate};
pub use entity::{Node, Path, Relationship, Schema};
pub(crate) use query::not_a_parameter;
pub use query::{AccessMode, CypherQuery, QueryResult, QueryValue, Row, WriteStats};
pub(crate) use start::NodeMatch;
pub(crate) use value::{
    MAX_LABELS, check_counts, check_name, check_properties, check_property_count, check_value,
    not_a_property,
};
pub use value::{Properties, Value};
pub use walk::{Direction, FoundPath, Neighbor, NeighborQuery, Neighbors, PathQuery, Weight};
