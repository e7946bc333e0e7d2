//! The only module of the API that knows the contract's messages: requests become validated
//! domain values (INVALID_ARGUMENT names the field and the reason), domain results become
//! responses. Payloads, objects and descriptions translate through `crate::wire`.

use chatmesh_proto::vector as pb;
use chatmesh_runtime::page_token::{self, Fields, PageTokenError};

use crate::error::{Result, invalid};
use crate::model::{
    Bounds, CollectionSpec, DEFAULT_EF_CONSTRUCTION, DEFAULT_EF_SEARCH, DEFAULT_M, Filter,
    HnswParams, MAX_DIMENSION, MAX_TEXT_BYTES, Scalar, check_name,
};
use crate::store::{CollectionInfo, Found};
use crate::vectors::{Near, Search};
use crate::wire;

/// Limits a deployment may lower (never raise above the contract's).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    /// Largest `k` a search may ask for.
    pub(crate) max_k: usize,
    /// Most objects (or ids) in one write.
    pub(crate) max_batch: usize,
}

const MAX_FILTER_DEPTH: usize = 32;
const MAX_IN_VALUES: usize = 1024;
const MAX_FILTER_KEY_BYTES: usize = 128;

/// A create request's fields, checked (zero means "the default", as the contract says). The
/// embedder (empty: the server's default) is resolved by the domain, which knows the embedders.
pub(crate) fn collection_spec(
    request: &pb::CreateCollectionRequest,
    now: (i64, i32),
) -> Result<CollectionSpec> {
    check_name(&request.name, "name")?;
    let dimension = request.dimension;
    if !(1..=MAX_DIMENSION as i32).contains(&dimension) {
        return Err(invalid(format!(
            "dimension: must be 1 to {MAX_DIMENSION}, got {dimension}"
        )));
    }
    let metric = wire::metric_from_pb(request.distance)
        .ok_or_else(|| invalid(format!("distance: unknown value {}", request.distance)))?;
    let hnsw = request.hnsw_config.unwrap_or_default();
    let m = or_default(hnsw.m, DEFAULT_M, 2..=128, "hnsw_config.m")?;
    let ef_construction = or_default(
        hnsw.ef_construction,
        DEFAULT_EF_CONSTRUCTION,
        m..=4096,
        "hnsw_config.ef_construction",
    )?;
    let ef_search = or_default(
        hnsw.ef_search,
        DEFAULT_EF_SEARCH,
        1..=4096,
        "hnsw_config.ef_search",
    )?;
    Ok(CollectionSpec {
        name: request.name.clone(),
        dimension: dimension as usize,
        metric,
        params: HnswParams { m, ef_construction },
        ef_search,
        embedder: request.embedder.clone(),
        create_time: now,
    })
}

fn or_default(
    value: i32,
    default: usize,
    range: std::ops::RangeInclusive<usize>,
    field: &str,
) -> Result<usize> {
    if value == 0 {
        return Ok(default);
    }
    usize::try_from(value)
        .ok()
        .filter(|v| range.contains(v))
        .ok_or_else(|| {
            invalid(format!(
                "{field}: must be {} to {}, got {value}",
                range.start(),
                range.end()
            ))
        })
}

/// A search request, checked against the deployment's limits.
pub(crate) fn search(request: pb::SearchRequest, limits: Limits) -> Result<Search> {
    check_name(&request.collection, "collection")?;
    let near = match request.query {
        None => return Err(invalid("query: set near_vector or near_text")),
        Some(pb::search_request::Query::NearVector(v)) => Near::Vector(v.vector),
        Some(pb::search_request::Query::NearText(text)) => {
            if text.is_empty() || text.len() > MAX_TEXT_BYTES {
                return Err(invalid(format!(
                    "near_text: must be 1 to {MAX_TEXT_BYTES} bytes"
                )));
            }
            Near::Text(text)
        }
    };
    let k = match request.k {
        0 => 10,
        k if k < 0 || k as usize > limits.max_k => {
            return Err(invalid(format!(
                "k: must be 0 to {}, got {k}",
                limits.max_k
            )));
        }
        k => k as usize,
    };
    let ef = match request.ef {
        None => None,
        Some(ef) if !(1..=4096).contains(&ef) => {
            return Err(invalid(format!("ef: must be 1 to 4096, got {ef}")));
        }
        Some(ef) => Some((ef as usize).max(k)),
    };
    let filter = request
        .filter
        .as_ref()
        .map(|f| filter(f, "filter", 0))
        .transpose()?;
    Ok(Search {
        collection: request.collection,
        near,
        k,
        ef,
        filter,
        with_vector: request.include_vector,
        with_payload: request.include_payload,
    })
}

/// A request's filter as a domain filter; `path` names it in error messages.
fn filter(filter: &pb::Filter, path: &str, depth: usize) -> Result<Filter> {
    use pb::filter::Kind as F;
    if depth > MAX_FILTER_DEPTH {
        return Err(invalid(format!(
            "{path}: filters nest at most {MAX_FILTER_DEPTH} deep"
        )));
    }
    let operands = |list: &pb::FilterList, name: &str| -> Result<Vec<Filter>> {
        if list.filters.is_empty() {
            return Err(invalid(format!(
                "{path}.{name}: needs at least one operand"
            )));
        }
        list.filters
            .iter()
            .enumerate()
            .map(|(i, f)| self::filter(f, &format!("{path}.{name}.filters[{i}]"), depth + 1))
            .collect()
    };
    match &filter.kind {
        None => Err(invalid(format!("{path}: no operator set"))),
        Some(F::AndFilter(list)) => Ok(Filter::And(operands(list, "and_filter")?)),
        Some(F::OrFilter(list)) => Ok(Filter::Or(operands(list, "or_filter")?)),
        Some(F::NotFilter(inner)) => Ok(Filter::Not(Box::new(self::filter(
            inner,
            &format!("{path}.not_filter"),
            depth + 1,
        )?))),
        Some(F::MatchCondition(c)) => {
            let path = format!("{path}.match_condition");
            let key = key(&c.key, &path)?;
            let value = match &c.value {
                None => Scalar::Null,
                Some(v) => scalar(v, &format!("{path}.value"), "a list cannot be matched")?,
            };
            Ok(Filter::Match { key, value })
        }
        Some(F::InCondition(c)) => {
            let path = format!("{path}.in_condition");
            let key = key(&c.key, &path)?;
            if c.values.is_empty() || c.values.len() > MAX_IN_VALUES {
                return Err(invalid(format!(
                    "{path}.values: needs 1 to {MAX_IN_VALUES} values, got {}",
                    c.values.len()
                )));
            }
            let values = c
                .values
                .iter()
                .enumerate()
                .map(|(i, v)| scalar(v, &format!("{path}.values[{i}]"), "lists are not allowed"))
                .collect::<Result<_>>()?;
            Ok(Filter::In { key, values })
        }
        Some(F::RangeCondition(c)) => {
            let path = format!("{path}.range_condition");
            let key = key(&c.key, &path)?;
            let bounds = Bounds::new(c.gt, c.gte, c.lt, c.lte)
                .map_err(|why| invalid(format!("{path}: {why}")))?;
            Ok(Filter::Range { key, bounds })
        }
    }
}

fn key(key: &str, path: &str) -> Result<String> {
    if key.is_empty() || key.len() > MAX_FILTER_KEY_BYTES {
        return Err(invalid(format!(
            "{path}.key: must be 1 to {MAX_FILTER_KEY_BYTES} bytes"
        )));
    }
    Ok(key.to_owned())
}

/// A filter operand: a finite, non-list value.
fn scalar(value: &pb::PayloadValue, path: &str, if_list: &str) -> Result<Scalar> {
    let value = Scalar::of(&wire::value_from_pb(value.clone()))
        .ok_or_else(|| invalid(format!("{path}: {if_list}")))?;
    match value {
        Scalar::Number(n) if !n.is_finite() => Err(invalid(format!("{path}: must be finite"))),
        value => Ok(value),
    }
}

/// The fingerprint ListCollections tokens are bound to (the listing has no other parameters).
fn listing() -> u64 {
    Fields::new().str("collections").fingerprint()
}

/// The name a ListCollections page token continues after (empty: from the start).
pub(crate) fn list_after(token: &str) -> Result<String> {
    if token.is_empty() {
        return Ok(String::new());
    }
    page_token::decode(token, listing(), |r| r.string())
        .map_err(|e: PageTokenError| invalid(e.to_string()))
}

/// The token that continues a ListCollections listing after `name`.
pub(crate) fn list_token(name: &str) -> String {
    page_token::encode(listing(), &Fields::new().str(name))
}

/// A collection's description and counts for a response.
pub(crate) fn collection(info: &CollectionInfo) -> pb::Collection {
    wire::collection_to_pb(&info.spec, info.objects, info.tombstones)
}

/// A search hit for a response.
pub(crate) fn hit(found: Found) -> pb::SearchHit {
    pb::SearchHit {
        id: found.id,
        score: found.score,
        distance: found.distance,
        payload: wire::payload_to_pb(found.payload),
        vector: found.vector,
        text: found.text,
    }
}
