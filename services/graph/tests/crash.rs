//! Durability: a spawned `chatmesh-graph` is killed with SIGKILL right after acknowledged
//! writes; after a restart every acknowledged write is there (through a snapshot and log
//! replay), deleted ids stay deleted and are not reused, and a torn record at the end of the log
//! is cut off rather than fatal.

mod common;

use std::collections::BTreeMap;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use chatmesh_proto::graph::{self as pb, graph_service_client::GraphServiceClient};
use common::*;
use tonic::transport::Channel;

/// The binary under test: cargo's build, or `CHATMESH_BIN_DIR`'s when that is set.
fn bin() -> String {
    chatmesh_test_support::process::built(env!("CARGO_BIN_EXE_chatmesh-graph"))
}

fn spawn(data: &std::path::Path, port: u16) -> Child {
    Command::new(bin())
        .args(["--listen", &format!("127.0.0.1:{port}"), "--log", "warn"])
        .args(["--snapshot-after-bytes", "4000"])
        .arg("--data-dir")
        .arg(data)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn chatmesh-graph")
}

async fn connect(port: u16) -> Client {
    for _ in 0..500 {
        if let Ok(channel) = Channel::from_shared(format!("http://127.0.0.1:{port}"))
            .unwrap()
            .connect()
            .await
        {
            let mut client = GraphServiceClient::new(channel);
            match client.get_schema(pb::GetSchemaRequest {}).await {
                Ok(_) => return client,
                Err(s) if s.code() == tonic::Code::Unavailable => {}
                Err(s) => panic!("unexpected {s:?}"),
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("chatmesh-graph did not become ready");
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn kill9(child: &mut Child) {
    let killed = Command::new("kill")
        .args(["-KILL", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    child.wait().unwrap();
}

/// What the graph must hold: nodes and relationships by id, and ids that must be gone.
#[derive(Default)]
struct Expected {
    nodes: BTreeMap<u64, pb::Node>,
    relationships: BTreeMap<u64, pb::Relationship>,
    deleted_nodes: Vec<u64>,
}

async fn check(client: &mut Client, expected: &Expected) {
    let schema = client
        .get_schema(pb::GetSchemaRequest {})
        .await
        .unwrap()
        .into_inner();
    assert_eq!(schema.node_count as usize, expected.nodes.len());
    assert_eq!(
        schema.relationship_count as usize,
        expected.relationships.len()
    );
    for (id, node) in &expected.nodes {
        let got = client
            .get_node(pb::GetNodeRequest { id: *id })
            .await
            .unwrap_or_else(|s| panic!("acknowledged node {id} lost: {s:?}"));
        assert_eq!(got.into_inner().node.as_ref(), Some(node));
    }
    for (id, relationship) in &expected.relationships {
        let got = client
            .get_relationship(pb::GetRelationshipRequest { id: *id })
            .await
            .unwrap_or_else(|s| panic!("acknowledged relationship {id} lost: {s:?}"));
        assert_eq!(got.into_inner().relationship.as_ref(), Some(relationship));
    }
    for id in &expected.deleted_nodes {
        let got = client.get_node(pb::GetNodeRequest { id: *id }).await;
        assert_eq!(got.unwrap_err().code(), tonic::Code::NotFound, "node {id}");
    }
}

async fn write_some(client: &mut Client, expected: &mut Expected, round: i64) {
    let created = client
        .create_node(pb::CreateNodeRequest {
            labels: vec!["Item".into()],
            properties: props(&[("round", int(round)), ("text", text(&"x".repeat(50)))]),
        })
        .await
        .unwrap()
        .into_inner()
        .node
        .unwrap();
    let previous = expected.nodes.keys().next_back().copied();
    expected.nodes.insert(created.id, created.clone());
    if let Some(previous) = previous {
        let relationship = client
            .create_relationship(pb::CreateRelationshipRequest {
                start_node_id: previous,
                end_node_id: created.id,
                r#type: "NEXT".into(),
                properties: props(&[("round", int(round))]),
            })
            .await
            .unwrap()
            .into_inner()
            .relationship
            .unwrap();
        expected.relationships.insert(relationship.id, relationship);
    }
    if round % 5 == 4 {
        let victim = *expected.nodes.keys().next().unwrap();
        client
            .delete_node(pb::DeleteNodeRequest { id: victim })
            .await
            .unwrap();
        expected.nodes.remove(&victim);
        expected
            .relationships
            .retain(|_, r| r.start_node_id != victim && r.end_node_id != victim);
        expected.deleted_nodes.push(victim);
    }
    if round % 3 == 0 {
        let id = created.id;
        let updated = client
            .update_node(pb::UpdateNodeRequest {
                id,
                set_properties: props(&[("updated", int(1))]),
                add_labels: vec!["Touched".into()],
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner()
            .node
            .unwrap();
        expected.nodes.insert(id, updated);
    }
}

#[tokio::test]
async fn acknowledged_writes_survive_sigkill() {
    let data = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut child = spawn(data.path(), port);
    let mut client = connect(port).await;
    let mut expected = Expected::default();
    for round in 0..60 {
        write_some(&mut client, &mut expected, round).await;
    }
    kill9(&mut child);
    assert!(
        data.path().join("snapshot.bin").exists(),
        "a snapshot was taken mid-way"
    );

    let port = free_port();
    let mut child = spawn(data.path(), port);
    let mut client = connect(port).await;
    check(&mut client, &expected).await;

    // One more acknowledged write, then a torn record appended as a crash mid-write would leave.
    write_some(&mut client, &mut expected, 60).await;
    kill9(&mut child);
    let mut log = std::fs::OpenOptions::new()
        .append(true)
        .open(data.path().join("wal.log"))
        .unwrap();
    std::io::Write::write_all(&mut log, &[200, 1, 0, 0, 9, 9, 9, 9, 1, 2, 3]).unwrap();
    drop(log);

    let port = free_port();
    let mut child = spawn(data.path(), port);
    let mut client = connect(port).await;
    check(&mut client, &expected).await;
    // Ids of deleted nodes are not handed out again.
    let fresh = node(&mut client, &[], &[]).await;
    assert!(fresh > *expected.nodes.keys().next_back().unwrap());
    kill9(&mut child);
}
