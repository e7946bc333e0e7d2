//! The `vector_search` tool: similarity search in a vector collection, near a text (embedded by
//! the collection's own embedder) or near a vector, optionally restricted by payload values.

use chatmesh_proto::vector::{
    Filter, FilterList, MatchCondition, NearVector, PayloadValue, SearchRequest, SearchResponse,
    filter, payload_value, search_request,
};
use serde_json::{Value as Json, json};

use super::{Args, Failure, Output, ToolDef, ToolKind};
use crate::backends::{Backends, CallContext};

/// The collection searched when none is named: the demo documents.
pub const DEFAULT_COLLECTION: &str = "docs";
/// Hits returned when `k` is not given.
const DEFAULT_K: i32 = 5;

/// `vector_search`.
pub(super) fn search_tool() -> ToolDef {
    ToolDef {
        name: "vector_search",
        description: "Semantic search in a vector collection: the k objects closest to a text \
            (or to a vector), best first, with their score, text and payload. The default \
            collection `docs` holds FAQ and documentation snippets about the organisation \
            (payload: topic, team), e.g. \"how do I get access to the cluster\".",
        schema: json!({
            "type": "object",
            "properties": {
                "text": {
                    "type": "string",
                    "minLength": 1,
                    "maxLength": 65536,
                    "description": "Search near this text.",
                },
                "vector": {
                    "type": "array",
                    "items": {"type": "number"},
                    "minItems": 1,
                    "maxItems": 65536,
                    "description": "Search near this vector; its length must be the \
                                    collection's dimension.",
                },
                "collection": {
                    "type": "string",
                    "minLength": 1,
                    "maxLength": 128,
                    "default": DEFAULT_COLLECTION,
                    "description": "The collection to search.",
                },
                "k": {
                    "type": "integer",
                    "minimum": 1,
                    "maximum": 1000,
                    "default": DEFAULT_K,
                    "description": "How many hits to return at most.",
                },
                "filter": {
                    "type": "object",
                    "additionalProperties": {"type": ["string", "number", "boolean"]},
                    "description": "Only objects whose payload has all of these key/value \
                                    pairs, e.g. {\"team\": \"Platform\"}.",
                },
                "include_vectors": {
                    "type": "boolean",
                    "default": false,
                    "description": "Also return each hit's vector (in the structured result).",
                },
            },
            "oneOf": [{"required": ["text"]}, {"required": ["vector"]}],
            "additionalProperties": false,
        }),
        kind: ToolKind::VectorSearch,
    }
}

/// Runs `vector_search`.
pub(super) async fn search(
    backends: &Backends,
    ctx: &CallContext,
    args: Args<'_>,
) -> Result<Output, Failure> {
    let query = match (args.string("text")?, args.get("vector")) {
        (Some(text), _) => search_request::Query::NearText(text.to_owned()),
        (None, Some(Json::Array(items))) => {
            let vector = items
                .iter()
                .map(|item| item.as_f64().map(|f| f as f32))
                .collect::<Option<Vec<f32>>>()
                .ok_or_else(|| args.invalid("vector", "must be a list of numbers"))?;
            search_request::Query::NearVector(NearVector { vector })
        }
        _ => {
            return Err(args
                .invalid("text", "or `vector` is required (exactly one of them)")
                .into());
        }
    };
    let collection = args
        .string("collection")?
        .unwrap_or(DEFAULT_COLLECTION)
        .to_owned();
    let request = SearchRequest {
        collection: collection.clone(),
        query: Some(query),
        k: args.int32("k")?.unwrap_or(DEFAULT_K),
        ef: None,
        filter: args.object("filter")?.map(payload_filter),
        include_vector: matches!(args.get("include_vectors"), Some(Json::Bool(true))),
        include_payload: true,
    };
    let response = backends
        .vector
        .search(ctx, request)
        .await
        .map_err(|status| Failure::backend("vector", &status))?;
    Ok(Output::new(
        search_text(&collection, &response),
        &response,
        "chatmesh.vector.v1.SearchResponse",
    ))
}

/// Search hits for people to read, best first.
pub(super) fn search_text(collection: &str, response: &SearchResponse) -> String {
    let mut text = format!(
        "{} hit{} in {collection}, best first:",
        response.hits.len(),
        if response.hits.len() == 1 { "" } else { "s" }
    );
    for (rank, hit) in response.hits.iter().enumerate() {
        text.push_str(&format!(
            "\n{}. {} (score {:.3})",
            rank + 1,
            hit.id,
            hit.score
        ));
        let mut payload: Vec<String> = hit
            .payload
            .iter()
            .map(|(key, value)| format!("{key}={}", render_payload(value)))
            .collect();
        payload.sort();
        if !payload.is_empty() {
            text.push_str(&format!(" [{}]", payload.join(", ")));
        }
        if let Some(body) = &hit.text {
            text.push_str(": ");
            text.push_str(body);
        }
    }
    text
}

/// `{"team": "Platform", "year": 2024}` as `team == "Platform" AND year == 2024`.
fn payload_filter(pairs: &serde_json::Map<String, Json>) -> Filter {
    let conditions = pairs
        .iter()
        .map(|(key, value)| Filter {
            kind: Some(filter::Kind::MatchCondition(MatchCondition {
                key: key.clone(),
                value: Some(payload_value(value)),
            })),
        })
        .collect();
    Filter {
        kind: Some(filter::Kind::AndFilter(FilterList {
            filters: conditions,
        })),
    }
}

fn payload_value(value: &Json) -> PayloadValue {
    use payload_value::Kind;
    let kind = match value {
        Json::Bool(b) => Kind::BoolValue(*b),
        Json::Number(n) => match n.as_i64() {
            Some(i) => Kind::IntValue(i),
            None => Kind::DoubleValue(n.as_f64().unwrap_or(0.0)),
        },
        Json::String(s) => Kind::StringValue(s.clone()),
        // The schema admits only scalars; anything else matches nothing rather than panicking.
        _ => Kind::NullValue(prost_types::NullValue::NullValue as i32),
    };
    PayloadValue { kind: Some(kind) }
}

fn render_payload(value: &PayloadValue) -> String {
    use payload_value::Kind;
    match &value.kind {
        None | Some(Kind::NullValue(_)) => "null".to_owned(),
        Some(Kind::BoolValue(b)) => b.to_string(),
        Some(Kind::IntValue(i)) => i.to_string(),
        Some(Kind::DoubleValue(d)) => d.to_string(),
        Some(Kind::StringValue(s)) => s.clone(),
        Some(Kind::ListValue(list)) => format!(
            "[{}]",
            list.values
                .iter()
                .map(render_payload)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_are_a_conjunction_of_typed_matches() {
        let Json::Object(pairs) = json!({"team": "Search", "year": 2024, "draft": false}) else {
            unreachable!()
        };
        let Some(filter::Kind::AndFilter(list)) = payload_filter(&pairs).kind else {
            panic!("an and-filter")
        };
        let mut seen: Vec<(String, Option<payload_value::Kind>)> = list
            .filters
            .into_iter()
            .map(|f| match f.kind {
                Some(filter::Kind::MatchCondition(m)) => (m.key, m.value.and_then(|v| v.kind)),
                other => panic!("a match condition, not {other:?}"),
            })
            .collect();
        seen.sort_by(|a, b| a.0.cmp(&b.0));
        assert_eq!(
            seen,
            vec![
                ("draft".into(), Some(payload_value::Kind::BoolValue(false))),
                (
                    "team".into(),
                    Some(payload_value::Kind::StringValue("Search".into()))
                ),
                ("year".into(), Some(payload_value::Kind::IntValue(2024))),
            ]
        );
    }
}
