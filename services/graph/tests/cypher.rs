//! The Cypher subset through ExecuteQuery and StreamQuery against the demo organisation: every
//! clause, parameters, aggregation, ordering, the access mode, atomic multi-clause writes and
//! the error cases (syntax with line:column, unsupported clauses, FAILED_PRECONDITION, limits).

mod common;

use chatmesh_proto::graph::{self as pb, value::Kind};
use common::*;
use tonic::Code;

/// A cell as short text: strings bare, nodes as their name, lists in brackets.
fn show(value: &pb::Value) -> String {
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

fn table(response: &pb::ExecuteQueryResponse) -> Vec<Vec<String>> {
    response
        .rows
        .iter()
        .map(|r| r.values.iter().map(show).collect())
        .collect()
}

fn request(cypher: &str, mode: pb::AccessMode) -> pb::ExecuteQueryRequest {
    pb::ExecuteQueryRequest {
        cypher: cypher.into(),
        access_mode: mode as i32,
        ..Default::default()
    }
}

async fn read(c: &mut Client, cypher: &str) -> Vec<Vec<String>> {
    let response = c
        .execute_query(request(cypher, pb::AccessMode::Read))
        .await
        .unwrap_or_else(|s| panic!("{cypher}: {s:?}"))
        .into_inner();
    table(&response)
}

async fn write(c: &mut Client, cypher: &str) -> pb::ExecuteQueryResponse {
    c.execute_query(request(cypher, pb::AccessMode::Write))
        .await
        .unwrap_or_else(|s| panic!("{cypher}: {s:?}"))
        .into_inner()
}

fn rows(rows: &[&[&str]]) -> Vec<Vec<String>> {
    rows.iter()
        .map(|r| r.iter().map(|s| s.to_string()).collect())
        .collect()
}

async fn demo() -> (tempfile::TempDir, Service, Client) {
    let tmp = tempfile::tempdir().unwrap();
    let service = Service::start(tmp.path(), &["--seed-demo"]).await;
    let client = service.client.clone();
    (tmp, service, client)
}

#[tokio::test]
async fn match_where_return_over_the_demo() {
    let (_tmp, service, mut c) = demo().await;
    let response = c
        .execute_query(request(
            "MATCH (m:Person)-[:MANAGES]->(r:Person) WHERE m.name = 'Grace Hopper' \
             RETURN r.name AS report, r.title ORDER BY report",
            pb::AccessMode::Unspecified,
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(response.columns, vec!["report", "r.title"]);
    assert_eq!(
        table(&response),
        rows(&[
            &["Alan Turing", "Platform Lead"],
            &["Barbara Liskov", "Search Lead"],
            &["Edsger Dijkstra", "Payments Lead"]
        ])
    );
    assert_eq!(response.stats.unwrap(), pb::QueryStats::default());

    // Incoming direction, property maps, variable length.
    assert_eq!(
        read(
            &mut c,
            "MATCH (k:Person {name: 'Ken Thompson'})<-[:MANAGES*1..3]-(boss) RETURN boss.name ORDER BY boss.name"
        )
        .await,
        rows(&[&["Ada Lovelace"], &["Alan Turing"], &["Grace Hopper"]])
    );
    // Undirected, two patterns, node equality across them.
    assert_eq!(
        read(
            &mut c,
            "MATCH (p:Person)-[:LEADS]->(t:Team), (t)-[:OWNS]-(s:Service) \
             WHERE s.name ENDS WITH 'er' OR s.name STARTS WITH 'check' RETURN p.name, s.name ORDER BY s.name"
        )
        .await,
        rows(&[&["Edsger Dijkstra", "checkout"], &["Barbara Liskov", "indexer"]])
    );
    // IN, NOT, IS NULL, CONTAINS, <>, label predicates.
    assert_eq!(
        read(
            &mut c,
            "MATCH (n) WHERE n.name IN ['gateway', 'Search', 'Ken Thompson'] AND NOT n:Team \
             AND n.title IS NULL AND n.name CONTAINS 'a' AND n.name <> 'x' RETURN n.name"
        )
        .await,
        rows(&[&["gateway"]])
    );
    // Whole entities and functions.
    assert_eq!(
        read(
            &mut c,
            "MATCH p = (a:Person {name: 'Ada Lovelace'})-[r:MANAGES]->(g) \
             RETURN a, type(r), labels(g), length(p), id(a), toUpper(g.name), size(keys(g))"
        )
        .await,
        rows(&[&[
            "(Ada Lovelace)",
            "MANAGES",
            "[Person]",
            "1",
            "1",
            "GRACE HOPPER",
            "2"
        ]])
    );
    service.stop().await;
}

#[tokio::test]
async fn aggregation_distinct_order_skip_limit_and_optional_match() {
    let (_tmp, service, mut c) = demo().await;
    assert_eq!(
        read(
            &mut c,
            "MATCH (t:Team)<-[:MEMBER_OF]-(p:Person) \
             RETURN t.name AS team, count(*) AS members, collect(p.name) AS names ORDER BY members DESC, team"
        )
        .await,
        rows(&[
            &["Platform", "3", "[Alan Turing, Ken Thompson, Margaret Hamilton]"],
            &["Search", "2", "[Barbara Liskov, Linus Torvalds]"],
            &["Payments", "1", "[Edsger Dijkstra]"]
        ])
    );
    assert_eq!(
        read(
            &mut c,
            "MATCH (n:Nothing) RETURN count(n), sum(n.x), collect(n)"
        )
        .await,
        rows(&[&["0", "0", "[]"]])
    );
    assert_eq!(
        read(
            &mut c,
            "MATCH (p:Person) RETURN min(p.name), max(p.name), avg(size(p.name))"
        )
        .await,
        rows(&[&["Ada Lovelace", "Margaret Hamilton", "13.375"]])
    );
    assert_eq!(
        read(
            &mut c,
            "MATCH (:Person)-[:MEMBER_OF]->(t) RETURN DISTINCT t.name ORDER BY t.name SKIP 1 LIMIT 1"
        )
        .await,
        rows(&[&["Platform"]])
    );
    assert_eq!(
        read(
            &mut c,
            "MATCH (p:Person) WHERE p.name STARTS WITH 'A' OR p.name STARTS WITH 'K' \
             OPTIONAL MATCH (p)-[:LEADS]->(t) RETURN p.name, t.name ORDER BY p.name"
        )
        .await,
        rows(&[
            &["Ada Lovelace", "null"],
            &["Alan Turing", "Platform"],
            &["Ken Thompson", "null"]
        ])
    );
    assert_eq!(
        read(
            &mut c,
            "RETURN 1 + 2 * 3 AS x, 7 / 2, 7 % 3, 2.5 * 2, 'a' + 1, -(-3)"
        )
        .await,
        rows(&[&["7", "3", "1", "5.0", "a1", "3"]])
    );
    service.stop().await;
}

#[tokio::test]
async fn parameters_and_row_limit() {
    let (_tmp, service, mut c) = demo().await;
    let mut with_params = request(
        "MATCH (p:Person) WHERE p.name = $name OR p.title IN $titles RETURN p.name ORDER BY p.name",
        pb::AccessMode::Read,
    );
    with_params.parameters = props(&[
        ("name", text("Linus Torvalds")),
        (
            "titles",
            pb::Value {
                kind: Some(Kind::ListValue(pb::ValueList {
                    values: vec![text("CTO")],
                })),
            },
        ),
    ]);
    let response = c.execute_query(with_params).await.unwrap().into_inner();
    assert_eq!(
        table(&response),
        rows(&[&["Ada Lovelace"], &["Linus Torvalds"]])
    );

    let missing = request(
        "MATCH (p) WHERE p.name = $nobody RETURN p",
        pb::AccessMode::Read,
    );
    let msg = assert_code(c.execute_query(missing).await, Code::InvalidArgument);
    assert!(msg.contains("$nobody"), "{msg}");

    let limited = c
        .execute_query(pb::ExecuteQueryRequest {
            row_limit: 5,
            ..request("MATCH (n) RETURN n.name", pb::AccessMode::Read)
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!((limited.rows.len(), limited.truncated), (5, true));
    assert_code(
        c.execute_query(pb::ExecuteQueryRequest {
            row_limit: -1,
            ..request("RETURN 1", pb::AccessMode::Read)
        })
        .await,
        Code::InvalidArgument,
    );
    service.stop().await;
}

#[tokio::test]
async fn writing_clauses() {
    let (_tmp, service, mut c) = demo().await;
    let created = write(
        &mut c,
        "MATCH (t:Team {name: 'Search'}) \
         CREATE (p:Person:Intern {name: 'Grace Murray', title: 'Intern'})-[:MEMBER_OF {since: 2024}]->(t) \
         RETURN p.name, labels(p)",
    )
    .await;
    assert_eq!(
        table(&created),
        rows(&[&["Grace Murray", "[Intern, Person]"]])
    );
    let stats = created.stats.unwrap();
    assert_eq!(
        (
            stats.nodes_created,
            stats.relationships_created,
            stats.labels_added,
            stats.properties_set
        ),
        (1, 1, 2, 3)
    );

    let set = write(
        &mut c,
        "MATCH (p {name: 'Grace Murray'}) SET p.title = 'Engineer', p.level = 1, p:Hired REMOVE p:Intern RETURN p.title, labels(p)",
    )
    .await;
    assert_eq!(table(&set), rows(&[&["Engineer", "[Hired, Person]"]]));
    let stats = set.stats.unwrap();
    assert_eq!(
        (
            stats.properties_set,
            stats.labels_added,
            stats.labels_removed
        ),
        (2, 1, 1)
    );
    write(
        &mut c,
        "MATCH (p {name: 'Grace Murray'}) SET p += {level: 2, team: 'Search'} REMOVE p.title",
    )
    .await;
    assert_eq!(
        read(
            &mut c,
            "MATCH (p {name: 'Grace Murray'}) RETURN properties(p)"
        )
        .await,
        rows(&[&["{level: 2, name: Grace Murray, team: Search}"]])
    );
    write(
        &mut c,
        "MATCH (p {name: 'Grace Murray'}) SET p = {name: 'G. Murray'}",
    )
    .await;
    assert_eq!(
        read(&mut c, "MATCH (p:Hired) RETURN properties(p)").await,
        rows(&[&["{name: G. Murray}"]])
    );

    // MERGE: matches the existing node, creates a missing one, and merges a relationship once.
    let merged = write(
        &mut c,
        "MERGE (t:Team {name: 'Search'}) ON MATCH SET t.seen = true ON CREATE SET t.created = true RETURN t.seen, t.created",
    )
    .await;
    assert_eq!(table(&merged), rows(&[&["true", "null"]]));
    let merged = write(
        &mut c,
        "MERGE (t:Team {name: 'Research'}) ON CREATE SET t.created = true RETURN t.created",
    )
    .await;
    assert_eq!(table(&merged), rows(&[&["true"]]));
    for _ in 0..2 {
        write(
            &mut c,
            "MATCH (a:Person {name: 'Ada Lovelace'}), (t:Team {name: 'Research'}) MERGE (a)-[:LEADS]->(t)",
        )
        .await;
    }
    assert_eq!(
        read(
            &mut c,
            "MATCH (:Team {name: 'Research'})<-[r:LEADS]-(p) RETURN p.name, count(r)"
        )
        .await,
        rows(&[&["Ada Lovelace", "1"]])
    );

    // DELETE refuses a node with relationships; DETACH DELETE removes them too.
    let msg = assert_code(
        c.execute_query(request(
            "MATCH (t:Team {name: 'Research'}) DELETE t",
            pb::AccessMode::Write,
        ))
        .await,
        Code::FailedPrecondition,
    );
    assert!(msg.contains("DETACH DELETE"), "{msg}");
    let deleted = write(&mut c, "MATCH (t:Team {name: 'Research'}) DETACH DELETE t").await;
    let stats = deleted.stats.unwrap();
    assert_eq!((stats.nodes_deleted, stats.relationships_deleted), (1, 1));
    let deleted = write(&mut c, "MATCH (p:Hired)-[r]-() DELETE r, p").await;
    assert_eq!(deleted.stats.unwrap().nodes_deleted, 1);
    assert_eq!(
        read(&mut c, "MATCH (n) RETURN count(n)").await,
        rows(&[&["17"]])
    );
    service.stop().await;
}

#[tokio::test]
async fn read_mode_and_atomicity() {
    let (_tmp, service, mut c) = demo().await;
    for cypher in [
        "CREATE (n:X)",
        "MATCH (n) SET n.x = 1",
        "MERGE (n:X)",
        "MATCH (n) REMOVE n.name",
        "MATCH (n) DETACH DELETE n",
    ] {
        for mode in [pb::AccessMode::Read, pb::AccessMode::Unspecified] {
            let msg = assert_code(
                c.execute_query(request(cypher, mode)).await,
                Code::InvalidArgument,
            );
            assert!(msg.contains("access_mode"), "{cypher}: {msg}");
        }
    }
    // A write whose last step fails leaves nothing behind.
    let failing = request(
        "CREATE (a:Temp {n: 1}) RETURN a.n + {}",
        pb::AccessMode::Write,
    );
    assert_code(c.execute_query(failing).await, Code::InvalidArgument);
    let failing = request(
        "CREATE (a:Temp {n: 1}) SET a.bad = 1 / 0",
        pb::AccessMode::Write,
    );
    assert_code(c.execute_query(failing).await, Code::InvalidArgument);
    let failing = request(
        "CREATE (a:Temp)-[:T]->(b:Temp) WITH 1 AS x MATCH (t:Team) DELETE t",
        pb::AccessMode::Write,
    );
    assert_code(c.execute_query(failing).await, Code::FailedPrecondition);
    let failing = request(
        "CREATE (a:Temp)-[:T]->(b:Temp) SET a.k = 1 WITH a MATCH (t:Team) DELETE t",
        pb::AccessMode::Write,
    );
    assert_code(c.execute_query(failing).await, Code::FailedPrecondition);
    let failing = request(
        "MATCH (g:Person {name: 'Grace Hopper'}) CREATE (x:Temp)-[:T]->(g) SET g.title = 'x' DELETE g",
        pb::AccessMode::Write,
    );
    assert_code(c.execute_query(failing).await, Code::FailedPrecondition);
    assert_eq!(
        read(&mut c, "MATCH (n:Temp) RETURN count(n)").await,
        rows(&[&["0"]])
    );
    assert_eq!(
        read(&mut c, "MATCH (g {name: 'Grace Hopper'}) RETURN g.title").await,
        rows(&[&["VP Engineering"]])
    );
    let schema = c
        .get_schema(pb::GetSchemaRequest {})
        .await
        .unwrap()
        .into_inner();
    assert_eq!((schema.node_count, schema.relationship_count), (17, 22));
    service.stop().await;
}

/// Cypher writes refuse what is not a property value (maps, lists of maps, lists inside lists,
/// nulls inside lists) with INVALID_ARGUMENT naming the property, and change nothing.
#[tokio::test]
async fn maps_and_nested_lists_are_not_property_values() {
    let (_tmp, service, mut c) = demo().await;
    for cypher in [
        "CREATE (a:Temp) SET a.maplist = [{num: 1}]",
        "CREATE (a:Temp {maplist: {num: 1}})",
        "MATCH (g:Person {name: 'Grace Hopper'}) SET g.maplist = [[1, 2]]",
        "MATCH (g:Person {name: 'Grace Hopper'}) SET g += {maplist: [1, null]}",
        "MATCH (g:Person {name: 'Grace Hopper'}) CREATE (g)-[:T {maplist: {a: 1}}]->(:Temp)",
        "MERGE (a:Temp {maplist: [{num: 1}]})",
    ] {
        let msg = assert_code(
            c.execute_query(request(cypher, pb::AccessMode::Write))
                .await,
            Code::InvalidArgument,
        );
        assert!(msg.contains("'maplist'"), "{cypher}: {msg}");
    }
    assert_eq!(
        read(&mut c, "MATCH (n:Temp) RETURN count(n)").await,
        rows(&[&["0"]])
    );
    assert_eq!(
        read(
            &mut c,
            "MATCH (g:Person {name: 'Grace Hopper'}) RETURN g.maplist, g.title"
        )
        .await,
        rows(&[&["null", "VP Engineering"]])
    );
    // Maps stay fine as values a query computes and returns.
    assert_eq!(
        read(
            &mut c,
            "MATCH (g:Person {name: 'Grace Hopper'}) RETURN {t: g.title} AS m"
        )
        .await,
        rows(&[&["{t: VP Engineering}"]])
    );
    service.stop().await;
}

/// A relationship deleted by the statement keeps its type readable until the statement ends,
/// as in Neo4j; its properties do not stay readable.
#[tokio::test]
async fn type_of_a_relationship_deleted_by_the_statement() {
    let (_tmp, service, mut c) = demo().await;
    let deleted = write(
        &mut c,
        "MATCH (:Person {name: 'Ada Lovelace'})-[r:MANAGES]->(p:Person {name: 'Grace Hopper'}) \
         DELETE r RETURN type(r)",
    )
    .await;
    assert_eq!(table(&deleted), rows(&[&["MANAGES"]]));
    assert_eq!(deleted.stats.unwrap().relationships_deleted, 1);
    let refused = request(
        "MATCH ()-[r:MANAGES]->() DELETE r RETURN r.since",
        pb::AccessMode::Write,
    );
    assert_code(c.execute_query(refused).await, Code::InvalidArgument);
    service.stop().await;
}

#[tokio::test]
async fn syntax_and_unsupported_errors() {
    let (_tmp, service, mut c) = demo().await;
    let cases = [
        ("MATCH (n:Person\nRETURN n", "line 2:column 1: expected ')'"),
        (
            "MATCH (n) RETURN n ORDER n",
            "line 1:column 26: expected BY",
        ),
        (
            "RETURN 'unterminated",
            "line 1:column 8: unterminated string",
        ),
        (
            "MATCH (n) WITH n.name RETURN n",
            "line 1:column 16: expected AS after 'n.name'",
        ),
        ("UNWIND [1, 2] AS x RETURN x", "unsupported: UNWIND"),
        ("CALL db.labels()", "unsupported: CALL"),
        (
            "MATCH (n) RETURN n UNION MATCH (m) RETURN m",
            "unsupported: UNION",
        ),
        ("FOREACH (x IN [1] | CREATE ())", "unsupported: FOREACH"),
        ("LOAD CSV FROM 'f' AS l RETURN l", "unsupported: LOAD CSV"),
        ("RETURN upper('a')", "unsupported: function upper()"),
        ("MATCH (n)", "expected RETURN or a writing clause"),
        ("", "cypher: must not be empty"),
    ];
    for (cypher, expected) in cases {
        let msg = assert_code(
            c.execute_query(request(cypher, pb::AccessMode::Write))
                .await,
            Code::InvalidArgument,
        );
        assert!(msg.contains(expected), "{cypher:?}: {msg}");
    }
    let huge = "RETURN 1 ".to_owned() + &" ".repeat(64 * 1024);
    assert_code(
        c.execute_query(request(&huge, pb::AccessMode::Read)).await,
        Code::InvalidArgument,
    );
    let msg = assert_code(
        c.execute_query(request(
            "MATCH (n) RETURN n.name + {}",
            pb::AccessMode::Read,
        ))
        .await,
        Code::InvalidArgument,
    );
    assert!(msg.contains("type error"), "{msg}");
    service.stop().await;
}

#[tokio::test]
async fn stream_query_sends_header_batches_and_summary() {
    let (_tmp, service, mut c) = demo().await;
    let mut stream = c
        .stream_query(pb::StreamQueryRequest {
            cypher: "MATCH (n) RETURN n.name AS name ORDER BY name".into(),
            batch_size: 5,
            row_limit: 12,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    use pb::stream_query_response::Part;
    let mut parts = Vec::new();
    while let Some(message) = stream.message().await.unwrap() {
        parts.push(message.part.unwrap());
    }
    let Part::Header(header) = &parts[0] else {
        panic!("first is {:?}", parts[0])
    };
    assert_eq!(header.columns, vec!["name"]);
    let batches: Vec<usize> = parts[1..parts.len() - 1]
        .iter()
        .map(|p| match p {
            Part::RowBatch(b) => b.rows.len(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(batches, vec![5, 5, 2]);
    let Part::Summary(summary) = parts.last().unwrap() else {
        panic!()
    };
    assert!(summary.truncated);

    let refused = c
        .stream_query(pb::StreamQueryRequest {
            cypher: "CREATE (n)".into(),
            ..Default::default()
        })
        .await;
    assert_code(refused, Code::InvalidArgument);
    let created = c
        .stream_query(pb::StreamQueryRequest {
            cypher: "CREATE (n:S) RETURN n".into(),
            access_mode: pb::AccessMode::Write as i32,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let mut created = created;
    let mut last = None;
    while let Some(message) = created.message().await.unwrap() {
        last = message.part;
    }
    let Some(Part::Summary(summary)) = last else {
        panic!()
    };
    assert_eq!(summary.stats.unwrap().nodes_created, 1);
    service.stop().await;
}

#[tokio::test]
async fn deadline_stops_an_exploding_match() {
    let tmp = tempfile::tempdir().unwrap();
    let service = Service::start(tmp.path(), &[]).await;
    let mut c = service.client.clone();
    // A clique of 9 nodes: variable-length paths without repeated relationships explode.
    write(
        &mut c,
        "CREATE (a:K), (b:K), (c:K), (d:K), (e:K), (f:K), (g:K), (h:K), (i:K)",
    )
    .await;
    write(
        &mut c,
        "MATCH (a:K), (b:K) WHERE id(a) < id(b) CREATE (a)-[:E]->(b)",
    )
    .await;
    let mut slow = tonic::Request::new(request(
        "MATCH p = (a:K)-[*]-(b:K) RETURN count(p)",
        pb::AccessMode::Read,
    ));
    slow.set_timeout(std::time::Duration::from_millis(300));
    let result = c.execute_query(slow).await;
    // The client gives up at its deadline too, so it may report CANCELLED first.
    let code = result.unwrap_err().code();
    assert!(
        matches!(
            code,
            Code::DeadlineExceeded | Code::Cancelled | Code::ResourceExhausted
        ),
        "{code:?}"
    );
    // The server stopped matching: a write (which waits for running reads) is answered soon.
    let started = std::time::Instant::now();
    write(&mut c, "CREATE (:After)").await;
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "the runaway read kept the graph locked for {:?}",
        started.elapsed()
    );
    service.stop().await;
}
