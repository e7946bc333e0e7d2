//! Requests → validated domain values. Everything that needs no data is checked here (ids,
//! names, depths, sizes, enums), so the store sees only well-formed requests; every error is
//! INVALID_ARGUMENT naming the field.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::time::Instant;

use chatmesh_proto::graph as pb;

use super::{names, not_negative, parameter_from_pb, properties_from_pb, value_from_pb};
use crate::api::neighbors::Paging;
use crate::error::{Result, invalid};
use crate::model::{
    AccessMode, CypherQuery, Direction, MAX_LABELS, NeighborQuery, NodeMatch, NodeUpdate,
    PathQuery, Properties, QueryValue, Weight, check_name,
};

const MAX_NEIGHBOR_DEPTH: i32 = 10;
const DEFAULT_PATH_DEPTH: u32 = 15;
const MAX_PATH_DEPTH: i32 = 100;
const DEFAULT_PAGE_SIZE: usize = 100;
const MAX_PAGE_SIZE: usize = 1000;
const MAX_CYPHER_BYTES: usize = 64 * 1024;
const MAX_PARAMETERS: usize = 256;
const DEFAULT_ROW_LIMIT: usize = 1000;
const MAX_ROW_LIMIT: usize = 10_000;
const DEFAULT_BATCH_SIZE: usize = 256;
const MAX_BATCH_SIZE: usize = 4096;

/// An id field: ids start at 1.
pub(crate) fn check_id(id: u64, field: &str) -> Result<u64> {
    if id == 0 {
        return Err(invalid(format!(
            "{field}: 0 is not a valid id (ids start at 1)"
        )));
    }
    Ok(id)
}

/// A direction field; unspecified means both.
pub(crate) fn direction(value: i32, field: &str) -> Result<Direction> {
    match pb::Direction::try_from(value) {
        Ok(pb::Direction::Unspecified | pb::Direction::Both) => Ok(Direction::Both),
        Ok(pb::Direction::Outgoing) => Ok(Direction::Outgoing),
        Ok(pb::Direction::Incoming) => Ok(Direction::Incoming),
        Err(_) => Err(invalid(format!("{field}: unknown direction {value}"))),
    }
}

/// CreateNode: its labels and properties.
pub(crate) fn create_node(
    request: &pb::CreateNodeRequest,
) -> Result<(BTreeSet<String>, Properties)> {
    let labels: BTreeSet<String> = names(&request.labels, "labels")?.into_iter().collect();
    if labels.len() > MAX_LABELS {
        return Err(invalid(format!(
            "labels: at most {MAX_LABELS} per node, got {}",
            labels.len()
        )));
    }
    let properties = properties_from_pb(&request.properties, "properties")?;
    Ok((labels, properties))
}

/// UpdateNode: what to set and remove (a key or label in both lists is refused).
pub(crate) fn update_node(request: pb::UpdateNodeRequest) -> Result<NodeUpdate> {
    check_id(request.id, "id")?;
    let mut set_properties = Vec::with_capacity(request.set_properties.len());
    for (key, value) in &request.set_properties {
        check_name(key, "set_properties key")?;
        set_properties.push((
            key.clone(),
            value_from_pb(value, &format!("set_properties.{key}"))?,
        ));
    }
    set_properties.sort_by(|a, b| a.0.cmp(&b.0));
    for (i, key) in request.remove_property_keys.iter().enumerate() {
        check_name(key, format_args!("remove_property_keys[{i}]"))?;
        if request.set_properties.contains_key(key) {
            return Err(invalid(format!(
                "property '{key}' is in both set_properties and remove_property_keys"
            )));
        }
    }
    let removed: HashSet<&String> = request.remove_labels.iter().collect();
    for (i, label) in request.add_labels.iter().enumerate() {
        check_name(label, format_args!("add_labels[{i}]"))?;
        if removed.contains(label) {
            return Err(invalid(format!(
                "label '{label}' is in both add_labels and remove_labels"
            )));
        }
    }
    for (i, label) in request.remove_labels.iter().enumerate() {
        check_name(label, format_args!("remove_labels[{i}]"))?;
    }
    Ok(NodeUpdate {
        id: request.id,
        set_properties,
        remove_keys: request.remove_property_keys,
        add_labels: request.add_labels,
        remove_labels: request.remove_labels,
    })
}

/// CreateRelationship: start, end, type and properties.
pub(crate) fn create_relationship(
    request: pb::CreateRelationshipRequest,
) -> Result<(u64, u64, String, Properties)> {
    let start = check_id(request.start_node_id, "start_node_id")?;
    let end = check_id(request.end_node_id, "end_node_id")?;
    check_name(&request.r#type, "type")?;
    let properties = properties_from_pb(&request.properties, "properties")?;
    Ok((start, end, request.r#type, properties))
}

/// ListNeighbors: the walk, its page, and the node match when the request names its start by
/// `start` (then the walk's `node_id` is 0 until the handler has found the node).
pub(crate) fn neighbor_query(
    request: pb::ListNeighborsRequest,
    deadline: Option<Instant>,
) -> Result<(NeighborQuery, Paging, Option<NodeMatch>)> {
    let (node_id, start) = match (request.node_id, request.start) {
        (id, None) => (check_id(id, "node_id")?, None),
        (0, Some(start)) => (0, Some(node_match(start)?)),
        (_, Some(_)) => return Err(invalid("start: set node_id or start, not both")),
    };
    let min_depth = if request.min_depth == 0 {
        1
    } else {
        request.min_depth
    };
    let max_depth = if request.max_depth == 0 {
        min_depth
    } else {
        request.max_depth
    };
    if !(1 <= min_depth && min_depth <= max_depth && max_depth <= MAX_NEIGHBOR_DEPTH) {
        return Err(invalid(format!(
            "min_depth, max_depth: need 1 <= min_depth <= max_depth <= {MAX_NEIGHBOR_DEPTH}, got {min_depth} and {max_depth}"
        )));
    }
    not_negative(request.limit, "limit")?;
    not_negative(request.page_size, "page_size")?;
    let query = NeighborQuery {
        node_id,
        direction: direction(request.direction, "direction")?,
        types: names(&request.relationship_types, "relationship_types")?,
        min_depth: min_depth as u32,
        max_depth: max_depth as u32,
        limit: (request.limit > 0).then_some(request.limit as usize),
        deadline,
    };
    let paging = Paging {
        page_size: match request.page_size {
            0 => DEFAULT_PAGE_SIZE,
            n => (n as usize).min(MAX_PAGE_SIZE),
        },
        page_token: request.page_token,
    };
    Ok((query, paging, start))
}

/// ListNeighbors' `start`: names checked like labels and keys, a value that is set.
fn node_match(start: pb::NodeMatch) -> Result<NodeMatch> {
    check_name(&start.label, "start.label")?;
    check_name(&start.property, "start.property")?;
    let value = match &start.value {
        Some(value) => parameter_from_pb(value, "start.value")?,
        None => QueryValue::Null,
    };
    NodeMatch {
        label: start.label,
        property: start.property,
        value,
    }
    .checked()
}

/// FindShortestPath: the search, hop count or weighted.
pub(crate) fn path_query(
    request: &pb::FindShortestPathRequest,
    deadline: Option<Instant>,
) -> Result<PathQuery> {
    let source = check_id(request.source_node_id, "source_node_id")?;
    let target = check_id(request.target_node_id, "target_node_id")?;
    let max_depth = match request.max_depth {
        0 => DEFAULT_PATH_DEPTH,
        d if (1..=MAX_PATH_DEPTH).contains(&d) => d as u32,
        d => {
            return Err(invalid(format!(
                "max_depth: must be 0 (meaning {DEFAULT_PATH_DEPTH}) to {MAX_PATH_DEPTH}, got {d}"
            )));
        }
    };
    if let Some(w) = request.default_weight
        && !(w.is_finite() && w >= 0.0)
    {
        return Err(invalid(format!(
            "default_weight: must be finite and >= 0, got {w}"
        )));
    }
    let weight = match &request.weight_property {
        Some(property) => {
            check_name(property, "weight_property")?;
            Some(Weight {
                property: property.clone(),
                default: request.default_weight,
            })
        }
        None => None,
    };
    Ok(PathQuery {
        source,
        target,
        direction: direction(request.direction, "direction")?,
        types: names(&request.relationship_types, "relationship_types")?,
        max_depth,
        weight,
        deadline,
    })
}

/// ExecuteQuery: the statement, with the row limit resolved (default and cap).
pub(crate) fn execute_query(
    request: pb::ExecuteQueryRequest,
    deadline: Option<Instant>,
) -> Result<CypherQuery> {
    not_negative(request.row_limit, "row_limit")?;
    let row_limit = match request.row_limit {
        0 => DEFAULT_ROW_LIMIT,
        n => (n as usize).min(MAX_ROW_LIMIT),
    };
    cypher_query(
        request.cypher,
        &request.parameters,
        request.access_mode,
        Some(row_limit),
        deadline,
    )
}

/// StreamQuery: the statement (no row limit unless asked) and the batch size.
pub(crate) fn stream_query(
    request: pb::StreamQueryRequest,
    deadline: Option<Instant>,
) -> Result<(CypherQuery, usize)> {
    not_negative(request.row_limit, "row_limit")?;
    not_negative(request.batch_size, "batch_size")?;
    let batch_size = match request.batch_size {
        0 => DEFAULT_BATCH_SIZE,
        n => (n as usize).min(MAX_BATCH_SIZE),
    };
    let row_limit = (request.row_limit > 0).then_some(request.row_limit as usize);
    let query = cypher_query(
        request.cypher,
        &request.parameters,
        request.access_mode,
        row_limit,
        deadline,
    )?;
    Ok((query, batch_size))
}

/// The fields ExecuteQuery and StreamQuery share; `row_limit` is already resolved.
fn cypher_query(
    cypher: String,
    parameters: &HashMap<String, pb::Value>,
    access_mode: i32,
    row_limit: Option<usize>,
    deadline: Option<Instant>,
) -> Result<CypherQuery> {
    if cypher.trim().is_empty() {
        return Err(invalid("cypher: must not be empty"));
    }
    if cypher.len() > MAX_CYPHER_BYTES {
        return Err(invalid(format!(
            "cypher: longer than {MAX_CYPHER_BYTES} bytes"
        )));
    }
    if parameters.len() > MAX_PARAMETERS {
        return Err(invalid(format!(
            "parameters: at most {MAX_PARAMETERS}, got {}",
            parameters.len()
        )));
    }
    let access_mode = match pb::AccessMode::try_from(access_mode) {
        Ok(pb::AccessMode::Unspecified | pb::AccessMode::Read) => AccessMode::Read,
        Ok(pb::AccessMode::Write) => AccessMode::Write,
        Err(_) => {
            return Err(invalid(format!("access_mode: unknown value {access_mode}")));
        }
    };
    let parameters = parameters
        .iter()
        .map(|(name, value)| Ok((name.clone(), parameter_from_pb(value, name)?)))
        .collect::<Result<_>>()?;
    Ok(CypherQuery {
        text: cypher,
        parameters,
        access_mode,
        row_limit,
        deadline,
    })
}
