//! The service's own logic between the API and the store: texts become vectors here, with the
//! embedder each collection recorded, so that engines only ever store and search vectors (a
//! PostgreSQL engine has no embedder). Batches are checked before anything is embedded, and
//! vectors against the collection by the engine, inside its atomic write.

use std::sync::Arc;

use crate::embed::{self, Embedder, Embedders};
use crate::error::{Result, VectorError, invalid};
use crate::memo::{Key, Memo};
use crate::model::{CollectionSpec, Filter, Object, UpsertCounts, check_batch, object_field};
use crate::store::{CollectionInfo, Found, Reembedder, SearchQuery, VectorStore};

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
    embedders: Embedders,
    queries: Arc<QueryVectors>,
}

/// Query texts' vectors by embedder, dimension and text. An embedder is a pure function of
/// those three (a model's name carries its files' fingerprint), so a kept vector is right for as
/// long as the process lives: a question asked again in the same words is not embedded again
/// (the static model spends most of a cached search's time there). Bounded by
/// `--search-cache-bytes` like the engine's kept searches; texts over [`MAX_QUERY_TEXT`] bytes
/// are embedded every time.
pub(crate) type QueryVectors = Memo<[f32]>;

/// Longest query text whose vector is kept (bytes): questions, not documents.
const MAX_QUERY_TEXT: usize = 1024;

impl Vectors {
    /// Embeds for `store` with `embedders`, keeping query vectors in `queries`.
    pub(crate) fn new(
        store: Arc<dyn VectorStore>,
        embedders: Embedders,
        queries: Arc<QueryVectors>,
    ) -> Self {
        Self {
            store,
            embedders,
            queries,
        }
    }

    /// The embedders this server has.
    pub(crate) fn embedders(&self) -> &Embedders {
        &self.embedders
    }

    /// The store itself, for calls that involve no text.
    pub(crate) fn store(&self) -> &dyn VectorStore {
        self.store.as_ref()
    }

    /// Creates a collection recording the full name of the embedder it names (the server's
    /// default when it names none), after checking that this server has it.
    pub(crate) async fn create_collection(
        &self,
        mut spec: CollectionSpec,
    ) -> Result<CollectionInfo> {
        spec.embedder = self.embedder_named(&spec.embedder, spec.dimension)?;
        self.store.create_collection(spec).await
    }

    /// Re-embeds every object of a collection with the embedder named (the default when none)
    /// and records it; returns the collection afterwards and how many objects changed.
    pub(crate) async fn reembed(
        &self,
        collection: &str,
        embedder: &str,
    ) -> Result<(CollectionInfo, u64)> {
        let spec = self.store.collection(collection).await?.spec;
        let name = self.embedder_named(embedder, spec.dimension)?;
        let Some(with) = self.embedders.resolve(&name, spec.dimension)? else {
            return Err(invalid("embedder: 'none' embeds no text"));
        };
        let embed: Reembedder = Arc::new(move |object: &Object| {
            let Some(text) = &object.text else {
                return Err(VectorError::FailedPrecondition(format!(
                    "object '{}' has no text to embed again; upsert it with a vector from the new \
                     embedder, or delete it, then retry",
                    object.id
                )));
            };
            let field = format!("object '{}'", object.id);
            embed_text(with.as_ref(), text, &field, true)
        });
        self.store.reembed(collection, name, embed).await
    }

    /// The embedder that built a collection's vectors, or why this server cannot embed for it.
    fn embedder_of(&self, spec: &CollectionSpec) -> Result<Arc<dyn Embedder>> {
        self.embedders
            .of_collection(&spec.name, &spec.embedder, spec.dimension)
    }

    /// The full name of the embedder a request names, or INVALID_ARGUMENT for `embedder`.
    fn embedder_named(&self, name: &str, dimension: usize) -> Result<String> {
        match self.embedders.resolve(name, dimension) {
            Ok(Some(embedder)) => Ok(embedder.name().to_owned()),
            Ok(None) => Ok(embed::NONE.to_owned()),
            Err(e) => Err(invalid(format!("embedder: {e}"))),
        }
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
            let embedder = self.embedder_of(&spec)?;
            for (i, object) in objects.iter_mut().enumerate() {
                if let (Some(text), true) = (&object.text, object.vector.is_empty()) {
                    let field = format!("{}.text", object_field(i, object));
                    object.vector = embed_text(embedder.as_ref(), text, &field, true)?;
                }
            }
        }
        let bulk = batch_bytes(&objects) >= BULK_BYTES;
        let counts = self.store.upsert(collection, objects).await;
        if bulk {
            // The decoded batch, its embedding work and its log record are freed by now; glibc
            // keeps such pages (2.3 MiB after loading the benchmark's 2,000 FAQs).
            chatmesh_runtime::memory::release_free_memory_soon();
        }
        counts
    }

    /// Searches near a vector, or near a text embedded with the collection's embedder.
    pub(crate) async fn search(&self, search: Search) -> Result<Vec<Found>> {
        let vector = match search.near {
            Near::Vector(vector) => vector,
            Near::Text(text) => {
                let spec = self.store.collection(&search.collection).await?.spec;
                let embedder = self.embedder_of(&spec)?;
                let key = self
                    .queries
                    .keeps()
                    .then(|| query_key(embedder.as_ref(), spec.dimension, &text))
                    .flatten();
                let vector = self.queries.get_or(key, || embedder.embed(&text).into());
                refuse_zero(vector.to_vec(), "near_text")?
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
        let embedder = self.embedder_of(collection)?;
        let vectors = texts
            .iter()
            .enumerate()
            .map(|(i, t)| embed_text(embedder.as_ref(), t, &format!("texts[{i}]"), false))
            .collect::<Result<_>>()?;
        Ok((collection.embedder.clone(), vectors))
    }
}

/// The key of `text`'s vector in [`QueryVectors`], or `None` for a text too long to keep.
fn query_key(embedder: &dyn Embedder, dimension: usize, text: &str) -> Option<Box<[u8]>> {
    if text.len() > MAX_QUERY_TEXT {
        return None;
    }
    let mut key = Key::with_capacity(24 + embedder.name().len() + text.len());
    key.text(embedder.name());
    key.u64(dimension as u64);
    key.text(text);
    // Bounded already: the text by MAX_QUERY_TEXT, the name by the embedders this server has.
    key.finish(usize::MAX)
}

/// A batch at least this large (vectors, texts and ids) hands the memory it used back after it is
/// written: the benchmark loads its FAQs in batches of 500, about 0.6 MiB each.
const BULK_BYTES: usize = 256 * 1024;

/// About the bytes a batch occupies while it is written.
fn batch_bytes(objects: &[Object]) -> usize {
    objects
        .iter()
        .map(|o| o.vector.len() * 4 + o.text.as_ref().map_or(0, String::len) + o.id.len())
        .sum()
}

/// `text` embedded as a stored document or as a query; an all-zero vector (nothing to embed)
/// is refused, naming `field`.
fn embed_text(
    embedder: &dyn Embedder,
    text: &str,
    field: &str,
    document: bool,
) -> Result<Vec<f32>> {
    let vector = if document {
        embedder.embed_document(text)
    } else {
        embedder.embed(text)
    };
    refuse_zero(vector, field)
}

/// `vector`, unless it is all zeros (its text had nothing to embed): then refused, naming `field`.
fn refuse_zero(vector: Vec<f32>, field: &str) -> Result<Vec<f32>> {
    if vector.iter().all(|x| *x == 0.0) {
        return Err(invalid(format!("{field}: the text has no words to embed")));
    }
    Ok(vector)
}
