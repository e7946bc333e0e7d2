//! Expression evaluation against one row of bindings: variables, parameters, properties of
//! nodes and relationships (read through the engine's state as the statement left it), boolean
//! logic with nulls, comparisons and predicates. Functions and aggregates are in [`functions`].

mod functions;

use functions::arithmetic;

use std::cmp::Ordering;
use std::collections::HashMap;

use super::ast::{AGGREGATES, BinOp, Expr};
use super::rval::{Bindings, RVal, equals, inequality};
use crate::engine::{DeletedTypes, GraphState, Txn};
use crate::error::{GraphError, Result, invalid};

/// An entity a row still holds was deleted earlier in the same statement: its data is gone.
fn deleted(what: &str, id: u64) -> GraphError {
    invalid(format!(
        "{what} {id} was deleted by this statement; its labels and properties cannot be read"
    ))
}

fn type_error(message: impl Into<String>) -> GraphError {
    invalid(format!("type error: {}", message.into()))
}

/// What an expression sees: the graph, the parameters, the types of relationships the statement
/// deleted, and (for aggregates) the group.
pub(crate) struct Scope<'a> {
    pub(crate) state: &'a GraphState,
    pub(crate) params: &'a HashMap<String, RVal>,
    pub(crate) deleted_types: &'a DeletedTypes,
}

/// What a statement that deletes nothing has deleted.
static NOTHING_DELETED: DeletedTypes = DeletedTypes::new();

impl<'a> Scope<'a> {
    /// A scope over a graph the statement has deleted nothing from.
    pub(crate) fn new(state: &'a GraphState, params: &'a HashMap<String, RVal>) -> Self {
        Self {
            state,
            params,
            deleted_types: &NOTHING_DELETED,
        }
    }

    /// A scope over a write transaction's view of the graph.
    pub(crate) fn of_txn(txn: &'a Txn, params: &'a HashMap<String, RVal>) -> Self {
        Self {
            state: txn.state(),
            params,
            deleted_types: txn.deleted_types(),
        }
    }

    /// Evaluates `expr` in `row`; aggregates are errors here (see [`Scope::eval_grouped`]).
    pub(crate) fn eval(&self, expr: &Expr, row: &Bindings) -> Result<RVal> {
        self.eval_in(expr, row, None)
    }

    /// Evaluates `expr` for a group: aggregates run over `group`, the rest over `row` (the
    /// group's first row, which holds the grouping keys).
    pub(crate) fn eval_grouped(
        &self,
        expr: &Expr,
        row: &Bindings,
        group: &[Bindings],
    ) -> Result<RVal> {
        self.eval_in(expr, row, Some(group))
    }

    /// Evaluates to a boolean for WHERE: only `true` keeps a row.
    pub(crate) fn truthy(&self, expr: &Expr, row: &Bindings) -> Result<bool> {
        match self.eval(expr, row)? {
            RVal::Bool(b) => Ok(b),
            RVal::Null => Ok(false),
            other => Err(type_error(format!(
                "WHERE needs a boolean, got a {}",
                other.type_name()
            ))),
        }
    }

    fn eval_in(&self, expr: &Expr, row: &Bindings, group: Option<&[Bindings]>) -> Result<RVal> {
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
                if AGGREGATES.contains(&name.as_str()) {
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
        row: &Bindings,
        group: Option<&[Bindings]>,
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
}
