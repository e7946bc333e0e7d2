//! Pattern matching for MATCH, OPTIONAL MATCH and MERGE: backtracking over the graph from each
//! candidate start node, following relationship patterns (fixed or variable length) without
//! using one relationship twice in a clause, and binding variables in copies of the row.
//! Long searches check the caller's deadline and a cap on intermediate rows; each row found is
//! charged to the query's memory budget. A pattern's start nodes come from the engine's label
//! and property indexes ([`Lookup`](crate::engine::GraphState::lookup)) when one applies.

use super::ast::{Arrow, Expr, MAX_HOPS, NodePattern, PathPattern, RelPattern};
use super::eval::Scope;
use super::rval::{Bindings, RVal, equals, row_size};
use crate::engine::{Budget, GraphState};
use crate::error::{GraphError, Result, invalid};
use crate::model::{QueryValue, Value};

/// Most rows a clause may produce before the query is refused as too large.
pub(crate) const MAX_INTERMEDIATE_ROWS: usize = 200_000;
/// Longest variable-length expansion when the pattern gives no maximum (`*`, `*2..`): the
/// parser's limit for explicit maxima, so the expansion's recursion stays shallow.
const UNBOUNDED_HOPS: u32 = MAX_HOPS;

/// Finds every way `patterns` match, extending `row`.
pub(crate) fn match_patterns(
    scope: &Scope,
    budget: &Budget,
    patterns: &[PathPattern],
    row: &Bindings,
) -> Result<Vec<Bindings>> {
    let mut out = Vec::new();
    let mut used = Vec::new();
    expand(scope, budget, patterns, row.clone(), &mut used, &mut out)?;
    Ok(out)
}

fn expand(
    scope: &Scope,
    budget: &Budget,
    patterns: &[PathPattern],
    row: Bindings,
    used: &mut Vec<u64>,
    out: &mut Vec<Bindings>,
) -> Result<()> {
    let Some((pattern, rest)) = patterns.split_first() else {
        if out.len() >= MAX_INTERMEDIATE_ROWS {
            return Err(GraphError::ResourceExhausted(format!(
                "a clause produced more than {MAX_INTERMEDIATE_ROWS} rows"
            )));
        }
        budget.charge(row_size(&row))?;
        out.push(row);
        return Ok(());
    };
    for start in node_candidates(scope, budget, &pattern.start, &row)? {
        let mut bound = row.clone();
        if let Some(var) = &pattern.start.variable {
            bound.insert(var.clone(), RVal::Node(start));
        }
        let mut walk = Walk {
            nodes: vec![start],
            rels: Vec::new(),
        };
        step(
            scope,
            budget,
            pattern,
            0,
            bound,
            used,
            &mut walk,
            &mut |row, used| expand(scope, budget, rest, row, used, out),
        )?;
    }
    Ok(())
}

struct Walk {
    nodes: Vec<u64>,
    rels: Vec<u64>,
}

type Continue<'c> = dyn FnMut(Bindings, &mut Vec<u64>) -> Result<()> + 'c;

#[allow(clippy::too_many_arguments)]
fn step(
    scope: &Scope,
    budget: &Budget,
    pattern: &PathPattern,
    index: usize,
    row: Bindings,
    used: &mut Vec<u64>,
    walk: &mut Walk,
    next: &mut Continue,
) -> Result<()> {
    budget.tick()?;
    let Some((rel, node)) = pattern.steps.get(index) else {
        let mut row = row;
        if let Some(var) = &pattern.variable {
            row.insert(
                var.clone(),
                RVal::Path {
                    nodes: walk.nodes.clone(),
                    rels: walk.rels.clone(),
                },
            );
        }
        return next(row, used);
    };
    let at = *walk.nodes.last().unwrap_or(&0);
    let (min, max) = rel.length.unwrap_or((1, Some(1)));
    let max = max.unwrap_or(UNBOUNDED_HOPS.max(min));
    let rel_props = evaluate_properties(scope, &rel.properties, &row)?;
    let mut chain = Vec::new();
    let mut ends = Vec::new();
    collect_ends(
        scope, budget, rel, &rel_props, at, min, max, used, &mut chain, &mut ends,
    )?;
    for (hops, end) in ends {
        let chain: Vec<u64> = hops.iter().map(|&(r, _)| r).collect();
        if !node_matches(scope, node, end, &row)? {
            continue;
        }
        let mut bound = row.clone();
        if let Some(var) = &node.variable {
            bound.insert(var.clone(), RVal::Node(end));
        }
        if let Some(var) = &rel.variable {
            let value = if rel.length.is_some() {
                RVal::List(chain.iter().map(|r| RVal::Rel(*r)).collect())
            } else {
                RVal::Rel(chain[0])
            };
            match row.get(var) {
                Some(existing) if equals(existing, &value) != Some(true) => continue,
                _ => {}
            }
            bound.insert(var.clone(), value);
        }
        let before = (used.len(), walk.nodes.len(), walk.rels.len());
        used.extend(&chain);
        walk.rels.extend(&chain);
        // Nodes passed on the way (variable length), then the end.
        walk.nodes.extend(
            hops.iter()
                .take(hops.len().saturating_sub(1))
                .map(|&(_, n)| n),
        );
        // A zero-length step stays where it is: the node is already on the walk.
        if !hops.is_empty() {
            walk.nodes.push(end);
        }
        let result = step(scope, budget, pattern, index + 1, bound, used, walk, next);
        used.truncate(before.0);
        walk.nodes.truncate(before.1);
        walk.rels.truncate(before.2);
        result?;
    }
    Ok(())
}

/// Every (chain of (relationship, node reached), end node) of `min..=max` hops from `at`
/// matching `rel`.
#[allow(clippy::too_many_arguments)]
fn collect_ends(
    scope: &Scope,
    budget: &Budget,
    rel: &RelPattern,
    props: &[(String, RVal)],
    at: u64,
    min: u32,
    max: u32,
    used: &[u64],
    chain: &mut Vec<(u64, u64)>,
    ends: &mut Vec<(Vec<(u64, u64)>, u64)>,
) -> Result<()> {
    budget.tick()?;
    if chain.len() as u32 >= min {
        ends.push((chain.clone(), at));
        if ends.len() > MAX_INTERMEDIATE_ROWS {
            return Err(GraphError::ResourceExhausted(format!(
                "a pattern expanded to more than {MAX_INTERMEDIATE_ROWS} paths"
            )));
        }
    }
    if chain.len() as u32 >= max {
        return Ok(());
    }
    for (id, other) in relationships_from(scope, rel, props, at)? {
        if used.contains(&id) || chain.iter().any(|&(r, _)| r == id) {
            continue;
        }
        chain.push((id, other));
        let result = collect_ends(
            scope, budget, rel, props, other, min, max, used, chain, ends,
        );
        chain.pop();
        result?;
    }
    Ok(())
}

/// Relationships from `at` matching the pattern's direction, types and properties, in id order,
/// with the node at their other end.
fn relationships_from(
    scope: &Scope,
    rel: &RelPattern,
    props: &[(String, RVal)],
    at: u64,
) -> Result<Vec<(u64, u64)>> {
    let mut out = Vec::new();
    let mut take = |outgoing: bool| {
        for (data, other) in scope.state.relationships_at(at, outgoing) {
            if !rel.types.is_empty() && !rel.types.contains(&data.rel_type) {
                continue;
            }
            let matches = props.iter().all(|(k, v)| {
                data.properties
                    .get(k)
                    .is_some_and(|p| property_equals(p, v))
            });
            if matches {
                out.push((data.id, other));
            }
        }
    };
    if rel.arrow != Arrow::Left {
        take(true);
    }
    if rel.arrow != Arrow::Right {
        take(false);
    }
    out.sort_unstable();
    out.dedup_by_key(|(id, _)| *id);
    Ok(out)
}

fn evaluate_properties(
    scope: &Scope,
    properties: &[(String, Expr)],
    row: &Bindings,
) -> Result<Vec<(String, RVal)>> {
    properties
        .iter()
        .map(|(k, e)| Ok((k.clone(), scope.eval(e, row)?)))
        .collect()
}

/// Nodes the start of a pattern may be: the bound one, or every node that fits.
fn node_candidates(
    scope: &Scope,
    budget: &Budget,
    pattern: &NodePattern,
    row: &Bindings,
) -> Result<Vec<u64>> {
    if let Some(var) = &pattern.variable
        && let Some(value) = row.get(var)
    {
        return match value {
            RVal::Node(id) if node_matches(scope, pattern, *id, row)? => Ok(vec![*id]),
            RVal::Node(_) | RVal::Null => Ok(Vec::new()),
            _ => Err(invalid(format!("variable `{var}` is not a node"))),
        };
    }
    let props = evaluate_properties(scope, &pattern.properties, row)?;
    let mut ids = Vec::new();
    fitting_nodes(scope.state, budget, &pattern.labels, &props, |id| {
        ids.push(id);
        true
    })?;
    ids.sort_unstable();
    Ok(ids)
}

/// The lowest id of a node carrying `label` whose `property` equals `value` in Cypher's sense:
/// what `MATCH (n:label {property: $value}) RETURN id(n) ORDER BY id(n) LIMIT 1` answers,
/// without a statement to parse (ListNeighbors' `start`, once per "who manages X?" chat).
pub(crate) fn lowest_node_with(
    state: &GraphState,
    budget: &Budget,
    label: &str,
    property: &str,
    value: &QueryValue,
) -> Result<Option<u64>> {
    let props = [(property.to_owned(), RVal::from_parameter(value, "value")?)];
    let mut lowest: Option<u64> = None;
    fitting_nodes(state, budget, &[label.to_owned()], &props, |id| {
        lowest = Some(lowest.map_or(id, |l| l.min(id)));
        // Index sets are ascending, so their first fit is the lowest; a scan goes on.
        false
    })?;
    Ok(lowest)
}

/// Calls `found` with every node that carries all `labels` and `props` (property equality as
/// Cypher's `=`), until it returns `false` after an index candidate. Candidates come from the
/// smallest label or property index set that applies, in ascending id order; without one,
/// every node is checked, in no particular order, and `found`'s answer is ignored.
fn fitting_nodes(
    state: &GraphState,
    budget: &Budget,
    labels: &[String],
    props: &[(String, RVal)],
    mut found: impl FnMut(u64) -> bool,
) -> Result<()> {
    let fits = |node: &crate::model::Node| {
        labels.iter().all(|l| node.labels.contains(l))
            && props.iter().all(|(k, v)| {
                node.properties
                    .get(k)
                    .is_some_and(|p| property_equals(p, v))
            })
    };
    let probes: Vec<(&str, Value)> = props
        .iter()
        .filter_map(|(k, v)| Some((k.as_str(), scalar(v)?)))
        .collect();
    match state.lookup().candidates(labels, &probes) {
        Some(candidates) => {
            for &id in candidates {
                budget.tick()?;
                if state.node(id).is_ok_and(fits) && !found(id) {
                    break;
                }
            }
        }
        None => {
            for node in state.nodes() {
                budget.tick()?;
                if fits(node) {
                    found(node.id);
                }
            }
        }
    }
    Ok(())
}

/// A parameter or literal as the scalar property value it would equal, for an index probe.
fn scalar(value: &RVal) -> Option<Value> {
    match value {
        RVal::Bool(b) => Some(Value::Bool(*b)),
        RVal::Int(i) => Some(Value::Int(*i)),
        RVal::Float(f) => Some(Value::Float(*f)),
        RVal::String(s) => Some(Value::String(s.clone())),
        _ => None,
    }
}

/// Cypher equality of a stored property and a wanted value, without copying the common
/// same-kind scalars.
fn property_equals(property: &Value, wanted: &RVal) -> bool {
    match (property, wanted) {
        (Value::String(a), RVal::String(b)) => a == b,
        (Value::Int(a), RVal::Int(b)) => a == b,
        (Value::Bool(a), RVal::Bool(b)) => a == b,
        _ => equals(&RVal::from_value(property), wanted) == Some(true),
    }
}

/// Whether node `id` fits the pattern (labels, properties, an already bound variable).
fn node_matches(scope: &Scope, pattern: &NodePattern, id: u64, row: &Bindings) -> Result<bool> {
    if let Some(var) = &pattern.variable
        && let Some(bound) = row.get(var)
        && *bound != RVal::Node(id)
    {
        return Ok(false);
    }
    let Ok(node) = scope.state.node(id) else {
        return Ok(false);
    };
    if !pattern.labels.iter().all(|l| node.labels.contains(l)) {
        return Ok(false);
    }
    for (key, expr) in &pattern.properties {
        let wanted = scope.eval(expr, row)?;
        let matches = node
            .properties
            .get(key)
            .is_some_and(|p| property_equals(p, &wanted));
        if !matches {
            return Ok(false);
        }
    }
    Ok(true)
}
