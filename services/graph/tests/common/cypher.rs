//! Reading ExecuteQuery answers as short text tables, and the demo organisation to ask, for
//! the Cypher suites (`cypher.rs`, `cypher_writes.rs`).

use chatmesh_proto::graph::{self as pb, value::Kind};

use super::{Client, Service, name_of};

/// A cell as short text: strings bare, nodes as their name, lists in brackets.
pub(crate) fn show(value: &pb::Value) -> String {
    match &value.kind {
        None | Some(Kind::NullValue(_)) => "null".into(),
        Some(Kind::BoolValue(b)) => b.to_string(),
        Some(Kind::IntValue(i)) => i.to_string(),
        Some(Kind::DoubleValue(f)) => format!("{f:?}"),
        Some(Kind::StringValue(s)) => s.clone(),
        Some(Kind::ListValue(l)) => {
            let items: Vec<String> = l.values.iter().map(show).collect();
            format!("[{}]", items.join(", "))
        }
        Some(Kind::MapValue(m)) => {
            let mut items: Vec<String> = m
                .entries
                .iter()
                .map(|(k, v)| format!("{k}: {}", show(v)))
                .collect();
            items.sort();
            format!("{{{}}}", items.join(", "))
        }
        Some(Kind::NodeValue(n)) => format!("({})", name_of(n)),
        Some(Kind::RelationshipValue(r)) => format!("[:{}]", r.r#type),
        Some(Kind::PathValue(p)) => format!("<{} hops>", p.relationships.len()),
    }
}

pub(crate) fn table(response: &pb::ExecuteQueryResponse) -> Vec<Vec<String>> {
    response
        .rows
        .iter()
        .map(|r| r.values.iter().map(show).collect())
        .collect()
}

pub(crate) fn request(cypher: &str, mode: pb::AccessMode) -> pb::ExecuteQueryRequest {
    pb::ExecuteQueryRequest {
        cypher: cypher.into(),
        access_mode: mode as i32,
        ..Default::default()
    }
}

pub(crate) async fn read(c: &mut Client, cypher: &str) -> Vec<Vec<String>> {
    let response = c
        .execute_query(request(cypher, pb::AccessMode::Read))
        .await
        .unwrap_or_else(|s| panic!("{cypher}: {s:?}"))
        .into_inner();
    table(&response)
}

pub(crate) async fn write(c: &mut Client, cypher: &str) -> pb::ExecuteQueryResponse {
    c.execute_query(request(cypher, pb::AccessMode::Write))
        .await
        .unwrap_or_else(|s| panic!("{cypher}: {s:?}"))
        .into_inner()
}

pub(crate) fn rows(rows: &[&[&str]]) -> Vec<Vec<String>> {
    rows.iter()
        .map(|r| r.iter().map(|s| s.to_string()).collect())
        .collect()
}

pub(crate) async fn demo() -> (tempfile::TempDir, Service, Client) {
    let tmp = tempfile::tempdir().unwrap();
    let service = Service::start(tmp.path(), &["--seed-demo"]).await;
    let client = service.client.clone();
    (tmp, service, client)
}
