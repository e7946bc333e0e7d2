//! Runs a parsed statement clause by clause over a list of rows: MATCH and OPTIONAL MATCH
//! extend rows (then WHERE filters), writing clauses change the graph through the request's
//! [`Txn`] (see [`super::write`]), WITH projects rows into new ones (then WHERE filters), and
//! RETURN projects the result (see [`super::project`]) into rows of domain values. The rows
//! held between clauses, and those a clause builds, are charged to the query's memory budget.

use std::collections::HashMap;

use super::ast::{Clause, Expr, PathPattern, Projection, Statement};
use super::eval::Scope;
use super::matcher::{MAX_INTERMEDIATE_ROWS, match_patterns};
use super::project::project;
use super::rval::{Bindings, RVal, heap_size, row_size};
use super::write::write_clause;
use crate::engine::{Budget, GraphState, Txn};
use crate::error::{GraphError, Result, invalid};
use crate::model::{QueryValue, Row};

/// The graph a statement runs on: read-only, or a write transaction.
pub enum Graph<'a, 'g> {
    /// A read-only statement.
    Read(&'a GraphState),
    /// A statement with writing clauses.
    Write(&'a mut Txn<'g>),
}

impl<'g> Graph<'_, 'g> {
    /// What expressions see: the graph as the statement left it so far.
    fn scope<'s>(&'s self, params: &'s HashMap<String, RVal>) -> Scope<'s> {
        match self {
            Graph::Read(state) => Scope::new(state, params),
            Graph::Write(txn) => Scope::of_txn(txn, params),
        }
    }

    fn txn(&mut self) -> Result<&mut Txn<'g>> {
        match self {
            Graph::Write(txn) => Ok(&mut **txn),
            Graph::Read(_) => Err(invalid("this statement writes but runs read-only")),
        }
    }
}

/// What a statement returned.
#[derive(Debug, Clone, Default)]
pub struct Output {
    /// Column names.
    pub columns: Vec<String>,
    /// Rows, at most the row limit.
    pub rows: Vec<Row>,
    /// Whether rows beyond the row limit were dropped.
    pub truncated: bool,
}

/// Runs `statement` with `params` (nodes, relationships and paths are refused as parameters).
pub fn execute(
    mut graph: Graph,
    statement: &Statement,
    params: &HashMap<String, QueryValue>,
    budget: &Budget,
    row_limit: Option<usize>,
) -> Result<Output> {
    let params = params
        .iter()
        .map(|(k, v)| Ok((k.clone(), RVal::from_parameter(v, k)?)))
        .collect::<Result<HashMap<_, _>>>()?;
    let mut rows = vec![Bindings::new()];
    for clause in &statement.clauses {
        rows = match clause {
            Clause::Match {
                optional,
                patterns,
                predicate,
            } => match_clause(
                &graph.scope(&params),
                budget,
                *optional,
                patterns,
                predicate.as_ref(),
                &rows,
            )?,
            Clause::With {
                projection,
                predicate,
            } => with_clause(
                &graph.scope(&params),
                budget,
                projection,
                predicate.as_ref(),
                rows,
            )?,
            Clause::Return(projection) => {
                return return_clause(&graph.scope(&params), projection, rows, row_limit);
            }
            writing => write_clause(graph.txn()?, &params, budget, writing, rows)?,
        };
        // WHERE, projection and aggregation tick per row; the clock is read once per clause too.
        budget.check()?;
        // What the query holds from here on: the rows this clause kept.
        budget.settle(rows.iter().map(row_size).sum())?;
    }
    Ok(Output::default())
}

/// MATCH or OPTIONAL MATCH (with its WHERE): every way each row extends; an optional match
/// that finds nothing keeps the row with its new variables null.
fn match_clause(
    scope: &Scope,
    budget: &Budget,
    optional: bool,
    patterns: &[PathPattern],
    predicate: Option<&Expr>,
    rows: &[Bindings],
) -> Result<Vec<Bindings>> {
    let mut next = Vec::new();
    for row in rows {
        let mut found = Vec::new();
        for candidate in match_patterns(scope, budget, patterns, row)? {
            budget.tick()?;
            let keep = match predicate {
                Some(p) => scope.truthy(p, &candidate)?,
                None => true,
            };
            if keep {
                found.push(candidate);
            }
        }
        if found.is_empty() && optional {
            let mut padded = row.clone();
            for var in pattern_variables(patterns) {
                padded.entry(var).or_insert(RVal::Null);
            }
            found.push(padded);
        }
        next.extend(found);
        if next.len() > MAX_INTERMEDIATE_ROWS {
            return Err(GraphError::ResourceExhausted(format!(
                "MATCH produced more than {MAX_INTERMEDIATE_ROWS} rows"
            )));
        }
    }
    Ok(next)
}

/// Every variable a list of patterns names.
fn pattern_variables(patterns: &[PathPattern]) -> Vec<String> {
    let mut vars = Vec::new();
    for pattern in patterns {
        vars.extend(pattern.variable.clone());
        vars.extend(pattern.start.variable.clone());
        for (rel, node) in &pattern.steps {
            vars.extend(rel.variable.clone());
            vars.extend(node.variable.clone());
        }
    }
    vars
}

/// WITH (and its WHERE): the projected rows that pass.
fn with_clause(
    scope: &Scope,
    budget: &Budget,
    projection: &Projection,
    predicate: Option<&Expr>,
    rows: Vec<Bindings>,
) -> Result<Vec<Bindings>> {
    let values = project(scope, projection, rows)?;
    let mut next = Vec::with_capacity(values.len());
    for (values, env) in values {
        budget.tick()?;
        // Collected lists are built here, per output row.
        budget.charge(values.iter().map(heap_size).sum::<u64>() + row_size(&env))?;
        let row: Bindings = projection
            .items
            .iter()
            .map(|item| item.name.clone())
            .zip(values)
            .collect();
        // WHERE after WITH sees the projected names and the variables before.
        let keep = match predicate {
            Some(p) => scope.truthy(p, &env)?,
            None => true,
        };
        if keep {
            next.push(row);
        }
    }
    Ok(next)
}

/// RETURN: the projected rows, at most `row_limit`, as domain values.
fn return_clause(
    scope: &Scope,
    projection: &Projection,
    rows: Vec<Bindings>,
    row_limit: Option<usize>,
) -> Result<Output> {
    let mut values: Vec<Vec<RVal>> = project(scope, projection, rows)?
        .into_iter()
        .map(|(values, _)| values)
        .collect();
    let truncated = row_limit.is_some_and(|l| values.len() > l);
    if let Some(l) = row_limit {
        values.truncate(l);
    }
    Ok(Output {
        columns: projection.items.iter().map(|i| i.name.clone()).collect(),
        rows: values
            .into_iter()
            .map(|values| Row {
                values: values.iter().map(|v| v.to_result(scope.state)).collect(),
            })
            .collect(),
        truncated,
    })
}
