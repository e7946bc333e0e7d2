//! What only the end-to-end tests need, on top of the generic helpers of
//! `chatmesh-test-support`: all five services at once (in this process with [`start_all`], or
//! as processes with [`mesh::Mesh`]), and a test-only slow service ([`testing`], [`Sleeper`]) to
//! observe deadlines, message limits and draining through the shared runtime.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use chatmesh_runtime::ServiceInfo;
use chatmesh_test_support::serve::{Running, config, start};

pub mod mesh;

/// The test-only slow service (see `proto/chatmesh/testing/v1/testing.proto` in this crate).
#[allow(unreachable_pub)]
pub mod testing {
    tonic::include_proto!("chatmesh.testing.v1");
}

/// All five services, each on its own loopback port, with data under `data`.
pub async fn start_all(data: &Path) -> Vec<(ServiceInfo, Running)> {
    let dir = |name: &str| data.join(name).display().to_string();
    let sqlite = format!("sqlite://{}/chatmesh.db", dir("relational"));
    vec![
        (
            chatmesh_chatbot::INFO,
            start(
                config(&chatmesh_chatbot::INFO, &[]),
                chatmesh_chatbot::serve_on,
            )
            .await,
        ),
        (
            chatmesh_router::INFO,
            start(
                config(&chatmesh_router::INFO, &[]),
                chatmesh_router::serve_on,
            )
            .await,
        ),
        (
            chatmesh_graph::INFO,
            start(
                config(&chatmesh_graph::INFO, &["--data-dir", &dir("graph")]),
                chatmesh_graph::serve_on,
            )
            .await,
        ),
        (
            chatmesh_vector::INFO,
            start(
                config(&chatmesh_vector::INFO, &["--data-dir", &dir("vector")]),
                chatmesh_vector::serve_on,
            )
            .await,
        ),
        (
            chatmesh_relational::INFO,
            start(
                config(&chatmesh_relational::INFO, &["--database-url", &sqlite]),
                chatmesh_relational::serve_on,
            )
            .await,
        ),
    ]
}

/// The test-only slow service, counting calls that finished and calls that were dropped
/// (cancelled) before finishing.
#[derive(Debug, Clone, Default)]
pub struct Sleeper {
    /// Calls that ran to the end.
    pub finished: Arc<AtomicUsize>,
    /// Calls dropped before the end (the caller gave up or the deadline passed).
    pub cancelled: Arc<AtomicUsize>,
}

struct CancelGuard {
    cancelled: Arc<AtomicUsize>,
    armed: bool,
}

impl Drop for CancelGuard {
    fn drop(&mut self) {
        if self.armed {
            self.cancelled.fetch_add(1, Ordering::SeqCst);
        }
    }
}

#[tonic::async_trait]
impl testing::sleep_service_server::SleepService for Sleeper {
    async fn sleep(
        &self,
        request: tonic::Request<testing::SleepRequest>,
    ) -> Result<tonic::Response<testing::SleepResponse>, tonic::Status> {
        let millis = request.into_inner().millis;
        let mut guard = CancelGuard {
            cancelled: self.cancelled.clone(),
            armed: true,
        };
        tokio::time::sleep(Duration::from_millis(millis)).await;
        guard.armed = false;
        self.finished.fetch_add(1, Ordering::SeqCst);
        Ok(tonic::Response::new(testing::SleepResponse {
            slept_millis: millis,
        }))
    }
}
