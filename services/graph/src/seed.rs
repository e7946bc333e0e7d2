//! The demo organisation (`--seed-demo`, which `chatmesh up` passes): the people, teams and
//! services of ARCHITECTURE.md "The demo organisation", with who manages whom (MANAGES,
//! manager → report), who is in which team (MEMBER_OF, person → team; team leads included),
//! who leads which team (LEADS, person → team) and which team owns which service (OWNS,
//! team → service). Loaded in one transaction of the engine, and only into an empty graph, so a
//! restart never doubles it.

use std::collections::{BTreeSet, HashMap};

use crate::engine::Txn;
use crate::error::Result;
use crate::model::{Properties, Value};

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

/// Loads the organisation in `txn` when the graph is empty; returns whether it did.
pub(crate) fn demo(txn: &mut Txn) -> Result<bool> {
    if txn.state().node_count() > 0 {
        return Ok(false);
    }
    let mut ids: HashMap<&str, u64> = HashMap::new();
    let node = |txn: &mut Txn, label: &str, props: Properties| {
        txn.create_node(BTreeSet::from([label.to_owned()]), props)
    };
    let name = |n: &str| Properties::from([("name".to_owned(), Value::String(n.into()))]);
    for (person, title, _) in PEOPLE {
        let mut props = name(person);
        props.insert("title".into(), Value::String(title.into()));
        ids.insert(person, node(txn, "Person", props)?);
    }
    for (team, services) in OWNS {
        ids.insert(team, node(txn, "Team", name(team))?);
        for service in services {
            ids.insert(service, node(txn, "Service", name(service))?);
        }
    }
    let edge = |txn: &mut Txn, from: &str, rel: &str, to: &str| {
        txn.create_relationship(ids[from], ids[to], rel.into(), Properties::new())
    };
    for (manager, report) in MANAGES {
        edge(txn, manager, "MANAGES", report)?;
    }
    for (person, _, team) in PEOPLE {
        if let Some(team) = team {
            edge(txn, person, "MEMBER_OF", team)?;
        }
    }
    for (person, team) in LEADS {
        edge(txn, person, "LEADS", team)?;
    }
    for (team, services) in OWNS {
        for service in services {
            edge(txn, team, "OWNS", service)?;
        }
    }
    Ok(true)
}
