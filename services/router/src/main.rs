//! `chatmesh-router`: runs the router service alone (one container, one pod);
//! `chatmesh-router health` asks a running one whether it is SERVING (exit 0) or not (exit 1).

fn main() -> std::process::ExitCode {
    // `chatmesh-router health`: the container healthcheck, instead of starting the server.
    if let Some(exit) = chatmesh_runtime::probe::health_subcommand(&chatmesh_router::INFO) {
        return exit;
    }
    chatmesh_runtime::cli::run_service::<chatmesh_router::Config, _, _, _>(
        &chatmesh_router::INFO,
        chatmesh_router::serve,
    )
}
