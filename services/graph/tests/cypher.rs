//! The Cypher subset through ExecuteQuery and StreamQuery against the demo organisation: the
//! reading clauses, parameters, aggregation, ordering, and the error cases (syntax with
//! line:column, unsupported clauses, limits, a deadline). `cypher_writes.rs` has the writes.

mod common;

use chatmesh_proto::graph::{self as pb, value::Kind};
use common::cypher::*;
use common::*;
use tonic::Code;

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
