//! Running a routing [`Plan`] against the backends: one typed call (two for a person's
//! neighbours: find the node by name, then list its neighbours) and the typed result in a
//! `RouteResponse`.

use chatmesh_proto::graph::{AccessMode, ExecuteQueryRequest, ListNeighborsRequest, Value, value};
use chatmesh_proto::router::{RouteResponse, route_response};
use tonic::Status;

use super::{BackendCall, Plan};
use crate::backends::{Backends, CallContext};

/// Finds a Person node's id by name.
const PERSON_BY_NAME: &str = "MATCH (p:Person {name: $name}) RETURN id(p)";

/// Makes the plan's backend call and wraps the result. Backend errors are returned unchanged.
pub(crate) async fn execute(
    backends: &Backends,
    ctx: &CallContext,
    plan: Plan,
) -> Result<RouteResponse, Status> {
    let target = plan.call.target();
    let result = match plan.call {
        BackendCall::GraphQuery(request) => {
            route_response::Result::GraphQuery(backends.graph.query(ctx, request).await?)
        }
        BackendCall::PersonNeighbors {
            person_name,
            direction,
            relationship_types,
        } => {
            let node_id = person_node_id(backends, ctx, &person_name).await?;
            let request = ListNeighborsRequest {
                node_id,
                direction: direction as i32,
                relationship_types,
                ..Default::default()
            };
            route_response::Result::GraphNeighbors(
                backends.graph.list_neighbors(ctx, request).await?,
            )
        }
        BackendCall::VectorSearch(request) => {
            route_response::Result::VectorSearch(backends.vector.search(ctx, request).await?)
        }
        BackendCall::GetOrder(request) => route_response::Result::RelationalOrder(
            backends.relational.get_order(ctx, request).await?,
        ),
        BackendCall::ListOrders(request) => route_response::Result::RelationalOrders(
            backends.relational.list_orders(ctx, request).await?,
        ),
    };
    Ok(RouteResponse {
        target: target as i32,
        result: Some(result),
        explanation: Some(plan.explanation),
        backend_address: ctx.report.address(),
        attempts: i32::try_from(ctx.report.attempts().max(1)).unwrap_or(i32::MAX),
    })
}

async fn person_node_id(backends: &Backends, ctx: &CallContext, name: &str) -> Result<u64, Status> {
    let request = ExecuteQueryRequest {
        cypher: PERSON_BY_NAME.to_owned(),
        parameters: [(
            "name".to_owned(),
            Value {
                kind: Some(value::Kind::StringValue(name.to_owned())),
            },
        )]
        .into(),
        access_mode: AccessMode::Read as i32,
        row_limit: 1,
    };
    let response = backends.graph.query(ctx, request).await?;
    let id = response
        .rows
        .first()
        .and_then(|row| row.values.first())
        .and_then(|v| match v.kind {
            Some(value::Kind::IntValue(id)) => u64::try_from(id).ok(),
            _ => None,
        });
    id.ok_or_else(|| Status::not_found(format!("no Person named '{name}' in the graph")))
}
