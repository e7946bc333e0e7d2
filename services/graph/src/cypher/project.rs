//! Projection for RETURN and WITH: evaluates the items per row or, when an item aggregates,
//! per group of rows with equal non-aggregate items (implicit grouping); then DISTINCT,
//! ORDER BY (by column name or expression), SKIP and LIMIT.

use std::collections::HashMap;

use super::ast::{Expr, Projection};
use super::eval::Scope;
use super::rval::{Bindings, RVal, order};
use crate::error::{Result, invalid};

/// One output row while projecting: its values, the row it came from extended with the
/// aliases, and (when aggregating) the group of rows it stands for.
type Projected = (Vec<RVal>, Bindings, Vec<Bindings>);

fn count_argument(scope: &Scope, expr: &Option<Expr>, what: &str) -> Result<Option<usize>> {
    let Some(expr) = expr else {
        return Ok(None);
    };
    match scope.eval(expr, &Bindings::new())? {
        RVal::Int(n) if n >= 0 => Ok(Some(usize::try_from(n).unwrap_or(usize::MAX))),
        other => Err(invalid(format!(
            "{what} needs a non-negative integer, got {other:?}"
        ))),
    }
}

/// Projects `rows` through RETURN's or WITH's items: per output row, in order, its values and
/// the row it came from extended with the aliases (what a WHERE after WITH sees).
pub(crate) fn project(
    scope: &Scope,
    projection: &Projection,
    rows: Vec<Bindings>,
) -> Result<Vec<(Vec<RVal>, Bindings)>> {
    let items = &projection.items;
    let aggregated = items.iter().any(|i| i.expr.has_aggregate());
    let mut out = if aggregated {
        grouped(scope, projection, rows)?
    } else {
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let values = items
                .iter()
                .map(|item| scope.eval(&item.expr, &row))
                .collect::<Result<Vec<_>>>()?;
            let env = with_aliases(projection, row, &values);
            out.push((values, env, Vec::new()));
        }
        out
    };
    if projection.distinct {
        let mut seen = std::collections::HashSet::new();
        out.retain(|(values, _, _)| {
            seen.insert(
                values
                    .iter()
                    .map(RVal::key)
                    .collect::<Vec<_>>()
                    .join("\u{1f}"),
            )
        });
    }
    if !projection.order.is_empty() {
        out = sorted(scope, projection, out)?;
    }
    let skip = count_argument(scope, &projection.skip, "SKIP")?.unwrap_or(0);
    let limit = count_argument(scope, &projection.limit, "LIMIT")?;
    Ok(out
        .into_iter()
        .skip(skip)
        .take(limit.unwrap_or(usize::MAX))
        .map(|(values, env, _)| (values, env))
        .collect())
}

/// `env` with the projection's aliases bound to `values`.
fn with_aliases(projection: &Projection, mut env: Bindings, values: &[RVal]) -> Bindings {
    for (item, value) in projection.items.iter().zip(values) {
        env.insert(item.name.clone(), value.clone());
    }
    env
}

/// Implicit grouping: one output row per group of rows with equal non-aggregate items.
fn grouped(scope: &Scope, projection: &Projection, rows: Vec<Bindings>) -> Result<Vec<Projected>> {
    let items = &projection.items;
    let keys: Vec<usize> = (0..items.len())
        .filter(|&i| !items[i].expr.has_aggregate())
        .collect();
    let mut groups: Vec<Vec<Bindings>> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    for row in rows {
        let key = keys
            .iter()
            .map(|&i| scope.eval(&items[i].expr, &row).map(|v| v.key()))
            .collect::<Result<Vec<_>>>()?
            .join("\u{1f}");
        let slot = *index.entry(key).or_insert_with(|| {
            groups.push(Vec::new());
            groups.len() - 1
        });
        groups[slot].push(row);
    }
    if groups.is_empty() && keys.is_empty() {
        groups.push(Vec::new());
    }
    let mut out = Vec::with_capacity(groups.len());
    for group in groups {
        let first = group.first().cloned().unwrap_or_default();
        let values = items
            .iter()
            .map(|item| scope.eval_grouped(&item.expr, &first, &group))
            .collect::<Result<Vec<_>>>()?;
        let env = with_aliases(projection, first, &values);
        out.push((values, env, group));
    }
    Ok(out)
}

/// ORDER BY: keys by column name or expression (aggregated over the row's group when they
/// aggregate), ascending or descending, in the total order of Cypher values.
fn sorted(scope: &Scope, projection: &Projection, out: Vec<Projected>) -> Result<Vec<Projected>> {
    let items = &projection.items;
    let mut keyed = Vec::with_capacity(out.len());
    for (values, env, group) in out {
        let mut keys = Vec::with_capacity(projection.order.len());
        for sort in &projection.order {
            let column = items.iter().position(|i| i.name == sort.text);
            keys.push(match column {
                Some(c) => values[c].clone(),
                None if sort.expr.has_aggregate() => {
                    scope.eval_grouped(&sort.expr, &env, &group)?
                }
                None => scope.eval(&sort.expr, &env)?,
            });
        }
        keyed.push((keys, values, env, group));
    }
    keyed.sort_by(|a, b| {
        for ((x, y), sort) in a.0.iter().zip(&b.0).zip(&projection.order) {
            let o = order(x, y);
            let o = if sort.descending { o.reverse() } else { o };
            if o.is_ne() {
                return o;
            }
        }
        std::cmp::Ordering::Equal
    });
    Ok(keyed.into_iter().map(|(_, v, e, g)| (v, e, g)).collect())
}
