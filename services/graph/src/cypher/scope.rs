//! Checks, before anything runs, that every variable a statement reads has been bound by an
//! earlier pattern or projection (so `MATCH (n) RETURN m` fails even on an empty graph), that a
//! variable keeps one kind (node, relationship, path), and that CREATE and MERGE do not
//! re-declare bound variables.

use std::collections::{HashMap, HashSet};

use super::ast::{Clause, Expr, PathPattern, Projection, RemoveItem, SetItem, Statement};
use crate::error::{Result, invalid};

/// Fails with INVALID_ARGUMENT naming the first variable used before it is defined.
pub fn check(statement: &Statement) -> Result<()> {
    let mut defined: HashSet<String> = HashSet::new();
    let mut kinds: HashMap<String, VarKind> = HashMap::new();
    for clause in &statement.clauses {
        match clause {
            Clause::Match { patterns, .. } => declare(&mut kinds, patterns, Mode::Match)?,
            Clause::Create(patterns) => declare(&mut kinds, patterns, Mode::Create)?,
            Clause::Merge { pattern, .. } => {
                declare(&mut kinds, std::slice::from_ref(pattern), Mode::Create)?
            }
            Clause::With { projection, .. } => {
                kinds = projection
                    .items
                    .iter()
                    .map(|item| {
                        let kind = match &item.expr {
                            Expr::Variable(v) => kinds.get(v).copied().unwrap_or(VarKind::Value),
                            _ => VarKind::Value,
                        };
                        (item.name.clone(), kind)
                    })
                    .collect();
            }
            _ => {}
        }
        match clause {
            Clause::Match {
                patterns,
                predicate,
                ..
            } => {
                bind_patterns(&mut defined, patterns)?;
                if let Some(p) = predicate {
                    uses(&defined, p)?;
                    no_aggregate(p, "WHERE")?;
                }
            }
            Clause::Create(patterns) => bind_patterns(&mut defined, patterns)?,
            Clause::Merge {
                pattern,
                on_create,
                on_match,
            } => {
                bind_patterns(&mut defined, std::slice::from_ref(pattern))?;
                for item in on_create.iter().chain(on_match) {
                    set_item(&defined, item)?;
                }
            }
            Clause::Set(items) => {
                for item in items {
                    set_item(&defined, item)?;
                }
            }
            Clause::Remove(items) => {
                for item in items {
                    let (RemoveItem::Property { variable, .. }
                    | RemoveItem::Labels { variable, .. }) = item;
                    variable_use(&defined, variable)?;
                }
            }
            Clause::Delete { targets, .. } => {
                for target in targets {
                    uses(&defined, target)?;
                }
            }
            Clause::With {
                projection,
                predicate,
            } => {
                projection_uses(&defined, projection)?;
                let projected: HashSet<String> =
                    projection.items.iter().map(|i| i.name.clone()).collect();
                if let Some(p) = predicate {
                    let mut visible = defined.clone();
                    visible.extend(projected.iter().cloned());
                    uses(&visible, p)?;
                    no_aggregate(p, "WHERE")?;
                }
                defined = projected;
            }
            Clause::Return(projection) => projection_uses(&defined, projection)?,
        }
    }
    Ok(())
}

/// What a variable holds, as far as patterns tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum VarKind {
    Node,
    Relationship,
    Relationships,
    Path,
    /// Anything (a projected expression).
    Value,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Match,
    Create,
}

fn describe(kind: VarKind) -> &'static str {
    match kind {
        VarKind::Node => "a node",
        VarKind::Relationship => "a relationship",
        VarKind::Relationships => "a list of relationships",
        VarKind::Path => "a path",
        VarKind::Value => "a value",
    }
}

/// Records the kinds of the variables `patterns` bind, refusing conflicts and (for CREATE and
/// MERGE) re-declarations.
fn declare(
    kinds: &mut HashMap<String, VarKind>,
    patterns: &[PathPattern],
    mode: Mode,
) -> Result<()> {
    let mut rels_here: HashSet<&str> = HashSet::new();
    let bind = |kinds: &mut HashMap<String, VarKind>, var: &str, kind: VarKind| -> Result<()> {
        match kinds.get(var) {
            Some(&existing) if existing != kind && existing != VarKind::Value => {
                Err(invalid(format!(
                    "variable `{var}` is {}, so it cannot be used as {}",
                    describe(existing),
                    describe(kind)
                )))
            }
            _ => {
                kinds.insert(var.to_owned(), kind);
                Ok(())
            }
        }
    };
    for pattern in patterns {
        let nodes = std::iter::once(&pattern.start).chain(pattern.steps.iter().map(|(_, n)| n));
        for node in nodes {
            let Some(var) = &node.variable else { continue };
            let bound = kinds.contains_key(var);
            if mode == Mode::Create
                && bound
                && (!node.labels.is_empty()
                    || !node.properties.is_empty()
                    || pattern.steps.is_empty())
            {
                return Err(invalid(format!(
                    "variable `{var}` is already declared; a created pattern cannot declare it again"
                )));
            }
            bind(kinds, var, VarKind::Node)?;
        }
        for (rel, _) in &pattern.steps {
            let Some(var) = &rel.variable else { continue };
            if !rels_here.insert(var) {
                return Err(invalid(format!(
                    "variable `{var}` is used for more than one relationship in a pattern"
                )));
            }
            if mode == Mode::Create && kinds.contains_key(var) {
                return Err(invalid(format!("variable `{var}` is already declared")));
            }
            let kind = if rel.length.is_some() {
                VarKind::Relationships
            } else {
                VarKind::Relationship
            };
            bind(kinds, var, kind)?;
        }
        if let Some(var) = &pattern.variable {
            if kinds.contains_key(var) {
                let existing = kinds[var];
                return Err(invalid(format!(
                    "variable `{var}` is already declared as {}; a path variable must be new",
                    describe(existing)
                )));
            }
            bind(kinds, var, VarKind::Path)?;
        }
    }
    Ok(())
}

fn bind_patterns(defined: &mut HashSet<String>, patterns: &[PathPattern]) -> Result<()> {
    for pattern in patterns {
        let nodes = std::iter::once(&pattern.start).chain(pattern.steps.iter().map(|(_, n)| n));
        for node in nodes {
            defined.extend(node.variable.clone());
        }
        for (rel, _) in &pattern.steps {
            defined.extend(rel.variable.clone());
        }
        defined.extend(pattern.variable.clone());
    }
    for pattern in patterns {
        let nodes = std::iter::once(&pattern.start).chain(pattern.steps.iter().map(|(_, n)| n));
        for node in nodes {
            for (_, e) in &node.properties {
                uses(defined, e)?;
            }
        }
        for (rel, _) in &pattern.steps {
            for (_, e) in &rel.properties {
                uses(defined, e)?;
            }
        }
    }
    Ok(())
}

fn set_item(defined: &HashSet<String>, item: &SetItem) -> Result<()> {
    match item {
        SetItem::Property {
            variable, value, ..
        }
        | SetItem::Replace { variable, value }
        | SetItem::Merge { variable, value } => {
            variable_use(defined, variable)?;
            uses(defined, value)
        }
        SetItem::Labels { variable, .. } => variable_use(defined, variable),
    }
}

/// Refuses aggregates where they cannot be evaluated.
fn no_aggregate(expr: &Expr, place: &str) -> Result<()> {
    if expr.has_aggregate() {
        return Err(invalid(format!(
            "aggregate functions are not allowed in {place}"
        )));
    }
    Ok(())
}

/// Refuses an aggregate inside another aggregate's argument.
fn no_nested_aggregate(expr: &Expr) -> Result<()> {
    match expr {
        Expr::Call { name, args, .. } if super::ast::AGGREGATES.contains(&name.as_str()) => {
            for arg in args {
                no_aggregate(arg, "an aggregate's argument")?;
            }
            Ok(())
        }
        Expr::Call { args: items, .. } | Expr::List(items) => {
            items.iter().try_for_each(no_nested_aggregate)
        }
        Expr::Map(entries) => entries.iter().try_for_each(|(_, e)| no_nested_aggregate(e)),
        Expr::Property(e, _) | Expr::Not(e) | Expr::Negate(e) | Expr::HasLabels(e, _) => {
            no_nested_aggregate(e)
        }
        Expr::IsNull { expr, .. } => no_nested_aggregate(expr),
        Expr::Binary(_, a, b) => {
            no_nested_aggregate(a)?;
            no_nested_aggregate(b)
        }
        Expr::Literal(_) | Expr::Parameter(_) | Expr::Variable(_) | Expr::CountStar => Ok(()),
    }
}

fn projection_uses(defined: &HashSet<String>, projection: &Projection) -> Result<()> {
    for item in &projection.items {
        uses(defined, &item.expr)?;
        no_nested_aggregate(&item.expr)?;
    }
    let aggregating = projection.items.iter().any(|i| i.expr.has_aggregate());
    for sort in &projection.order {
        if !aggregating && sort.expr.has_aggregate() {
            return Err(invalid(
                "ORDER BY cannot aggregate when the projection does not aggregate",
            ));
        }
    }
    let mut with_aliases = defined.clone();
    with_aliases.extend(projection.items.iter().map(|i| i.name.clone()));
    for sort in &projection.order {
        uses(&with_aliases, &sort.expr)?;
    }
    let empty = HashSet::new();
    for count in projection.skip.iter().chain(&projection.limit) {
        uses(&empty, count)?;
    }
    Ok(())
}

fn variable_use(defined: &HashSet<String>, variable: &str) -> Result<()> {
    if defined.contains(variable) {
        Ok(())
    } else {
        Err(invalid(format!("variable `{variable}` is not defined")))
    }
}

fn uses(defined: &HashSet<String>, expr: &Expr) -> Result<()> {
    match expr {
        Expr::Variable(name) => variable_use(defined, name),
        Expr::Literal(_) | Expr::Parameter(_) | Expr::CountStar => Ok(()),
        Expr::Property(e, _) | Expr::Not(e) | Expr::Negate(e) | Expr::HasLabels(e, _) => {
            uses(defined, e)
        }
        Expr::IsNull { expr, .. } => uses(defined, expr),
        Expr::Binary(_, a, b) => {
            uses(defined, a)?;
            uses(defined, b)
        }
        Expr::List(items) | Expr::Call { args: items, .. } => {
            items.iter().try_for_each(|e| uses(defined, e))
        }
        Expr::Map(entries) => entries.iter().try_for_each(|(_, e)| uses(defined, e)),
    }
}
