//! The embedded engine: collections in memory, made durable by a write-ahead log and snapshots
//! in the data directory (`chatmesh_durable`).
//!
//! - Every write is checked first, then appended to `wal.log` and fsync'd, then applied; the
//!   caller is answered only after that, so an acknowledged write survives a crash.
//! - When the log grows past a threshold (and at graceful shutdown, and after a compaction) a
//!   snapshot is written ([`snapshot`]): `snapshot.bin` plus an hnsw_rs dump of each index. The
//!   log is then emptied; entries carry sequence numbers, so a crash between the two steps
//!   replays nothing twice.
//! - At start the snapshot is loaded (an index dump is reused when it matches, else the index is
//!   rebuilt), then the log is replayed; a torn record at the end of the log is cut off.
//!
//! The methods here block (fsync, index builds); [`vector_store`] puts them behind the async
//! [`VectorStore`](super::VectorStore) trait. Locks, always taken in this order: the catalog
//! (read for object writes and reads, write for creating or deleting collections and for
//! snapshots), then one collection, then the log.

mod cell;
mod collection;
mod index;
mod records;
mod scan;
mod searches;
mod snapshot;
mod vector_store;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chatmesh_durable::Log;
use parking_lot::{Mutex, RwLock};

use cell::Cell;
pub use collection::Collection;
pub(crate) use collection::FULL_SCAN_FLOATS;
use records::{DeleteOp, LogEntry, Op, ReembedOp, UpsertOp};
pub(crate) use searches::DEFAULT_BYTES as SEARCH_CACHE_BYTES;
pub(crate) use searches::Searches;

use super::{CollectionInfo, Found, Reembedder, SearchQuery};
use crate::error::{Result, VectorError};
use crate::model::{CollectionSpec, Object, UpsertCounts};
use crate::wire;

const LOG_FILE: &str = "wal.log";

/// Tuning of the embedded store.
#[derive(Debug, Clone)]
pub(crate) struct StoreOptions {
    /// Log size that triggers a snapshot.
    pub(crate) snapshot_after_bytes: u64,
    /// Searches over at most this many vector components scan exactly instead of using HNSW.
    pub(crate) full_scan_floats: usize,
    /// Searches kept for when they come again (shared with the server's metrics).
    pub(crate) searches: Arc<Searches>,
}

/// See the module documentation. Cheap to clone: clones share the store.
#[derive(Clone)]
pub(crate) struct EmbeddedStore(Arc<Inner>);

struct Inner {
    dir: PathBuf,
    options: StoreOptions,
    catalog: RwLock<BTreeMap<String, Arc<Cell>>>,
    log: Mutex<Log<LogEntry>>,
}

impl EmbeddedStore {
    /// Opens (or creates) the store in `dir`: loads the snapshot, replays the log.
    pub(crate) fn open(dir: &Path, options: StoreOptions) -> Result<Self> {
        std::fs::create_dir_all(dir)?;
        let scan = options.full_scan_floats;
        let (snapshot_lsn, mut collections) = snapshot::load(dir, scan)?;
        let (log, replayed) =
            Log::open(
                &dir.join(LOG_FILE),
                snapshot_lsn,
                |entry: LogEntry| match entry.op {
                    Some(op) => replay(&mut collections, op, scan).map_err(|e| e.to_string()),
                    None => Ok(()),
                },
            )?;
        tracing::info!(
            collections = collections.len(),
            replayed,
            "vector store loaded"
        );
        let catalog = collections
            .into_iter()
            .map(|(name, c)| (name, Cell::new(c)))
            .collect();
        Ok(Self(Arc::new(Inner {
            dir: dir.to_path_buf(),
            options,
            catalog: RwLock::new(catalog),
            log: Mutex::new(log),
        })))
    }

    /// Appends and fsyncs one write. Nothing is applied when this fails.
    fn append(&self, op: Op) -> Result<()> {
        self.0
            .log
            .lock()
            .append(|lsn| LogEntry { lsn, op: Some(op) })?;
        Ok(())
    }

    fn cell(&self, name: &str) -> Result<Arc<Cell>> {
        self.0
            .catalog
            .read()
            .get(name)
            .cloned()
            .ok_or_else(|| VectorError::NotFound(format!("collection '{name}' does not exist")))
    }

    fn snapshot_if_due(&self) {
        if self.0.log.lock().bytes() < self.0.options.snapshot_after_bytes {
            return;
        }
        if let Err(e) = self.snapshot() {
            tracing::error!(error = %e, "snapshot failed; the log keeps every write");
        }
    }

    /// Writes a snapshot and empties the log. Blocks all writes while it runs.
    pub(crate) fn snapshot(&self) -> Result<()> {
        let catalog = self.0.catalog.write();
        let mut log = self.0.log.lock();
        snapshot::write(&self.0.dir, &catalog, &mut log)
    }

    fn create_collection(&self, spec: CollectionSpec) -> Result<CollectionInfo> {
        let mut catalog = self.0.catalog.write();
        if catalog.contains_key(&spec.name) {
            return Err(VectorError::AlreadyExists(format!(
                "collection '{}' already exists",
                spec.name
            )));
        }
        self.append(Op::CreateCollection(wire::collection_to_pb(&spec, 0, 0)))?;
        let mut collection = Collection::new(spec.clone());
        collection.set_full_scan_threshold(self.0.options.full_scan_floats);
        catalog.insert(spec.name.clone(), Cell::new(collection));
        Ok(CollectionInfo {
            spec,
            objects: 0,
            tombstones: 0,
        })
    }

    fn collection(&self, name: &str) -> Result<CollectionInfo> {
        Ok(info(&self.cell(name)?.read()))
    }

    fn list_collections(&self, after: &str, limit: usize) -> Result<Vec<CollectionInfo>> {
        let catalog = self.0.catalog.read();
        let range =
            catalog.range::<str, _>((std::ops::Bound::Excluded(after), std::ops::Bound::Unbounded));
        Ok(range
            .take(limit)
            .map(|(_, cell)| info(&cell.read()))
            .collect())
    }

    fn delete_collection(&self, name: &str) -> Result<u64> {
        let mut catalog = self.0.catalog.write();
        let cell = catalog
            .get(name)
            .cloned()
            .ok_or_else(|| VectorError::NotFound(format!("collection '{name}' does not exist")))?;
        self.append(Op::DeleteCollection(name.to_owned()))?;
        catalog.remove(name);
        let objects = cell.read().len() as u64;
        Ok(objects)
    }

    fn upsert(&self, collection: &str, objects: Vec<Object>) -> Result<UpsertCounts> {
        let counts = {
            let cell = self.cell(collection)?;
            cell.index_before_upsert(objects.len());
            let mut state = cell.write();
            state.check_vectors(&objects)?;
            let op = Op::Upsert(UpsertOp {
                collection: collection.to_owned(),
                objects: objects.iter().cloned().map(wire::object_to_pb).collect(),
            });
            self.append(op.clone())?;
            cell.journal(&op);
            state.apply_upsert(objects)
        };
        self.snapshot_if_due();
        Ok(counts)
    }

    fn get(&self, collection: &str, id: &str) -> Result<Object> {
        let cell = self.cell(collection)?;
        let state = cell.read();
        state.get(id).cloned().ok_or_else(|| {
            VectorError::NotFound(format!(
                "object '{id}' does not exist in collection '{collection}'"
            ))
        })
    }

    fn delete(&self, collection: &str, ids: &[String]) -> Result<u64> {
        let deleted = {
            let cell = self.cell(collection)?;
            let mut state = cell.write();
            let present: Vec<String> = ids
                .iter()
                .filter(|id| state.get(id).is_some())
                .cloned()
                .collect();
            if present.is_empty() {
                return Ok(0);
            }
            let op = Op::Delete(DeleteOp {
                collection: collection.to_owned(),
                ids: present.clone(),
            });
            self.append(op.clone())?;
            cell.journal(&op);
            state.apply_delete(&present)
        };
        self.snapshot_if_due();
        Ok(deleted)
    }

    fn search(&self, query: &SearchQuery) -> Result<Vec<Found>> {
        let cell = self.cell(&query.collection)?;
        let state = cell.read();
        state
            .spec()
            .check_vector(&query.vector, "near_vector.vector")?;
        let asked = searches::Query {
            version: cell.version(),
            vector: &query.vector,
            k: query.k,
            ef: query.ef.unwrap_or(state.spec().ef_search),
            filter: query.filter.as_ref(),
        };
        let hits = self.0.options.searches.hits(&asked, || {
            state.search(asked.vector, asked.k, asked.ef, asked.filter)
        });
        Ok(hits
            .iter()
            .map(|hit| {
                let object = state.object(hit.slot);
                Found {
                    id: object.id.clone(),
                    score: hit.score,
                    distance: hit.distance,
                    payload: if query.with_payload {
                        object.payload.clone()
                    } else {
                        Default::default()
                    },
                    vector: if query.with_vector {
                        object.vector.clone()
                    } else {
                        Vec::new()
                    },
                    text: if query.with_payload {
                        object.text.clone()
                    } else {
                        None
                    },
                }
            })
            .collect())
    }

    fn reembed(
        &self,
        collection: &str,
        embedder: String,
        embed: &Reembedder,
    ) -> Result<(CollectionInfo, u64)> {
        let done = {
            let cell = self.cell(collection)?;
            let mut state = cell.write();
            let objects = state
                .objects()
                .map(|(_, object)| {
                    Ok(Object {
                        vector: embed(object)?,
                        ..object.clone()
                    })
                })
                .collect::<Result<Vec<_>>>()?;
            state.check_vectors(&objects)?;
            let op = Op::Reembed(ReembedOp {
                collection: collection.to_owned(),
                embedder,
                objects: objects.iter().cloned().map(wire::object_to_pb).collect(),
            });
            self.append(op.clone())?;
            cell.journal(&op);
            apply(&mut state, op);
            (info(&state), objects.len() as u64)
        };
        self.snapshot_if_due();
        Ok(done)
    }

    fn compact(&self, collection: &str) -> Result<u64> {
        let cell = self.cell(collection)?;
        // Copy the live objects and start journaling writes; writes and reads go on meanwhile.
        let source = {
            let state = cell.read();
            if !cell.start_journal() {
                return Err(VectorError::Aborted(format!(
                    "collection '{collection}' is already being compacted"
                )));
            }
            state.compacted_source()
        };
        let mut fresh = source.build();
        let removed = {
            let mut state = cell.write();
            for op in cell.take_journal() {
                apply(&mut fresh, op);
            }
            let removed = state.tombstones() as u64;
            *state = fresh;
            removed
        };
        if let Err(e) = self.snapshot() {
            tracing::warn!(error = %e, "snapshot after compaction failed; the log keeps every write");
        }
        Ok(removed)
    }
}

fn info(collection: &Collection) -> CollectionInfo {
    CollectionInfo {
        spec: collection.spec().clone(),
        objects: collection.len(),
        tombstones: collection.tombstones(),
    }
}

/// Applies a logged write to a collection (replay and compaction journals).
fn apply(collection: &mut Collection, op: Op) {
    match op {
        Op::Upsert(upsert) => {
            collection.apply_upsert(
                upsert
                    .objects
                    .into_iter()
                    .map(wire::object_from_pb)
                    .collect(),
            );
        }
        Op::Delete(delete) => {
            collection.apply_delete(&delete.ids);
        }
        Op::Reembed(reembed) => {
            collection.set_embedder(reembed.embedder);
            collection.apply_upsert(
                reembed
                    .objects
                    .into_iter()
                    .map(wire::object_from_pb)
                    .collect(),
            );
        }
        Op::CreateCollection(_) | Op::DeleteCollection(_) => {}
    }
}

/// Applies a logged write to the collections being loaded.
fn replay(
    collections: &mut BTreeMap<String, Collection>,
    op: Op,
    full_scan_floats: usize,
) -> Result<()> {
    let missing =
        |name: &str| VectorError::Corrupt(format!("log names unknown collection '{name}'"));
    let name = match &op {
        Op::CreateCollection(stored) => {
            let mut collection = Collection::new(records::spec(stored)?);
            collection.set_full_scan_threshold(full_scan_floats);
            collections.insert(collection.spec().name.clone(), collection);
            return Ok(());
        }
        Op::DeleteCollection(name) => {
            collections.remove(name);
            return Ok(());
        }
        Op::Upsert(upsert) => upsert.collection.clone(),
        Op::Delete(delete) => delete.collection.clone(),
        Op::Reembed(reembed) => reembed.collection.clone(),
    };
    apply(
        collections.get_mut(&name).ok_or_else(|| missing(&name))?,
        op,
    );
    Ok(())
}
