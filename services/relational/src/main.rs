//! `chatmesh-relational`: runs the relational service alone (one container, one pod);
//! `chatmesh-relational health` asks a running one whether it is SERVING (exit 0) or not (exit 1).

fn main() -> std::process::ExitCode {
    // `chatmesh-relational health`: the container healthcheck, instead of starting the server.
    if let Some(exit) = chatmesh_runtime::probe::health_subcommand(&chatmesh_relational::INFO) {
        return exit;
    }
    chatmesh_runtime::cli::run_service::<chatmesh_relational::Config, _, _, _>(
        &chatmesh_relational::INFO,
        chatmesh_relational::serve,
    )
}
