//! Cypher's run-time value ([`RVal`]: property values plus maps, nodes, relationships and
//! paths, the last three by id) and its rules: equality with nulls, comparison, the total order
//! of ORDER BY, grouping keys, and the conversions from parameters and to property values and
//! result values. The syntax tree (literals) and the evaluator both build on it, so it sits
//! below them.

use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap};

use crate::engine::GraphState;
use crate::error::Result;
use crate::model::{Path, QueryValue, Value, check_value, not_a_parameter, not_a_property};

/// A Cypher value at run time.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum RVal {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    String(String),
    List(Vec<RVal>),
    Map(BTreeMap<String, RVal>),
    /// A node by id.
    Node(u64),
    /// A relationship by id.
    Rel(u64),
    /// A path: node ids and the relationship ids between them.
    Path {
        nodes: Vec<u64>,
        rels: Vec<u64>,
    },
}

/// The variables bound in one row of a running statement.
pub(crate) type Bindings = HashMap<String, RVal>;

/// What the allocator adds to each block (its header, rounding), roughly.
const BLOCK: u64 = 16;

/// An estimate of the memory one row holds, for the query's memory budget: the table, its
/// entries, the names and what the values own. Errs high rather than low.
pub(crate) fn row_size(row: &Bindings) -> u64 {
    let entry = (size_of::<String>() + size_of::<RVal>() + 1) as u64;
    let table = 48 + BLOCK + row.capacity() as u64 * entry * 8 / 7;
    table
        + row
            .iter()
            .map(|(k, v)| k.capacity() as u64 + BLOCK + heap_size(v))
            .sum::<u64>()
}

/// An estimate of the memory `value` owns beyond its own `size_of`.
pub(crate) fn heap_size(value: &RVal) -> u64 {
    let item = size_of::<RVal>() as u64;
    match value {
        RVal::String(s) => s.capacity() as u64 + BLOCK,
        RVal::List(items) => {
            BLOCK + items.capacity() as u64 * item + items.iter().map(heap_size).sum::<u64>()
        }
        RVal::Map(map) => map
            .iter()
            .map(|(k, v)| 2 * BLOCK + (24 + item) + k.capacity() as u64 + heap_size(v))
            .sum(),
        RVal::Path { nodes, rels } => 2 * BLOCK + 8 * (nodes.capacity() + rels.capacity()) as u64,
        _ => 0,
    }
}

impl RVal {
    /// From a stored property value.
    pub(crate) fn from_value(value: &Value) -> Self {
        match value {
            Value::Null => RVal::Null,
            Value::Bool(b) => RVal::Bool(*b),
            Value::Int(i) => RVal::Int(*i),
            Value::Float(f) => RVal::Float(*f),
            Value::String(s) => RVal::String(s.clone()),
            Value::List(items) => RVal::List(items.iter().map(Self::from_value).collect()),
        }
    }

    /// To a property value (`what` names it in errors): maps, lists inside lists, nulls inside
    /// lists, nodes, relationships and paths are refused, as in Neo4j.
    pub(crate) fn to_value(&self, what: &str) -> Result<Value> {
        let value = match self {
            RVal::List(items) => Value::List(
                items
                    .iter()
                    .map(|item| match item {
                        RVal::List(_) => Err(not_a_property(what, "a list inside a list")),
                        RVal::Null => Err(not_a_property(what, "a list holding null")),
                        _ => item.scalar_value(what),
                    })
                    .collect::<Result<_>>()?,
            ),
            _ => self.scalar_value(what)?,
        };
        check_value(&value, what)?;
        Ok(value)
    }

    /// A value that is not a list, as a property value.
    fn scalar_value(&self, what: &str) -> Result<Value> {
        Ok(match self {
            RVal::Null => Value::Null,
            RVal::Bool(b) => Value::Bool(*b),
            RVal::Int(i) => Value::Int(*i),
            RVal::Float(f) => Value::Float(*f),
            RVal::String(s) => Value::String(s.clone()),
            RVal::List(_) => return Err(not_a_property(what, "a list inside a list")),
            other => return Err(not_a_property(what, &format!("a {}", other.type_name()))),
        })
    }

    /// From a query parameter: any value but a node, relationship or path.
    pub(crate) fn from_parameter(value: &QueryValue, name: &str) -> Result<Self> {
        Ok(match value {
            QueryValue::Null => RVal::Null,
            QueryValue::Bool(b) => RVal::Bool(*b),
            QueryValue::Int(i) => RVal::Int(*i),
            QueryValue::Float(f) => RVal::Float(*f),
            QueryValue::String(s) => RVal::String(s.clone()),
            QueryValue::List(items) => RVal::List(
                items
                    .iter()
                    .map(|v| Self::from_parameter(v, name))
                    .collect::<Result<_>>()?,
            ),
            QueryValue::Map(map) => RVal::Map(
                map.iter()
                    .map(|(k, v)| Ok((k.clone(), Self::from_parameter(v, name)?)))
                    .collect::<Result<_>>()?,
            ),
            QueryValue::Node(_) | QueryValue::Relationship(_) | QueryValue::Path(_) => {
                return Err(not_a_parameter(name));
            }
        })
    }

    /// The value a result row holds; a node or relationship deleted by the statement reads as
    /// null (and is left out of a path).
    pub(crate) fn to_result(&self, state: &GraphState) -> QueryValue {
        match self {
            RVal::Null => QueryValue::Null,
            RVal::Bool(b) => QueryValue::Bool(*b),
            RVal::Int(i) => QueryValue::Int(*i),
            RVal::Float(f) => QueryValue::Float(*f),
            RVal::String(s) => QueryValue::String(s.clone()),
            RVal::List(items) => {
                QueryValue::List(items.iter().map(|v| v.to_result(state)).collect())
            }
            RVal::Map(entries) => QueryValue::Map(
                entries
                    .iter()
                    .map(|(k, v)| (k.clone(), v.to_result(state)))
                    .collect(),
            ),
            RVal::Node(id) => state
                .cloned_node(*id)
                .map_or(QueryValue::Null, QueryValue::Node),
            RVal::Rel(id) => state
                .cloned_relationship(*id)
                .map_or(QueryValue::Null, QueryValue::Relationship),
            RVal::Path { nodes, rels } => QueryValue::Path(Path {
                nodes: nodes
                    .iter()
                    .filter_map(|n| state.cloned_node(*n).ok())
                    .collect(),
                relationships: rels
                    .iter()
                    .filter_map(|r| state.cloned_relationship(*r).ok())
                    .collect(),
            }),
        }
    }

    pub(crate) fn type_name(&self) -> &'static str {
        match self {
            RVal::Null => "null",
            RVal::Bool(_) => "boolean",
            RVal::Int(_) => "integer",
            RVal::Float(_) => "float",
            RVal::String(_) => "string",
            RVal::List(_) => "list",
            RVal::Map(_) => "map",
            RVal::Node(_) => "node",
            RVal::Rel(_) => "relationship",
            RVal::Path { .. } => "path",
        }
    }

    /// A canonical text for grouping and DISTINCT (equal values, equal keys).
    pub(crate) fn key(&self) -> String {
        match self {
            RVal::Float(f) if f.fract() == 0.0 && f.abs() < 9e15 => format!("Int({})", *f as i64),
            RVal::List(items) => {
                let keys: Vec<String> = items.iter().map(RVal::key).collect();
                format!("List[{}]", keys.join(","))
            }
            RVal::Map(entries) => {
                let keys: Vec<String> = entries
                    .iter()
                    .map(|(k, v)| format!("{k:?}:{}", v.key()))
                    .collect();
                format!("Map{{{}}}", keys.join(","))
            }
            other => format!("{other:?}"),
        }
    }
}

/// Cypher equality: null when either side is null (or a list holds nulls that decide it).
pub(crate) fn equals(a: &RVal, b: &RVal) -> Option<bool> {
    match (a, b) {
        (RVal::Null, _) | (_, RVal::Null) => None,
        (RVal::Int(x), RVal::Float(y)) | (RVal::Float(y), RVal::Int(x)) => Some(*x as f64 == *y),
        (RVal::List(x), RVal::List(y)) => {
            if x.len() != y.len() {
                return Some(false);
            }
            let mut unknown = false;
            for (x, y) in x.iter().zip(y) {
                match equals(x, y) {
                    Some(false) => return Some(false),
                    None => unknown = true,
                    Some(true) => {}
                }
            }
            if unknown { None } else { Some(true) }
        }
        (RVal::Map(x), RVal::Map(y)) => {
            if x.len() != y.len() || x.keys().ne(y.keys()) {
                return Some(false);
            }
            let mut unknown = false;
            for (x, y) in x.values().zip(y.values()) {
                match equals(x, y) {
                    Some(false) => return Some(false),
                    None => unknown = true,
                    Some(true) => {}
                }
            }
            if unknown { None } else { Some(true) }
        }
        _ => Some(a == b),
    }
}

/// `<`, `<=`, `>`, `>=`: null when the values are not comparable, false when a number is NaN.
pub(crate) fn inequality(a: &RVal, b: &RVal, test: fn(Ordering) -> bool) -> RVal {
    let nan = |v: &RVal| matches!(v, RVal::Float(f) if f.is_nan());
    if (nan(a) || nan(b)) && as_f64(a).is_some() && as_f64(b).is_some() {
        return RVal::Bool(false);
    }
    compare(a, b).map_or(RVal::Null, |o| RVal::Bool(test(o)))
}

/// Cypher comparison (`<` and friends): numbers, strings and booleans among themselves, and
/// lists element by element (null as soon as a pair is not comparable).
fn compare(a: &RVal, b: &RVal) -> Option<Ordering> {
    match (a, b) {
        (RVal::List(x), RVal::List(y)) => {
            for (x, y) in x.iter().zip(y) {
                match compare(x, y)? {
                    Ordering::Equal => {}
                    unequal => return Some(unequal),
                }
            }
            Some(x.len().cmp(&y.len()))
        }
        (RVal::Int(x), RVal::Int(y)) => Some(x.cmp(y)),
        (RVal::Int(_) | RVal::Float(_), RVal::Int(_) | RVal::Float(_)) => {
            as_f64(a)?.partial_cmp(&as_f64(b)?)
        }
        (RVal::String(x), RVal::String(y)) => Some(x.cmp(y)),
        (RVal::Bool(x), RVal::Bool(y)) => Some(x.cmp(y)),
        _ => None,
    }
}

pub(crate) fn as_f64(v: &RVal) -> Option<f64> {
    match v {
        RVal::Int(i) => Some(*i as f64),
        RVal::Float(f) => Some(*f),
        _ => None,
    }
}

/// The total order of ORDER BY, min and max: maps, nodes, relationships, lists, paths,
/// strings, booleans, numbers, then null.
pub(crate) fn order(a: &RVal, b: &RVal) -> Ordering {
    fn rank(v: &RVal) -> u8 {
        match v {
            RVal::Map(_) => 0,
            RVal::Node(_) => 1,
            RVal::Rel(_) => 2,
            RVal::List(_) => 3,
            RVal::Path { .. } => 4,
            RVal::String(_) => 5,
            RVal::Bool(_) => 6,
            RVal::Int(_) | RVal::Float(_) => 7,
            RVal::Null => 8,
        }
    }
    match (a, b) {
        (RVal::Int(_) | RVal::Float(_), RVal::Int(_) | RVal::Float(_)) => {
            compare(a, b).unwrap_or_else(|| {
                // NaN sorts after every other number.
                let (x, y) = (as_f64(a).unwrap_or(0.0), as_f64(b).unwrap_or(0.0));
                x.is_nan().cmp(&y.is_nan())
            })
        }
        (RVal::String(x), RVal::String(y)) => x.cmp(y),
        (RVal::Bool(x), RVal::Bool(y)) => x.cmp(y),
        (RVal::Node(x), RVal::Node(y)) | (RVal::Rel(x), RVal::Rel(y)) => x.cmp(y),
        (RVal::List(x), RVal::List(y)) => x
            .iter()
            .zip(y)
            .map(|(x, y)| order(x, y))
            .find(|o| o.is_ne())
            .unwrap_or(x.len().cmp(&y.len())),
        (RVal::Map(_), RVal::Map(_)) | (RVal::Path { .. }, RVal::Path { .. }) => {
            a.key().cmp(&b.key())
        }
        _ => rank(a).cmp(&rank(b)),
    }
}
