//! The five services as separate processes, as a deployment runs them: the backends with
//! `--seed-demo`, the router in front of them, the chatbot in front of the router.

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
        let dir = |name: &str| {
            let d = data.join(name);
            std::fs::create_dir_all(&d).expect("data folder");
            d.display().to_string()
        };
        let graph_dir = dir("graph");
        let vector_dir = dir("vector");
        let sqlite = format!("sqlite://{}/chatmesh.db", dir("relational"));
        let graph = Process::start(
            "chatmesh-graph",
            &["--data-dir", &graph_dir, "--seed-demo"],
            data,
            limit,
        );
        let vector = Process::start(
            "chatmesh-vector",
            &["--data-dir", &vector_dir, "--seed-demo"],
            data,
            limit,
        );
        let relational = Process::start(
            "chatmesh-relational",
            &["--database-url", &sqlite, "--seed-demo"],
            data,
            limit,
        );
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
}
