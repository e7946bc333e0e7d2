//! `chatmesh-router`: runs the router service alone (one container, one pod).

fn main() -> std::process::ExitCode {
    chatmesh_runtime::cli::run_service::<chatmesh_router::Config, _, _, _>(
        &chatmesh_router::INFO,
        chatmesh_router::serve,
    )
}
