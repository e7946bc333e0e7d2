//! The writing clauses: CREATE (nodes and relationships of a pattern), MERGE (match, else
//! create, with ON MATCH / ON CREATE SET), SET, REMOVE and [DETACH] DELETE, each applied row by
//! row through the request's [`Txn`], which the store rolls back when anything fails.

use std::collections::{BTreeSet, HashMap};

use super::ast::{Arrow, Clause, Expr, NodePattern, PathPattern, RemoveItem, SetItem};
use super::eval::Scope;
use super::matcher::match_patterns;
use super::rval::{Bindings, RVal};
use crate::engine::{Budget, Txn};
use crate::error::{Result, invalid};
use crate::model::{Properties, Value, check_name};

/// The statement's parameters.
type Params = HashMap<String, RVal>;

/// Runs one writing clause over `rows`; returns the rows the next clause sees.
pub(super) fn write_clause(
    txn: &mut Txn,
    params: &Params,
    budget: &Budget,
    clause: &Clause,
    mut rows: Vec<Bindings>,
) -> Result<Vec<Bindings>> {
    match clause {
        Clause::Create(patterns) => {
            for row in &mut rows {
                for pattern in patterns {
                    create_path(txn, params, pattern, row)?;
                }
            }
        }
        Clause::Merge {
            pattern,
            on_create,
            on_match,
        } => return merge(txn, params, budget, pattern, on_create, on_match, rows),
        Clause::Set(items) => {
            for row in &rows {
                for item in items {
                    set_item(txn, params, item, row)?;
                }
            }
        }
        Clause::Remove(items) => {
            for row in &rows {
                for item in items {
                    remove_item(txn, item, row)?;
                }
            }
        }
        Clause::Delete { detach, targets } => delete(txn, params, targets, *detach, &rows)?,
        Clause::Match { .. } | Clause::With { .. } | Clause::Return(_) => {
            return Err(invalid("not a writing clause"));
        }
    }
    Ok(rows)
}

/// MERGE of one pattern per row: the matches (with ON MATCH SET applied), or the pattern
/// created (with ON CREATE SET applied).
fn merge(
    txn: &mut Txn,
    params: &Params,
    budget: &Budget,
    pattern: &PathPattern,
    on_create: &[SetItem],
    on_match: &[SetItem],
    rows: Vec<Bindings>,
) -> Result<Vec<Bindings>> {
    let mut next = Vec::new();
    for row in rows {
        budget.tick()?;
        let found = {
            let scope = Scope::of_txn(txn, params);
            match_patterns(&scope, budget, std::slice::from_ref(pattern), &row)?
        };
        if found.is_empty() {
            refuse_null_properties(&Scope::of_txn(txn, params), pattern, &row)?;
            let mut created = row;
            create_path(
                txn,
                params,
                &outgoing_when_undirected(pattern),
                &mut created,
            )?;
            for item in on_create {
                set_item(txn, params, item, &created)?;
            }
            next.push(created);
        } else {
            for matched in found {
                for item in on_match {
                    set_item(txn, params, item, &matched)?;
                }
                next.push(matched);
            }
        }
    }
    Ok(next)
}

fn property_map(
    txn: &Txn,
    params: &Params,
    entries: &[(String, Expr)],
    row: &Bindings,
) -> Result<Properties> {
    let scope = Scope::of_txn(txn, params);
    let mut properties = Properties::new();
    for (key, expr) in entries {
        check_name(key, "property key")?;
        let value = scope
            .eval(expr, row)?
            .to_value(&format!("property '{key}'"))?;
        if value != Value::Null {
            properties.insert(key.clone(), value);
        }
    }
    Ok(properties)
}

fn create_node(
    txn: &mut Txn,
    params: &Params,
    pattern: &NodePattern,
    row: &mut Bindings,
) -> Result<u64> {
    if let Some(var) = &pattern.variable
        && let Some(bound) = row.get(var)
    {
        if !pattern.labels.is_empty() || !pattern.properties.is_empty() {
            return Err(invalid(format!(
                "variable `{var}` is already declared; CREATE cannot add labels or properties to it"
            )));
        }
        return match bound {
            RVal::Node(id) => Ok(*id),
            _ => Err(invalid(format!("variable `{var}` is not a node"))),
        };
    }
    for label in &pattern.labels {
        check_name(label, "label")?;
    }
    let properties = property_map(txn, params, &pattern.properties, row)?;
    let id = txn.create_node(pattern.labels.iter().cloned().collect(), properties)?;
    if let Some(var) = &pattern.variable {
        row.insert(var.clone(), RVal::Node(id));
    }
    Ok(id)
}

/// MERGE cannot create what it could never match: a property whose value is null.
fn refuse_null_properties(scope: &Scope, pattern: &PathPattern, row: &Bindings) -> Result<()> {
    let maps = std::iter::once(&pattern.start.properties)
        .chain(pattern.steps.iter().map(|(_, n)| &n.properties))
        .chain(pattern.steps.iter().map(|(r, _)| &r.properties));
    for (key, expr) in maps.flatten() {
        if scope.eval(expr, row)? == RVal::Null {
            return Err(invalid(format!(
                "MERGE cannot use a null value for property '{key}'; it would never match"
            )));
        }
    }
    Ok(())
}

/// MERGE of an undirected relationship creates it pointing left to right.
fn outgoing_when_undirected(pattern: &PathPattern) -> PathPattern {
    let mut pattern = pattern.clone();
    for (rel, _) in &mut pattern.steps {
        if rel.arrow == Arrow::Either {
            rel.arrow = Arrow::Right;
        }
    }
    pattern
}

fn create_path(
    txn: &mut Txn,
    params: &Params,
    pattern: &PathPattern,
    row: &mut Bindings,
) -> Result<()> {
    let mut nodes = vec![create_node(txn, params, &pattern.start, row)?];
    let mut rels = Vec::new();
    for (rel, node) in &pattern.steps {
        let previous = *nodes.last().unwrap_or(&0);
        let end = create_node(txn, params, node, row)?;
        if rel.length.is_some() {
            return Err(invalid("a variable-length relationship cannot be created"));
        }
        let [rel_type] = rel.types.as_slice() else {
            return Err(invalid(
                "a created relationship needs exactly one type, e.g. -[:KNOWS]->",
            ));
        };
        check_name(rel_type, "relationship type")?;
        let (start, finish) = match rel.arrow {
            Arrow::Right => (previous, end),
            Arrow::Left => (end, previous),
            Arrow::Either => {
                return Err(invalid(
                    "a created relationship needs a direction: -[]-> or <-[]-",
                ));
            }
        };
        let properties = property_map(txn, params, &rel.properties, row)?;
        let id = txn.create_relationship(start, finish, rel_type.clone(), properties)?;
        if let Some(var) = &rel.variable {
            if row.contains_key(var) {
                return Err(invalid(format!("variable `{var}` is already declared")));
            }
            row.insert(var.clone(), RVal::Rel(id));
        }
        rels.push(id);
        nodes.push(end);
    }
    if let Some(var) = &pattern.variable {
        row.insert(var.clone(), RVal::Path { nodes, rels });
    }
    Ok(())
}

fn bound<'r>(row: &'r Bindings, variable: &str) -> Result<&'r RVal> {
    row.get(variable)
        .ok_or_else(|| invalid(format!("variable `{variable}` is not defined")))
}

fn set_property(txn: &mut Txn, target: &RVal, key: &str, value: Value) -> Result<()> {
    check_name(key, "property key")?;
    match target {
        RVal::Node(id) => txn.set_node_property(*id, key.to_owned(), value),
        RVal::Rel(id) => txn.set_relationship_property(*id, key.to_owned(), value),
        RVal::Null => Ok(()),
        _ => Err(invalid(
            "type error: only nodes and relationships have properties",
        )),
    }
}

fn set_item(txn: &mut Txn, params: &Params, item: &SetItem, row: &Bindings) -> Result<()> {
    let evaluate = |txn: &Txn, expr| Scope::of_txn(txn, params).eval(expr, row);
    match item {
        SetItem::Property {
            variable,
            key,
            value,
        } => {
            let target = bound(row, variable)?.clone();
            let value = evaluate(txn, value)?.to_value(&format!("property '{key}'"))?;
            set_property(txn, &target, key, value)
        }
        SetItem::Replace { variable, value } | SetItem::Merge { variable, value } => {
            let target = bound(row, variable)?.clone();
            let map = match evaluate(txn, value)? {
                RVal::Map(map) => map,
                RVal::Null if matches!(item, SetItem::Replace { .. }) => Default::default(),
                other @ (RVal::Node(_) | RVal::Rel(_)) => {
                    let scope = Scope::of_txn(txn, params);
                    match scope.eval(
                        &Expr::Call {
                            name: "properties".into(),
                            distinct: false,
                            args: vec![Expr::Literal(other)],
                        },
                        row,
                    )? {
                        RVal::Map(map) => map,
                        _ => Default::default(),
                    }
                }
                _ => return Err(invalid("type error: SET with = or += needs a map")),
            };
            if matches!(item, SetItem::Replace { .. }) {
                let existing: Vec<String> = match &target {
                    RVal::Node(id) => txn.state().node(*id)?.properties.keys().cloned().collect(),
                    RVal::Rel(id) => txn
                        .state()
                        .relationship(*id)?
                        .0
                        .properties
                        .keys()
                        .cloned()
                        .collect(),
                    _ => Vec::new(),
                };
                for key in existing.into_iter().filter(|k| !map.contains_key(k)) {
                    set_property(txn, &target, &key, Value::Null)?;
                }
            }
            for (key, value) in map {
                let value = value.to_value(&format!("property '{key}'"))?;
                set_property(txn, &target, &key, value)?;
            }
            Ok(())
        }
        SetItem::Labels { variable, labels } => match bound(row, variable)? {
            RVal::Node(id) => {
                let id = *id;
                for label in labels {
                    check_name(label, "label")?;
                    txn.set_node_label(id, label.clone(), true)?;
                }
                Ok(())
            }
            RVal::Null => Ok(()),
            _ => Err(invalid("type error: only nodes have labels")),
        },
    }
}

fn remove_item(txn: &mut Txn, item: &RemoveItem, row: &Bindings) -> Result<()> {
    match item {
        RemoveItem::Property { variable, key } => {
            let target = bound(row, variable)?.clone();
            set_property(txn, &target, key, Value::Null)
        }
        RemoveItem::Labels { variable, labels } => match bound(row, variable)? {
            RVal::Node(id) => {
                let id = *id;
                for label in labels {
                    txn.set_node_label(id, label.clone(), false)?;
                }
                Ok(())
            }
            RVal::Null => Ok(()),
            _ => Err(invalid("type error: only nodes have labels")),
        },
    }
}

fn delete(
    txn: &mut Txn,
    params: &Params,
    targets: &[Expr],
    detach: bool,
    rows: &[Bindings],
) -> Result<()> {
    let mut nodes = BTreeSet::new();
    let mut rels = BTreeSet::new();
    {
        let scope = Scope::of_txn(txn, params);
        for row in rows {
            for target in targets {
                match scope.eval(target, row)? {
                    RVal::Node(id) => {
                        nodes.insert(id);
                    }
                    RVal::Rel(id) => {
                        rels.insert(id);
                    }
                    RVal::Path {
                        nodes: path_nodes,
                        rels: path_rels,
                    } => {
                        nodes.extend(path_nodes);
                        rels.extend(path_rels);
                    }
                    RVal::Null => {}
                    _ => {
                        return Err(invalid(
                            "type error: DELETE needs nodes, relationships or paths",
                        ));
                    }
                }
            }
        }
    }
    for id in rels {
        if txn.state().relationship(id).is_ok() {
            txn.delete_relationship(id)?;
        }
    }
    for id in nodes {
        if txn.state().node(id).is_ok() {
            txn.delete_node(id, detach)?;
        }
    }
    Ok(())
}
