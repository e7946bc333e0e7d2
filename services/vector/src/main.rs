//! `chatmesh-vector`: runs the vector service alone (one container, one pod);
//! `chatmesh-vector health` asks a running one whether it is SERVING (exit 0) or not (exit 1).

fn main() -> std::process::ExitCode {
    // `chatmesh-vector health`: the container healthcheck, instead of starting the server.
    if let Some(exit) = chatmesh_runtime::probe::health_subcommand(&chatmesh_vector::INFO) {
        return exit;
    }
    chatmesh_runtime::cli::run_service::<chatmesh_vector::Config, _, _, _>(
        &chatmesh_vector::INFO,
        chatmesh_vector::serve,
    )
}
