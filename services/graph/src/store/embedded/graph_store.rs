//! [`GraphStore`] for the embedded store: where each call runs. Writes fsync and long reads
//! walk far, so they run on the blocking pool; small reads (one node, one relationship, a
//! ListNeighbors walk of at most [`INLINE_NEIGHBOR_STEPS`] relationships, a read-only Cypher
//! query of at most [`INLINE_QUERY_STEPS`] steps) are answered on the
//! async thread when the read lock is free, as the hand-off would cost more than the read
//! (docs/benchmarks.md measures both).

use std::collections::BTreeSet;
use std::time::Instant;

use super::EmbeddedGraph;
use crate::engine::{AbandonOnDrop, watched};
use crate::error::{GraphError, Result};
use crate::model::{
    CypherQuery, FoundPath, NeighborQuery, Neighbors, Node, NodeMatch, NodeUpdate, PathQuery,
    Properties, QueryResult, Relationship, Schema,
};
use crate::store::GraphStore;

/// Most relationships a ListNeighbors walk may take on an async thread; a longer walk starts
/// again on the blocking pool.
const INLINE_NEIGHBOR_STEPS: usize = 512;

/// Most budget steps (candidate nodes, pattern steps, rows) a read-only Cypher query or a start
/// node's lookup may take on an async thread; a longer one starts again on the blocking pool.
/// The chat path's lookup of a person by name takes a handful through the label and property
/// indexes.
const INLINE_QUERY_STEPS: u64 = 1024;

impl EmbeddedGraph {
    /// Runs `call` on the blocking pool (it may lock, fsync or walk far). Dropping the returned
    /// future (the caller went away) stops the call's walks at their next step
    /// ([`watched`]); a write stopped that way is rolled back like one past its deadline.
    async fn blocking<T: Send + 'static>(
        &self,
        call: impl FnOnce(&EmbeddedGraph) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let graph = self.clone();
        let abandon = AbandonOnDrop::default();
        let flag = abandon.flag();
        let answer = tokio::task::spawn_blocking(move || watched(flag, || call(&graph)))
            .await
            .map_err(|e| GraphError::Internal(format!("store task failed: {e}")))?;
        drop(abandon);
        answer
    }
}

#[tonic::async_trait]
impl GraphStore for EmbeddedGraph {
    async fn create_node(&self, labels: BTreeSet<String>, properties: Properties) -> Result<Node> {
        self.blocking(move |graph| graph.create_node(labels, properties))
            .await
    }

    async fn node(&self, id: u64) -> Result<Node> {
        match self.try_node(id) {
            Some(answer) => answer,
            None => self.blocking(move |graph| graph.node(id)).await,
        }
    }

    async fn update_node(&self, update: NodeUpdate) -> Result<Node> {
        self.blocking(move |graph| graph.update_node(update)).await
    }

    async fn delete_node(&self, id: u64) -> Result<u64> {
        self.blocking(move |graph| graph.delete_node(id)).await
    }

    async fn create_relationship(
        &self,
        start: u64,
        end: u64,
        rel_type: String,
        properties: Properties,
    ) -> Result<Relationship> {
        self.blocking(move |graph| graph.create_relationship(start, end, rel_type, properties))
            .await
    }

    async fn relationship(&self, id: u64) -> Result<Relationship> {
        match self.try_relationship(id) {
            Some(answer) => answer,
            None => self.blocking(move |graph| graph.relationship(id)).await,
        }
    }

    async fn delete_relationship(&self, id: u64) -> Result<()> {
        self.blocking(move |graph| graph.delete_relationship(id))
            .await
    }

    async fn neighbors(&self, query: NeighborQuery) -> Result<Neighbors> {
        match self.try_neighbors(&query, INLINE_NEIGHBOR_STEPS) {
            Some(answer) => answer,
            None => self.blocking(move |graph| graph.neighbors(&query)).await,
        }
    }

    async fn shortest_path(&self, query: PathQuery) -> Result<FoundPath> {
        self.blocking(move |graph| graph.shortest_path(&query))
            .await
    }

    async fn schema(&self) -> Result<Schema> {
        self.blocking(|graph| Ok(graph.schema())).await
    }

    async fn query(&self, query: CypherQuery) -> Result<QueryResult> {
        match self.try_query(&query, INLINE_QUERY_STEPS) {
            Some(answer) => answer,
            None => self.blocking(move |graph| graph.query(&query)).await,
        }
    }

    async fn find_node(&self, start: &NodeMatch, deadline: Option<Instant>) -> Result<u64> {
        let id = match self.try_lowest_node(start, deadline, INLINE_QUERY_STEPS) {
            Some(found) => found?,
            None => {
                let owned = start.clone();
                self.blocking(move |graph| graph.lowest_node(&owned, deadline))
                    .await?
            }
        };
        start.found(id)
    }

    async fn flush(&self) -> Result<()> {
        self.blocking(EmbeddedGraph::flush).await
    }
}
