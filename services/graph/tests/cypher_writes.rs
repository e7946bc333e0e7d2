//! Writing Cypher through ExecuteQuery against the demo organisation: every writing clause,
//! the access mode (FAILED_PRECONDITION for a write in read mode), atomic multi-clause writes,
//! and the values a property cannot hold. `cypher.rs` has the reads.

mod common;

use chatmesh_proto::graph as pb;
use common::cypher::*;
use common::*;
use tonic::Code;

#[tokio::test]
async fn writing_clauses() {
    let (_tmp, service, mut c) = demo().await;
    create(&mut c).await;
    set_and_remove(&mut c).await;
    merge(&mut c).await;
    delete_and_detach_delete(&mut c).await;
    service.stop().await;
}

/// CREATE makes a labelled node and its relationship, and counts them in the stats.
async fn create(c: &mut Client) {
    let created = write(
        c,
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
}

/// SET and REMOVE of properties and labels, `SET +=` merging and `SET =` replacing properties.
async fn set_and_remove(c: &mut Client) {
    let set = write(
        c,
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
        c,
        "MATCH (p {name: 'Grace Murray'}) SET p += {level: 2, team: 'Search'} REMOVE p.title",
    )
    .await;
    assert_eq!(
        read(c, "MATCH (p {name: 'Grace Murray'}) RETURN properties(p)").await,
        rows(&[&["{level: 2, name: Grace Murray, team: Search}"]])
    );
    write(
        c,
        "MATCH (p {name: 'Grace Murray'}) SET p = {name: 'G. Murray'}",
    )
    .await;
    assert_eq!(
        read(c, "MATCH (p:Hired) RETURN properties(p)").await,
        rows(&[&["{name: G. Murray}"]])
    );
}

/// MERGE: matches the existing node, creates a missing one, and merges a relationship once.
async fn merge(c: &mut Client) {
    let merged = write(
        c,
        "MERGE (t:Team {name: 'Search'}) ON MATCH SET t.seen = true ON CREATE SET t.created = true RETURN t.seen, t.created",
    )
    .await;
    assert_eq!(table(&merged), rows(&[&["true", "null"]]));
    let merged = write(
        c,
        "MERGE (t:Team {name: 'Research'}) ON CREATE SET t.created = true RETURN t.created",
    )
    .await;
    assert_eq!(table(&merged), rows(&[&["true"]]));
    for _ in 0..2 {
        write(
            c,
            "MATCH (a:Person {name: 'Ada Lovelace'}), (t:Team {name: 'Research'}) MERGE (a)-[:LEADS]->(t)",
        )
        .await;
    }
    assert_eq!(
        read(
            c,
            "MATCH (:Team {name: 'Research'})<-[r:LEADS]-(p) RETURN p.name, count(r)"
        )
        .await,
        rows(&[&["Ada Lovelace", "1"]])
    );
}

/// DELETE refuses a node with relationships; DETACH DELETE removes them too.
async fn delete_and_detach_delete(c: &mut Client) {
    let msg = assert_code(
        c.execute_query(request(
            "MATCH (t:Team {name: 'Research'}) DELETE t",
            pb::AccessMode::Write,
        ))
        .await,
        Code::FailedPrecondition,
    );
    assert!(msg.contains("DETACH DELETE"), "{msg}");
    let deleted = write(c, "MATCH (t:Team {name: 'Research'}) DETACH DELETE t").await;
    let stats = deleted.stats.unwrap();
    assert_eq!((stats.nodes_deleted, stats.relationships_deleted), (1, 1));
    let deleted = write(c, "MATCH (p:Hired)-[r]-() DELETE r, p").await;
    assert_eq!(deleted.stats.unwrap().nodes_deleted, 1);
    assert_eq!(read(c, "MATCH (n) RETURN count(n)").await, rows(&[&["17"]]));
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
