//! The gRPC edge of the vector service: each handler turns its request into domain values
//! ([`convert`]), calls the domain ([`Vectors`]: texts embedded, then the store), and turns the
//! result back; [`status`] is the one place domain errors become gRPC status codes.

mod convert;
mod status;

use std::sync::{Arc, OnceLock};
use std::time::Instant;

use chatmesh_proto::vector::{self as pb, vector_service_server::VectorService};
use tonic::{Request, Response, Status, Streaming};

pub(crate) use convert::Limits;
use status::status;

use crate::embed::{self, Embedders};
use crate::error::invalid;
use crate::model::{MAX_TEXT_BYTES, check_id, check_name};
use crate::vectors::Vectors;
use crate::wire;

const MAX_TEXTS: usize = 256;
const DEFAULT_PAGE_SIZE: usize = 100;
const MAX_PAGE_SIZE: usize = 1000;

/// Where the store will be once loaded; until then every call is UNAVAILABLE.
pub(crate) type ReadyStore = Arc<OnceLock<Arc<Vectors>>>;

/// Implements `chatmesh.vector.v1.VectorService`.
pub(crate) struct VectorApi {
    store: ReadyStore,
    limits: Limits,
}

impl VectorApi {
    /// An API over the store that `store` will hold once loaded.
    pub(crate) fn new(store: ReadyStore, limits: Limits) -> Self {
        Self { store, limits }
    }

    fn vectors(&self) -> Result<&Vectors, Status> {
        self.store
            .get()
            .map(Arc::as_ref)
            .ok_or_else(|| Status::unavailable("the vector store is still loading"))
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

fn check_collection(name: &str, field: &str) -> Result<(), Status> {
    check_name(name, field).map_err(status)
}

fn now() -> (i64, i32) {
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    (since.as_secs() as i64, since.subsec_nanos() as i32)
}

/// Says how many batches of a stream were committed before the one that failed.
fn after_batches(committed: i64, e: Status) -> Status {
    Status::new(
        e.code(),
        format!(
            "{} ({committed} batches were committed before this one)",
            e.message()
        ),
    )
}

#[tonic::async_trait]
impl VectorService for VectorApi {
    async fn create_collection(
        &self,
        request: Request<pb::CreateCollectionRequest>,
    ) -> Result<Response<pb::CreateCollectionResponse>, Status> {
        let spec = convert::collection_spec(request.get_ref(), now()).map_err(status)?;
        let info = self
            .vectors()?
            .create_collection(spec)
            .await
            .map_err(status)?;
        Ok(Response::new(pb::CreateCollectionResponse {
            collection: Some(convert::collection(&info)),
        }))
    }

    async fn get_collection(
        &self,
        request: Request<pb::GetCollectionRequest>,
    ) -> Result<Response<pb::GetCollectionResponse>, Status> {
        let name = &request.get_ref().name;
        check_collection(name, "name")?;
        let info = self
            .vectors()?
            .store()
            .collection(name)
            .await
            .map_err(status)?;
        Ok(Response::new(pb::GetCollectionResponse {
            collection: Some(convert::collection(&info)),
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
        let after = convert::list_after(&request.page_token).map_err(status)?;
        let mut page = self
            .vectors()?
            .store()
            .list_collections(&after, size + 1)
            .await
            .map_err(status)?;
        let next_page_token = if page.len() > size {
            page.truncate(size);
            page.last()
                .map(|c| convert::list_token(&c.spec.name))
                .unwrap_or_default()
        } else {
            String::new()
        };
        Ok(Response::new(pb::ListCollectionsResponse {
            collections: page.iter().map(convert::collection).collect(),
            next_page_token,
        }))
    }

    async fn delete_collection(
        &self,
        request: Request<pb::DeleteCollectionRequest>,
    ) -> Result<Response<pb::DeleteCollectionResponse>, Status> {
        let name = request.into_inner().name;
        check_collection(&name, "name")?;
        let deleted = self
            .vectors()?
            .store()
            .delete_collection(&name)
            .await
            .map_err(status)?;
        Ok(Response::new(pb::DeleteCollectionResponse {
            deleted_object_count: deleted as i64,
        }))
    }

    async fn upsert_objects(
        &self,
        request: Request<pb::UpsertObjectsRequest>,
    ) -> Result<Response<pb::UpsertObjectsResponse>, Status> {
        let request = request.into_inner();
        check_collection(&request.collection, "collection")?;
        self.check_batch(request.objects.len(), "objects")?;
        let objects = request
            .objects
            .into_iter()
            .map(wire::object_from_pb)
            .collect();
        let counts = self
            .vectors()?
            .upsert(&request.collection, objects)
            .await
            .map_err(status)?;
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
        while let Some(batch) = stream.message().await? {
            let committed = totals.batch_count;
            let name = collection
                .get_or_insert_with(|| batch.collection.clone())
                .clone();
            if batch.collection != name {
                return Err(after_batches(
                    committed,
                    Status::invalid_argument(format!(
                        "collection: every message must name '{name}', got '{}'",
                        batch.collection
                    )),
                ));
            }
            check_collection(&name, "collection").map_err(|e| after_batches(committed, e))?;
            self.check_batch(batch.objects.len(), "objects")
                .map_err(|e| after_batches(committed, e))?;
            let objects = batch
                .objects
                .into_iter()
                .map(wire::object_from_pb)
                .collect();
            let counts = self
                .vectors()?
                .upsert(&name, objects)
                .await
                .map_err(|e| after_batches(committed, status(e)))?;
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
        check_collection(&request.collection, "collection")?;
        check_id(&request.id, "id").map_err(status)?;
        let mut object = self
            .vectors()?
            .store()
            .get(&request.collection, &request.id)
            .await
            .map_err(status)?;
        if !request.include_vector {
            object.vector = Vec::new();
        }
        Ok(Response::new(pb::GetObjectResponse {
            object: Some(wire::object_to_pb(object)),
        }))
    }

    async fn delete_objects(
        &self,
        request: Request<pb::DeleteObjectsRequest>,
    ) -> Result<Response<pb::DeleteObjectsResponse>, Status> {
        let request = request.into_inner();
        check_collection(&request.collection, "collection")?;
        self.check_batch(request.ids.len(), "ids")?;
        for (i, id) in request.ids.iter().enumerate() {
            check_id(id, &format!("ids[{i}]")).map_err(status)?;
        }
        let deleted = self
            .vectors()?
            .store()
            .delete(&request.collection, request.ids)
            .await
            .map_err(status)?;
        Ok(Response::new(pb::DeleteObjectsResponse {
            deleted_count: deleted as i64,
        }))
    }

    async fn search(
        &self,
        request: Request<pb::SearchRequest>,
    ) -> Result<Response<pb::SearchResponse>, Status> {
        let started = Instant::now();
        let search = convert::search(request.into_inner(), self.limits).map_err(status)?;
        let found = self.vectors()?.search(search).await.map_err(status)?;
        let hits = found.into_iter().map(convert::hit).collect();
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
                check_collection(&name, "collection")?;
                let vectors = self.vectors()?;
                let info = vectors.store().collection(&name).await.map_err(status)?;
                if request.dimension != 0 && request.dimension as usize != info.spec.dimension {
                    return Err(Status::invalid_argument(format!(
                        "dimension: collection '{name}' has dimension {}, got {}",
                        info.spec.dimension, request.dimension
                    )));
                }
                vectors
                    .embed(&info.spec, &request.texts)
                    .await
                    .map_err(status)?
            }
            Some(pb::embed_text_request::Source::Embedder(name)) => embed_with(
                self.vectors()?.embedders(),
                &name,
                request.dimension,
                &request.texts,
            )?,
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

    async fn reembed_collection(
        &self,
        request: Request<pb::ReembedCollectionRequest>,
    ) -> Result<Response<pb::ReembedCollectionResponse>, Status> {
        let request = request.into_inner();
        check_collection(&request.collection, "collection")?;
        let (info, count) = self
            .vectors()?
            .reembed(&request.collection, &request.embedder)
            .await
            .map_err(status)?;
        Ok(Response::new(pb::ReembedCollectionResponse {
            collection: Some(convert::collection(&info)),
            reembedded_count: count as i64,
        }))
    }

    async fn compact_collection(
        &self,
        request: Request<pb::CompactCollectionRequest>,
    ) -> Result<Response<pb::CompactCollectionResponse>, Status> {
        let name = request.into_inner().collection;
        check_collection(&name, "collection")?;
        let removed = self
            .vectors()?
            .store()
            .compact(&name)
            .await
            .map_err(status)?;
        Ok(Response::new(pb::CompactCollectionResponse {
            removed_tombstone_count: removed as i64,
        }))
    }
}

/// EmbedText with a named embedder (no collection).
fn embed_with(
    embedders: &Embedders,
    name: &str,
    dimension: i32,
    texts: &[String],
) -> Result<(String, Vec<Vec<f32>>), Status> {
    let dimension = match dimension {
        0 => embed::DEFAULT_DIMENSION,
        d if !(1..=4096).contains(&d) => {
            return Err(Status::invalid_argument(format!(
                "dimension: must be 0 to 4096, got {d}"
            )));
        }
        d => d as usize,
    };
    let embedder = embedders
        .resolve(name, dimension)
        .map_err(status)?
        .ok_or_else(|| invalid(format!("embedder: '{name}' does not embed text")))
        .map_err(status)?;
    let vectors = texts.iter().map(|t| embedder.embed(t)).collect();
    Ok((embedder.name().to_owned(), vectors))
}
