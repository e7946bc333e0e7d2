//! The gRPC edge of the relational service: each handler converts its request (`convert`: the
//! only module that knows the protobuf messages), calls the store, and converts the answer.
//! `status` is the one place where a domain error becomes a `tonic::Status`.

pub(crate) mod convert;
mod status;

use std::sync::Arc;

use chatmesh_proto::relational as pb;
use chatmesh_proto::relational::relational_service_server::RelationalService;
use tonic::{Request, Response, Status};

use crate::page_token;
use crate::store::RelationalStore;
use status::status;

/// Orders per ListOrders page when the request says 0.
const DEFAULT_PAGE_SIZE: u32 = 50;
/// Orders per export batch when the request says 0, and the most per batch.
const DEFAULT_BATCH: u32 = 100;
const MAX_BATCH: u32 = 1000;

/// Implements `RelationalService` over a [`RelationalStore`].
pub(crate) struct RelationalServiceApi {
    store: Arc<dyn RelationalStore>,
    max_page_size: u32,
}

impl RelationalServiceApi {
    /// The API over `store`, with pages of at most `max_page_size` orders.
    pub(crate) fn new(store: Arc<dyn RelationalStore>, max_page_size: u32) -> Self {
        Self {
            store,
            max_page_size,
        }
    }
}

type Reply<T> = Result<Response<T>, Status>;

/// The stream of export batches.
type ExportStream = tonic::codegen::BoxStream<pb::ExportOrdersResponse>;

#[tonic::async_trait]
impl RelationalService for RelationalServiceApi {
    async fn create_order(
        &self,
        request: Request<pb::CreateOrderRequest>,
    ) -> Reply<pb::CreateOrderResponse> {
        let order = convert::new_order(request.into_inner()).map_err(status)?;
        let created = self.store.create(order).await.map_err(status)?;
        Ok(Response::new(pb::CreateOrderResponse {
            order: Some(convert::order_to_pb(created)),
        }))
    }

    async fn get_order(
        &self,
        request: Request<pb::GetOrderRequest>,
    ) -> Reply<pb::GetOrderResponse> {
        let id = request.into_inner().id;
        crate::order::check_positive("id", id).map_err(status)?;
        let order = self.store.get(id).await.map_err(status)?;
        Ok(Response::new(pb::GetOrderResponse {
            order: Some(convert::order_to_pb(order)),
        }))
    }

    async fn update_order(
        &self,
        request: Request<pb::UpdateOrderRequest>,
    ) -> Reply<pb::UpdateOrderResponse> {
        let (id, patch, expected) = convert::update(request.into_inner()).map_err(status)?;
        let order = self
            .store
            .update(id, patch, expected)
            .await
            .map_err(status)?;
        Ok(Response::new(pb::UpdateOrderResponse {
            order: Some(convert::order_to_pb(order)),
        }))
    }

    async fn delete_order(
        &self,
        request: Request<pb::DeleteOrderRequest>,
    ) -> Reply<pb::DeleteOrderResponse> {
        let request = request.into_inner();
        crate::order::check_positive("id", request.id).map_err(status)?;
        if let Some(version) = request.expected_version {
            crate::order::check_positive("expected_version", version).map_err(status)?;
        }
        self.store
            .delete(request.id, request.expected_version)
            .await
            .map_err(status)?;
        Ok(Response::new(pb::DeleteOrderResponse {}))
    }

    async fn list_orders(
        &self,
        request: Request<pb::ListOrdersRequest>,
    ) -> Reply<pb::ListOrdersResponse> {
        let query =
            convert::list_query(request.into_inner(), DEFAULT_PAGE_SIZE, self.max_page_size)
                .map_err(status)?;
        let (filter, sort) = (query.filter.clone(), query.sort.clone());
        let page = self.store.list(query).await.map_err(status)?;
        let next_page_token = match (page.more, page.orders.last()) {
            (true, Some(last)) => page_token::encode(&filter, &sort, &sort.cursor_of(last)),
            _ => String::new(),
        };
        Ok(Response::new(pb::ListOrdersResponse {
            orders: page.orders.into_iter().map(convert::order_to_pb).collect(),
            next_page_token,
            total_size: page.total,
        }))
    }

    async fn aggregate_orders(
        &self,
        request: Request<pb::AggregateOrdersRequest>,
    ) -> Reply<pb::AggregateOrdersResponse> {
        let request = request.into_inner();
        let filter = convert::filter("filter", request.filter).map_err(status)?;
        let group_by = convert::group_by(request.group_by).map_err(status)?;
        let groups = self
            .store
            .aggregate(filter, group_by)
            .await
            .map_err(status)?;
        Ok(Response::new(pb::AggregateOrdersResponse {
            groups: groups
                .into_iter()
                .map(|g| convert::group_to_pb(g, group_by))
                .collect(),
        }))
    }

    async fn export_orders(
        &self,
        request: Request<pb::ExportOrdersRequest>,
    ) -> Reply<ExportStream> {
        let request = request.into_inner();
        let filter = convert::filter("filter", request.filter).map_err(status)?;
        let batch = convert::size("batch_size", request.batch_size, DEFAULT_BATCH, MAX_BATCH)
            .map_err(status)?;
        let store = Arc::clone(&self.store);
        // Keyset batches by id: each batch is one query, pulled only as fast as the client reads.
        let stream = futures::stream::unfold(Some(0i64), move |after| {
            let (store, filter) = (Arc::clone(&store), filter.clone());
            async move {
                let after = after?;
                match store.export_batch(&filter, after, batch).await {
                    Ok(orders) if orders.is_empty() => None,
                    Ok(orders) => {
                        let next =
                            (orders.len() == batch as usize).then(|| orders[orders.len() - 1].id);
                        let orders = orders.into_iter().map(convert::order_to_pb).collect();
                        Some((Ok(pb::ExportOrdersResponse { orders }), next))
                    }
                    Err(e) => Some((Err(status(e)), None)),
                }
            }
        });
        Ok(Response::new(Box::pin(stream)))
    }
}
