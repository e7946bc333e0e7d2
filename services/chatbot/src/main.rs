//! `chatmesh-chatbot`: runs the chatbot service alone (one container, one pod).

fn main() -> std::process::ExitCode {
    chatmesh_runtime::cli::run_service::<chatmesh_chatbot::Config, _, _, _>(
        &chatmesh_chatbot::INFO,
        chatmesh_chatbot::serve,
    )
}
