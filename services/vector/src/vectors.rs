//! The service's own logic between the API and the store: texts become vectors here, with the
//! embedder each collection recorded, so that engines only ever store and search vectors (a
//! PostgreSQL engine has no embedder). Batches are checked before anything is embedded, and
//! vectors against the collection by the engine, inside its atomic write.

use std::sync::Arc;

use crate::embed::{self, Embedder};
use crate::error::{Result, VectorError, invalid};
use crate::model::{CollectionSpec, Filter, Object, UpsertCounts, check_batch, object_field};
use crate::store::{CollectionInfo, Found, SearchQuery, VectorStore};

/// What a search is near.
#[derive(Debug, Clone)]
pub(crate) enum Near {
    /// A vector of the collection's dimension.
    Vector(Vec<f32>),
    /// A text, embedded with the collection's embedder.
    Text(String),
}

/// A validated search request.
#[derive(Debug, Clone)]
pub(crate) struct Search {
    /// Collection to search.
    pub(crate) collection: String,
    /// What to search near.
    pub(crate) near: Near,
    /// Maximum number of hits.
    pub(crate) k: usize,
    /// Search breadth; `None` uses the collection's default.
    pub(crate) ef: Option<usize>,
    /// Payload filter.
    pub(crate) filter: Option<Filter>,
    /// Return each hit's vector.
    pub(crate) with_vector: bool,
    /// Return each hit's payload and text.
    pub(crate) with_payload: bool,
}

/// The store, with texts embedded on the way in.
#[derive(Clone)]
pub(crate) struct Vectors {
    store: Arc<dyn VectorStore>,
}

impl Vectors {
    /// Embeds for `store`.
    pub(crate) fn new(store: Arc<dyn VectorStore>) -> Self {
        Self { store }
    }

    /// The store itself, for calls that involve no text.
    pub(crate) fn store(&self) -> &dyn VectorStore {
        self.store.as_ref()
    }

    /// Creates a collection after checking that this server has its embedder.
    pub(crate) async fn create_collection(&self, spec: CollectionSpec) -> Result<CollectionInfo> {
        if spec.embedder != embed::NONE {
            embed::by_name(&spec.embedder, spec.dimension)
                .map_err(|e| invalid(format!("embedder: {e}")))?;
        }
        self.store.create_collection(spec).await
    }

    /// Checks a batch, embeds the texts of objects sent without a vector, and upserts it.
    pub(crate) async fn upsert(
        &self,
        collection: &str,
        mut objects: Vec<Object>,
    ) -> Result<UpsertCounts> {
        check_batch(&objects)?;
        if objects.iter().any(|o| o.vector.is_empty()) {
            let spec = self.store.collection(collection).await?.spec;
            let embedder = embedder_of(&spec)?;
            for (i, object) in objects.iter_mut().enumerate() {
                if let (Some(text), true) = (&object.text, object.vector.is_empty()) {
                    let field = format!("{}.text", object_field(i, object));
                    object.vector = embed_text(embedder.as_ref(), text, &field)?;
                }
            }
        }
        self.store.upsert(collection, objects).await
    }

    /// Searches near a vector, or near a text embedded with the collection's embedder.
    pub(crate) async fn search(&self, search: Search) -> Result<Vec<Found>> {
        let vector = match search.near {
            Near::Vector(vector) => vector,
            Near::Text(text) => {
                let spec = self.store.collection(&search.collection).await?.spec;
                embed_text(embedder_of(&spec)?.as_ref(), &text, "near_text")?
            }
        };
        let query = SearchQuery {
            collection: search.collection,
            vector,
            k: search.k,
            ef: search.ef,
            filter: search.filter,
            with_vector: search.with_vector,
            with_payload: search.with_payload,
        };
        self.store.search(query).await
    }

    /// Embeds texts with a collection's embedder; returns the embedder's name and the vectors.
    pub(crate) async fn embed(
        &self,
        collection: &CollectionSpec,
        texts: &[String],
    ) -> Result<(String, Vec<Vec<f32>>)> {
        let embedder = embedder_of(collection)?;
        let vectors = texts
            .iter()
            .enumerate()
            .map(|(i, t)| embed_text(embedder.as_ref(), t, &format!("texts[{i}]")))
            .collect::<Result<_>>()?;
        Ok((collection.embedder.clone(), vectors))
    }
}

/// The embedder a collection records, or why its texts cannot be embedded here.
fn embedder_of(spec: &CollectionSpec) -> Result<Arc<dyn Embedder>> {
    match embed::by_name(&spec.embedder, spec.dimension) {
        Ok(Some(embedder)) => Ok(embedder),
        Ok(None) => Err(VectorError::FailedPrecondition(format!(
            "collection '{}' has no text embedder (embedder '{}'); send vectors instead",
            spec.name, spec.embedder
        ))),
        Err(reason) => Err(VectorError::FailedPrecondition(format!(
            "collection '{}' was created with embedder '{}', which this server cannot use: {reason}",
            spec.name, spec.embedder
        ))),
    }
}

/// `text` embedded; an all-zero vector (nothing to embed) is refused, naming `field`.
fn embed_text(embedder: &dyn Embedder, text: &str, field: &str) -> Result<Vec<f32>> {
    let vector = embedder.embed(text);
    if vector.iter().all(|x| *x == 0.0) {
        return Err(invalid(format!("{field}: the text has no words to embed")));
    }
    Ok(vector)
}
