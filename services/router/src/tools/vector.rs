//! The `vector_search` tool: similarity search in a vector collection, near a text (embedded by
//! the collection's own embedder) or near a vector, optionally restricted by payload values.

use chatmesh_proto::vector::{
    Filter, FilterList, MatchCondition, NearVector, PayloadValue, SearchRequest, SearchResponse,
    filter, payload_value, search_request,
};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Map, Value as Json};

use super::arguments::{ToolArgs, free_object};
use super::validate::{ArgError, describe};
use super::{Failure, Output, ToolDef, ToolKind};
use crate::backends::{Backends, CallContext};

/// The collection searched when none is named: the demo documents.
const DEFAULT_COLLECTION: &str = "docs";
/// Hits returned when `k` is not given.
const DEFAULT_K: i32 = 5;

/// The arguments of `vector_search`. Exactly one of `text` and `vector` is given: the schema
/// cannot say so portably (a top-level `oneOf` is refused by function-calling APIs), so
/// [`ToolArgs::check`] does, and the tool's description tells the model.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SearchArgs {
    /// Search near this text (give this or `vector`).
    #[schemars(length(min = 1, max = 65536))]
    text: Option<String>,
    /// Search near this vector (give this or `text`); its length must be the collection's
    /// dimension.
    #[schemars(length(min = 1, max = 65536))]
    vector: Option<Vec<f32>>,
    /// The collection to search.
    #[serde(default = "default_collection")]
    #[schemars(length(min = 1, max = 128))]
    collection: String,
    /// How many hits to return at most.
    #[serde(default = "default_k")]
    #[schemars(range(min = 1, max = 1000))]
    k: i32,
    /// Only objects whose payload has all of these key/value pairs, e.g. {"team": "Platform"};
    /// each value is a string, a number or a boolean.
    #[serde(default)]
    #[schemars(schema_with = "free_object")]
    filter: Option<Map<String, Json>>,
    /// Also return each hit's vector (in the structured result).
    #[serde(default)]
    include_vectors: bool,
}

fn default_collection() -> String {
    DEFAULT_COLLECTION.to_owned()
}

fn default_k() -> i32 {
    DEFAULT_K
}

impl ToolArgs for SearchArgs {
    fn check(&self) -> Result<(), ArgError> {
        match (&self.text, &self.vector) {
            (None, None) => {
                return Err(ArgError::new(
                    "",
                    "exactly one of `text`, `vector` is required",
                ));
            }
            (Some(_), Some(_)) => {
                return Err(ArgError::new(
                    "",
                    "only one of `text`, `vector` may be given",
                ));
            }
            _ => {}
        }
        for (key, value) in self.filter.iter().flatten() {
            if !matches!(value, Json::String(_) | Json::Number(_) | Json::Bool(_)) {
                return Err(ArgError::new(
                    &format!("filter.{key}"),
                    format!(
                        "must be a string or a number or a boolean, not {}",
                        describe(value)
                    ),
                ));
            }
        }
        Ok(())
    }
}

/// `vector_search`.
pub(super) fn search_tool() -> ToolDef {
    ToolDef::new::<SearchArgs>(
        "vector_search",
        "Semantic search in the documentation",
        "Semantic search in a vector collection: the k objects closest to a text \
            (or to a vector), best first, with their score, text and payload. Give exactly one \
            of `text` and `vector`. The default collection `docs` holds FAQ and documentation \
            snippets about the organisation (payload: topic, team), e.g. \"how do I get access \
            to the cluster\".",
        ToolKind::VectorSearch,
    )
}

/// Runs `vector_search`.
pub(super) async fn search(
    backends: &Backends,
    ctx: &CallContext,
    args: SearchArgs,
) -> Result<Output, Failure> {
    let query = match (args.text, args.vector) {
        (Some(text), _) => search_request::Query::NearText(text),
        (None, Some(vector)) => search_request::Query::NearVector(NearVector { vector }),
        // `check` made sure one is given.
        (None, None) => return Err(Failure::Tool("no query".to_owned())),
    };
    let request = SearchRequest {
        collection: args.collection.clone(),
        query: Some(query),
        k: args.k,
        ef: None,
        filter: args.filter.as_ref().map(payload_filter),
        include_vector: args.include_vectors,
        include_payload: true,
    };
    let response = backends
        .vector
        .search(ctx, request)
        .await
        .map_err(|status| Failure::backend("vector", &status))?;
    Ok(Output::new(
        search_text(&args.collection, &response),
        &response,
        "chatmesh.vector.v1.SearchResponse",
    ))
}

/// Search hits for people to read, best first.
pub(crate) fn search_text(collection: &str, response: &SearchResponse) -> String {
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
fn payload_filter(pairs: &Map<String, Json>) -> Filter {
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
    use serde_json::json;

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
