//! The service's side of `grpc.health.v1.Health`: one handle that reports the same status for
//! the whole server (`""`) and for the service's fully qualified name, which is what Kubernetes
//! gRPC probes, `chatmesh health` and the router's watchers ask for.

use tonic_health::ServingStatus;
use tonic_health::server::HealthReporter;

/// Sets the health status a server reports. Cheap to clone; starts NOT_SERVING.
#[derive(Clone)]
pub struct Health {
    reporter: HealthReporter,
    fqn: &'static str,
}

impl Health {
    pub(crate) fn new(reporter: HealthReporter, fqn: &'static str) -> Self {
        Self { reporter, fqn }
    }

    /// Ready for traffic: reports SERVING for `""` and the service name.
    pub async fn set_serving(&self) {
        self.set(ServingStatus::Serving).await;
    }

    /// Not ready (starting, draining, or a hard dependency is down): reports NOT_SERVING.
    pub async fn set_not_serving(&self) {
        self.set(ServingStatus::NotServing).await;
    }

    /// Readiness alone: only the service's own name changes, while `""` keeps its status. For a
    /// hard dependency that comes and goes (a database): probes that ask for the service name
    /// (readiness) take the pod out of rotation, while probes that ask for `""` (liveness) do not
    /// restart a process that is healthy and only waiting.
    pub async fn set_ready(&self, ready: bool) {
        let status = if ready {
            ServingStatus::Serving
        } else {
            ServingStatus::NotServing
        };
        self.reporter.set_service_status(self.fqn, status).await;
    }

    async fn set(&self, status: ServingStatus) {
        self.reporter.set_service_status("", status).await;
        self.reporter.set_service_status(self.fqn, status).await;
    }
}
