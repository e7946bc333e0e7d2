//! The gRPC edge of the vector service: checks what needs no data (sizes, limits, names),
//! hands the rest to the [`VectorStore`], and turns results and errors into messages.
//! [`status`] is the one place domain errors become gRPC status codes.

use std::sync::{Arc, OnceLock};
use std::time::Instant;

use chatmesh_proto::vector::{self as pb, vector_service_server::VectorService};
use tonic::{Request, Response, Status, Streaming};

use crate::collection::{self, CollectionSpec, MAX_TEXT_BYTES};
use crate::embed;
use crate::error::{VectorError, invalid};
use crate::filter::Filter;
use crate::store::{CollectionInfo, Query, SearchQuery, VectorStore};

/// Limits a deployment may lower (never raise above the contract's).
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest `k` a search may ask for.
    pub max_k: usize,
    /// Most objects (or ids) in one write.
    pub max_batch: usize,
}

const MAX_TEXTS: usize = 256;
const DEFAULT_PAGE_SIZE: usize = 100;
const MAX_PAGE_SIZE: usize = 1000;

/// Where the store will be once loaded; until then every call is UNAVAILABLE.
pub type ReadyStore = Arc<OnceLock<Arc<dyn VectorStore>>>;

/// Implements `chatmesh.vector.v1.VectorService`.
pub struct VectorApi {
    store: ReadyStore,
    limits: Limits,
}

impl VectorApi {
    /// An API over the store that `store` will hold once loaded.
    pub fn new(store: ReadyStore, limits: Limits) -> Self {
        Self { store, limits }
    }

    fn store(&self) -> Result<Arc<dyn VectorStore>, Status> {
        self.store
            .get()
            .cloned()
            .ok_or_else(|| Status::unavailable("the vector store is still loading"))
    }

    /// Runs a store call that writes (and fsyncs) off the async threads.
    async fn blocking<T: Send + 'static>(
        &self,
        call: impl FnOnce(&dyn VectorStore) -> Result<T, VectorError> + Send + 'static,
    ) -> Result<T, Status> {
        let store = self.store()?;
        tokio::task::spawn_blocking(move || call(store.as_ref()))
            .await
            .map_err(|e| Status::internal(format!("store task failed: {e}")))?
            .map_err(status)
    }

    fn check_batch(&self, len: usize, what: &str) -> Result<(), Status> {
        if len == 0 || len > self.limits.max_batch {
            return Err(Status::invalid_argument(format!(
                "{what}: send 1 to {} per request, got {len}",
                self.limits.max_batch
            )));
        }
        Ok(())
    }
}

/// Maps a domain error to its gRPC status. Storage and corruption errors are INTERNAL with a
/// generic message; their details go to the log.
pub fn status(error: VectorError) -> Status {
    match error {
        VectorError::InvalidArgument(m) => Status::invalid_argument(m),
        VectorError::NotFound(m) => Status::not_found(m),
        VectorError::AlreadyExists(m) => Status::already_exists(m),
        VectorError::FailedPrecondition(m) => Status::failed_precondition(m),
        VectorError::Aborted(m) => Status::aborted(m),
        VectorError::Unavailable(m) => Status::unavailable(m),
        other @ (VectorError::Storage(_) | VectorError::Corrupt(_)) => {
            tracing::error!(error = %other, "vector store failure");
            Status::internal(
                "the vector store failed to complete the operation; nothing was changed",
            )
        }
    }
}

fn collection_pb(info: &CollectionInfo) -> pb::Collection {
    info.spec.to_pb(info.objects, info.tombstones)
}

fn check_name(name: &str, field: &str) -> Result<(), Status> {
    collection::check_name(name, field).map_err(status)
}

fn now() -> (i64, i32) {
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    (since.as_secs() as i64, since.subsec_nanos() as i32)
}

/// Page tokens are the last name of the previous page, hex-encoded behind a version tag.
fn encode_page_token(last: &str) -> String {
    let hex: String = last.bytes().map(|b| format!("{b:02x}")).collect();
    format!("c1.{hex}")
}

fn decode_page_token(token: &str) -> Result<String, Status> {
    let bad = || Status::invalid_argument("page_token: not a token this server issued");
    if token.is_empty() {
        return Ok(String::new());
    }
    let hex = token.strip_prefix("c1.").ok_or_else(bad)?;
    if hex.len() % 2 != 0 {
        return Err(bad());
    }
    let bytes = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).map_err(|_| bad()))
        .collect::<Result<Vec<u8>, _>>()?;
    String::from_utf8(bytes).map_err(|_| bad())
}

#[tonic::async_trait]
impl VectorService for VectorApi {
    async fn create_collection(
        &self,
        request: Request<pb::CreateCollectionRequest>,
    ) -> Result<Response<pb::CreateCollectionResponse>, Status> {
        let spec = CollectionSpec::validated(request.get_ref(), now()).map_err(status)?;
        let info = self
            .blocking(move |store| store.create_collection(spec))
            .await?;
        Ok(Response::new(pb::CreateCollectionResponse {
            collection: Some(collection_pb(&info)),
        }))
    }

    async fn get_collection(
        &self,
        request: Request<pb::GetCollectionRequest>,
    ) -> Result<Response<pb::GetCollectionResponse>, Status> {
        let name = &request.get_ref().name;
        check_name(name, "name")?;
        let info = self.store()?.collection(name).map_err(status)?;
        Ok(Response::new(pb::GetCollectionResponse {
            collection: Some(collection_pb(&info)),
        }))
    }

    async fn list_collections(
        &self,
        request: Request<pb::ListCollectionsRequest>,
    ) -> Result<Response<pb::ListCollectionsResponse>, Status> {
        let request = request.into_inner();
        let size = match request.page_size {
            0 => DEFAULT_PAGE_SIZE,
            n if n < 0 => return Err(Status::invalid_argument("page_size: must not be negative")),
            n => (n as usize).min(MAX_PAGE_SIZE),
        };
        let after = decode_page_token(&request.page_token)?;
        let mut page = self
            .store()?
            .list_collections(&after, size + 1)
            .map_err(status)?;
        let next_page_token = if page.len() > size {
            page.truncate(size);
            page.last()
                .map(|c| encode_page_token(&c.spec.name))
                .unwrap_or_default()
        } else {
            String::new()
        };
        Ok(Response::new(pb::ListCollectionsResponse {
            collections: page.iter().map(collection_pb).collect(),
            next_page_token,
        }))
    }

    async fn delete_collection(
        &self,
        request: Request<pb::DeleteCollectionRequest>,
    ) -> Result<Response<pb::DeleteCollectionResponse>, Status> {
        let name = request.into_inner().name;
        check_name(&name, "name")?;
        let deleted = self
            .blocking(move |store| store.delete_collection(&name))
            .await?;
        Ok(Response::new(pb::DeleteCollectionResponse {
            deleted_object_count: deleted as i64,
        }))
    }

    async fn upsert_objects(
        &self,
        request: Request<pb::UpsertObjectsRequest>,
    ) -> Result<Response<pb::UpsertObjectsResponse>, Status> {
        let request = request.into_inner();
        check_name(&request.collection, "collection")?;
        self.check_batch(request.objects.len(), "objects")?;
        let counts = self
            .blocking(move |store| store.upsert(&request.collection, request.objects))
            .await?;
        Ok(Response::new(pb::UpsertObjectsResponse {
            upserted_count: (counts.created + counts.replaced) as i64,
            created_count: counts.created as i64,
            replaced_count: counts.replaced as i64,
        }))
    }

    async fn stream_upsert_objects(
        &self,
        request: Request<Streaming<pb::StreamUpsertObjectsRequest>>,
    ) -> Result<Response<pb::StreamUpsertObjectsResponse>, Status> {
        let mut stream = request.into_inner();
        let mut totals = pb::StreamUpsertObjectsResponse::default();
        let mut collection: Option<String> = None;
        let committed = |totals: &pb::StreamUpsertObjectsResponse, e: Status| {
            Status::new(
                e.code(),
                format!(
                    "{} ({} batches were committed before this one)",
                    e.message(),
                    totals.batch_count
                ),
            )
        };
        while let Some(batch) = stream.message().await? {
            let name = collection
                .get_or_insert_with(|| batch.collection.clone())
                .clone();
            if batch.collection != name {
                return Err(committed(
                    &totals,
                    Status::invalid_argument(format!(
                        "collection: every message must name '{name}', got '{}'",
                        batch.collection
                    )),
                ));
            }
            check_name(&name, "collection").map_err(|e| committed(&totals, e))?;
            self.check_batch(batch.objects.len(), "objects")
                .map_err(|e| committed(&totals, e))?;
            let counts = self
                .blocking(move |store| store.upsert(&name, batch.objects))
                .await
                .map_err(|e| committed(&totals, e))?;
            totals.batch_count += 1;
            totals.created_count += counts.created as i64;
            totals.replaced_count += counts.replaced as i64;
            totals.upserted_count += (counts.created + counts.replaced) as i64;
        }
        if collection.is_none() {
            return Err(Status::invalid_argument("the stream carried no batches"));
        }
        Ok(Response::new(totals))
    }

    async fn get_object(
        &self,
        request: Request<pb::GetObjectRequest>,
    ) -> Result<Response<pb::GetObjectResponse>, Status> {
        let request = request.into_inner();
        check_name(&request.collection, "collection")?;
        collection::check_id(&request.id, "id").map_err(status)?;
        let object = self
            .store()?
            .get(&request.collection, &request.id)
            .map_err(status)?;
        Ok(Response::new(pb::GetObjectResponse {
            object: Some(pb::VectorObject {
                id: object.id,
                vector: if request.include_vector {
                    object.vector
                } else {
                    Vec::new()
                },
                payload: object.payload,
                text: object.text,
            }),
        }))
    }

    async fn delete_objects(
        &self,
        request: Request<pb::DeleteObjectsRequest>,
    ) -> Result<Response<pb::DeleteObjectsResponse>, Status> {
        let request = request.into_inner();
        check_name(&request.collection, "collection")?;
        self.check_batch(request.ids.len(), "ids")?;
        for (i, id) in request.ids.iter().enumerate() {
            collection::check_id(id, &format!("ids[{i}]")).map_err(status)?;
        }
        let deleted = self
            .blocking(move |store| store.delete(&request.collection, &request.ids))
            .await?;
        Ok(Response::new(pb::DeleteObjectsResponse {
            deleted_count: deleted as i64,
        }))
    }

    async fn search(
        &self,
        request: Request<pb::SearchRequest>,
    ) -> Result<Response<pb::SearchResponse>, Status> {
        let started = Instant::now();
        let request = request.into_inner();
        check_name(&request.collection, "collection")?;
        let query = match request.query {
            None => {
                return Err(Status::invalid_argument(
                    "query: set near_vector or near_text",
                ));
            }
            Some(pb::search_request::Query::NearVector(v)) => Query::Vector(v.vector),
            Some(pb::search_request::Query::NearText(text)) => {
                if text.is_empty() || text.len() > MAX_TEXT_BYTES {
                    return Err(Status::invalid_argument(format!(
                        "near_text: must be 1 to {MAX_TEXT_BYTES} bytes"
                    )));
                }
                Query::Text(text)
            }
        };
        let k = match request.k {
            0 => 10,
            k if k < 0 || k as usize > self.limits.max_k => {
                return Err(Status::invalid_argument(format!(
                    "k: must be 0 to {}, got {k}",
                    self.limits.max_k
                )));
            }
            k => k as usize,
        };
        let ef = match request.ef {
            None => None,
            Some(ef) if !(1..=4096).contains(&ef) => {
                return Err(Status::invalid_argument(format!(
                    "ef: must be 1 to 4096, got {ef}"
                )));
            }
            Some(ef) => Some((ef as usize).max(k)),
        };
        let filter = request
            .filter
            .as_ref()
            .map(|f| Filter::compile(f, "filter"))
            .transpose()
            .map_err(status)?;
        let query = SearchQuery {
            collection: request.collection,
            query,
            k,
            ef,
            filter,
            with_vector: request.include_vector,
            with_payload: request.include_payload,
        };
        let found = self.store()?.search(&query).map_err(status)?;
        let hits = found
            .into_iter()
            .map(|f| pb::SearchHit {
                id: f.id,
                score: f.score,
                distance: f.distance,
                payload: f.payload,
                vector: f.vector,
                text: f.text,
            })
            .collect();
        let search_time = prost_types::Duration::try_from(started.elapsed()).ok();
        Ok(Response::new(pb::SearchResponse { hits, search_time }))
    }

    async fn embed_text(
        &self,
        request: Request<pb::EmbedTextRequest>,
    ) -> Result<Response<pb::EmbedTextResponse>, Status> {
        let request = request.into_inner();
        if request.texts.is_empty() || request.texts.len() > MAX_TEXTS {
            return Err(Status::invalid_argument(format!(
                "texts: send 1 to {MAX_TEXTS}, got {}",
                request.texts.len()
            )));
        }
        if let Some(i) = request.texts.iter().position(|t| t.len() > MAX_TEXT_BYTES) {
            return Err(Status::invalid_argument(format!(
                "texts[{i}]: longer than {MAX_TEXT_BYTES} bytes"
            )));
        }
        let (embedder, vectors) = match request.source {
            None => {
                return Err(Status::invalid_argument(
                    "source: set collection or embedder",
                ));
            }
            Some(pb::embed_text_request::Source::Collection(name)) => {
                check_name(&name, "collection")?;
                let store = self.store()?;
                let info = store.collection(&name).map_err(status)?;
                if request.dimension != 0 && request.dimension as usize != info.spec.dimension {
                    return Err(Status::invalid_argument(format!(
                        "dimension: collection '{name}' has dimension {}, got {}",
                        info.spec.dimension, request.dimension
                    )));
                }
                store.embed(&name, &request.texts).map_err(status)?
            }
            Some(pb::embed_text_request::Source::Embedder(name)) => {
                let dimension = match request.dimension {
                    0 => embed::DEFAULT_DIMENSION,
                    d if !(1..=4096).contains(&d) => {
                        return Err(Status::invalid_argument(format!(
                            "dimension: must be 0 to 4096, got {d}"
                        )));
                    }
                    d => d as usize,
                };
                let embedder = embed::by_name(&name, dimension)
                    .map_err(status)?
                    .ok_or_else(|| invalid(format!("embedder: '{name}' does not embed text")))
                    .map_err(status)?;
                let vectors = request.texts.iter().map(|t| embedder.embed(t)).collect();
                (embedder.name().to_owned(), vectors)
            }
        };
        let dimension = vectors.first().map_or(0, Vec::len) as i32;
        Ok(Response::new(pb::EmbedTextResponse {
            embeddings: vectors
                .into_iter()
                .map(|vector| pb::Embedding { vector })
                .collect(),
            embedder,
            dimension,
        }))
    }

    async fn compact_collection(
        &self,
        request: Request<pb::CompactCollectionRequest>,
    ) -> Result<Response<pb::CompactCollectionResponse>, Status> {
        let name = request.into_inner().collection;
        check_name(&name, "collection")?;
        let removed = self.blocking(move |store| store.compact(&name)).await?;
        Ok(Response::new(pb::CompactCollectionResponse {
            removed_tombstone_count: removed as i64,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_tokens_round_trip_and_refuse_forgeries() {
        let token = encode_page_token("faq-docs");
        assert_eq!(decode_page_token(&token).unwrap(), "faq-docs");
        assert_eq!(decode_page_token("").unwrap(), "");
        for bad in ["faq", "c1.zz", "c1.abc", "c1.ff"] {
            assert_eq!(
                decode_page_token(bad).unwrap_err().code(),
                tonic::Code::InvalidArgument,
                "{bad}"
            );
        }
    }
}
