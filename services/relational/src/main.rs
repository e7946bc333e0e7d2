//! `chatmesh-relational`: runs the relational service alone (one container, one pod).

fn main() -> std::process::ExitCode {
    chatmesh_runtime::cli::run_service::<chatmesh_relational::Config, _, _, _>(
        &chatmesh_relational::INFO,
        chatmesh_relational::serve,
    )
}
