//! Semantic checks of a parsed statement (its variables' scope), before anything runs:
//! checks that every variable a statement reads has been bound by an
//! earlier pattern or projection (so `MATCH (n) RETURN m` fails even on an empty graph), that a
//! variable keeps one kind (node, relationship, path), and that CREATE and MERGE do not
//! re-declare bound variables.

use std::collections::{HashMap, HashSet};

use super::ast::{Clause, Expr, PathPattern, Projection, RemoveItem, SetItem, Statement};
use super::rval::RVal;
use crate::error::{Result, invalid};

/// Fails with INVALID_ARGUMENT naming the first variable used before it is defined.
pub(crate) fn check(statement: &Statement) -> Result<()> {
    let mut defined: HashSet<String> = HashSet::new();
    let mut kinds: HashMap<String, VarKind> = HashMap::new();
    for clause in &statement.clauses {
        let kinds_before = kinds.clone();
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
                            Expr::Literal(RVal::Null) => VarKind::Value,
                            Expr::Literal(_) | Expr::Map(_) => VarKind::Scalar,
                            Expr::List(_) => VarKind::List,
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
                    property_targets(&kinds, p)?;
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
                    deletable(target)?;
                }
            }
            Clause::With {
                projection,
                predicate,
            } => {
                projection_uses(&defined, projection)?;
                projection_targets(&kinds_before, projection)?;
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
            Clause::Return(projection) => {
                projection_uses(&defined, projection)?;
                projection_targets(&kinds, projection)?;
            }
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
    /// A literal value (not a node, relationship, path or list).
    Scalar,
    /// A list literal (perhaps of relationships).
    List,
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
        VarKind::Scalar => "a literal value",
        VarKind::List => "a list",
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
            Some(&existing)
                if existing != kind
                    && existing != VarKind::Value
                    && (existing, kind) != (VarKind::List, VarKind::Relationships) =>
            {
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
                && (!node.labels.is_empty() || node.has_map || pattern.steps.is_empty())
            {
                return Err(invalid(format!(
                    "variable `{var}` is already declared; a created pattern cannot declare it again"
                )));
            }
            bind(kinds, var, VarKind::Node)?;
        }
        for (rel, _) in &pattern.steps {
            if mode == Mode::Create && rel.types.len() != 1 {
                return Err(invalid(
                    "a created or merged relationship needs exactly one type, as in -[:TYPE]->",
                ));
            }
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
    let mut names = HashSet::new();
    for item in &projection.items {
        uses(defined, &item.expr)?;
        no_nested_aggregate(&item.expr)?;
        if !names.insert(item.name.as_str()) {
            return Err(invalid(format!(
                "column name `{}` is used more than once",
                item.name
            )));
        }
    }
    let keys: Vec<&Expr> = projection
        .items
        .iter()
        .map(|i| &i.expr)
        .filter(|e| !e.has_aggregate())
        .collect();
    for item in &projection.items {
        if item.expr.has_aggregate() {
            unambiguous(&item.expr, &keys, &[])?;
        }
    }
    let aliases: Vec<&str> = projection.items.iter().map(|i| i.name.as_str()).collect();
    let grouped = projection.distinct || projection.items.iter().any(|i| i.expr.has_aggregate());
    for sort in &projection.order {
        if sort.expr.has_aggregate() {
            unambiguous(&sort.expr, &keys, &aliases)?;
        }
        if grouped && !covered(&sort.expr, projection) {
            return Err(invalid(format!(
                "ORDER BY {} uses a variable that DISTINCT or aggregation removed; order by the projected columns",
                sort.text
            )));
        }
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

/// Refuses a property read of a path or a list of relationships (the variable's kind is known).
fn property_targets(kinds: &HashMap<String, VarKind>, expr: &Expr) -> Result<()> {
    if let Expr::Property(target, key) = expr
        && let Expr::Variable(var) = target.as_ref()
        && let Some(kind @ (VarKind::Path | VarKind::Relationships)) = kinds.get(var)
    {
        return Err(invalid(format!(
            "type error: cannot read property '{key}' of `{var}`, which is {}",
            describe(*kind)
        )));
    }
    expr.children()
        .into_iter()
        .try_for_each(|e| property_targets(kinds, e))
}

fn projection_targets(kinds: &HashMap<String, VarKind>, projection: &Projection) -> Result<()> {
    projection
        .items
        .iter()
        .map(|i| &i.expr)
        .chain(projection.order.iter().map(|s| &s.expr))
        .try_for_each(|e| property_targets(kinds, e))
}

/// Refuses DELETE of what can never be a node, relationship or path: literals, arithmetic,
/// label predicates and other operators.
fn deletable(target: &Expr) -> Result<()> {
    match target {
        Expr::Variable(_) | Expr::Parameter(_) | Expr::Property(..) | Expr::Call { .. } => Ok(()),
        Expr::Literal(RVal::Null) => Ok(()),
        Expr::HasLabels(..) => Err(invalid("DELETE cannot delete a label; use REMOVE n:Label")),
        _ => Err(invalid(
            "DELETE needs a node, a relationship or a path, not this expression",
        )),
    }
}

/// Refuses an aggregating expression whose non-aggregated parts are neither constants nor
/// grouping keys that are variables or property reads (or, in ORDER BY, column aliases):
/// `me.age + you.age + count(*)` is ambiguous even when `me.age + you.age` is returned.
fn unambiguous(expr: &Expr, keys: &[&Expr], aliases: &[&str]) -> Result<()> {
    if expr.is_aggregate_call() {
        return Ok(());
    }
    let simple_key =
        |e: &Expr| matches!(e, Expr::Variable(_) | Expr::Property(..)) && keys.contains(&e);
    match expr {
        Expr::Literal(_) | Expr::Parameter(_) => Ok(()),
        Expr::Variable(v) if aliases.contains(&v.as_str()) || simple_key(expr) => Ok(()),
        Expr::Property(target, _) if simple_key(expr) || simple_key(target) => Ok(()),
        Expr::Variable(v) => Err(invalid(format!(
            "ambiguous aggregation: `{v}` is used beside an aggregate without being a grouping key"
        ))),
        Expr::Property(..) => Err(invalid(
            "ambiguous aggregation: a property read beside an aggregate must be a grouping key",
        )),
        _ => expr
            .children()
            .into_iter()
            .try_for_each(|e| unambiguous(e, keys, aliases)),
    }
}

/// Whether a sort expression only uses what a DISTINCT or aggregating projection keeps: its
/// items (by expression or alias), aggregates, constants.
fn covered(expr: &Expr, projection: &Projection) -> bool {
    if projection.items.iter().any(|i| i.expr == *expr) || expr.is_aggregate_call() {
        return true;
    }
    match expr {
        Expr::Variable(v) => projection.items.iter().any(|i| i.name == *v),
        Expr::Literal(_) | Expr::Parameter(_) => true,
        _ => expr.children().into_iter().all(|e| covered(e, projection)),
    }
}
