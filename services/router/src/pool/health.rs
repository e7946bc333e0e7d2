//! Health awareness: one `grpc.health.v1.Health/Watch` stream per backend address. A broken
//! stream (the process died, the connection dropped) marks the address NOT_SERVING at once and
//! the watch is retried every `retry` until the address answers again.

use std::sync::Arc;
use std::time::Duration;

use chatmesh_proto::router::HealthStatus;
use tonic::Code;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

use super::instance::Instance;

/// Watches `instance`'s health for `service` until the instance's stop token is cancelled.
pub(super) async fn watch(instance: Arc<Instance>, service: &'static str, retry: Duration) {
    let stop = instance.stop.clone();
    tokio::select! {
        () = stop.cancelled() => {}
        () = watch_forever(&instance, service, retry) => {}
    }
}

async fn watch_forever(instance: &Instance, service: &'static str, retry: Duration) {
    loop {
        let mut client = HealthClient::new(instance.channel.clone());
        let request = HealthCheckRequest {
            service: service.to_owned(),
        };
        match client.watch(request).await {
            Ok(response) => {
                let mut stream = response.into_inner();
                loop {
                    match stream.message().await {
                        Ok(Some(message)) => {
                            let (health, error) = match ServingStatus::try_from(message.status) {
                                Ok(ServingStatus::Serving) => (HealthStatus::Serving, None),
                                Ok(other) => (
                                    HealthStatus::NotServing,
                                    Some(format!("health: {}", other.as_str_name())),
                                ),
                                Err(_) => (
                                    HealthStatus::NotServing,
                                    Some(format!("health: status {}", message.status)),
                                ),
                            };
                            instance.set_health(health, error);
                        }
                        Ok(None) => {
                            instance.set_health(
                                HealthStatus::NotServing,
                                Some("health watch ended".into()),
                            );
                            break;
                        }
                        Err(status) => {
                            instance.set_health(HealthStatus::NotServing, Some(describe(&status)));
                            break;
                        }
                    }
                }
            }
            Err(status) if status.code() == Code::Unimplemented => {
                // No health service: nothing to watch; calls decide (breaker) from here on.
                tracing::warn!(address = %instance.address, "backend has no health service");
                instance.set_health(HealthStatus::Unknown, None);
                return;
            }
            Err(status) => instance.set_health(HealthStatus::NotServing, Some(describe(&status))),
        }
        tokio::time::sleep(retry).await;
    }
}

fn describe(status: &tonic::Status) -> String {
    format!("{:?}: {}", status.code(), status.message())
}
