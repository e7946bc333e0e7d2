//! `chatmesh-graph`: runs the graph service alone (one container, one pod).

fn main() -> std::process::ExitCode {
    chatmesh_runtime::cli::run_service::<chatmesh_graph::Config, _, _, _>(
        &chatmesh_graph::INFO,
        chatmesh_graph::serve,
    )
}
