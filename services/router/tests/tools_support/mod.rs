//! Recording fake backends for the tools and MCP tests: a tiny organisation graph, two orders
//! and a three-document collection, answering like the real services do (including their
//! errors), with every request kept so a test can check what a tool sent.

#![allow(dead_code)] // each test binary uses its own part of this module

pub(crate) mod calls;

use std::sync::{Arc, Mutex};

use chatmesh_proto::graph::{
    ExecuteQueryRequest, ExecuteQueryResponse, FindShortestPathRequest, FindShortestPathResponse,
    ListNeighborsRequest, ListNeighborsResponse, Neighbor, Node, Path, Relationship, Row, Value,
    value,
};
use chatmesh_proto::relational::{
    GetOrderRequest, GetOrderResponse, ListOrdersRequest, ListOrdersResponse, Order, OrderStatus,
};
use chatmesh_proto::vector::{
    PayloadValue, SearchHit, SearchRequest, SearchResponse, payload_value, search_request,
};
use chatmesh_router::internals::{
    Backends, CallContext, GraphBackend, RelationalBackend, VectorBackend,
};
use tonic::Status;

/// Nodes of the fake graph: (id, label, name). Two nodes share the name "Sam" on purpose.
pub(crate) const NODES: [(u64, &str, &str); 5] = [
    (1, "Person", "Ada Lovelace"),
    (2, "Person", "Grace Hopper"),
    (3, "Team", "Platform"),
    (7, "Person", "Sam"),
    (8, "Team", "Sam"),
];

/// One request a tool sent.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Call {
    Query(ExecuteQueryRequest),
    Neighbors(ListNeighborsRequest),
    ShortestPath(FindShortestPathRequest),
    Search(SearchRequest),
    GetOrder(GetOrderRequest),
    ListOrders(ListOrdersRequest),
}

/// The fake backends and their call log.
#[derive(Debug, Clone, Default)]
pub(crate) struct Fake {
    calls: Arc<Mutex<Vec<Call>>>,
}

impl Fake {
    pub(crate) fn backends(&self) -> Backends {
        Backends {
            graph: Arc::new(self.clone()),
            vector: Arc::new(self.clone()),
            relational: Arc::new(self.clone()),
        }
    }

    /// The requests sent so far, in order.
    pub(crate) fn calls(&self) -> Vec<Call> {
        self.calls.lock().unwrap().clone()
    }

    fn record(&self, call: Call) {
        self.calls.lock().unwrap().push(call);
    }
}

fn string(s: &str) -> Value {
    Value {
        kind: Some(value::Kind::StringValue(s.to_owned())),
    }
}

fn node(id: u64) -> Node {
    let (_, label, name) = NODES.iter().find(|n| n.0 == id).copied().unwrap();
    Node {
        id,
        labels: vec![label.to_owned()],
        properties: [("name".to_owned(), string(name))].into(),
    }
}

fn manages(id: u64, from: u64, to: u64) -> Relationship {
    Relationship {
        id,
        r#type: "MANAGES".into(),
        start_node_id: from,
        end_node_id: to,
        properties: Default::default(),
    }
}

#[tonic::async_trait]
impl GraphBackend for Fake {
    async fn query(
        &self,
        _ctx: &CallContext,
        request: ExecuteQueryRequest,
    ) -> Result<ExecuteQueryResponse, Status> {
        self.record(Call::Query(request.clone()));
        if request.cypher.starts_with("CREATE") {
            return Err(Status::invalid_argument(
                "a writing query needs ACCESS_MODE_WRITE",
            ));
        }
        // The tools' name lookup: answer with the ids of the nodes so named (and labelled).
        if request.cypher.contains("n.name = $name") {
            let wanted = |key: &str| match request.parameters.get(key).and_then(|v| v.kind.clone())
            {
                Some(value::Kind::StringValue(s)) => Some(s),
                _ => None,
            };
            let name = wanted("name").unwrap_or_default();
            let label = wanted("label");
            let rows = NODES
                .iter()
                .filter(|(_, l, n)| *n == name && label.as_deref().is_none_or(|want| want == *l))
                .map(|(id, _, _)| Row {
                    values: vec![Value {
                        kind: Some(value::Kind::IntValue(*id as i64)),
                    }],
                })
                .collect();
            return Ok(ExecuteQueryResponse {
                columns: vec!["id(n)".into()],
                rows,
                ..Default::default()
            });
        }
        Ok(ExecuteQueryResponse {
            columns: vec!["m.name".into(), "n".into()],
            rows: vec![Row {
                values: vec![
                    string("Ada Lovelace"),
                    Value {
                        kind: Some(value::Kind::NodeValue(node(2))),
                    },
                ],
            }],
            ..Default::default()
        })
    }

    async fn list_neighbors(
        &self,
        _ctx: &CallContext,
        request: ListNeighborsRequest,
    ) -> Result<ListNeighborsResponse, Status> {
        self.record(Call::Neighbors(request.clone()));
        if !NODES.iter().any(|n| n.0 == request.node_id) {
            return Err(Status::not_found(format!(
                "node {} does not exist",
                request.node_id
            )));
        }
        Ok(ListNeighborsResponse {
            neighbors: vec![Neighbor {
                node: Some(node(2)),
                depth: 1,
                relationship: Some(manages(10, 1, 2)),
            }],
            ..Default::default()
        })
    }

    async fn find_shortest_path(
        &self,
        _ctx: &CallContext,
        request: FindShortestPathRequest,
    ) -> Result<FindShortestPathResponse, Status> {
        self.record(Call::ShortestPath(request.clone()));
        Ok(FindShortestPathResponse {
            path: Some(Path {
                nodes: vec![node(request.source_node_id), node(request.target_node_id)],
                relationships: vec![manages(10, request.source_node_id, request.target_node_id)],
            }),
            hop_count: 1,
            total_weight: 1.0,
        })
    }
}

#[tonic::async_trait]
impl VectorBackend for Fake {
    async fn search(
        &self,
        _ctx: &CallContext,
        request: SearchRequest,
    ) -> Result<SearchResponse, Status> {
        self.record(Call::Search(request.clone()));
        if request.collection != "docs" {
            return Err(Status::not_found(format!(
                "collection {:?} does not exist",
                request.collection
            )));
        }
        if let Some(search_request::Query::NearVector(v)) = &request.query
            && v.vector.len() != 3
        {
            return Err(Status::invalid_argument(format!(
                "vector has {} dimensions, the collection 3",
                v.vector.len()
            )));
        }
        let hits = (1..=request.k.min(3))
            .map(|i| SearchHit {
                id: format!("doc-00{i}"),
                score: 1.0 - i as f32 / 10.0,
                distance: i as f32 / 10.0,
                payload: [(
                    "team".to_owned(),
                    PayloadValue {
                        kind: Some(payload_value::Kind::StringValue("Platform".into())),
                    },
                )]
                .into(),
                vector: Vec::new(),
                text: Some(format!("document {i}")),
            })
            .collect();
        Ok(SearchResponse {
            hits,
            search_time: None,
        })
    }
}

/// The fake orders.
pub(crate) fn orders() -> Vec<Order> {
    vec![
        Order {
            id: 100001,
            customer: "Ada Lovelace".into(),
            product: "4k monitor".into(),
            quantity: 1,
            status: OrderStatus::Paid as i32,
            total_cents: 38_900,
            version: 1,
            ..Default::default()
        },
        Order {
            id: 100002,
            customer: "Grace Hopper".into(),
            product: "usb-c dock".into(),
            quantity: 2,
            status: OrderStatus::Shipped as i32,
            total_cents: 31_800,
            version: 1,
            ..Default::default()
        },
    ]
}

#[tonic::async_trait]
impl RelationalBackend for Fake {
    async fn get_order(
        &self,
        _ctx: &CallContext,
        request: GetOrderRequest,
    ) -> Result<GetOrderResponse, Status> {
        self.record(Call::GetOrder(request));
        orders()
            .into_iter()
            .find(|o| o.id == request.id)
            .map(|order| GetOrderResponse { order: Some(order) })
            .ok_or_else(|| Status::not_found(format!("order {} does not exist", request.id)))
    }

    async fn list_orders(
        &self,
        _ctx: &CallContext,
        request: ListOrdersRequest,
    ) -> Result<ListOrdersResponse, Status> {
        self.record(Call::ListOrders(request.clone()));
        let filter = request.filter.unwrap_or_default();
        let orders: Vec<Order> = orders()
            .into_iter()
            .filter(|o| filter.customer.is_empty() || o.customer == filter.customer)
            .collect();
        Ok(ListOrdersResponse {
            total_size: orders.len() as i64,
            orders,
            next_page_token: String::new(),
        })
    }
}
