//! Starting the vector service in this process on a loopback port, and small builders.

#![allow(dead_code)]

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use chatmesh_proto::vector::{
    self as pb, payload_value::Kind, vector_service_client::VectorServiceClient,
};
use chatmesh_runtime::{CancellationToken, ServeError};
use tokio::task::JoinHandle;
use tonic::transport::Channel;

pub(crate) struct Service {
    pub client: VectorServiceClient<Channel>,
    pub addr: std::net::SocketAddr,
    shutdown: CancellationToken,
    task: JoinHandle<Result<(), ServeError>>,
}

impl Service {
    pub(crate) async fn start(data: &Path, extra: &[&str]) -> Self {
        let dir = data.display().to_string();
        let args = ["chatmesh-vector", "--data-dir", &dir]
            .into_iter()
            .chain(extra.iter().copied());
        let config: chatmesh_vector::Config =
            chatmesh_runtime::cli::parse_config(&chatmesh_vector::INFO, args).expect("config");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let shutdown = CancellationToken::new();
        let task = tokio::spawn(chatmesh_vector::serve_on(
            config,
            listener,
            shutdown.clone(),
        ));
        let channel = Channel::from_shared(format!("http://{addr}"))
            .unwrap()
            .connect()
            .await
            .unwrap();
        let mut client = VectorServiceClient::new(channel);
        // Ready once the store has loaded.
        for _ in 0..500 {
            match client
                .list_collections(pb::ListCollectionsRequest::default())
                .await
            {
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

pub(crate) fn text(s: &str) -> pb::PayloadValue {
    pb::PayloadValue {
        kind: Some(Kind::StringValue(s.into())),
    }
}

pub(crate) fn int(i: i64) -> pb::PayloadValue {
    pb::PayloadValue {
        kind: Some(Kind::IntValue(i)),
    }
}

pub(crate) fn object(
    id: &str,
    vector: Vec<f32>,
    payload: &[(&str, pb::PayloadValue)],
) -> pb::VectorObject {
    pb::VectorObject {
        id: id.into(),
        vector,
        payload: payload
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect::<HashMap<_, _>>(),
        text: None,
    }
}

pub(crate) fn create(
    name: &str,
    dimension: i32,
    distance: pb::Distance,
) -> pb::CreateCollectionRequest {
    pb::CreateCollectionRequest {
        name: name.into(),
        dimension,
        distance: distance as i32,
        hnsw_config: None,
        embedder: if dimension >= 16 {
            String::new()
        } else {
            "none".into()
        },
    }
}

pub(crate) fn near_vector(collection: &str, vector: Vec<f32>, k: i32) -> pb::SearchRequest {
    pb::SearchRequest {
        collection: collection.into(),
        query: Some(pb::search_request::Query::NearVector(pb::NearVector {
            vector,
        })),
        k,
        include_payload: true,
        ..Default::default()
    }
}

pub(crate) fn ids(response: &pb::SearchResponse) -> Vec<String> {
    response.hits.iter().map(|h| h.id.clone()).collect()
}
