//! The five services as separate processes, as a deployment runs them: the backends with
//! `--seed-demo`, the router in front of them, the chatbot in front of the router.

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use chatmesh_test_support::grpc::wait_serving;
use chatmesh_test_support::process::Process;

/// The five services as separate processes.
pub struct Mesh {
    /// chatmesh-graph.
    pub graph: Process,
    /// chatmesh-vector.
    pub vector: Process,
    /// chatmesh-relational.
    pub relational: Process,
    /// chatmesh-router.
    pub router: Process,
    /// chatmesh-chatbot.
    pub chatbot: Process,
}

impl Mesh {
    /// Starts all five with data under `data` and waits until each is SERVING.
    pub async fn start(data: &Path, extra_router_args: &[&str]) -> Self {
        let limit = Duration::from_secs(30);
        let graph = Backend::Graph.start(data, None);
        let vector = Backend::Vector.start(data, None);
        let relational = Backend::Relational.start(data, None);
        let (g, v, r) = (graph.url(), vector.url(), relational.url());
        let mut router_args = vec![
            "--graph-addr",
            g.as_str(),
            "--vector-addr",
            v.as_str(),
            "--relational-addr",
            r.as_str(),
        ];
        router_args.extend_from_slice(extra_router_args);
        let router = Process::start("chatmesh-router", &router_args, data, limit);
        let router_url = router.url();
        let chatbot = Process::start(
            "chatmesh-chatbot",
            &["--router-addr", &router_url],
            data,
            limit,
        );
        let mesh = Self {
            graph,
            vector,
            relational,
            router,
            chatbot,
        };
        for (process, fqn) in [
            (&mesh.graph, chatmesh_graph::INFO.fqn),
            (&mesh.vector, chatmesh_vector::INFO.fqn),
            (&mesh.relational, chatmesh_relational::INFO.fqn),
            (&mesh.router, chatmesh_router::INFO.fqn),
            (&mesh.chatbot, chatmesh_chatbot::INFO.fqn),
        ] {
            wait_serving(process.addr, fqn, limit).await;
        }
        mesh
    }

    /// The process of `backend`.
    pub fn backend(&mut self, backend: Backend) -> &mut Process {
        match backend {
            Backend::Graph => &mut self.graph,
            Backend::Vector => &mut self.vector,
            Backend::Relational => &mut self.relational,
        }
    }

    /// Creates a vector collection of `dimension` that takes vectors only (no embedder).
    pub async fn create_vectors_only_collection(&self, name: &str, dimension: i32) {
        use chatmesh_proto::vector::{self as pb, vector_service_client::VectorServiceClient};
        let channel = chatmesh_test_support::grpc::channel(self.vector.addr).await;
        VectorServiceClient::new(channel)
            .create_collection(pb::CreateCollectionRequest {
                name: name.into(),
                dimension,
                distance: pb::Distance::Cosine as i32,
                hnsw_config: None,
                embedder: "none".into(),
            })
            .await
            .unwrap_or_else(|s| panic!("create the collection {name}: {s:?}"));
    }

    /// Starts `backend` again, after it stopped, on the address it had and with the data it had
    /// (its log goes to `<data>/restarted/`), and waits until it is SERVING.
    pub async fn restart(&mut self, backend: Backend, data: &Path) {
        let addr = self.backend(backend).addr;
        *self.backend(backend) = backend.start(data, Some(addr));
        wait_serving(addr, backend.fqn(), Duration::from_secs(30)).await;
    }
}

/// One of the three data services.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// chatmesh-graph.
    Graph,
    /// chatmesh-vector.
    Vector,
    /// chatmesh-relational.
    Relational,
}

impl Backend {
    /// All three, along the flow's order.
    pub const ALL: [Backend; 3] = [Backend::Graph, Backend::Vector, Backend::Relational];

    /// The binary's name.
    pub fn binary(self) -> &'static str {
        match self {
            Backend::Graph => "chatmesh-graph",
            Backend::Vector => "chatmesh-vector",
            Backend::Relational => "chatmesh-relational",
        }
    }

    /// The gRPC service's full name (what health answers for).
    pub fn fqn(self) -> &'static str {
        match self {
            Backend::Graph => chatmesh_graph::INFO.fqn,
            Backend::Vector => chatmesh_vector::INFO.fqn,
            Backend::Relational => chatmesh_relational::INFO.fqn,
        }
    }

    /// Starts the process with its store under `<data>/<name>` and the demo data, on `listen`
    /// or any free port. A restart logs under `<data>/restarted/`, keeping the first log.
    fn start(self, data: &Path, listen: Option<SocketAddr>) -> Process {
        let name = self.binary().trim_start_matches("chatmesh-");
        let store = data.join(name);
        std::fs::create_dir_all(&store).expect("data folder");
        let store = store.display().to_string();
        let args: Vec<String> = match self {
            Backend::Relational => vec![
                "--database-url".into(),
                format!("sqlite://{store}/chatmesh.db"),
            ],
            Backend::Graph | Backend::Vector => vec!["--data-dir".into(), store],
        };
        let mut args: Vec<&str> = args.iter().map(String::as_str).collect();
        args.push("--seed-demo");
        let limit = Duration::from_secs(30);
        match listen {
            None => Process::start(self.binary(), &args, data, limit),
            Some(addr) => {
                let logs = data.join("restarted");
                std::fs::create_dir_all(&logs).expect("log folder");
                Process::start_on(self.binary(), addr, &args, &logs, limit)
            }
        }
    }
}
