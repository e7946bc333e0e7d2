//! Durability: a spawned `chatmesh-vector` is killed with SIGKILL right after acknowledged
//! writes; after a restart every acknowledged write is there (through snapshots, index dumps
//! and log replay), and a torn record at the end of the log is cut off rather than fatal.

mod common;

use std::collections::BTreeMap;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use chatmesh_proto::vector::{self as pb, vector_service_client::VectorServiceClient};
use chatmesh_vector::internals::testdata::Lcg;
use common::*;
use tonic::transport::Channel;

/// The binary under test: cargo's build, or `CHATMESH_BIN_DIR`'s when that is set.
fn bin() -> String {
    chatmesh_test_support::process::built(env!("CARGO_BIN_EXE_chatmesh-vector"))
}

/// The service on `data`; `graph` makes every collection searched (and snapshotted) through
/// its HNSW index, where the default scans these small collections and keeps no index.
fn spawn(data: &std::path::Path, port: u16, graph: bool) -> Child {
    Command::new(bin())
        .args(
            graph
                .then_some(["--full-scan-floats", "0"])
                .into_iter()
                .flatten(),
        )
        .args([
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--log",
            "warn",
            "--snapshot-after-bytes",
            "6000",
        ])
        .arg("--data-dir")
        .arg(data)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn chatmesh-vector")
}

async fn connect(port: u16) -> VectorServiceClient<Channel> {
    for _ in 0..500 {
        if let Ok(channel) = Channel::from_shared(format!("http://127.0.0.1:{port}"))
            .unwrap()
            .connect()
            .await
        {
            let mut client = VectorServiceClient::new(channel);
            match client
                .list_collections(pb::ListCollectionsRequest::default())
                .await
            {
                Ok(_) => return client,
                Err(s) if s.code() == tonic::Code::Unavailable => {}
                Err(s) => panic!("unexpected {s:?}"),
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("chatmesh-vector did not become ready");
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn kill9(child: &mut Child) {
    assert!(
        Command::new("kill")
            .args(["-KILL", &child.id().to_string()])
            .status()
            .unwrap()
            .success()
    );
    child.wait().unwrap();
}

async fn check(
    client: &mut VectorServiceClient<Channel>,
    expected: &BTreeMap<String, Vec<f32>>,
    deleted: &[String],
) {
    let info = client
        .get_collection(pb::GetCollectionRequest { name: "c".into() })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        info.collection.unwrap().object_count as usize,
        expected.len()
    );
    for (id, vector) in expected {
        let got = client
            .get_object(pb::GetObjectRequest {
                collection: "c".into(),
                id: id.clone(),
                include_vector: true,
            })
            .await
            .unwrap_or_else(|s| panic!("acknowledged object {id} lost: {s:?}"));
        assert_eq!(&got.into_inner().object.unwrap().vector, vector, "{id}");
    }
    for id in deleted {
        let got = client.get_object(pb::GetObjectRequest {
            collection: "c".into(),
            id: id.clone(),
            include_vector: false,
        });
        assert_eq!(
            got.await.unwrap_err().code(),
            tonic::Code::NotFound,
            "deleted {id} came back"
        );
    }
    let (probe_id, probe) = expected.iter().next().unwrap();
    let nearest = client
        .search(near_vector("c", probe.clone(), 1))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        &nearest.hits[0].id, probe_id,
        "the index answers after recovery"
    );
}

#[tokio::test]
async fn acknowledged_writes_survive_sigkill_with_an_index() {
    survives_sigkill(true).await;
}

#[tokio::test]
async fn acknowledged_writes_survive_sigkill_within_the_scan_size() {
    survives_sigkill(false).await;
}

async fn survives_sigkill(graph: bool) {
    let data = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut child = spawn(data.path(), port, graph);
    let mut client = connect(port).await;
    client
        .create_collection(create("c", 8, pb::Distance::L2))
        .await
        .unwrap();

    let mut rng = Lcg(3);
    let mut expected = BTreeMap::new();
    let mut deleted = Vec::new();
    for batch in 0..60 {
        let objects: Vec<pb::VectorObject> = (0..5)
            .map(|i| {
                object(
                    &format!("o{}", (batch * 5 + i) % 200),
                    rng.vector(8),
                    &[("batch", int(batch as i64))],
                )
            })
            .collect();
        client
            .upsert_objects(pb::UpsertObjectsRequest {
                collection: "c".into(),
                objects: objects.clone(),
            })
            .await
            .unwrap();
        for o in objects {
            deleted.retain(|d| d != &o.id);
            expected.insert(o.id, o.vector);
        }
        if batch % 7 == 3 {
            let victim = expected.keys().next().unwrap().clone();
            client
                .delete_objects(pb::DeleteObjectsRequest {
                    collection: "c".into(),
                    ids: vec![victim.clone()],
                })
                .await
                .unwrap();
            expected.remove(&victim);
            deleted.push(victim);
        }
    }
    kill9(&mut child);
    let files: Vec<String> = std::fs::read_dir(data.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        files.iter().any(|f| f == "snapshot.bin"),
        "a snapshot was taken mid-way: {files:?}"
    );
    assert_eq!(
        files.iter().any(|f| f.ends_with(".hnsw.graph")),
        graph,
        "an index dump exactly when the collection has an index: {files:?}"
    );

    let port = free_port();
    let mut child = spawn(data.path(), port, graph);
    let mut client = connect(port).await;
    check(&mut client, &expected, &deleted).await;

    // One more acknowledged write, then a torn record appended as a crash mid-write would leave.
    let last = object("last", vec![0.5; 8], &[]);
    client
        .upsert_objects(pb::UpsertObjectsRequest {
            collection: "c".into(),
            objects: vec![last.clone()],
        })
        .await
        .unwrap();
    expected.insert(last.id, last.vector);
    kill9(&mut child);
    let mut log = std::fs::OpenOptions::new()
        .append(true)
        .open(data.path().join("wal.log"))
        .unwrap();
    std::io::Write::write_all(&mut log, &[200, 1, 0, 0, 9, 9, 9, 9, 1, 2, 3]).unwrap();
    drop(log);

    let port = free_port();
    let mut child = spawn(data.path(), port, graph);
    let mut client = connect(port).await;
    check(&mut client, &expected, &deleted).await;
    kill9(&mut child);
}
