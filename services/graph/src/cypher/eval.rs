//! Run-time values of Cypher (property values plus nodes, relationships and paths), their
//! comparison and ordering rules, and expression evaluation against one row. Aggregates are
//! evaluated over a group of rows when the projection passes one.

use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap};

use chatmesh_proto::graph::{self as pb, value::Kind};

use super::ast::{BinOp, Expr};
use crate::error::{GraphError, Result, invalid};
use crate::store::graph::GraphState;
use crate::store::txn::{DeletedTypes, Txn};
use crate::value::{Value, check_value, not_a_property};

/// The scalar functions the subset knows (lower-cased); aggregates are in `ast::AGGREGATES`.
pub const FUNCTIONS: [&str; 17] = [
    "id",
    "labels",
    "type",
    "properties",
    "keys",
    "size",
    "length",
    "nodes",
    "relationships",
    "startnode",
    "endnode",
    "coalesce",
    "tostring",
    "tointeger",
    "tofloat",
    "tolower",
    "toupper",
];

/// A Cypher value at run time.
#[derive(Debug, Clone, PartialEq)]
pub enum RVal {
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

/// Variables bound in one row.
pub type Row = HashMap<String, RVal>;

/// An entity a row still holds was deleted earlier in the same statement: its data is gone.
fn deleted(what: &str, id: u64) -> GraphError {
    invalid(format!(
        "{what} {id} was deleted by this statement; its labels and properties cannot be read"
    ))
}

fn type_error(message: impl Into<String>) -> GraphError {
    invalid(format!("type error: {}", message.into()))
}

impl RVal {
    /// From a stored property value.
    pub fn from_value(value: &Value) -> Self {
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
    pub fn to_value(&self, what: &str) -> Result<Value> {
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

    /// From a query parameter.
    pub fn from_pb(value: &pb::Value, name: &str) -> Result<Self> {
        Ok(match &value.kind {
            None | Some(Kind::NullValue(_)) => RVal::Null,
            Some(Kind::BoolValue(b)) => RVal::Bool(*b),
            Some(Kind::IntValue(i)) => RVal::Int(*i),
            Some(Kind::DoubleValue(f)) => RVal::Float(*f),
            Some(Kind::StringValue(s)) => RVal::String(s.clone()),
            Some(Kind::ListValue(list)) => RVal::List(
                list.values
                    .iter()
                    .map(|v| Self::from_pb(v, name))
                    .collect::<Result<_>>()?,
            ),
            Some(Kind::MapValue(map)) => RVal::Map(
                map.entries
                    .iter()
                    .map(|(k, v)| Ok((k.clone(), Self::from_pb(v, name)?)))
                    .collect::<Result<_>>()?,
            ),
            Some(Kind::NodeValue(_) | Kind::RelationshipValue(_) | Kind::PathValue(_)) => {
                return Err(invalid(format!(
                    "parameter ${name}: nodes, relationships and paths cannot be parameters"
                )));
            }
        })
    }

    /// To the wire form; a node or relationship deleted by the query reads as null.
    pub fn to_pb(&self, state: &GraphState) -> pb::Value {
        let kind = match self {
            RVal::Null => None,
            RVal::Bool(b) => Some(Kind::BoolValue(*b)),
            RVal::Int(i) => Some(Kind::IntValue(*i)),
            RVal::Float(f) => Some(Kind::DoubleValue(*f)),
            RVal::String(s) => Some(Kind::StringValue(s.clone())),
            RVal::List(items) => Some(Kind::ListValue(pb::ValueList {
                values: items.iter().map(|v| v.to_pb(state)).collect(),
            })),
            RVal::Map(entries) => Some(Kind::MapValue(pb::ValueMap {
                entries: entries
                    .iter()
                    .map(|(k, v)| (k.clone(), v.to_pb(state)))
                    .collect(),
            })),
            RVal::Node(id) => state.node_pb(*id).ok().map(Kind::NodeValue),
            RVal::Rel(id) => state.relationship_pb(*id).ok().map(Kind::RelationshipValue),
            RVal::Path { nodes, rels } => Some(Kind::PathValue(pb::Path {
                nodes: nodes
                    .iter()
                    .filter_map(|n| state.node_pb(*n).ok())
                    .collect(),
                relationships: rels
                    .iter()
                    .filter_map(|r| state.relationship_pb(*r).ok())
                    .collect(),
            })),
        };
        let kind = kind.unwrap_or(Kind::NullValue(prost_types::NullValue::NullValue as i32));
        pb::Value { kind: Some(kind) }
    }

    fn type_name(&self) -> &'static str {
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
    pub fn key(&self) -> String {
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
pub fn equals(a: &RVal, b: &RVal) -> Option<bool> {
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
fn inequality(a: &RVal, b: &RVal, test: fn(Ordering) -> bool) -> RVal {
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

fn as_f64(v: &RVal) -> Option<f64> {
    match v {
        RVal::Int(i) => Some(*i as f64),
        RVal::Float(f) => Some(*f),
        _ => None,
    }
}

/// The total order of ORDER BY, min and max: maps, nodes, relationships, lists, paths,
/// strings, booleans, numbers, then null.
pub fn order(a: &RVal, b: &RVal) -> Ordering {
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

/// What an expression sees: the graph, the parameters, the types of relationships the statement
/// deleted, and (for aggregates) the group.
pub struct Scope<'a> {
    pub state: &'a GraphState,
    pub params: &'a HashMap<String, RVal>,
    pub deleted_types: &'a DeletedTypes,
}

/// What a statement that deletes nothing has deleted.
static NOTHING_DELETED: DeletedTypes = DeletedTypes::new();

impl<'a> Scope<'a> {
    /// A scope over a graph the statement has deleted nothing from.
    pub fn new(state: &'a GraphState, params: &'a HashMap<String, RVal>) -> Self {
        Self {
            state,
            params,
            deleted_types: &NOTHING_DELETED,
        }
    }

    /// A scope over a write transaction's view of the graph.
    pub fn of_txn(txn: &'a Txn, params: &'a HashMap<String, RVal>) -> Self {
        Self {
            state: txn.state(),
            params,
            deleted_types: txn.deleted_types(),
        }
    }

    /// Evaluates `expr` in `row`; aggregates are errors here (see [`Scope::eval_grouped`]).
    pub fn eval(&self, expr: &Expr, row: &Row) -> Result<RVal> {
        self.eval_in(expr, row, None)
    }

    /// Evaluates `expr` for a group: aggregates run over `group`, the rest over `row` (the
    /// group's first row, which holds the grouping keys).
    pub fn eval_grouped(&self, expr: &Expr, row: &Row, group: &[Row]) -> Result<RVal> {
        self.eval_in(expr, row, Some(group))
    }

    /// Evaluates to a boolean for WHERE: only `true` keeps a row.
    pub fn truthy(&self, expr: &Expr, row: &Row) -> Result<bool> {
        match self.eval(expr, row)? {
            RVal::Bool(b) => Ok(b),
            RVal::Null => Ok(false),
            other => Err(type_error(format!(
                "WHERE needs a boolean, got a {}",
                other.type_name()
            ))),
        }
    }

    fn eval_in(&self, expr: &Expr, row: &Row, group: Option<&[Row]>) -> Result<RVal> {
        let eval = |e: &Expr| self.eval_in(e, row, group);
        Ok(match expr {
            Expr::Literal(v) => v.clone(),
            Expr::Parameter(name) => self.params.get(name).cloned().ok_or_else(|| {
                invalid(format!("parameter ${name} is referenced but was not sent"))
            })?,
            Expr::Variable(name) => row
                .get(name)
                .cloned()
                .ok_or_else(|| invalid(format!("variable `{name}` is not defined")))?,
            Expr::Property(target, key) => self.property(&eval(target)?, key)?,
            Expr::List(items) => RVal::List(items.iter().map(eval).collect::<Result<_>>()?),
            Expr::Map(entries) => RVal::Map(
                entries
                    .iter()
                    .map(|(k, e)| Ok((k.clone(), eval(e)?)))
                    .collect::<Result<_>>()?,
            ),
            Expr::Not(inner) => match eval(inner)? {
                RVal::Bool(b) => RVal::Bool(!b),
                RVal::Null => RVal::Null,
                other => return Err(type_error(format!("NOT of a {}", other.type_name()))),
            },
            Expr::Negate(inner) => match eval(inner)? {
                RVal::Int(i) => {
                    RVal::Int(i.checked_neg().ok_or_else(|| invalid("integer overflow"))?)
                }
                RVal::Float(f) => RVal::Float(-f),
                RVal::Null => RVal::Null,
                other => return Err(type_error(format!("cannot negate a {}", other.type_name()))),
            },
            Expr::Binary(op, a, b) => self.binary(*op, a, b, row, group)?,
            Expr::IsNull { expr, negated } => RVal::Bool((eval(expr)? == RVal::Null) != *negated),
            Expr::HasLabels(target, labels) => match eval(target)? {
                RVal::Node(id) => match self.state.node(id) {
                    Ok(node) => RVal::Bool(labels.iter().all(|l| node.labels.contains(l))),
                    Err(_) => RVal::Null,
                },
                RVal::Null => RVal::Null,
                other => {
                    return Err(type_error(format!(
                        "label predicate on a {}",
                        other.type_name()
                    )));
                }
            },
            Expr::CountStar => match group {
                Some(rows) => RVal::Int(rows.len() as i64),
                None => return Err(invalid("count(*) is only allowed in RETURN")),
            },
            Expr::Call {
                name,
                distinct,
                args,
            } => {
                if super::ast::AGGREGATES.contains(&name.as_str()) {
                    let Some(rows) = group else {
                        return Err(invalid(format!("{name}() is only allowed in RETURN")));
                    };
                    return self.aggregate(name, *distinct, args, rows);
                }
                let values = args.iter().map(eval).collect::<Result<Vec<_>>>()?;
                self.function(name, values)?
            }
        })
    }

    fn property(&self, target: &RVal, key: &str) -> Result<RVal> {
        Ok(match target {
            RVal::Null => RVal::Null,
            RVal::Node(id) => self
                .state
                .node(*id)
                .map_err(|_| deleted("node", *id))?
                .properties
                .get(key)
                .map_or(RVal::Null, RVal::from_value),
            RVal::Rel(id) => self
                .state
                .relationship(*id)
                .map_err(|_| deleted("relationship", *id))?
                .0
                .properties
                .get(key)
                .map_or(RVal::Null, RVal::from_value),
            RVal::Map(entries) => entries.get(key).cloned().unwrap_or(RVal::Null),
            other => {
                return Err(type_error(format!(
                    "cannot read property '{key}' of a {}",
                    other.type_name()
                )));
            }
        })
    }

    fn binary(
        &self,
        op: BinOp,
        a: &Expr,
        b: &Expr,
        row: &Row,
        group: Option<&[Row]>,
    ) -> Result<RVal> {
        let left = self.eval_in(a, row, group)?;
        let right = self.eval_in(b, row, group)?;
        let logic = |v: &RVal| -> Result<Option<bool>> {
            match v {
                RVal::Bool(b) => Ok(Some(*b)),
                RVal::Null => Ok(None),
                other => Err(type_error(format!(
                    "{op:?} needs booleans, got a {}",
                    other.type_name()
                ))),
            }
        };
        let tri = |v: Option<bool>| v.map_or(RVal::Null, RVal::Bool);
        Ok(match op {
            BinOp::And => match (logic(&left)?, logic(&right)?) {
                (Some(false), _) | (_, Some(false)) => RVal::Bool(false),
                (Some(true), Some(true)) => RVal::Bool(true),
                _ => RVal::Null,
            },
            BinOp::Or => match (logic(&left)?, logic(&right)?) {
                (Some(true), _) | (_, Some(true)) => RVal::Bool(true),
                (Some(false), Some(false)) => RVal::Bool(false),
                _ => RVal::Null,
            },
            BinOp::Xor => match (logic(&left)?, logic(&right)?) {
                (Some(x), Some(y)) => RVal::Bool(x != y),
                _ => RVal::Null,
            },
            BinOp::Eq => tri(equals(&left, &right)),
            BinOp::Ne => tri(equals(&left, &right).map(|e| !e)),
            BinOp::Lt => inequality(&left, &right, Ordering::is_lt),
            BinOp::Le => inequality(&left, &right, Ordering::is_le),
            BinOp::Gt => inequality(&left, &right, Ordering::is_gt),
            BinOp::Ge => inequality(&left, &right, Ordering::is_ge),
            BinOp::StartsWith | BinOp::EndsWith | BinOp::Contains => match (&left, &right) {
                (RVal::String(s), RVal::String(t)) => RVal::Bool(match op {
                    BinOp::StartsWith => s.starts_with(t.as_str()),
                    BinOp::EndsWith => s.ends_with(t.as_str()),
                    _ => s.contains(t.as_str()),
                }),
                _ => RVal::Null,
            },
            BinOp::In => match right {
                RVal::Null => RVal::Null,
                RVal::List(items) => {
                    let mut unknown = false;
                    for item in &items {
                        match equals(&left, item) {
                            Some(true) => return Ok(RVal::Bool(true)),
                            None => unknown = true,
                            Some(false) => {}
                        }
                    }
                    if unknown {
                        RVal::Null
                    } else {
                        RVal::Bool(false)
                    }
                }
                other => {
                    return Err(type_error(format!(
                        "IN needs a list, got a {}",
                        other.type_name()
                    )));
                }
            },
            BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div | BinOp::Mod | BinOp::Pow => {
                arithmetic(op, left, right)?
            }
        })
    }

    fn aggregate(&self, name: &str, distinct: bool, args: &[Expr], rows: &[Row]) -> Result<RVal> {
        let [arg] = args else {
            return Err(invalid(format!("{name}() takes exactly one argument")));
        };
        let mut values = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for row in rows {
            let value = self.eval(arg, row)?;
            if value == RVal::Null || (distinct && !seen.insert(value.key())) {
                continue;
            }
            values.push(value);
        }
        Ok(match name {
            "count" => RVal::Int(values.len() as i64),
            "collect" => RVal::List(values),
            "min" => values.into_iter().min_by(order).unwrap_or(RVal::Null),
            "max" => values.into_iter().max_by(order).unwrap_or(RVal::Null),
            "sum" => values
                .into_iter()
                .try_fold(RVal::Int(0), |acc, v| arithmetic(BinOp::Add, acc, v))?,
            "avg" => {
                if values.is_empty() {
                    RVal::Null
                } else {
                    let count = values.len() as f64;
                    let mut total = 0.0;
                    for v in &values {
                        total += as_f64(v)
                            .ok_or_else(|| type_error(format!("avg() of a {}", v.type_name())))?;
                    }
                    RVal::Float(total / count)
                }
            }
            _ => return Err(invalid(format!("unknown aggregate {name}()"))),
        })
    }

    fn function(&self, name: &str, args: Vec<RVal>) -> Result<RVal> {
        if name == "coalesce" {
            return Ok(args
                .into_iter()
                .find(|v| *v != RVal::Null)
                .unwrap_or(RVal::Null));
        }
        let [arg]: [RVal; 1] = args
            .try_into()
            .map_err(|_| invalid(format!("{name}() takes exactly one argument")))?;
        if arg == RVal::Null {
            return Ok(RVal::Null);
        }
        let wrong = |arg: &RVal| type_error(format!("{name}() of a {}", arg.type_name()));
        let state = self.state;
        Ok(match (name, &arg) {
            ("id", RVal::Node(id) | RVal::Rel(id)) => RVal::Int(*id as i64),
            ("labels", RVal::Node(id)) => {
                let node = state.node(*id).map_err(|_| deleted("node", *id))?;
                RVal::List(node.labels.iter().cloned().map(RVal::String).collect())
            }
            ("type", RVal::Rel(id)) => match state.relationship(*id) {
                Ok((r, _, _)) => RVal::String(r.rel_type.clone()),
                // Deleted by this statement: its type stays readable (its properties do not).
                Err(_) => self
                    .deleted_types
                    .get(id)
                    .map_or(RVal::Null, |t| RVal::String(t.clone())),
            },
            ("properties" | "keys", RVal::Node(_) | RVal::Rel(_) | RVal::Map(_)) => {
                let map = match &arg {
                    RVal::Map(m) => m.clone(),
                    RVal::Node(id) => state
                        .node(*id)
                        .map_err(|_| deleted("node", *id))?
                        .properties
                        .iter()
                        .map(|(k, v)| (k.clone(), RVal::from_value(v)))
                        .collect(),
                    RVal::Rel(id) => state
                        .relationship(*id)
                        .map_err(|_| deleted("relationship", *id))?
                        .0
                        .properties
                        .iter()
                        .map(|(k, v)| (k.clone(), RVal::from_value(v)))
                        .collect(),
                    _ => BTreeMap::new(),
                };
                if name == "keys" {
                    RVal::List(map.into_keys().map(RVal::String).collect())
                } else {
                    RVal::Map(map)
                }
            }
            ("size", RVal::List(items)) => RVal::Int(items.len() as i64),
            ("size" | "length", RVal::String(s)) => RVal::Int(s.chars().count() as i64),
            ("length", RVal::Path { rels, .. }) => RVal::Int(rels.len() as i64),
            ("length", RVal::List(items)) => RVal::Int(items.len() as i64),
            ("nodes", RVal::Path { nodes, .. }) => {
                RVal::List(nodes.iter().map(|n| RVal::Node(*n)).collect())
            }
            ("relationships", RVal::Path { rels, .. }) => {
                RVal::List(rels.iter().map(|r| RVal::Rel(*r)).collect())
            }
            ("startnode" | "endnode", RVal::Rel(id)) => match state.relationship(*id) {
                Ok((_, start, end)) => RVal::Node(if name == "startnode" { start } else { end }),
                Err(_) => RVal::Null,
            },
            ("tostring", RVal::String(_)) => arg,
            ("tostring", RVal::Int(i)) => RVal::String(i.to_string()),
            ("tostring", RVal::Float(f)) => RVal::String(format_float(*f)),
            ("tostring", RVal::Bool(b)) => RVal::String(b.to_string()),
            ("tointeger", RVal::Int(_)) => arg,
            ("tointeger", RVal::Float(f)) => {
                if f.is_finite() && *f >= i64::MIN as f64 && *f < i64::MAX as f64 {
                    RVal::Int(f.trunc() as i64)
                } else {
                    RVal::Null
                }
            }
            ("tointeger", RVal::String(s)) => s
                .trim()
                .parse::<i64>()
                .map(RVal::Int)
                .or_else(|_| {
                    s.trim().parse::<f64>().map(|f| {
                        if f.is_finite() && f >= i64::MIN as f64 && f < i64::MAX as f64 {
                            RVal::Int(f.trunc() as i64)
                        } else {
                            RVal::Null
                        }
                    })
                })
                .unwrap_or(RVal::Null),
            ("tofloat", RVal::Float(_)) => arg,
            ("tofloat", RVal::Int(i)) => RVal::Float(*i as f64),
            ("tofloat", RVal::String(s)) => s.trim().parse().map(RVal::Float).unwrap_or(RVal::Null),
            ("tolower", RVal::String(s)) => RVal::String(s.to_lowercase()),
            ("toupper", RVal::String(s)) => RVal::String(s.to_uppercase()),
            _ => return Err(wrong(&arg)),
        })
    }
}

fn format_float(f: f64) -> String {
    if f.fract() == 0.0 && f.is_finite() && f.abs() < 1e15 {
        format!("{f:.1}")
    } else {
        f.to_string()
    }
}

/// `+ - * / %` on numbers; `+` also joins strings and lists.
fn arithmetic(op: BinOp, a: RVal, b: RVal) -> Result<RVal> {
    let overflow = || invalid("integer overflow");
    Ok(match (op, a, b) {
        (_, RVal::Null, _) | (_, _, RVal::Null) => RVal::Null,
        (BinOp::Pow, x @ (RVal::Int(_) | RVal::Float(_)), y @ (RVal::Int(_) | RVal::Float(_))) => {
            RVal::Float(as_f64(&x).unwrap_or(0.0).powf(as_f64(&y).unwrap_or(0.0)))
        }
        (BinOp::Add, RVal::String(x), RVal::String(y)) => RVal::String(x + &y),
        (BinOp::Add, RVal::String(x), y @ (RVal::Int(_) | RVal::Float(_))) => {
            RVal::String(x + &render(&y))
        }
        (BinOp::Add, x @ (RVal::Int(_) | RVal::Float(_)), RVal::String(y)) => {
            RVal::String(render(&x) + &y)
        }
        (BinOp::Add, RVal::List(mut x), RVal::List(y)) => {
            x.extend(y);
            RVal::List(x)
        }
        (BinOp::Add, RVal::List(mut x), y) => {
            x.push(y);
            RVal::List(x)
        }
        (BinOp::Add, x, RVal::List(y)) => {
            let mut list = vec![x];
            list.extend(y);
            RVal::List(list)
        }
        (op, RVal::Int(x), RVal::Int(y)) => RVal::Int(match op {
            BinOp::Add => x.checked_add(y).ok_or_else(overflow)?,
            BinOp::Sub => x.checked_sub(y).ok_or_else(overflow)?,
            BinOp::Mul => x.checked_mul(y).ok_or_else(overflow)?,
            BinOp::Div if y == 0 => return Err(invalid("division by zero")),
            BinOp::Div => x.checked_div(y).ok_or_else(overflow)?,
            BinOp::Mod if y == 0 => return Err(invalid("division by zero")),
            _ => x.checked_rem(y).ok_or_else(overflow)?,
        }),
        (op, x @ (RVal::Int(_) | RVal::Float(_)), y @ (RVal::Int(_) | RVal::Float(_))) => {
            let (x, y) = (as_f64(&x).unwrap_or(0.0), as_f64(&y).unwrap_or(0.0));
            RVal::Float(match op {
                BinOp::Add => x + y,
                BinOp::Sub => x - y,
                BinOp::Mul => x * y,
                BinOp::Div => x / y,
                _ => x % y,
            })
        }
        (op, x, y) => {
            return Err(type_error(format!(
                "cannot apply {op:?} to a {} and a {}",
                x.type_name(),
                y.type_name()
            )));
        }
    })
}

fn render(v: &RVal) -> String {
    match v {
        RVal::Int(i) => i.to_string(),
        RVal::Float(f) => format_float(*f),
        _ => String::new(),
    }
}
