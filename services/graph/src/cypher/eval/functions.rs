//! The functions of the Cypher subset: scalar functions (`id`, `labels`, `type`, `properties`,
//! `size`, conversions, ...), aggregates over a group of rows (`count`, `sum`, `avg`, `min`,
//! `max`, `collect`) and arithmetic, with Neo4j's null and type rules.

use std::collections::BTreeMap;

use super::{Scope, deleted, type_error};
use crate::cypher::ast::{BinOp, Expr};
use crate::cypher::rval::{Bindings, RVal, as_f64, order};
use crate::error::{Result, invalid};

impl Scope<'_> {
    pub(super) fn aggregate(
        &self,
        name: &str,
        distinct: bool,
        args: &[Expr],
        rows: &[Bindings],
    ) -> Result<RVal> {
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

    pub(super) fn function(&self, name: &str, args: Vec<RVal>) -> Result<RVal> {
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
            (
                "tostring" | "tointeger" | "tofloat" | "tolower" | "toupper",
                RVal::String(_) | RVal::Int(_) | RVal::Float(_) | RVal::Bool(_),
            ) => match conversion(name, &arg) {
                Some(value) => value,
                None => return Err(wrong(&arg)),
            },
            _ => return Err(wrong(&arg)),
        })
    }
}

/// `toString`, `toInteger`, `toFloat`, `toLower`, `toUpper` of a scalar; `None` for a
/// combination that is a type error.
fn conversion(name: &str, arg: &RVal) -> Option<RVal> {
    Some(match (name, arg) {
        ("tostring", RVal::String(_)) => arg.clone(),
        ("tostring", RVal::Int(i)) => RVal::String(i.to_string()),
        ("tostring", RVal::Float(f)) => RVal::String(format_float(*f)),
        ("tostring", RVal::Bool(b)) => RVal::String(b.to_string()),
        ("tointeger", RVal::Int(_)) => arg.clone(),
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
        ("tofloat", RVal::Float(_)) => arg.clone(),
        ("tofloat", RVal::Int(i)) => RVal::Float(*i as f64),
        ("tofloat", RVal::String(s)) => s.trim().parse().map(RVal::Float).unwrap_or(RVal::Null),
        ("tolower", RVal::String(s)) => RVal::String(s.to_lowercase()),
        ("toupper", RVal::String(s)) => RVal::String(s.to_uppercase()),
        _ => return None,
    })
}

fn format_float(f: f64) -> String {
    if f.fract() == 0.0 && f.is_finite() && f.abs() < 1e15 {
        format!("{f:.1}")
    } else {
        f.to_string()
    }
}

/// `+ - * / %` on numbers; `+` also joins strings and lists.
pub(super) fn arithmetic(op: BinOp, a: RVal, b: RVal) -> Result<RVal> {
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
