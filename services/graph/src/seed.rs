//! The demo organisation (`--seed-demo`, which `chatmesh up` passes): the people, teams and
//! services of ARCHITECTURE.md "The demo organisation", with who manages whom (MANAGES,
//! manager → report), who is in which team (MEMBER_OF, person → team; team leads included),
//! who leads which team (LEADS, person → team) and which team owns which service (OWNS,
//! team → service). Loaded only into an empty graph, so a restart never doubles it: in one
//! transaction of the embedded engine, or through the store on a Bolt server.

use std::collections::{BTreeSet, HashMap};

use crate::engine::Txn;
use crate::error::Result;
use crate::model::{AccessMode, CypherQuery, Properties, Value};
use crate::store::GraphStore;

/// People: name, title, team (if any).
const PEOPLE: [(&str, &str, Option<&str>); 8] = [
    ("Ada Lovelace", "CTO", None),
    ("Grace Hopper", "VP Engineering", None),
    ("Alan Turing", "Platform Lead", Some("Platform")),
    ("Barbara Liskov", "Search Lead", Some("Search")),
    ("Edsger Dijkstra", "Payments Lead", Some("Payments")),
    ("Ken Thompson", "Senior Engineer", Some("Platform")),
    (
        "Margaret Hamilton",
        "Site Reliability Engineer",
        Some("Platform"),
    ),
    ("Linus Torvalds", "Search Engineer", Some("Search")),
];

/// Manager → report.
const MANAGES: [(&str, &str); 7] = [
    ("Ada Lovelace", "Grace Hopper"),
    ("Grace Hopper", "Alan Turing"),
    ("Grace Hopper", "Barbara Liskov"),
    ("Grace Hopper", "Edsger Dijkstra"),
    ("Alan Turing", "Ken Thompson"),
    ("Alan Turing", "Margaret Hamilton"),
    ("Barbara Liskov", "Linus Torvalds"),
];

/// Person → team they lead.
const LEADS: [(&str, &str); 3] = [
    ("Alan Turing", "Platform"),
    ("Barbara Liskov", "Search"),
    ("Edsger Dijkstra", "Payments"),
];

/// Team → services it owns.
const OWNS: [(&str, [&str; 2]); 3] = [
    ("Platform", ["auth-service", "gateway"]),
    ("Search", ["search-api", "indexer"]),
    ("Payments", ["billing", "checkout"]),
];

/// A node of the organisation: its name (the key relationships use), label and properties.
type SeedNode = (&'static str, &'static str, Properties);
/// A relationship of the organisation: from, type, to (by name).
type SeedEdge = (&'static str, &'static str, &'static str);

/// The organisation as nodes and relationships, in creation order.
fn organisation() -> (Vec<SeedNode>, Vec<SeedEdge>) {
    let name = |n: &str| Properties::from([("name".to_owned(), Value::String(n.into()))]);
    let mut nodes = Vec::new();
    for (person, title, _) in PEOPLE {
        let mut props = name(person);
        props.insert("title".into(), Value::String(title.into()));
        nodes.push((person, "Person", props));
    }
    for (team, services) in OWNS {
        nodes.push((team, "Team", name(team)));
        for service in services {
            nodes.push((service, "Service", name(service)));
        }
    }
    let mut edges: Vec<SeedEdge> = MANAGES.iter().map(|&(m, r)| (m, "MANAGES", r)).collect();
    edges.extend(
        PEOPLE
            .iter()
            .filter_map(|&(person, _, team)| Some((person, "MEMBER_OF", team?))),
    );
    edges.extend(LEADS.iter().map(|&(p, t)| (p, "LEADS", t)));
    for (team, services) in OWNS {
        edges.extend(services.iter().map(|&s| (team, "OWNS", s)));
    }
    (nodes, edges)
}

/// Loads the organisation in `txn` when the graph is empty; returns whether it did.
pub(crate) fn demo(txn: &mut Txn) -> Result<bool> {
    if txn.state().node_count() > 0 {
        return Ok(false);
    }
    let (nodes, edges) = organisation();
    let mut ids: HashMap<&str, u64> = HashMap::new();
    for (name, label, props) in nodes {
        ids.insert(
            name,
            txn.create_node(BTreeSet::from([label.to_owned()]), props)?,
        );
    }
    for (from, rel, to) in edges {
        txn.create_relationship(ids[from], ids[to], rel.into(), Properties::new())?;
    }
    Ok(true)
}

/// Loads the organisation through `store` (an engine on another process) when its graph is
/// empty; returns whether it did. Not one transaction: a failure part-way leaves part of it,
/// which the next start does not complete (the graph is no longer empty).
pub(crate) async fn demo_through(store: &dyn GraphStore) -> Result<bool> {
    let probe = CypherQuery {
        text: "MATCH (n) RETURN id(n) LIMIT 1".into(),
        parameters: Default::default(),
        access_mode: AccessMode::Read,
        row_limit: Some(1),
        deadline: None,
    };
    if !store.query(probe).await?.rows.is_empty() {
        return Ok(false);
    }
    let (nodes, edges) = organisation();
    let mut ids: HashMap<&str, u64> = HashMap::new();
    for (name, label, props) in nodes {
        let node = store
            .create_node(BTreeSet::from([label.to_owned()]), props)
            .await?;
        ids.insert(name, node.id);
    }
    for (from, rel, to) in edges {
        store
            .create_relationship(ids[from], ids[to], rel.into(), Properties::new())
            .await?;
    }
    Ok(true)
}
