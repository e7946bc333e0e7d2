//! Running a routing [`Plan`] against the backends: one typed call (a person's neighbours too:
//! ListNeighbors finds the start node by label and name itself) and the typed result in a
//! `RouteResponse`.

use chatmesh_proto::graph::{ListNeighborsRequest, NodeMatch, Value, value};
use chatmesh_proto::router::{RouteResponse, route_response};
use tonic::Status;

use super::{BackendCall, Plan};
use crate::backends::{Backends, CallContext};

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
            let request = ListNeighborsRequest {
                start: Some(person_named(person_name)),
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

/// The Person node with this name (the lowest id when several share it).
fn person_named(name: String) -> NodeMatch {
    NodeMatch {
        label: "Person".to_owned(),
        property: "name".to_owned(),
        value: Some(Value {
            kind: Some(value::Kind::StringValue(name)),
        }),
    }
}
