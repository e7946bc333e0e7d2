//! [`GraphStore`] for the Bolt engine: each call is one transaction on the server (see the
//! module documentation of [`super`]); nothing is kept here, so `flush` has nothing to do.

use std::collections::BTreeSet;

use super::BoltGraph;
use crate::error::Result;
use crate::model::{
    CypherQuery, FoundPath, NeighborQuery, Neighbors, Node, NodeUpdate, PathQuery, Properties,
    QueryResult, Relationship, Schema,
};
use crate::store::GraphStore;

#[tonic::async_trait]
impl GraphStore for BoltGraph {
    async fn create_node(&self, labels: BTreeSet<String>, properties: Properties) -> Result<Node> {
        BoltGraph::create_node(self, labels, properties).await
    }

    async fn node(&self, id: u64) -> Result<Node> {
        BoltGraph::node(self, id).await
    }

    async fn update_node(&self, update: NodeUpdate) -> Result<Node> {
        BoltGraph::update_node(self, update).await
    }

    async fn delete_node(&self, id: u64) -> Result<u64> {
        BoltGraph::delete_node(self, id).await
    }

    async fn create_relationship(
        &self,
        start: u64,
        end: u64,
        rel_type: String,
        properties: Properties,
    ) -> Result<Relationship> {
        BoltGraph::create_relationship(self, (start, end, rel_type, properties)).await
    }

    async fn relationship(&self, id: u64) -> Result<Relationship> {
        BoltGraph::relationship(self, id).await
    }

    async fn delete_relationship(&self, id: u64) -> Result<()> {
        BoltGraph::delete_relationship(self, id).await
    }

    async fn neighbors(&self, query: NeighborQuery) -> Result<Neighbors> {
        BoltGraph::neighbors(self, query).await
    }

    async fn shortest_path(&self, query: PathQuery) -> Result<FoundPath> {
        BoltGraph::shortest_path(self, query).await
    }

    async fn schema(&self) -> Result<Schema> {
        BoltGraph::schema(self).await
    }

    async fn query(&self, query: CypherQuery) -> Result<QueryResult> {
        BoltGraph::query(self, query).await
    }

    async fn flush(&self) -> Result<()> {
        Ok(())
    }
}
