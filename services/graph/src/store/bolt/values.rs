//! Values between neo4rs and the domain: parameters out ([`param`], [`properties_param`]),
//! answers in ([`query_value`], [`node`], [`relationship`], [`path`]), and the one id rule.
//!
//! Ids: the contract's id of a node or relationship is the engine's integer `id()` plus one, so
//! that 0 stays invalid in the contract (Neo4j and ArcadeDB both number from 0). The ids are
//! the engine's, not ours: Neo4j and Memgraph reuse a deleted entity's id, and ArcadeDB also
//! reuses ids after deletes and gives a node a new id when its labels change (its labels decide
//! the record's bucket). Nothing here invents or remembers ids.
//!
//! neo4rs 0.8.0 decodes the one-byte integers -16..-1 as 240..255 (its integer parser casts the
//! marker byte without its sign). Values cannot be told apart afterwards, so this is documented
//! (README, "Scaling out") rather than repaired here, except in a path's index list, where the
//! range of valid indices tells ([`signed_index`]).
//!
//! Bolt has types the contract has not (temporal, spatial, bytes, durations): they come back
//! as their text form (ISO 8601 for temporal values), bytes as a list of integers.

use std::collections::{BTreeMap, HashMap};

use neo4rs::{BoltList, BoltMap, BoltNode, BoltPath, BoltRelation, BoltType};

use crate::error::{GraphError, Result};
use crate::model::{Node, Path, Properties, QueryValue, Relationship, Value};

/// The engine's id of a contract id; `None` when no engine id maps to it.
pub(super) fn engine_id(id: u64) -> Option<i64> {
    i64::try_from(id.checked_sub(1)?).ok()
}

/// The contract's id of an engine id.
pub(super) fn contract_id(id: i64) -> Result<u64> {
    u64::try_from(id)
        .ok()
        .and_then(|id| id.checked_add(1))
        .ok_or_else(|| unexpected(format!("the engine answered the negative id {id}")))
}

/// INTERNAL for an answer of the engine this adapter cannot read.
pub(super) fn unexpected(detail: impl Into<String>) -> GraphError {
    GraphError::Internal(format!(
        "the graph engine's answer was not understood: {}",
        detail.into()
    ))
}

/// A property value as a parameter.
pub(super) fn param(value: &Value) -> BoltType {
    match value {
        Value::Null => BoltType::Null(neo4rs::BoltNull),
        Value::Bool(b) => BoltType::from(*b),
        Value::Int(i) => BoltType::from(*i),
        Value::Float(f) => BoltType::from(*f),
        Value::String(s) => BoltType::from(s.as_str()),
        Value::List(items) => {
            BoltType::List(BoltList::from(items.iter().map(param).collect::<Vec<_>>()))
        }
    }
}

/// A property map as one map parameter (`CREATE (n $props)`, `SET n += $set`).
pub(super) fn properties_param<'a>(
    entries: impl IntoIterator<Item = (&'a String, &'a Value)>,
) -> BoltType {
    let map: BoltMap = entries
        .into_iter()
        .map(|(k, v)| (k.as_str().into(), param(v)))
        .collect();
    BoltType::Map(map)
}

/// A Cypher parameter.
pub(super) fn query_param(value: &QueryValue) -> Result<BoltType> {
    Ok(match value {
        QueryValue::Null => BoltType::Null(neo4rs::BoltNull),
        QueryValue::Bool(b) => BoltType::from(*b),
        QueryValue::Int(i) => BoltType::from(*i),
        QueryValue::Float(f) => BoltType::from(*f),
        QueryValue::String(s) => BoltType::from(s.as_str()),
        QueryValue::List(items) => BoltType::List(BoltList::from(
            items.iter().map(query_param).collect::<Result<Vec<_>>>()?,
        )),
        QueryValue::Map(entries) => BoltType::Map(
            entries
                .iter()
                .map(|(k, v)| Ok((k.as_str().into(), query_param(v)?)))
                .collect::<Result<BoltMap>>()?,
        ),
        QueryValue::Node(_) | QueryValue::Relationship(_) | QueryValue::Path(_) => {
            return Err(GraphError::InvalidArgument(
                "nodes, relationships and paths cannot be parameters".into(),
            ));
        }
    })
}

/// All parameters of a statement.
pub(super) fn query_params(params: &HashMap<String, QueryValue>) -> Result<BoltMap> {
    params
        .iter()
        .map(|(k, v)| Ok((k.as_str().into(), query_param(v)?)))
        .collect()
}

/// A value in a result row.
pub(super) fn query_value(value: BoltType) -> Result<QueryValue> {
    Ok(match value {
        BoltType::Null(_) => QueryValue::Null,
        BoltType::Boolean(b) => QueryValue::Bool(b.value),
        BoltType::Integer(i) => QueryValue::Int(i.value),
        BoltType::Float(f) => QueryValue::Float(f.value),
        BoltType::String(s) => QueryValue::String(s.value),
        BoltType::List(list) => QueryValue::List(
            list.value
                .into_iter()
                .map(query_value)
                .collect::<Result<_>>()?,
        ),
        BoltType::Map(map) => QueryValue::Map(
            map.value
                .into_iter()
                .map(|(k, v)| Ok((k.value, query_value(v)?)))
                .collect::<Result<BTreeMap<_, _>>>()?,
        ),
        BoltType::Node(n) => QueryValue::Node(node(n)?),
        BoltType::Relation(r) => QueryValue::Relationship(relationship(r)?),
        BoltType::Path(p) => QueryValue::Path(path(p)?),
        BoltType::Bytes(b) => {
            QueryValue::List(b.value.iter().map(|&x| QueryValue::Int(x.into())).collect())
        }
        other => QueryValue::String(text(other)),
    })
}

/// The text form of a value the contract has no type for.
fn text(value: BoltType) -> String {
    use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime};
    let shown = match &value {
        BoltType::Date(_) => NaiveDate::try_from(value.clone()).map(|d| d.to_string()),
        BoltType::DateTime(_) => {
            DateTime::<FixedOffset>::try_from(value.clone()).map(|d| d.to_rfc3339())
        }
        BoltType::LocalDateTime(_) => NaiveDateTime::try_from(value.clone())
            .map(|d| d.format("%Y-%m-%dT%H:%M:%S%.f").to_string()),
        BoltType::DateTimeZoneId(_) => <(NaiveDateTime, String)>::try_from(value.clone())
            .map(|(d, zone)| format!("{}[{zone}]", d.format("%Y-%m-%dT%H:%M:%S%.f"))),
        BoltType::Time(_) | BoltType::LocalTime(_) => {
            <(NaiveTime, Option<FixedOffset>)>::try_from(value.clone())
                .map(|(t, offset)| offset.map_or_else(|| t.to_string(), |o| format!("{t}{o}")))
        }
        BoltType::Duration(_) => {
            std::time::Duration::try_from(value.clone()).map(|d| format!("PT{}S", d.as_secs_f64()))
        }
        _ => Err(neo4rs::Error::ConversionError),
    };
    shown.unwrap_or_else(|_| format!("{value:?}"))
}

/// A property value read from a node or relationship.
fn property(value: BoltType) -> Result<Value> {
    Ok(match query_value(value)? {
        QueryValue::Bool(b) => Value::Bool(b),
        QueryValue::Int(i) => Value::Int(i),
        QueryValue::Float(f) => Value::Float(f),
        QueryValue::String(s) => Value::String(s),
        QueryValue::List(items) => Value::List(
            items
                .into_iter()
                .map(|item| match item {
                    QueryValue::Bool(b) => Value::Bool(b),
                    QueryValue::Int(i) => Value::Int(i),
                    QueryValue::Float(f) => Value::Float(f),
                    QueryValue::String(s) => Value::String(s),
                    other => Value::String(format!("{other:?}")),
                })
                .collect(),
        ),
        QueryValue::Null => Value::Null,
        other => Value::String(format!("{other:?}")),
    })
}

fn properties(map: BoltMap) -> Result<Properties> {
    let mut out = Properties::new();
    for (key, value) in map.value {
        let value = property(value)?;
        if value != Value::Null {
            out.insert(key.value, value);
        }
    }
    Ok(out)
}

/// A node of the engine.
pub(super) fn node(node: BoltNode) -> Result<Node> {
    let labels = node
        .labels
        .value
        .into_iter()
        .map(|l| match l {
            BoltType::String(s) => Ok(s.value),
            other => Err(unexpected(format!("a label {other:?}"))),
        })
        .collect::<Result<_>>()?;
    Ok(Node {
        id: contract_id(node.id.value)?,
        labels,
        properties: properties(node.properties)?,
    })
}

/// A relationship of the engine.
pub(super) fn relationship(rel: BoltRelation) -> Result<Relationship> {
    Ok(Relationship {
        id: contract_id(rel.id.value)?,
        rel_type: rel.typ.value,
        start: contract_id(rel.start_node_id.value)?,
        end: contract_id(rel.end_node_id.value)?,
        properties: properties(rel.properties)?,
    })
}

/// A path of the engine: its nodes, and its relationships bound to them by the path's index
/// list (a relationship index, negative when it is walked backwards, then a node index).
pub(super) fn path(path: BoltPath) -> Result<Path> {
    let nodes = path
        .nodes
        .value
        .into_iter()
        .map(|n| match n {
            BoltType::Node(n) => node(n),
            other => Err(unexpected(format!("a path node {other:?}"))),
        })
        .collect::<Result<Vec<_>>>()?;
    let rels: Vec<_> = path.rels.value;
    let indices: Vec<i64> = path
        .indices
        .value
        .iter()
        .map(|i| match i {
            BoltType::Integer(i) => Ok(i.value),
            other => Err(unexpected(format!("a path index {other:?}"))),
        })
        .collect::<Result<_>>()?;
    let mut out = Path {
        nodes: Vec::with_capacity(indices.len() / 2 + 1),
        relationships: Vec::with_capacity(indices.len() / 2),
    };
    let Some(first) = nodes.first() else {
        return Ok(out);
    };
    out.nodes.push(first.clone());
    for step in indices.chunks(2) {
        let &[rel_index, node_index] = step else {
            return Err(unexpected("a path with an odd index list"));
        };
        let far = usize::try_from(node_index)
            .ok()
            .and_then(|i| nodes.get(i))
            .ok_or_else(|| unexpected("a path node index out of range"))?;
        let near = out.nodes.last().map_or(0, |n| n.id);
        let rel_index = signed_index(rel_index, rels.len());
        let rel = usize::try_from(rel_index.unsigned_abs().saturating_sub(1))
            .ok()
            .and_then(|i| rels.get(i))
            .ok_or_else(|| unexpected("a path relationship index out of range"))?;
        let BoltType::UnboundedRelation(rel) = rel else {
            return Err(unexpected(format!("a path relationship {rel:?}")));
        };
        let (start, end) = if rel_index > 0 {
            (near, far.id)
        } else {
            (far.id, near)
        };
        out.relationships.push(Relationship {
            id: contract_id(rel.id.value)?,
            rel_type: rel.typ.value.clone(),
            start,
            end,
            properties: properties(rel.properties.clone())?,
        });
        out.nodes.push(far.clone());
    }
    Ok(out)
}

/// A path's relationship index as the server sent it. neo4rs 0.8 decodes the one-byte negative
/// integers of a path's index list as unsigned (-1 arrives as 255); an index beyond the path's
/// relationships that is a negative byte read that way is taken back to its sign.
fn signed_index(index: i64, relationships: usize) -> i64 {
    let beyond = usize::try_from(index).is_ok_and(|i| i > relationships);
    if beyond && (128..=255).contains(&index) {
        index - 256
    } else {
        index
    }
}

/// Backtick-quotes a label, type or key (already checked with the model's name rule), so no
/// user text reaches a statement other than as a quoted name or a parameter.
pub(super) fn quoted(name: &str) -> String {
    format!("`{}`", name.replace('`', "``"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_shift_by_one_and_names_are_quoted() {
        assert_eq!(engine_id(0), None);
        assert_eq!(engine_id(1), Some(0));
        assert_eq!(engine_id(u64::MAX), None);
        assert_eq!(contract_id(0).unwrap(), 1);
        assert!(contract_id(-1).is_err());
        assert_eq!(quoted("a`b c"), "`a``b c`");
        assert_eq!((signed_index(255, 1), signed_index(1, 1)), (-1, 1));
        assert_eq!(signed_index(-2, 3), -2);
    }

    /// Zoned datetimes arrive from the engine in rows and are shown as local time and zone name,
    /// whatever the zone: the build keeps only UTC of chrono-tz's zones (.cargo/config.toml), so
    /// this fails if reading a row or showing the value ever goes through a zone lookup.
    #[test]
    fn temporal_values_read_from_a_row_are_shown_as_text_whatever_their_zone() {
        use chrono::{FixedOffset, NaiveDate, TimeZone};
        let local = NaiveDate::from_ymd_opt(1984, 11, 11)
            .and_then(|d| d.and_hms_nano_opt(12, 31, 14, 645_876_123))
            .unwrap();
        let with_offset = FixedOffset::east_opt(3600)
            .unwrap()
            .from_local_datetime(&local)
            .unwrap();
        let row = neo4rs::Row::new(
            BoltList::from(vec![BoltType::from("zoned"), BoltType::from("fixed")]),
            BoltList::from(vec![
                BoltType::DateTimeZoneId((local, "Europe/Stockholm").into()),
                BoltType::DateTime(with_offset.into()),
            ]),
        );
        let shown = |name: &str| {
            let value = super::super::column(&row, name).expect("the column reads");
            match query_value(value).unwrap() {
                QueryValue::String(text) => text,
                other => panic!("{name}: {other:?}"),
            }
        };
        assert_eq!(
            shown("zoned"),
            "1984-11-11T12:31:14.645876123[Europe/Stockholm]"
        );
        assert_eq!(shown("fixed"), "1984-11-11T12:31:14.645876123+01:00");
    }
}
