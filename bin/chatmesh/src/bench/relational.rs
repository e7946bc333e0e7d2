//! Relational scenarios: single-row get, create and update, and a 100-row list, each through
//! the public gRPC API. Gets and updates pick ids from 1 to `--ids` (the workload's ids after
//! `chatmesh bench load-orders`).

use std::collections::HashMap;
use std::sync::Arc;

use chatmesh_proto::relational as pb;
use chatmesh_proto::relational::relational_service_client::RelationalServiceClient;
use chatmesh_runtime::channel::TracedChannel;
use prost_types::FieldMask;
use tonic::Code;

use super::runner::{MakeWorker, Worker};

/// The relational scenario names.
pub(crate) const SCENARIOS: [&str; 4] = [
    "relational-get",
    "relational-create",
    "relational-update",
    "relational-list100",
];

/// Ids an update worker cycles through (each worker owns its own, so versions never clash).
const IDS_PER_UPDATER: i64 = 64;

/// A small, fast pseudo-random sequence (xorshift64*), one per worker.
struct Rng(u64);

impl Rng {
    fn new(seed: usize) -> Self {
        Self(0x9E37_79B9_7F4A_7C15 ^ (seed as u64 + 1).wrapping_mul(0xBF58_476D_1CE4_E5B9))
    }

    fn below(&mut self, n: i64) -> i64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % n.max(1) as u64) as i64
    }
}

/// The worker factory for `name`, or `None` for another service's scenario.
pub(crate) fn scenario(name: &str, ids: i64, concurrency: usize) -> Option<MakeWorker> {
    let make: MakeWorker = match name {
        "relational-get" => Arc::new(move |index, channel| -> Worker {
            let client = RelationalServiceClient::new(channel);
            let mut rng = Rng::new(index);
            Box::new(move || {
                let mut client = client.clone();
                let id = 1 + rng.below(ids);
                Box::pin(async move {
                    client
                        .get_order(pb::GetOrderRequest { id })
                        .await
                        .map(|_| ())
                })
            })
        }),
        "relational-create" => Arc::new(|index, channel| -> Worker {
            let client = RelationalServiceClient::new(channel);
            let mut rng = Rng::new(index);
            Box::new(move || {
                let mut client = client.clone();
                let request = pb::CreateOrderRequest {
                    id: None,
                    customer: format!("bench-{:04}", rng.below(500)),
                    product: "bench-widget".into(),
                    quantity: 1 + rng.below(9) as i32,
                    status: 1 + rng.below(6) as i32,
                    total_cents: rng.below(100_000),
                };
                Box::pin(async move { client.create_order(request).await.map(|_| ()) })
            })
        }),
        "relational-update" => Arc::new(move |index, channel| -> Worker {
            updater(
                index,
                concurrency,
                ids,
                RelationalServiceClient::new(channel),
            )
        }),
        "relational-list100" => Arc::new(|_, channel| -> Worker {
            let client = RelationalServiceClient::new(channel);
            Box::new(move || {
                let mut client = client.clone();
                Box::pin(async move {
                    let page = client
                        .list_orders(pb::ListOrdersRequest {
                            page_size: 100,
                            ..Default::default()
                        })
                        .await?
                        .into_inner();
                    if page.orders.len() == 100 {
                        Ok(())
                    } else {
                        Err(tonic::Status::failed_precondition(format!(
                            "expected 100 orders, got {}",
                            page.orders.len()
                        )))
                    }
                })
            })
        }),
        _ => return None,
    };
    Some(make)
}

/// An update worker: changes the status of its own ids in turn, sending the version it last saw;
/// an id it has not seen yet is read first (in the warm-up, normally).
fn updater(
    index: usize,
    concurrency: usize,
    ids: i64,
    client: RelationalServiceClient<TracedChannel>,
) -> Worker {
    let mine: Vec<i64> = (0..IDS_PER_UPDATER)
        .map(|k| 1 + index as i64 + k * concurrency as i64)
        .filter(|id| *id <= ids)
        .collect();
    let versions = Arc::new(std::sync::Mutex::new(HashMap::<i64, i64>::new()));
    let mut turn = 0usize;
    let mut status = index as i32;
    Box::new(move || {
        let mut client = client.clone();
        let versions = Arc::clone(&versions);
        let id = mine.get(turn % mine.len().max(1)).copied().unwrap_or(1);
        turn += 1;
        status = status % 6 + 1;
        Box::pin(async move {
            let known = versions.lock().unwrap().get(&id).copied();
            let version = match known {
                Some(v) => v,
                None => {
                    let order = client.get_order(pb::GetOrderRequest { id }).await?;
                    order.into_inner().order.map(|o| o.version).unwrap_or(1)
                }
            };
            let request = pb::UpdateOrderRequest {
                order: Some(pb::Order {
                    id,
                    status,
                    ..Default::default()
                }),
                update_mask: Some(FieldMask {
                    paths: vec!["status".into()],
                }),
                expected_version: version,
            };
            match client.update_order(request).await {
                Ok(response) => {
                    let new = response.into_inner().order.map(|o| o.version);
                    versions
                        .lock()
                        .unwrap()
                        .insert(id, new.unwrap_or(version + 1));
                    Ok(())
                }
                Err(status) => {
                    if status.code() == Code::Aborted {
                        versions.lock().unwrap().remove(&id);
                    }
                    Err(status)
                }
            }
        })
    })
}
