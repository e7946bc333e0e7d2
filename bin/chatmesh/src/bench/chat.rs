//! Chat scenarios over the benchmark workload, through the whole mesh (chatbot → router →
//! backend): `chat-graph` asks "who manages <person>?" for people who have a manager,
//! `chat-vector` asks the FAQ questions of `vector-near-text` ("how do I <verb> <object>?"),
//! `chat-relational` asks "status of order <id>", and `chat-mix` takes turns between the three
//! (1:1:1). No hints are sent: the router decides. An answer counts as failed when the call's
//! status is not OK or when it is a degraded fallback (a backend failed behind it).
//!
//! The workload must be loaded first (`bench load-graph`, `bench load-faqs`, `bench
//! load-orders`), and the router's default vector collection must be `faq`.

use std::path::Path;
use std::sync::Arc;

use chatmesh_proto::chat::ChatRequest;
use chatmesh_proto::chat::chat_service_client::ChatServiceClient;
use serde::Deserialize;
use tonic::Code;

use super::runner::{MakeWorker, Worker};

/// The chat scenario names.
pub(crate) const SCENARIOS: [&str; 4] =
    ["chat-graph", "chat-vector", "chat-relational", "chat-mix"];

#[derive(Deserialize)]
struct Workload {
    graph: Graph,
    relational: Relational,
}

#[derive(Deserialize)]
struct Graph {
    edges: Vec<Edge>,
}

#[derive(Deserialize)]
struct Edge {
    dst: String,
    #[serde(rename = "type")]
    kind: String,
}

#[derive(Deserialize)]
struct Relational {
    orders: Vec<OrderId>,
}

#[derive(Deserialize)]
struct OrderId {
    id: i64,
}

/// The three phrasings' questions.
pub(crate) struct Questions {
    graph: Vec<String>,
    vector: Vec<String>,
    relational: Vec<String>,
}

/// Reads the questions of every intent from the workload.
pub(crate) fn questions(path: &Path) -> Result<Questions, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let workload: Workload =
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut managed: Vec<String> = workload
        .graph
        .edges
        .into_iter()
        .filter(|e| e.kind == "MANAGES")
        .map(|e| e.dst)
        .collect();
    managed.sort();
    managed.dedup();
    let questions = Questions {
        graph: managed
            .iter()
            .map(|p| format!("who manages {p}?"))
            .collect(),
        vector: super::vector::questions(path)?,
        relational: workload
            .relational
            .orders
            .iter()
            .map(|o| format!("status of order {}", o.id))
            .collect(),
    };
    if questions.graph.is_empty() || questions.vector.is_empty() || questions.relational.is_empty()
    {
        return Err(format!(
            "{}: the workload lacks questions for an intent",
            path.display()
        ));
    }
    Ok(questions)
}

/// The worker factory for `name`, or `None` for another service's scenario.
pub(crate) fn scenario(name: &str, questions: Arc<Questions>) -> Option<MakeWorker> {
    let mix: &'static [usize] = match name {
        "chat-graph" => &[0],
        "chat-vector" => &[1],
        "chat-relational" => &[2],
        "chat-mix" => &[0, 1, 2],
        _ => return None,
    };
    Some(Arc::new(move |index, channel| -> Worker {
        let client = ChatServiceClient::new(channel);
        let questions = Arc::clone(&questions);
        let session_id = format!("bench-{index}");
        // Workers start at different places so they do not ask the same things in lockstep.
        let mut n = index * 7919;
        Box::new(move || {
            n += 1;
            let pool = match mix[n % mix.len()] {
                0 => &questions.graph,
                1 => &questions.vector,
                _ => &questions.relational,
            };
            let request = ChatRequest {
                session_id: session_id.clone(),
                message: pool[(n / mix.len()) % pool.len()].clone(),
                hints: None,
            };
            let mut client = client.clone();
            Box::pin(async move {
                let answer = client.chat(request).await?.into_inner();
                match answer.degraded {
                    Some(d) if answer.fallback => Err(tonic::Status::new(
                        Code::from(d.code),
                        format!("degraded answer: {}", d.message),
                    )),
                    _ => Ok(()),
                }
            })
        })
    }))
}
