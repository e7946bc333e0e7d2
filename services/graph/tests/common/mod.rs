//! Starting the graph service in this process on a loopback port, and small builders.

#![allow(dead_code)]

pub(crate) mod cypher;
pub(crate) mod engines;

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use chatmesh_proto::graph::{self as pb, graph_service_client::GraphServiceClient, value::Kind};
use chatmesh_runtime::{CancellationToken, ServeError};
use tokio::task::JoinHandle;
use tonic::transport::Channel;

pub(crate) type Client = GraphServiceClient<Channel>;

pub(crate) struct Service {
    pub client: Client,
    pub addr: std::net::SocketAddr,
    shutdown: CancellationToken,
    task: JoinHandle<Result<(), ServeError>>,
}

impl Service {
    pub(crate) async fn start(data: &Path, extra: &[&str]) -> Self {
        let dir = data.display().to_string();
        let args = ["chatmesh-graph", "--data-dir", &dir]
            .into_iter()
            .chain(extra.iter().copied());
        let config: chatmesh_graph::Config =
            chatmesh_runtime::cli::parse_config(&chatmesh_graph::INFO, args).expect("config");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let shutdown = CancellationToken::new();
        let task = tokio::spawn(chatmesh_graph::serve_on(config, listener, shutdown.clone()));
        let channel = Channel::from_shared(format!("http://{addr}"))
            .unwrap()
            .connect()
            .await
            .unwrap();
        let mut client = GraphServiceClient::new(channel);
        // Ready once the store has loaded.
        for _ in 0..500 {
            match client.get_schema(pb::GetSchemaRequest {}).await {
                Err(s) if s.code() == tonic::Code::Unavailable => {
                    tokio::time::sleep(Duration::from_millis(10)).await
                }
                _ => break,
            }
        }
        Self {
            client,
            addr,
            shutdown,
            task,
        }
    }

    pub(crate) async fn stop(self) {
        self.shutdown.cancel();
        self.task.await.unwrap().unwrap();
    }
}

pub(crate) fn text(s: &str) -> pb::Value {
    pb::Value {
        kind: Some(Kind::StringValue(s.into())),
    }
}

pub(crate) fn int(i: i64) -> pb::Value {
    pb::Value {
        kind: Some(Kind::IntValue(i)),
    }
}

pub(crate) fn float(f: f64) -> pb::Value {
    pb::Value {
        kind: Some(Kind::DoubleValue(f)),
    }
}

pub(crate) fn null() -> pb::Value {
    pb::Value { kind: None }
}

pub(crate) fn props(entries: &[(&str, pb::Value)]) -> HashMap<String, pb::Value> {
    entries
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect()
}

/// Creates a node and returns its id.
pub(crate) async fn node(
    client: &mut Client,
    labels: &[&str],
    properties: &[(&str, pb::Value)],
) -> u64 {
    client
        .create_node(pb::CreateNodeRequest {
            labels: labels.iter().map(|l| l.to_string()).collect(),
            properties: props(properties),
        })
        .await
        .unwrap()
        .into_inner()
        .node
        .unwrap()
        .id
}

/// Creates a relationship and returns its id.
pub(crate) async fn rel(
    client: &mut Client,
    start: u64,
    rel_type: &str,
    end: u64,
    properties: &[(&str, pb::Value)],
) -> u64 {
    client
        .create_relationship(pb::CreateRelationshipRequest {
            start_node_id: start,
            end_node_id: end,
            r#type: rel_type.into(),
            properties: props(properties),
        })
        .await
        .unwrap()
        .into_inner()
        .relationship
        .unwrap()
        .id
}

pub(crate) fn name_of(node: &pb::Node) -> String {
    match node.properties.get("name").and_then(|v| v.kind.clone()) {
        Some(Kind::StringValue(s)) => s,
        other => panic!("node {} has no name: {other:?}", node.id),
    }
}

pub(crate) fn assert_code<T: std::fmt::Debug>(
    result: Result<T, tonic::Status>,
    code: tonic::Code,
) -> String {
    match result {
        Err(s) if s.code() == code => s.message().to_owned(),
        other => panic!("expected {code:?}, got {other:?}"),
    }
}
