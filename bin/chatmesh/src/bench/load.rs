//! `chatmesh bench load-orders`: puts the benchmark workload's orders into a running relational
//! service through its public API (CreateOrder with the workload's ids, several calls in flight).
//! Ids that exist already are skipped, so loading twice is harmless. The contract has no way to
//! set `create_time`, so the workload's `created_at` is not carried over.

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use chatmesh_proto::relational as pb;
use chatmesh_proto::relational::relational_service_client::RelationalServiceClient;
use chatmesh_runtime::channel::TracedChannel;
use serde::Deserialize;
use tonic::Code;

#[derive(Deserialize)]
struct Workload {
    relational: Relational,
}

#[derive(Deserialize)]
struct Relational {
    orders: Vec<WorkloadOrder>,
}

#[derive(Deserialize)]
struct WorkloadOrder {
    id: i64,
    customer: String,
    product: String,
    quantity: i32,
    status: String,
    total_cents: i64,
}

/// The contract's status number for a workload status name.
fn status_number(name: &str) -> Option<i32> {
    pb::OrderStatus::from_str_name(&format!("ORDER_STATUS_{}", name.to_ascii_uppercase()))
        .map(|s| s as i32)
}

/// Reads the workload's orders as CreateOrder requests.
fn requests(path: &Path) -> Result<Vec<pb::CreateOrderRequest>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let workload: Workload =
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    workload
        .relational
        .orders
        .into_iter()
        .map(|o| {
            Ok(pb::CreateOrderRequest {
                id: Some(o.id),
                status: status_number(&o.status)
                    .ok_or_else(|| format!("order {}: unknown status '{}'", o.id, o.status))?,
                customer: o.customer,
                product: o.product,
                quantity: o.quantity,
                total_cents: o.total_cents,
            })
        })
        .collect()
}

/// Loads the workload at `path` through `channel` with `concurrency` calls in flight.
pub(crate) async fn load_orders(
    path: &Path,
    channel: TracedChannel,
    concurrency: usize,
) -> Result<String, String> {
    let requests = Arc::new(requests(path)?);
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..concurrency.max(1) {
        let (requests, next) = (Arc::clone(&requests), Arc::clone(&next));
        let mut client = RelationalServiceClient::new(channel.clone());
        tasks.spawn(async move {
            let (mut created, mut existed) = (0u64, 0u64);
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(request) = requests.get(i) else {
                    return Ok((created, existed));
                };
                match client.create_order(request.clone()).await {
                    Ok(_) => created += 1,
                    Err(s) if s.code() == Code::AlreadyExists => existed += 1,
                    Err(s) => {
                        return Err(format!(
                            "order {:?}: {:?}: {}",
                            request.id,
                            s.code(),
                            s.message()
                        ));
                    }
                }
            }
        });
    }
    let (mut created, mut existed) = (0, 0);
    while let Some(done) = tasks.join_next().await {
        let (c, e) = done.map_err(|e| e.to_string())??;
        created += c;
        existed += e;
    }
    Ok(format!(
        "loaded {} orders from {} in {:.1}s: {created} created, {existed} already there",
        requests.len(),
        path.display(),
        started.elapsed().as_secs_f64()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workload_statuses_map_to_the_contract() {
        assert_eq!(
            status_number("refunded"),
            Some(pb::OrderStatus::Refunded as i32)
        );
        assert_eq!(status_number("paid"), Some(pb::OrderStatus::Paid as i32));
        assert_eq!(status_number("lost"), None);
    }
}
