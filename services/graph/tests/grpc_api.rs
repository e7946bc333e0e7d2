//! Nodes and relationships over gRPC, against the service running in this process: create,
//! get, update and delete, detaching deletes, the property values the contract refuses, and
//! every error case of those RPCs (`traversal.rs` has the walks).

mod common;

use chatmesh_proto::graph as pb;
use common::*;
use tonic::Code;

#[tokio::test]
async fn node_create_get_update_delete() {
    let tmp = tempfile::tempdir().unwrap();
    let service = Service::start(tmp.path(), &[]).await;
    let mut c = service.client.clone();

    let created = c
        .create_node(pb::CreateNodeRequest {
            labels: vec!["Person".into(), "Admin".into(), "Person".into()],
            properties: props(&[("name", text("Ada")), ("age", int(36)), ("gone", null())]),
        })
        .await
        .unwrap()
        .into_inner()
        .node
        .unwrap();
    assert_eq!(created.id, 1);
    assert_eq!(created.labels, vec!["Admin", "Person"]);
    assert_eq!(
        created.properties,
        props(&[("name", text("Ada")), ("age", int(36))])
    );

    let got = c
        .get_node(pb::GetNodeRequest { id: 1 })
        .await
        .unwrap()
        .into_inner()
        .node
        .unwrap();
    assert_eq!(got, created);

    let updated = c
        .update_node(pb::UpdateNodeRequest {
            id: 1,
            set_properties: props(&[("age", int(37)), ("name", null()), ("score", float(1.5))]),
            remove_property_keys: vec!["absent".into()],
            add_labels: vec!["Engineer".into()],
            remove_labels: vec!["Admin".into()],
        })
        .await
        .unwrap()
        .into_inner()
        .node
        .unwrap();
    assert_eq!(updated.labels, vec!["Engineer", "Person"]);
    assert_eq!(
        updated.properties,
        props(&[("age", int(37)), ("score", float(1.5))])
    );

    // An empty update is a valid no-op.
    let same = c
        .update_node(pb::UpdateNodeRequest {
            id: 1,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .node
        .unwrap();
    assert_eq!(same, updated);

    let deleted = c
        .delete_node(pb::DeleteNodeRequest { id: 1 })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(deleted.deleted_relationship_count, 0);
    assert_code(
        c.get_node(pb::GetNodeRequest { id: 1 }).await,
        Code::NotFound,
    );
    // Deleted ids are never reused.
    assert_eq!(node(&mut c, &[], &[]).await, 2);
    service.stop().await;
}

#[tokio::test]
async fn node_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let service = Service::start(tmp.path(), &[]).await;
    let mut c = service.client.clone();
    let id = node(&mut c, &["A"], &[("k", int(1))]).await;

    get_and_delete_errors(&mut c).await;
    bad_creates(&mut c).await;
    update_errors(&mut c, id).await;
    service.stop().await;
}

/// GetNode and DeleteNode: id 0 is INVALID_ARGUMENT, an unknown id NOT_FOUND (both named).
async fn get_and_delete_errors(c: &mut Client) {
    let msg = assert_code(
        c.get_node(pb::GetNodeRequest { id: 0 }).await,
        Code::InvalidArgument,
    );
    assert!(msg.contains("id"), "{msg}");
    let msg = assert_code(
        c.get_node(pb::GetNodeRequest { id: 99 }).await,
        Code::NotFound,
    );
    assert!(msg.contains("99"), "{msg}");
    assert_code(
        c.delete_node(pb::DeleteNodeRequest { id: 0 }).await,
        Code::InvalidArgument,
    );
    assert_code(
        c.delete_node(pb::DeleteNodeRequest { id: 99 }).await,
        Code::NotFound,
    );
}

/// CreateNode refuses bad labels, too many labels and bad property values or keys.
async fn bad_creates(c: &mut Client) {
    let bad_creates = [
        pb::CreateNodeRequest {
            labels: vec![String::new()],
            ..Default::default()
        },
        pb::CreateNodeRequest {
            labels: vec!["a\u{7}b".into()],
            ..Default::default()
        },
        pb::CreateNodeRequest {
            labels: (0..33).map(|i| format!("L{i}")).collect(),
            ..Default::default()
        },
        pb::CreateNodeRequest {
            properties: props(&[("x", float(f64::NAN))]),
            ..Default::default()
        },
        pb::CreateNodeRequest {
            properties: props(&[(
                "x",
                pb::Value {
                    kind: Some(pb::value::Kind::NodeValue(pb::Node::default())),
                },
            )]),
            ..Default::default()
        },
        pb::CreateNodeRequest {
            properties: props(&[("", int(1))]),
            ..Default::default()
        },
    ];
    for request in bad_creates {
        assert_code(c.create_node(request.clone()).await, Code::InvalidArgument);
    }
}

/// UpdateNode refuses conflicting or oversized updates (changing nothing), id 99 and id 0.
async fn update_errors(c: &mut Client, id: u64) {
    let conflicts = [
        pb::UpdateNodeRequest {
            id,
            set_properties: props(&[("k", int(2))]),
            remove_property_keys: vec!["k".into()],
            ..Default::default()
        },
        pb::UpdateNodeRequest {
            id,
            add_labels: vec!["B".into()],
            remove_labels: vec!["B".into()],
            ..Default::default()
        },
        pb::UpdateNodeRequest {
            id,
            add_labels: (0..32).map(|i| format!("L{i}")).collect(),
            set_properties: props(&[("k", int(2))]),
            ..Default::default()
        },
    ];
    for request in conflicts {
        assert_code(c.update_node(request).await, Code::InvalidArgument);
    }
    // The refused update with too many labels changed nothing (it also set k).
    let unchanged = c
        .get_node(pb::GetNodeRequest { id })
        .await
        .unwrap()
        .into_inner()
        .node
        .unwrap();
    assert_eq!(unchanged.labels, vec!["A"]);
    assert_eq!(unchanged.properties, props(&[("k", int(1))]));
    assert_code(
        c.update_node(pb::UpdateNodeRequest {
            id: 99,
            ..Default::default()
        })
        .await,
        Code::NotFound,
    );
    assert_code(
        c.update_node(pb::UpdateNodeRequest::default()).await,
        Code::InvalidArgument,
    );
}

/// Property values are Neo4j's: scalars and lists of non-null scalars. Maps, lists of maps,
/// lists inside lists and nulls inside lists are INVALID_ARGUMENT naming the property, on every
/// RPC that writes properties, and nothing is written.
#[tokio::test]
async fn maps_and_nested_lists_are_not_property_values() {
    let tmp = tempfile::tempdir().unwrap();
    let service = Service::start(tmp.path(), &[]).await;
    let mut c = service.client.clone();
    let a = node(&mut c, &["A"], &[("k", int(1))]).await;
    let b = node(&mut c, &["B"], &[]).await;

    let list = |values: Vec<pb::Value>| pb::Value {
        kind: Some(pb::value::Kind::ListValue(pb::ValueList { values })),
    };
    let map = || pb::Value {
        kind: Some(pb::value::Kind::MapValue(pb::ValueMap {
            entries: props(&[("num", int(1))]),
        })),
    };
    let refused = [
        map(),
        list(vec![map()]),
        list(vec![list(vec![int(1)])]),
        list(vec![int(1), null()]),
    ];
    for value in refused {
        let msg = assert_code(
            c.create_node(pb::CreateNodeRequest {
                labels: vec!["A".into()],
                properties: props(&[("maplist", value.clone())]),
            })
            .await,
            Code::InvalidArgument,
        );
        assert!(msg.contains("maplist"), "{msg}");
        let msg = assert_code(
            c.update_node(pb::UpdateNodeRequest {
                id: a,
                set_properties: props(&[("maplist", value.clone())]),
                ..Default::default()
            })
            .await,
            Code::InvalidArgument,
        );
        assert!(msg.contains("maplist"), "{msg}");
        let msg = assert_code(
            c.create_relationship(pb::CreateRelationshipRequest {
                start_node_id: a,
                end_node_id: b,
                r#type: "R".into(),
                properties: props(&[("maplist", value)]),
            })
            .await,
            Code::InvalidArgument,
        );
        assert!(msg.contains("maplist"), "{msg}");
    }
    let schema = c
        .get_schema(pb::GetSchemaRequest {})
        .await
        .unwrap()
        .into_inner();
    assert_eq!((schema.node_count, schema.relationship_count), (2, 0));
    let unchanged = c
        .get_node(pb::GetNodeRequest { id: a })
        .await
        .unwrap()
        .into_inner()
        .node
        .unwrap();
    assert_eq!(unchanged.properties, props(&[("k", int(1))]));

    // A list of scalars of mixed kinds is a property value.
    let mixed = list(vec![int(1), text("two"), float(3.5)]);
    let created = c
        .create_node(pb::CreateNodeRequest {
            labels: vec![],
            properties: props(&[("mixed", mixed.clone()), ("empty", list(vec![]))]),
        })
        .await
        .unwrap()
        .into_inner()
        .node
        .unwrap();
    assert_eq!(created.properties["mixed"], mixed);
    assert_eq!(created.properties["empty"], list(vec![]));
    service.stop().await;
}

#[tokio::test]
async fn relationships_and_detaching_delete() {
    let tmp = tempfile::tempdir().unwrap();
    let service = Service::start(tmp.path(), &[]).await;
    let mut c = service.client.clone();
    let a = node(&mut c, &["A"], &[]).await;
    let b = node(&mut c, &["B"], &[]).await;

    let r = c
        .create_relationship(pb::CreateRelationshipRequest {
            start_node_id: a,
            end_node_id: b,
            r#type: "KNOWS".into(),
            properties: props(&[("since", int(1843)), ("none", null())]),
        })
        .await
        .unwrap()
        .into_inner()
        .relationship
        .unwrap();
    assert_eq!((r.id, r.start_node_id, r.end_node_id), (1, a, b));
    assert_eq!(r.r#type, "KNOWS");
    assert_eq!(r.properties, props(&[("since", int(1843))]));
    let got = c
        .get_relationship(pb::GetRelationshipRequest { id: r.id })
        .await
        .unwrap()
        .into_inner()
        .relationship
        .unwrap();
    assert_eq!(got, r);

    let missing_start = pb::CreateRelationshipRequest {
        start_node_id: 99,
        end_node_id: b,
        r#type: "KNOWS".into(),
        ..Default::default()
    };
    let msg = assert_code(c.create_relationship(missing_start).await, Code::NotFound);
    assert!(msg.contains("start node 99"), "{msg}");
    let missing_end = pb::CreateRelationshipRequest {
        start_node_id: a,
        end_node_id: 98,
        r#type: "KNOWS".into(),
        ..Default::default()
    };
    let msg = assert_code(c.create_relationship(missing_end).await, Code::NotFound);
    assert!(msg.contains("end node 98"), "{msg}");
    for bad in [
        pb::CreateRelationshipRequest {
            start_node_id: a,
            end_node_id: b,
            ..Default::default()
        },
        pb::CreateRelationshipRequest {
            start_node_id: 0,
            end_node_id: b,
            r#type: "T".into(),
            ..Default::default()
        },
    ] {
        assert_code(c.create_relationship(bad).await, Code::InvalidArgument);
    }
    assert_code(
        c.get_relationship(pb::GetRelationshipRequest { id: 0 })
            .await,
        Code::InvalidArgument,
    );
    assert_code(
        c.get_relationship(pb::GetRelationshipRequest { id: 42 })
            .await,
        Code::NotFound,
    );

    let r2 = rel(&mut c, b, "KNOWS", a, &[]).await;
    c.delete_relationship(pb::DeleteRelationshipRequest { id: r2 })
        .await
        .unwrap();
    assert_code(
        c.delete_relationship(pb::DeleteRelationshipRequest { id: r2 })
            .await,
        Code::NotFound,
    );
    assert!(c.get_node(pb::GetNodeRequest { id: b }).await.is_ok());

    // DeleteNode detaches: a's KNOWS and its self-loop (counted once) go with it.
    rel(&mut c, a, "SELF", a, &[]).await;
    let deleted = c
        .delete_node(pb::DeleteNodeRequest { id: a })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(deleted.deleted_relationship_count, 2);
    assert_code(
        c.get_relationship(pb::GetRelationshipRequest { id: r.id })
            .await,
        Code::NotFound,
    );
    let schema = c
        .get_schema(pb::GetSchemaRequest {})
        .await
        .unwrap()
        .into_inner();
    assert_eq!((schema.node_count, schema.relationship_count), (1, 0));
    service.stop().await;
}
