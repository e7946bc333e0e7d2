//! The gRPC edge of the chatbot service. Its RPCs come with the service's own issue; until then
//! every method answers UNIMPLEMENTED (tonic's generated default).

use chatmesh_proto::chat::chat_service_server::ChatService;

/// Implements `ChatService`.
#[derive(Debug, Default)]
pub struct ChatServiceApi;

#[tonic::async_trait]
impl ChatService for ChatServiceApi {}
