//! Vector scenarios over the benchmark workload's 2,000 FAQ texts: `bench load-faqs` puts them
//! into a collection through the public API (the service embeds them), the `vector-near-text`
//! scenario asks FAQ-style questions ("how do I …?") with `near_text`, k = 5, and
//! `bench vector-recall` measures recall@5 of those answers against an exact search done here
//! with the same embedder's vectors (fetched with EmbedText).

use std::path::Path;
use std::sync::Arc;

use chatmesh_proto::vector as pb;
use chatmesh_proto::vector::vector_service_client::VectorServiceClient;
use chatmesh_runtime::channel::TracedChannel;
use serde::Deserialize;
use tonic::Code;

use super::runner::{MakeWorker, Worker};

/// The vector scenario names.
pub(crate) const SCENARIOS: [&str; 1] = ["vector-near-text"];

/// The collection the FAQ texts go into.
pub(crate) const COLLECTION: &str = "faq";

#[derive(Deserialize)]
struct Workload {
    vector: Items,
}

#[derive(Deserialize)]
struct Items {
    items: Vec<Item>,
}

#[derive(Deserialize)]
struct Item {
    id: String,
    text: String,
}

fn items(path: &Path) -> Result<Vec<Item>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let workload: Workload =
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(workload.vector.items)
}

/// A question for each FAQ: its first sentence cut to "how do I <verb> <object>", the way
/// users ask (the answer's other sentences are not in the question).
pub(crate) fn questions(path: &Path) -> Result<Vec<String>, String> {
    Ok(items(path)?
        .iter()
        .map(|item| {
            let first = item.text.split('?').next().unwrap_or_default();
            let words: Vec<&str> = first.split_whitespace().take(6).collect();
            format!("{}?", words.join(" ").to_lowercase())
        })
        .collect())
}

/// The embedder `load-faqs` gives the collection unless told otherwise.
const DEFAULT_EMBEDDER: &str = "hashing-v1";

/// Creates the FAQ collection (256 dimensions, cosine, `embedder` or [`DEFAULT_EMBEDDER`]) unless
/// it exists, and upserts the texts. A named embedder must be the existing collection's.
pub(crate) async fn load_faqs(
    path: &Path,
    channel: TracedChannel,
    embedder: Option<&str>,
) -> Result<String, String> {
    if embedder == Some("none") {
        return Err("--embedder none: the FAQs are sent as texts, which need an embedder".into());
    }
    let items = items(path)?;
    let mut client = VectorServiceClient::new(channel);
    let create = pb::CreateCollectionRequest {
        name: COLLECTION.into(),
        dimension: 256,
        distance: pb::Distance::Cosine as i32,
        hnsw_config: None,
        embedder: embedder.unwrap_or(DEFAULT_EMBEDDER).into(),
    };
    let collection = match client.create_collection(create).await {
        Ok(created) => created.into_inner().collection,
        Err(s) if s.code() == Code::AlreadyExists => {
            let request = pb::GetCollectionRequest {
                name: COLLECTION.into(),
            };
            let existing = client
                .get_collection(request)
                .await
                .map_err(|s| format!("GetCollection: {s}"))?;
            existing.into_inner().collection
        }
        Err(s) => return Err(format!("CreateCollection: {s}")),
    };
    let used = collection.map(|c| c.embedder).unwrap_or_default();
    if let Some(wanted) = embedder.filter(|w| !w.is_empty() && !same_embedder(w, &used)) {
        return Err(format!(
            "collection '{COLLECTION}' exists with embedder '{used}', not '{wanted}' \
             (delete it to load with another)"
        ));
    }
    for chunk in items.chunks(500) {
        let objects = chunk
            .iter()
            .map(|item| pb::VectorObject {
                id: item.id.clone(),
                vector: Vec::new(),
                payload: Default::default(),
                text: Some(item.text.clone()),
            })
            .collect();
        client
            .upsert_objects(pb::UpsertObjectsRequest {
                collection: COLLECTION.into(),
                objects,
            })
            .await
            .map_err(|s| format!("UpsertObjects: {s}"))?;
    }
    Ok(format!(
        "loaded {} FAQ texts into collection '{COLLECTION}' (embedder {used})",
        items.len()
    ))
}

/// Whether a name asked for is the embedder a collection records (a model is recorded with
/// its fingerprint, `name@…`, and may be asked for without it).
fn same_embedder(wanted: &str, recorded: &str) -> bool {
    wanted == recorded
        || recorded
            .split_once('@')
            .is_some_and(|(short, _)| short == wanted)
}

/// The worker factory for `name`, or `None` for another service's scenario.
pub(crate) fn scenario(name: &str, questions: Arc<Vec<String>>) -> Option<MakeWorker> {
    if name != "vector-near-text" {
        return None;
    }
    Some(Arc::new(move |index, channel| -> Worker {
        let client = VectorServiceClient::new(channel);
        let questions = questions.clone();
        let mut next = index * 7919;
        Box::new(move || {
            let mut client = client.clone();
            next = (next + 1) % questions.len().max(1);
            let request = search(&questions[next]);
            Box::pin(async move { client.search(request).await.map(|_| ()) })
        })
    }))
}

fn search(question: &str) -> pb::SearchRequest {
    pb::SearchRequest {
        collection: COLLECTION.into(),
        query: Some(pb::search_request::Query::NearText(question.to_owned())),
        k: 5,
        ..Default::default()
    }
}

/// Recall@5 of the service's `near_text` answers against exact cosine search over the same
/// embedder's vectors.
pub(crate) async fn recall(path: &Path, channel: TracedChannel) -> Result<String, String> {
    let items = items(path)?;
    let questions = questions(path)?;
    let mut client = VectorServiceClient::new(channel).max_decoding_message_size(64 << 20);
    let embed = |texts: Vec<String>| pb::EmbedTextRequest {
        source: Some(pb::embed_text_request::Source::Collection(
            COLLECTION.into(),
        )),
        texts,
        dimension: 0,
    };
    let mut documents = Vec::new();
    for chunk in items.chunks(256) {
        let texts = chunk.iter().map(|i| i.text.clone()).collect();
        let answer = client
            .embed_text(embed(texts))
            .await
            .map_err(|s| format!("EmbedText: {s}"))?;
        documents.extend(answer.into_inner().embeddings.into_iter().map(|e| e.vector));
    }
    let mut found = 0usize;
    for question in &questions {
        let query = client
            .embed_text(embed(vec![question.clone()]))
            .await
            .map_err(|s| format!("EmbedText: {s}"))?
            .into_inner()
            .embeddings
            .remove(0)
            .vector;
        let mut exact: Vec<(f32, &str)> = documents
            .iter()
            .zip(&items)
            .map(|(d, item)| {
                (
                    -d.iter().zip(&query).map(|(a, b)| a * b).sum::<f32>(),
                    item.id.as_str(),
                )
            })
            .collect();
        exact.sort_by(|a, b| a.0.total_cmp(&b.0).then_with(|| a.1.cmp(b.1)));
        let hits = client
            .search(search(question))
            .await
            .map_err(|s| format!("Search: {s}"))?
            .into_inner()
            .hits;
        found += exact[..5]
            .iter()
            .filter(|(_, id)| hits.iter().any(|h| h.id == *id))
            .count();
    }
    Ok(format!(
        "recall@5 of near_text against exact search with the same embedder: {:.4} ({} questions)",
        found as f64 / (questions.len() * 5) as f64,
        questions.len()
    ))
}
