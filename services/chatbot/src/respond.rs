//! The "respond" and "fallback" steps: turn the router's typed result into a plain-language
//! answer that cites its sources (graph node ids, document ids, order ids), or, when nothing
//! matched or a source failed, into a helpful reply that says which source it was.

use std::collections::HashMap;
use std::fmt::Write as _;

use chatmesh_proto::chat::{Degradation, Source, SourceKind};
use chatmesh_proto::graph::{Neighbor, Node, Value, value::Kind};
use chatmesh_proto::relational::{Order, OrderStatus};
use chatmesh_proto::router::route_response::Result as RouteResult;
use chatmesh_proto::router::{RouteResponse, Target};
use chatmesh_proto::vector::{PayloadValue, SearchHit, payload_value};
use chatmesh_runtime::status::code_name;
use tonic::Code;

use crate::understand::{ORDER, PERSON};

/// An answer with its sources.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Reply {
    /// The text for the user.
    pub text: String,
    /// The records it is based on, most relevant first.
    pub sources: Vec<Source>,
}

/// Snippets are cut to about this many characters.
const SNIPPET_CHARS: usize = 300;
/// At most this many sources are cited.
const MAX_SOURCES: usize = 10;

/// Whether a successful route result holds anything to answer with: for a document search, a
/// best hit scoring at least `min_relevance` (below it, the closest document is not an answer).
pub(crate) fn has_content(response: &RouteResponse, min_relevance: f32) -> bool {
    match &response.result {
        Some(RouteResult::GraphQuery(q)) => !q.rows.is_empty(),
        Some(RouteResult::GraphNeighbors(n)) => !n.neighbors.is_empty(),
        Some(RouteResult::VectorSearch(s)) => {
            s.hits.first().is_some_and(|h| h.score >= min_relevance)
        }
        Some(RouteResult::RelationalOrder(o)) => o.order.is_some(),
        Some(RouteResult::RelationalOrders(o)) => !o.orders.is_empty(),
        None => false,
    }
}

/// A human name for a backend.
pub(crate) fn source_name(target: Target) -> &'static str {
    match target {
        Target::Graph => "people directory (graph)",
        Target::Vector => "document search (vector)",
        Target::Relational => "orders database (relational)",
        Target::Unspecified => "router",
    }
}

/// The answer to `question` from a route result that has content.
pub(crate) fn compose(question: &str, subject: Option<&str>, response: &RouteResponse) -> Reply {
    let entities = response.explanation.as_ref().map(|e| &e.entities);
    let subject = entities
        .and_then(|e| e.get(PERSON))
        .map(String::as_str)
        .or(subject);
    let mut reply = match &response.result {
        Some(RouteResult::GraphNeighbors(n)) => neighbors(question, subject, &n.neighbors),
        Some(RouteResult::GraphQuery(q)) => query_rows(question, subject, &q.columns, &q.rows),
        Some(RouteResult::VectorSearch(s)) => hits(&s.hits),
        Some(RouteResult::RelationalOrder(o)) => orders(o.order.as_slice(), None),
        Some(RouteResult::RelationalOrders(o)) => orders(&o.orders, Some(o.total_size)),
        None => Reply::default(),
    };
    reply.sources.truncate(MAX_SOURCES);
    reply
}

/// What the user asked about a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PersonQuestion {
    Manager,
    Reports,
    Other,
}

fn person_question(question: &str) -> PersonQuestion {
    let q = question.to_ascii_lowercase();
    if q.contains("who manages")
        || q.contains("manager")
        || q.contains("boss")
        || q.contains("report to")
        || q.contains("reports to")
    {
        PersonQuestion::Manager
    } else if q.contains("reports") || q.contains("does") && q.contains("manage") {
        PersonQuestion::Reports
    } else {
        PersonQuestion::Other
    }
}

fn prop<'a>(node: &'a Node, key: &str) -> Option<&'a str> {
    match node.properties.get(key).and_then(|v| v.kind.as_ref()) {
        Some(Kind::StringValue(s)) => Some(s),
        _ => None,
    }
}

fn node_title(node: &Node) -> String {
    prop(node, "name").map_or_else(
        || format!("{} {}", node.labels.join(":"), node.id),
        str::to_owned,
    )
}

fn node_source(node: &Node) -> Source {
    let mut keys: Vec<&String> = node.properties.keys().collect();
    keys.sort();
    let mut snippet = node.labels.join(":");
    for key in keys {
        if let Some(v) = node.properties.get(key) {
            let _ = write!(snippet, " {key}={}", value_text(v));
        }
    }
    Source {
        kind: SourceKind::GraphNode as i32,
        id: node.id.to_string(),
        title: node_title(node),
        snippet: cut(&snippet),
        score: None,
    }
}

fn value_text(value: &Value) -> String {
    match &value.kind {
        None | Some(Kind::NullValue(_)) => "null".into(),
        Some(Kind::BoolValue(b)) => b.to_string(),
        Some(Kind::IntValue(i)) => i.to_string(),
        Some(Kind::DoubleValue(d)) => d.to_string(),
        Some(Kind::StringValue(s)) => s.clone(),
        Some(Kind::ListValue(l)) => {
            let items: Vec<String> = l.values.iter().map(value_text).collect();
            format!("[{}]", items.join(", "))
        }
        Some(Kind::MapValue(m)) => {
            let mut keys: Vec<&String> = m.entries.keys().collect();
            keys.sort();
            let items: Vec<String> = keys
                .into_iter()
                .map(|k| format!("{k}: {}", value_text(&m.entries[k])))
                .collect();
            format!("{{{}}}", items.join(", "))
        }
        Some(Kind::NodeValue(n)) => node_title(n),
        Some(Kind::RelationshipValue(r)) => format!("[:{} {}]", r.r#type, r.id),
        Some(Kind::PathValue(p)) => {
            let names: Vec<String> = p.nodes.iter().map(node_title).collect();
            names.join(" → ")
        }
    }
}

fn list(names: &[String]) -> String {
    match names {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// A person's neighbourhood: who manages them, whom they manage, their teams.
fn neighbors(question: &str, subject: Option<&str>, neighbors: &[Neighbor]) -> Reply {
    let subject = subject.unwrap_or("They");
    let mut managers = Vec::new();
    let mut reports = Vec::new();
    let mut others = Vec::new();
    for n in neighbors {
        let Some(node) = &n.node else { continue };
        let (rel_type, toward_subject) = match &n.relationship {
            // The relationship joins the subject and this node; it points at the subject when
            // this node is its start.
            Some(r) => (r.r#type.as_str(), r.start_node_id == node.id),
            None => ("", false),
        };
        match (rel_type, toward_subject) {
            ("MANAGES", true) => managers.push(node),
            ("MANAGES", false) => reports.push(node),
            _ => others.push((rel_type, toward_subject, node)),
        }
    }
    let names = |nodes: &[&Node]| nodes.iter().map(|n| node_title(n)).collect::<Vec<_>>();
    let mut text = String::new();
    let mut cited: Vec<&Node> = Vec::new();
    match person_question(question) {
        PersonQuestion::Manager if !managers.is_empty() => {
            let _ = write!(text, "{} manages {subject}.", list(&names(&managers)));
            cited.extend(&managers);
        }
        PersonQuestion::Manager => {
            let _ = write!(text, "The graph shows no manager of {subject}.");
        }
        PersonQuestion::Reports if !reports.is_empty() => {
            let _ = write!(text, "{subject} manages {}.", list(&names(&reports)));
            cited.extend(&reports);
        }
        _ => {}
    }
    // Then everything else that is known, briefly.
    let mut facts = Vec::new();
    if !managers.is_empty() && !cited.iter().any(|c| managers.iter().any(|m| m.id == c.id)) {
        facts.push(format!("is managed by {}", list(&names(&managers))));
        cited.extend(&managers);
    }
    if !reports.is_empty() && !cited.iter().any(|c| reports.iter().any(|r| r.id == c.id)) {
        facts.push(format!("manages {}", list(&names(&reports))));
        cited.extend(&reports);
    }
    let mut by_type: Vec<(String, Vec<String>)> = Vec::new();
    for (rel_type, toward, node) in &others {
        let phrase = match (*rel_type, *toward) {
            ("MEMBER_OF", false) => "is a member of".to_owned(),
            ("MEMBER_OF", true) => "has as a member".to_owned(),
            ("LEADS", false) => "leads".to_owned(),
            ("LEADS", true) => "is led by".to_owned(),
            ("OWNS", false) => "owns".to_owned(),
            ("OWNS", true) => "is owned by".to_owned(),
            ("", _) => "is related to".to_owned(),
            (t, false) => format!("has {} to", t.to_ascii_lowercase()),
            (t, true) => format!("is the target of {} from", t.to_ascii_lowercase()),
        };
        match by_type.iter_mut().find(|(p, _)| *p == phrase) {
            Some((_, names)) => names.push(node_title(node)),
            None => by_type.push((phrase, vec![node_title(node)])),
        }
        cited.push(node);
    }
    facts.extend(
        by_type
            .into_iter()
            .map(|(p, n)| format!("{p} {}", list(&n))),
    );
    if !facts.is_empty() {
        if !text.is_empty() {
            text.push(' ');
        }
        let _ = write!(text, "{subject} {}.", facts.join("; "));
    }
    Reply {
        text,
        sources: cited.into_iter().map(node_source).collect(),
    }
}

/// Rows of a Cypher query: nodes are cited, other values listed.
fn query_rows(
    question: &str,
    subject: Option<&str>,
    columns: &[String],
    rows: &[chatmesh_proto::graph::Row],
) -> Reply {
    let mut sources = Vec::new();
    let mut lines = Vec::new();
    for row in rows {
        let mut cells = Vec::new();
        for (i, value) in row.values.iter().enumerate() {
            if let Some(Kind::NodeValue(node)) = &value.kind {
                sources.push(node_source(node));
            }
            let text = value_text(value);
            cells.push(if row.values.len() > 1 {
                format!("{}: {text}", columns.get(i).map_or("?", String::as_str))
            } else {
                text
            });
        }
        lines.push(cells.join(", "));
    }
    let text = match (person_question(question), subject) {
        (PersonQuestion::Manager, Some(subject)) => format!("{} manages {subject}.", list(&lines)),
        (PersonQuestion::Reports, Some(subject)) => format!("{subject} manages {}.", list(&lines)),
        _ => format!("From the graph: {}.", lines.join("; ")),
    };
    Reply { text, sources }
}

fn payload_text(payload: &HashMap<String, PayloadValue>, key: &str) -> Option<String> {
    match payload.get(key).and_then(|v| v.kind.as_ref()) {
        Some(payload_value::Kind::StringValue(s)) => Some(s.clone()),
        _ => None,
    }
}

/// Documents closest to the question: the best one's text, the others cited.
fn hits(hits: &[SearchHit]) -> Reply {
    let best = &hits[0];
    let mut text = match &best.text {
        Some(t) => format!("From the docs ({}): {}", best.id, t.trim()),
        None => format!("The closest document is {}.", best.id),
    };
    if hits.len() > 1 {
        let others: Vec<String> = hits[1..hits.len().min(4)]
            .iter()
            .map(|h| h.id.clone())
            .collect();
        let _ = write!(text, " See also {}.", list(&others));
    }
    let sources = hits
        .iter()
        .map(|h| Source {
            kind: SourceKind::Document as i32,
            id: h.id.clone(),
            title: payload_text(&h.payload, "title")
                .or_else(|| payload_text(&h.payload, "topic"))
                .unwrap_or_else(|| h.id.clone()),
            snippet: h.text.as_deref().map(cut).unwrap_or_default(),
            score: Some(h.score),
        })
        .collect();
    Reply { text, sources }
}

fn status_word(order: &Order) -> String {
    OrderStatus::try_from(order.status)
        .map(|s| {
            s.as_str_name()
                .trim_start_matches("ORDER_STATUS_")
                .to_ascii_lowercase()
        })
        .unwrap_or_else(|_| "unknown".into())
}

fn money(cents: i64) -> String {
    format!("{}.{:02}", cents / 100, (cents % 100).abs())
}

fn order_line(order: &Order) -> String {
    format!(
        "order {} for {}: {} × {}, total {}, status {}",
        order.id,
        order.customer,
        order.quantity,
        order.product,
        money(order.total_cents),
        status_word(order)
    )
}

/// One order in full, or a list of orders with the total count.
fn orders(orders: &[Order], total: Option<i64>) -> Reply {
    let text = match (orders, total) {
        ([one], None) => {
            let mut line = order_line(one);
            line[..1].make_ascii_uppercase();
            format!("{line}.")
        }
        _ => {
            let shown: Vec<String> = orders
                .iter()
                .take(5)
                .map(|o| format!("{} ({}, {})", o.id, o.product, status_word(o)))
                .collect();
            let total = total.unwrap_or(orders.len() as i64);
            format!(
                "{total} order{} found: {}{}.",
                if total == 1 { "" } else { "s" },
                shown.join("; "),
                if total > 5 { "; …" } else { "" }
            )
        }
    };
    let sources = orders
        .iter()
        .map(|o| Source {
            kind: SourceKind::Order as i32,
            id: o.id.to_string(),
            title: format!("Order {}", o.id),
            snippet: cut(&order_line(o)),
            score: None,
        })
        .collect();
    Reply { text, sources }
}

fn cut(text: &str) -> String {
    match text.char_indices().nth(SNIPPET_CHARS) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_owned(),
    }
}

/// The reply when the router answered but found nothing.
/// The best document of a search whose every hit scored below `min_relevance`.
pub(crate) fn irrelevant(response: &RouteResponse, min_relevance: f32) -> Option<&SearchHit> {
    match &response.result {
        Some(RouteResult::VectorSearch(s)) => s.hits.first().filter(|h| h.score < min_relevance),
        _ => None,
    }
}

/// The honest answer when the closest document is not close enough to be an answer.
pub(crate) fn dont_know(best: &SearchHit, min_relevance: f32) -> String {
    format!(
        "I don't know. The closest document I have, {}, is not close enough to your question \
         (relevance {:.2}, below {min_relevance:.2}). Ask me about people and teams, orders, or \
         how-to topics.",
        best.id, best.score
    )
}

pub(crate) fn nothing_found(target: Target, entity: Option<(&str, &str)>) -> String {
    let what = describe_entity(entity).unwrap_or_else(|| "anything matching that".into());
    format!(
        "I found nothing about {what} in the {}. Try naming a person, an order number or a topic.",
        source_name(target)
    )
}

fn describe_entity(entity: Option<(&str, &str)>) -> Option<String> {
    entity.map(|(kind, value)| match kind {
        ORDER => format!("order {value}"),
        _ => value.to_owned(),
    })
}

/// The reply when a source failed (`degraded` says which and how).
pub(crate) fn degraded_reply(degraded: &Degradation, entity: Option<(&str, &str)>) -> String {
    let target = Target::try_from(degraded.target).unwrap_or(Target::Unspecified);
    let code = Code::from(degraded.code);
    let others = |down: Target| {
        let rest: Vec<&str> = [
            (Target::Graph, "people and teams"),
            (Target::Vector, "how-to questions"),
            (Target::Relational, "orders"),
        ]
        .iter()
        .filter(|(t, _)| *t != down)
        .map(|(_, topic)| *topic)
        .collect();
        rest.join(" or ")
    };
    match (target, code) {
        (Target::Unspecified, Code::Unavailable | Code::DeadlineExceeded) => {
            "I can't reach the router right now, so I can't look anything up. Please try again in a moment."
                .into()
        }
        (Target::Unspecified, _) => format!(
            "The router could not handle that question ({}: {}). Please try again or rephrase it.",
            code_name(code),
            degraded.message
        ),
        (_, Code::NotFound) => format!(
            "I couldn't find {} in the {}.",
            describe_entity(entity).unwrap_or_else(|| "what you asked about".into()),
            source_name(target)
        ),
        (_, Code::InvalidArgument) => format!(
            "I couldn't turn that into a query for the {}: {}",
            source_name(target),
            degraded.message
        ),
        (_, Code::Unavailable | Code::DeadlineExceeded | Code::ResourceExhausted) => format!(
            "The {} is unavailable right now ({}), so I can't answer that. Please try again \
             shortly; meanwhile I can still answer questions about {}.",
            source_name(target),
            code_name(code),
            others(target)
        ),
        (_, _) => format!(
            "The {} failed to answer ({}: {}). Please try again.",
            source_name(target),
            code_name(code),
            degraded.message
        ),
    }
}
