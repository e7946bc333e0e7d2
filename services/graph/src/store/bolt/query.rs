//! ExecuteQuery and StreamQuery on the Bolt engine: the Cypher text goes to the engine as
//! written, with its parameters; the engine's Cypher, not our subset, decides what runs.
//!
//! - READ: a statement with a writing clause is refused up front, with the embedded engine's
//!   status and message ([`scan::first_write`]); everything else runs in an explicit
//!   transaction that is always rolled back, so nothing a READ query does can commit, whatever
//!   the engine enforces (neo4rs 0.8 cannot ask for a read session, and ArcadeDB would not
//!   enforce one).
//! - WRITE: one transaction, committed when the statement succeeds; a write conflict is
//!   retried like every write of this engine.
//! - LOAD CSV is refused in every mode (the engine would read files of its server).
//! - `id(x)` answers the contract's id, the one the RPCs use ([`scan::contract_ids`]).
//! - The row limit cuts the answer as in the embedded engine (`truncated`); a READ query stops
//!   pulling rows at the limit, a WRITE query runs to its end.
//! - What a write changed (`stats`) is not reported: neo4rs 0.8 does not expose the result
//!   summary, so the counts are zero.

use std::collections::HashMap;

use futures::future::BoxFuture;
use neo4rs::{BoltMap, BoltType, Row};

use super::values::{query_params, query_value, unexpected};
use super::{BoltGraph, Failure, Tx, scan};
use crate::error::{GraphError, Result};
use crate::model::{AccessMode, CypherQuery, QueryResult, Row as ResultRow};

/// A statement ready to send.
struct Prepared {
    text: String,
    params: BoltMap,
    /// The columns read from the text, when it could be read: the engine's name of each (of
    /// the rewritten text) and the caller's (of the text as sent).
    columns: Option<Vec<(String, String)>>,
    row_limit: Option<usize>,
    /// Stop pulling rows past the limit (reads: nothing needs to run to the end).
    stop_at_limit: bool,
}

/// A row as name → value.
fn row_map(row: Row) -> std::result::Result<HashMap<String, BoltType>, Failure> {
    row.to_strict::<HashMap<String, BoltType>>()
        .map_err(|e| unexpected(format!("a row: {e}")).into())
}

/// The columns of the answer, as (the row's key, the caller's name): the names read from the
/// text when they are the row's, else the row's own keys in byte order.
fn resolve_columns(
    read: Option<&Vec<(String, String)>>,
    first: Option<&HashMap<String, BoltType>>,
) -> Vec<(String, String)> {
    match (read, first) {
        (Some(names), None) => names.clone(),
        (Some(names), Some(row))
            if names.len() == row.len() && names.iter().all(|(k, _)| row.contains_key(k)) =>
        {
            names.clone()
        }
        (_, Some(row)) => {
            let mut keys: Vec<String> = row.keys().cloned().collect();
            keys.sort();
            keys.into_iter().map(|k| (k.clone(), k)).collect()
        }
        (None, None) => Vec::new(),
    }
}

async fn run_in(tx: &mut Tx, prepared: &Prepared) -> std::result::Result<QueryResult, Failure> {
    let statement = neo4rs::query(&prepared.text).params(prepared.params.value.clone());
    let limit = prepared.row_limit.unwrap_or(usize::MAX);
    let mut maps = Vec::new();
    let mut truncated = false;
    let mut columns: Option<Vec<(String, String)>> = None;
    tx.each(statement, |row| {
        let map = row_map(row)?;
        if columns.is_none() {
            columns = Some(resolve_columns(prepared.columns.as_ref(), Some(&map)));
        }
        if maps.len() >= limit {
            truncated = true;
            return Ok(!prepared.stop_at_limit);
        }
        maps.push(map);
        Ok(true)
    })
    .await?;
    let columns = columns.unwrap_or_else(|| resolve_columns(prepared.columns.as_ref(), None));
    let rows = maps
        .into_iter()
        .map(|mut map| {
            let values = columns
                .iter()
                .map(|(key, _)| {
                    query_value(map.remove(key).unwrap_or(BoltType::Null(neo4rs::BoltNull)))
                })
                .collect::<Result<_>>()?;
            Ok(ResultRow { values })
        })
        .collect::<Result<_>>()?;
    Ok(QueryResult {
        columns: columns.into_iter().map(|(_, shown)| shown).collect(),
        rows,
        truncated,
        stats: Default::default(),
    })
}

/// [`run_in`] as the transaction helpers take it.
fn run<'t>(
    tx: &'t mut Tx,
    prepared: &'t Prepared,
) -> BoxFuture<'t, std::result::Result<QueryResult, Failure>> {
    Box::pin(run_in(tx, prepared))
}

impl BoltGraph {
    /// Runs one statement as one transaction (see the module documentation).
    pub(super) async fn query(&self, query: CypherQuery) -> Result<QueryResult> {
        let tokens = scan::tokens(&query.text);
        if let Some(tokens) = &tokens {
            scan::load_csv(tokens)?;
            if query.access_mode == AccessMode::Read
                && let Some(clause) = scan::first_write(tokens)
            {
                return Err(GraphError::InvalidArgument(format!(
                    "the query writes ({clause}) but access_mode is READ; send ACCESS_MODE_WRITE to allow writes"
                )));
            }
        } else if query.text.to_ascii_uppercase().contains("LOAD CSV") {
            return Err(GraphError::InvalidArgument(
                "unsupported: LOAD CSV is outside what this service sends to the graph engine"
                    .into(),
            ));
        }
        let (text, columns) = match &tokens {
            Some(tokens) => {
                let text = scan::contract_ids(&query.text, tokens);
                let keys = scan::tokens(&text).and_then(|t| scan::columns(&text, &t));
                let shown = scan::columns(&query.text, tokens);
                let pairs = match (keys, shown) {
                    (Some(k), Some(s)) if k.len() == s.len() => {
                        Some(k.into_iter().zip(s).collect())
                    }
                    _ => None,
                };
                (text, pairs)
            }
            None => (query.text, None),
        };
        let prepared = Prepared {
            columns,
            params: query_params(&query.parameters)?,
            text,
            row_limit: query.row_limit,
            stop_at_limit: query.access_mode == AccessMode::Read,
        };
        match query.access_mode {
            AccessMode::Read => self.read(query.deadline, prepared, run).await,
            AccessMode::Write => self.write(query.deadline, prepared, run).await,
        }
    }
}
