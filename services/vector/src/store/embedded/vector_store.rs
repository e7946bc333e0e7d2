//! The embedded engine behind the async [`VectorStore`] trait. Writes (which fsync) and
//! compactions (which rebuild an index) run on the blocking pool; reads and searches run on the
//! calling task, as before the trait was async: they only take read locks, which writes hold for
//! the length of an in-memory apply, and handing them to the pool would cost more than they do.

use super::EmbeddedStore;
use crate::error::{Result, VectorError};
use crate::model::{CollectionSpec, Object, UpsertCounts};
use crate::store::{CollectionInfo, Found, Reembedder, SearchQuery, VectorStore};

impl EmbeddedStore {
    /// Runs a blocking call on a clone of the store, off the async threads.
    async fn blocking<T: Send + 'static>(
        &self,
        call: impl FnOnce(&EmbeddedStore) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let store = self.clone();
        tokio::task::spawn_blocking(move || call(&store))
            .await
            .map_err(|e| VectorError::Internal(format!("store task failed: {e}")))?
    }
}

#[tonic::async_trait]
impl VectorStore for EmbeddedStore {
    async fn create_collection(&self, spec: CollectionSpec) -> Result<CollectionInfo> {
        self.blocking(move |store| store.create_collection(spec))
            .await
    }

    async fn collection(&self, name: &str) -> Result<CollectionInfo> {
        EmbeddedStore::collection(self, name)
    }

    async fn list_collections(&self, after: &str, limit: usize) -> Result<Vec<CollectionInfo>> {
        EmbeddedStore::list_collections(self, after, limit)
    }

    async fn delete_collection(&self, name: &str) -> Result<u64> {
        let name = name.to_owned();
        self.blocking(move |store| store.delete_collection(&name))
            .await
    }

    async fn upsert(&self, collection: &str, objects: Vec<Object>) -> Result<UpsertCounts> {
        let collection = collection.to_owned();
        self.blocking(move |store| store.upsert(&collection, objects))
            .await
    }

    async fn get(&self, collection: &str, id: &str) -> Result<Object> {
        EmbeddedStore::get(self, collection, id)
    }

    async fn delete(&self, collection: &str, ids: Vec<String>) -> Result<u64> {
        let collection = collection.to_owned();
        self.blocking(move |store| store.delete(&collection, &ids))
            .await
    }

    async fn search(&self, query: SearchQuery) -> Result<Vec<Found>> {
        EmbeddedStore::search(self, &query)
    }

    async fn reembed(
        &self,
        collection: &str,
        embedder: String,
        embed: Reembedder,
    ) -> Result<(CollectionInfo, u64)> {
        let collection = collection.to_owned();
        self.blocking(move |store| store.reembed(&collection, embedder, &embed))
            .await
    }

    async fn compact(&self, collection: &str) -> Result<u64> {
        let collection = collection.to_owned();
        self.blocking(move |store| store.compact(&collection)).await
    }

    async fn flush(&self) -> Result<()> {
        self.blocking(EmbeddedStore::snapshot).await
    }
}
