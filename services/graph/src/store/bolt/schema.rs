//! GetSchema on the Bolt engine: labels, relationship types and property keys with their
//! counts, gathered by scans (`MATCH (n) UNWIND labels(n)`, …) in one read transaction. The
//! engines' catalog procedures cannot be used instead: ArcadeDB's `db.labels()` keeps labels
//! that no node carries any more and its `db.propertyKeys()` lists only declared properties.
//! A scan reads the whole graph: on a large graph GetSchema is slow, and bounded by the
//! caller's deadline.

use std::collections::BTreeMap;

use neo4rs::{BoltType, query};

use super::{BoltGraph, Failure, Tx, column, int_column};
use crate::error::Result;
use crate::model::{KeyCount, Schema};

/// (name, count) rows of `statement`, whose columns are `name` and `count`.
async fn counts(
    tx: &mut Tx,
    statement: &str,
) -> std::result::Result<BTreeMap<String, u64>, Failure> {
    let mut out = BTreeMap::new();
    for row in tx.rows(query(statement)).await? {
        if let BoltType::String(name) = column(&row, "name")? {
            let count = u64::try_from(int_column(&row, "count")?).unwrap_or(0);
            out.insert(name.value, count);
        }
    }
    Ok(out)
}

/// One count.
async fn total(tx: &mut Tx, statement: &str) -> std::result::Result<u64, Failure> {
    let rows = tx.rows(query(statement)).await?;
    match rows.first() {
        Some(row) => Ok(u64::try_from(int_column(row, "count")?).unwrap_or(0)),
        None => Ok(0),
    }
}

async fn schema_in(tx: &mut Tx, (): &()) -> std::result::Result<Schema, Failure> {
    let labels = counts(
        tx,
        "MATCH (n) UNWIND labels(n) AS name RETURN name, count(*) AS count",
    )
    .await?;
    let types = counts(
        tx,
        "MATCH ()-[r]->() RETURN type(r) AS name, count(*) AS count",
    )
    .await?;
    let node_keys = counts(
        tx,
        "MATCH (n) UNWIND keys(n) AS name RETURN name, count(*) AS count",
    )
    .await?;
    let rel_keys = counts(
        tx,
        "MATCH ()-[r]->() UNWIND keys(r) AS name RETURN name, count(*) AS count",
    )
    .await?;
    let mut keys: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    for (key, n) in node_keys {
        keys.entry(key).or_default().0 = n;
    }
    for (key, n) in rel_keys {
        keys.entry(key).or_default().1 = n;
    }
    Ok(Schema {
        labels: labels.into_iter().collect(),
        relationship_types: types.into_iter().collect(),
        property_keys: keys
            .into_iter()
            .map(|(key, (node_count, relationship_count))| KeyCount {
                key,
                node_count,
                relationship_count,
            })
            .collect(),
        node_count: total(tx, "MATCH (n) RETURN count(n) AS count").await?,
        relationship_count: total(tx, "MATCH ()-[r]->() RETURN count(r) AS count").await?,
    })
}

impl BoltGraph {
    /// Labels, relationship types and property keys in use, with counts.
    pub(super) async fn schema(&self) -> Result<Schema> {
        self.read(None, (), |tx, args| Box::pin(schema_in(tx, args)))
            .await
    }
}
