//! The baseline scenario every service answers: `grpc.health.v1.Health/Check`. Its throughput is
//! what gRPC, HTTP/2 and the load generator cost on their own on this machine, the ceiling for
//! any real RPC.

use std::sync::Arc;

use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_client::HealthClient;

use super::runner::{MakeWorker, Worker};

/// The baseline scenario names.
pub(crate) const SCENARIOS: [&str; 1] = ["grpc-health"];

/// The worker factory for `name`, if it is a baseline scenario.
pub(crate) fn scenario(name: &str) -> Option<MakeWorker> {
    if name != "grpc-health" {
        return None;
    }
    Some(Arc::new(|_, channel| -> Worker {
        let client = HealthClient::new(channel);
        Box::new(move || {
            let mut client = client.clone();
            Box::pin(async move {
                client
                    .check(HealthCheckRequest {
                        service: String::new(),
                    })
                    .await
                    .map(|_| ())
            })
        })
    }))
}
