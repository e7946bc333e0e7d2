//! `chatmesh-vector`: runs the vector service alone (one container, one pod).

fn main() -> std::process::ExitCode {
    chatmesh_runtime::cli::run_service::<chatmesh_vector::Config, _, _, _>(
        &chatmesh_vector::INFO,
        chatmesh_vector::serve,
    )
}
