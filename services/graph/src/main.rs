//! `chatmesh-graph`: runs the graph service alone (one container, one pod);
//! `chatmesh-graph health` asks a running one whether it is SERVING (exit 0) or not (exit 1).

fn main() -> std::process::ExitCode {
    // `chatmesh-graph health`: the container healthcheck, instead of starting the server.
    if let Some(exit) = chatmesh_runtime::probe::health_subcommand(&chatmesh_graph::INFO) {
        return exit;
    }
    chatmesh_runtime::cli::run_service::<chatmesh_graph::Config, _, _, _>(
        &chatmesh_graph::INFO,
        chatmesh_graph::serve,
    )
}
