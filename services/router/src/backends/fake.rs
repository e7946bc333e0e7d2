//! In-memory fake backends for unit tests (routing, tools): a small organisation graph, a few
//! orders and a vector search that echoes its query, with every call recorded. No sockets.

use std::sync::{Arc, Mutex};

use chatmesh_proto::graph::{
    ExecuteQueryRequest, ExecuteQueryResponse, FindShortestPathRequest, FindShortestPathResponse,
    ListNeighborsRequest, ListNeighborsResponse, Neighbor, Node, Row, Value, value,
};
use chatmesh_proto::relational::{
    GetOrderRequest, GetOrderResponse, ListOrdersRequest, ListOrdersResponse, Order,
};
use chatmesh_proto::vector::{SearchHit, SearchRequest, SearchResponse, search_request};
use tonic::Status;

use super::{Backends, CallContext, GraphBackend, RelationalBackend, VectorBackend};

/// People of the fake graph; node id = position + 1.
pub(crate) const PEOPLE: [&str; 3] = ["Ada Lovelace", "Grace Hopper", "Alan Turing"];
/// Order ids that exist.
pub(crate) const ORDER_IDS: [i64; 2] = [100_001, 100_002];

/// One recorded call: method name and the request, debug-formatted.
pub(crate) type Recorded = (&'static str, String);

/// Fake backends sharing one call log.
#[derive(Debug, Clone, Default)]
pub(crate) struct Fake {
    calls: Arc<Mutex<Vec<Recorded>>>,
}

impl Fake {
    /// The three backends, all backed by this fake.
    pub(crate) fn backends(&self) -> Backends {
        Backends {
            graph: Arc::new(self.clone()),
            vector: Arc::new(self.clone()),
            relational: Arc::new(self.clone()),
        }
    }

    /// The calls made so far, in order.
    pub(crate) fn calls(&self) -> Vec<Recorded> {
        self.calls.lock().unwrap().clone()
    }

    fn record(&self, method: &'static str, request: &impl std::fmt::Debug) {
        self.calls
            .lock()
            .unwrap()
            .push((method, format!("{request:?}")));
    }
}

fn person(id: u64) -> Node {
    Node {
        id,
        labels: vec!["Person".into()],
        properties: [(
            "name".to_owned(),
            Value {
                kind: Some(value::Kind::StringValue(PEOPLE[id as usize - 1].into())),
            },
        )]
        .into(),
    }
}

#[tonic::async_trait]
impl GraphBackend for Fake {
    async fn query(
        &self,
        _ctx: &CallContext,
        request: ExecuteQueryRequest,
    ) -> Result<ExecuteQueryResponse, Status> {
        self.record("graph.query", &request);
        let name = match request.parameters.get("name").and_then(|v| v.kind.clone()) {
            Some(value::Kind::StringValue(name)) => name,
            _ => return Ok(ExecuteQueryResponse::default()),
        };
        let rows = PEOPLE
            .iter()
            .position(|p| *p == name)
            .map(|i| Row {
                values: vec![Value {
                    kind: Some(value::Kind::IntValue(i as i64 + 1)),
                }],
            })
            .into_iter()
            .collect();
        Ok(ExecuteQueryResponse {
            columns: vec!["id(p)".into()],
            rows,
            ..Default::default()
        })
    }

    async fn list_neighbors(
        &self,
        _ctx: &CallContext,
        request: ListNeighborsRequest,
    ) -> Result<ListNeighborsResponse, Status> {
        self.record("graph.list_neighbors", &request);
        // As the graph service does: `start` finds a Person by name (ids are PEOPLE's order).
        let start = match &request.start {
            Some(start) => match start.value.as_ref().and_then(|v| v.kind.clone()) {
                Some(value::Kind::StringValue(name)) => PEOPLE
                    .iter()
                    .position(|p| *p == name)
                    .map_or(0, |i| i as u64 + 1),
                _ => 0,
            },
            None => request.node_id,
        };
        if start == 0 || start as usize > PEOPLE.len() {
            return Err(Status::not_found(match &request.start {
                Some(start) => format!("start: no node matches {start:?}"),
                None => format!("node {} does not exist", request.node_id),
            }));
        }
        let neighbors = (1..=PEOPLE.len() as u64)
            .filter(|id| *id != start)
            .map(|id| Neighbor {
                node: Some(person(id)),
                depth: 1,
                relationship: None,
            })
            .collect();
        Ok(ListNeighborsResponse {
            neighbors,
            start_node_id: start,
            ..Default::default()
        })
    }

    async fn find_shortest_path(
        &self,
        _ctx: &CallContext,
        request: FindShortestPathRequest,
    ) -> Result<FindShortestPathResponse, Status> {
        self.record("graph.find_shortest_path", &request);
        Err(Status::not_found("no path in the fake graph"))
    }
}

#[tonic::async_trait]
impl VectorBackend for Fake {
    async fn search(
        &self,
        _ctx: &CallContext,
        request: SearchRequest,
    ) -> Result<SearchResponse, Status> {
        self.record("vector.search", &request);
        let text = match &request.query {
            Some(search_request::Query::NearText(text)) => text.clone(),
            _ => String::new(),
        };
        Ok(SearchResponse {
            hits: vec![SearchHit {
                id: format!("{}:1", request.collection),
                score: 1.0,
                text: Some(text),
                ..Default::default()
            }],
            search_time: None,
        })
    }
}

#[tonic::async_trait]
impl RelationalBackend for Fake {
    async fn get_order(
        &self,
        _ctx: &CallContext,
        request: GetOrderRequest,
    ) -> Result<GetOrderResponse, Status> {
        self.record("relational.get_order", &request);
        if !ORDER_IDS.contains(&request.id) {
            return Err(Status::not_found(format!("order {} not found", request.id)));
        }
        Ok(GetOrderResponse {
            order: Some(Order {
                id: request.id,
                customer: PEOPLE[0].into(),
                ..Default::default()
            }),
        })
    }

    async fn list_orders(
        &self,
        _ctx: &CallContext,
        request: ListOrdersRequest,
    ) -> Result<ListOrdersResponse, Status> {
        self.record("relational.list_orders", &request);
        let customer = request
            .filter
            .as_ref()
            .map(|f| f.customer.clone())
            .unwrap_or_default();
        let orders: Vec<Order> = ORDER_IDS
            .iter()
            .map(|id| Order {
                id: *id,
                customer: if customer.is_empty() {
                    PEOPLE[0].into()
                } else {
                    customer.clone()
                },
                ..Default::default()
            })
            .collect();
        Ok(ListOrdersResponse {
            total_size: orders.len() as i64,
            orders,
            next_page_token: String::new(),
        })
    }
}
