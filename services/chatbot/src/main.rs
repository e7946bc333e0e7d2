//! `chatmesh-chatbot`: runs the chatbot service alone (one container, one pod);
//! `chatmesh-chatbot health` asks a running one whether it is SERVING (exit 0) or not (exit 1).

fn main() -> std::process::ExitCode {
    // `chatmesh-chatbot health`: the container healthcheck, instead of starting the server.
    if let Some(exit) = chatmesh_runtime::probe::health_subcommand(&chatmesh_chatbot::INFO) {
        return exit;
    }
    chatmesh_runtime::cli::run_service::<chatmesh_chatbot::Config, _, _, _>(
        &chatmesh_chatbot::INFO,
        chatmesh_chatbot::serve,
    )
}
