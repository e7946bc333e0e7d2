//! What the chatbot's socket tests share: a stand-in router (a real gRPC server on loopback that
//! answers Route from a table: order questions get one order, with a `server-timing` entry as
//! the real router sends, anything else an unavailable graph), the chatbot in this process in
//! front of it (the same `serve_on` the binary runs, with extra flags), a client, and a request.

#![allow(dead_code)]

use std::net::SocketAddr;

use chatmesh_proto::chat::ChatRequest;
use chatmesh_proto::chat::chat_service_client::ChatServiceClient;
use chatmesh_proto::relational::{GetOrderResponse, Order, OrderStatus};
use chatmesh_proto::router::router_service_server::{RouterService, RouterServiceServer};
use chatmesh_proto::router::{
    Decision, RouteExplanation, RouteRequest, RouteResponse, Target, route_response,
};
use chatmesh_runtime::CancellationToken;
use tokio::net::TcpListener;
use tonic::transport::Channel;
use tonic::{Request, Response, Status};

/// Answers order questions with one order; anything else is an unavailable graph.
struct StandInRouter;

#[tonic::async_trait]
impl RouterService for StandInRouter {
    async fn route(
        &self,
        request: Request<RouteRequest>,
    ) -> Result<Response<RouteResponse>, Status> {
        let query = request.into_inner().query;
        let Some(id) = query
            .split(|c: char| !c.is_ascii_digit())
            .find_map(|d| d.parse::<i64>().ok())
        else {
            return Err(Status::unavailable("graph: no healthy address"));
        };
        let mut response = Response::new(RouteResponse {
            target: Target::Relational as i32,
            result: Some(route_response::Result::RelationalOrder(GetOrderResponse {
                order: Some(Order {
                    id,
                    customer: "Ada Lovelace".into(),
                    product: "usb-c dock".into(),
                    quantity: 1,
                    status: OrderStatus::Paid as i32,
                    total_cents: 15_900,
                    ..Default::default()
                }),
            })),
            explanation: Some(RouteExplanation {
                decision: Decision::Rule as i32,
                rule: "order_id_pattern".into(),
                confidence: 0.95,
                reason: "an order id".into(),
                entities: [("order_id".to_owned(), id.to_string())].into(),
            }),
            backend_address: "http://127.0.0.1:1".into(),
            attempts: 1,
        });
        // What the real router says: which backend answered and how long it took.
        response
            .metadata_mut()
            .insert("server-timing", "relational;dur=0.250".parse().unwrap());
        Ok(response)
    }
}

/// A loopback listener on a free port, and its address.
pub(crate) async fn listener() -> (TcpListener, SocketAddr) {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    (l, addr)
}

/// Starts the stand-in router (or, when `up` is false, names an address where nothing
/// answers); returns its URL.
pub(crate) async fn router(up: bool, shutdown: &CancellationToken) -> String {
    let (router_listener, router_addr) = listener().await;
    if up {
        let shutdown = shutdown.clone();
        tokio::spawn(async move {
            tonic::transport::Server::builder()
                .add_service(RouterServiceServer::new(StandInRouter))
                .serve_with_incoming_shutdown(
                    tokio_stream::wrappers::TcpListenerStream::new(router_listener),
                    shutdown.cancelled_owned(),
                )
                .await
        });
    } else {
        drop(router_listener);
    }
    format!("http://{router_addr}")
}

/// A chatbot in front of `router` with `extra` flags; returns its address.
pub(crate) async fn chatbot(
    router: &str,
    extra: &[&str],
    shutdown: &CancellationToken,
) -> SocketAddr {
    let mut args = vec![
        "chatmesh-chatbot",
        "--router-addr",
        router,
        "--connect-timeout",
        "1s",
    ];
    args.extend_from_slice(extra);
    let config: chatmesh_chatbot::Config =
        chatmesh_runtime::cli::parse_config(&chatmesh_chatbot::INFO, args).expect("valid config");
    let (chatbot_listener, chatbot_addr) = listener().await;
    tokio::spawn(chatmesh_chatbot::serve_on(
        config,
        chatbot_listener,
        shutdown.clone(),
    ));
    chatbot_addr
}

/// A client of the chatbot at `addr`.
pub(crate) async fn client(addr: SocketAddr) -> ChatServiceClient<Channel> {
    let channel = Channel::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect()
        .await
        .unwrap();
    ChatServiceClient::new(channel)
}

/// A Chat request.
pub(crate) fn ask(session: &str, message: &str) -> ChatRequest {
    ChatRequest {
        session_id: session.into(),
        message: message.into(),
        hints: None,
    }
}
