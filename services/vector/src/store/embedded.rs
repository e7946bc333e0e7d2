//! The embedded store: collections in memory, made durable by a write-ahead log and snapshots
//! in the data directory.
//!
//! - Every write is validated first, then appended to `wal.log` and fsync'd, then applied; the
//!   caller is answered only after that, so an acknowledged write survives a crash.
//! - When the log grows past a threshold (and at graceful shutdown, and after a compaction) a
//!   snapshot is written: `snapshot.bin` (every object with its slot, checksummed records,
//!   written to a temporary file, fsync'd and renamed) plus an hnsw_rs dump of each index. The
//!   log is then emptied; entries carry sequence numbers, so a crash between the two steps
//!   replays nothing twice.
//! - At start the snapshot is loaded (an index dump is reused when it matches, else the index is
//!   rebuilt), then the log is replayed; a torn record at the end of the log (a write that was
//!   never acknowledged) is cut off.
//!
//! Locks, always taken in this order: the catalog (read for object writes and reads, write for
//! creating or deleting collections and for snapshots), then one collection, then the log.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chatmesh_proto::vector as pb;
use parking_lot::{Mutex, RwLock};

use super::records::{
    DeleteOp, LogEntry, Op, SnapshotCollection, SnapshotEnd, SnapshotObjects, SnapshotPart,
    SnapshotRecord, UpsertOp,
};
use super::{CollectionInfo, Found, Query, SearchQuery, VectorStore};
use crate::collection::{Collection, CollectionSpec, Object, UpsertCounts};
use crate::error::{Result, VectorError};
use crate::index::Index;
use chatmesh_durable::{Log, SnapshotWriter, read_snapshot};

const LOG_FILE: &str = "wal.log";
const SNAPSHOT_FILE: &str = "snapshot.bin";
const OBJECTS_PER_CHUNK: usize = 1000;

/// Tuning of the embedded store.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// Log size that triggers a snapshot.
    pub snapshot_after_bytes: u64,
    /// Searches over at most this many vector components scan exactly instead of using HNSW.
    pub full_scan_floats: usize,
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self {
            snapshot_after_bytes: 64 * 1024 * 1024,
            full_scan_floats: crate::collection::FULL_SCAN_FLOATS,
        }
    }
}

/// A collection and, while it is being compacted, the writes the compaction must replay.
struct Cell {
    state: RwLock<Collection>,
    compaction_journal: Mutex<Option<Vec<Op>>>,
}

/// See the module documentation.
pub struct EmbeddedStore {
    dir: PathBuf,
    options: StoreOptions,
    catalog: RwLock<BTreeMap<String, Arc<Cell>>>,
    log: Mutex<Log<LogEntry>>,
}

impl EmbeddedStore {
    /// Opens (or creates) the store in `dir`: loads the snapshot, replays the log.
    pub fn open(dir: &Path, options: StoreOptions) -> Result<Self> {
        std::fs::create_dir_all(dir)?;
        let (snapshot_lsn, mut collections) = load_snapshot(dir)?;
        let (log, replayed) =
            Log::open(
                &dir.join(LOG_FILE),
                snapshot_lsn,
                |entry: LogEntry| match entry.op {
                    Some(op) => replay(&mut collections, op).map_err(|e| e.to_string()),
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
            .map(|(name, mut c)| {
                c.set_full_scan_threshold(options.full_scan_floats);
                (
                    name,
                    Arc::new(Cell {
                        state: RwLock::new(c),
                        compaction_journal: Mutex::new(None),
                    }),
                )
            })
            .collect();
        Ok(Self {
            dir: dir.to_path_buf(),
            options,
            catalog: RwLock::new(catalog),
            log: Mutex::new(log),
        })
    }

    /// Appends and fsyncs one write. Nothing is applied when this fails.
    fn append(&self, op: Op) -> Result<()> {
        self.log
            .lock()
            .append(|lsn| LogEntry { lsn, op: Some(op) })?;
        Ok(())
    }

    fn cell(catalog: &BTreeMap<String, Arc<Cell>>, name: &str) -> Result<Arc<Cell>> {
        catalog
            .get(name)
            .cloned()
            .ok_or_else(|| VectorError::NotFound(format!("collection '{name}' does not exist")))
    }

    fn snapshot_if_due(&self) {
        if self.log.lock().bytes() < self.options.snapshot_after_bytes {
            return;
        }
        if let Err(e) = self.snapshot() {
            tracing::error!(error = %e, "snapshot failed; the log keeps every write");
        }
    }

    /// Writes a snapshot and empties the log. Blocks all writes while it runs.
    fn snapshot(&self) -> Result<()> {
        let catalog = self.catalog.write();
        let mut log = self.log.lock();
        let lsn = log.last_lsn();
        let mut out = SnapshotWriter::create(&self.dir.join(SNAPSHOT_FILE))?;
        let mut record = |part: SnapshotPart| out.write(&SnapshotRecord { part: Some(part) });
        record(SnapshotPart::Header(lsn))?;
        let mut keep_dumps = HashSet::new();
        let mut object_count = 0u64;
        for (name, cell) in catalog.iter() {
            let collection = cell.state.read();
            let basename = format!("index-{name}-{lsn}");
            let index_points = match collection.index().dump(&self.dir, &basename) {
                Ok(()) => {
                    keep_dumps.insert(basename.clone());
                    collection.index().len() as u64
                }
                Err(e) => {
                    tracing::warn!(collection = %name, error = %e, "index dump failed; it will be rebuilt at start");
                    0
                }
            };
            let spec = collection
                .spec()
                .to_pb(collection.len(), collection.tombstones());
            record(SnapshotPart::Collection(SnapshotCollection {
                spec: Some(spec),
                next_slot: collection.next_slot() as u64,
                index_points,
                index_basename: basename,
            }))?;
            let objects: Vec<(usize, &Object)> = collection.objects().collect();
            for chunk in objects.chunks(OBJECTS_PER_CHUNK) {
                record(SnapshotPart::Objects(SnapshotObjects {
                    slots: chunk.iter().map(|(slot, _)| *slot as u64).collect(),
                    objects: chunk.iter().map(|(_, o)| to_pb(o)).collect(),
                }))?;
            }
            object_count += objects.len() as u64;
        }
        record(SnapshotPart::End(SnapshotEnd {
            collections: catalog.len() as u64,
            objects: object_count,
        }))?;
        out.commit()?;
        log.truncate()?;
        remove_stale_dumps(&self.dir, &keep_dumps);
        tracing::info!(
            lsn,
            collections = catalog.len(),
            objects = object_count,
            "snapshot written"
        );
        Ok(())
    }
}

impl VectorStore for EmbeddedStore {
    fn create_collection(&self, spec: CollectionSpec) -> Result<CollectionInfo> {
        let mut catalog = self.catalog.write();
        if catalog.contains_key(&spec.name) {
            return Err(VectorError::AlreadyExists(format!(
                "collection '{}' already exists",
                spec.name
            )));
        }
        self.append(Op::CreateCollection(spec.to_pb(0, 0)))?;
        let mut collection = Collection::new(spec.clone());
        collection.set_full_scan_threshold(self.options.full_scan_floats);
        catalog.insert(
            spec.name.clone(),
            Arc::new(Cell {
                state: RwLock::new(collection),
                compaction_journal: Mutex::new(None),
            }),
        );
        Ok(CollectionInfo {
            spec,
            objects: 0,
            tombstones: 0,
        })
    }

    fn collection(&self, name: &str) -> Result<CollectionInfo> {
        let cell = Self::cell(&self.catalog.read(), name)?;
        let collection = cell.state.read();
        Ok(info(&collection))
    }

    fn list_collections(&self, after: &str, limit: usize) -> Result<Vec<CollectionInfo>> {
        let catalog = self.catalog.read();
        let range =
            catalog.range::<str, _>((std::ops::Bound::Excluded(after), std::ops::Bound::Unbounded));
        Ok(range
            .take(limit)
            .map(|(_, cell)| info(&cell.state.read()))
            .collect())
    }

    fn delete_collection(&self, name: &str) -> Result<u64> {
        let mut catalog = self.catalog.write();
        let cell = Self::cell(&catalog, name)?;
        self.append(Op::DeleteCollection(name.to_owned()))?;
        catalog.remove(name);
        let objects = cell.state.read().len() as u64;
        Ok(objects)
    }

    fn upsert(&self, collection: &str, objects: Vec<pb::VectorObject>) -> Result<UpsertCounts> {
        let counts = {
            let catalog = self.catalog.read();
            let cell = Self::cell(&catalog, collection)?;
            let mut state = cell.state.write();
            let valid = state.validate_upsert(objects)?;
            let op = Op::Upsert(UpsertOp {
                collection: collection.to_owned(),
                objects: valid.iter().map(to_pb).collect(),
            });
            self.append(op.clone())?;
            if let Some(journal) = cell.compaction_journal.lock().as_mut() {
                journal.push(op);
            }
            state.apply_upsert(valid)
        };
        self.snapshot_if_due();
        Ok(counts)
    }

    fn get(&self, collection: &str, id: &str) -> Result<Object> {
        let cell = Self::cell(&self.catalog.read(), collection)?;
        let state = cell.state.read();
        state.get(id).cloned().ok_or_else(|| {
            VectorError::NotFound(format!(
                "object '{id}' does not exist in collection '{collection}'"
            ))
        })
    }

    fn delete(&self, collection: &str, ids: &[String]) -> Result<u64> {
        let deleted = {
            let catalog = self.catalog.read();
            let cell = Self::cell(&catalog, collection)?;
            let mut state = cell.state.write();
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
            if let Some(journal) = cell.compaction_journal.lock().as_mut() {
                journal.push(op);
            }
            state.apply_delete(&present)
        };
        self.snapshot_if_due();
        Ok(deleted)
    }

    fn search(&self, query: &SearchQuery) -> Result<Vec<Found>> {
        let cell = Self::cell(&self.catalog.read(), &query.collection)?;
        let state = cell.state.read();
        let vector = match &query.query {
            Query::Vector(v) => {
                state.check_vector(v, "near_vector.vector")?;
                std::borrow::Cow::Borrowed(v.as_slice())
            }
            Query::Text(text) => std::borrow::Cow::Owned(state.embed(text, "near_text")?),
        };
        let ef = query.ef.unwrap_or(state.spec().ef_search);
        let hits = state.search(&vector, query.k, ef, query.filter.as_ref());
        Ok(hits
            .into_iter()
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

    fn embed(&self, collection: &str, texts: &[String]) -> Result<(String, Vec<Vec<f32>>)> {
        let cell = Self::cell(&self.catalog.read(), collection)?;
        let state = cell.state.read();
        let vectors = texts
            .iter()
            .enumerate()
            .map(|(i, t)| state.embed(t, &format!("texts[{i}]")))
            .collect::<Result<_>>()?;
        Ok((state.spec().embedder.clone(), vectors))
    }

    fn compact(&self, collection: &str) -> Result<u64> {
        let cell = Self::cell(&self.catalog.read(), collection)?;
        // Copy the live objects and start journaling writes; writes and reads go on meanwhile.
        let snapshot = {
            let state = cell.state.read();
            let mut journal = cell.compaction_journal.lock();
            if journal.is_some() {
                return Err(VectorError::Aborted(format!(
                    "collection '{collection}' is already being compacted"
                )));
            }
            *journal = Some(Vec::new());
            state.compacted_source()
        };
        let mut fresh = snapshot.build();
        fresh.set_full_scan_threshold(self.options.full_scan_floats);
        let removed = {
            let mut state = cell.state.write();
            let journal = cell.compaction_journal.lock().take().unwrap_or_default();
            for op in journal {
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

    fn flush(&self) -> Result<()> {
        self.snapshot()
    }
}

fn info(collection: &Collection) -> CollectionInfo {
    CollectionInfo {
        spec: collection.spec().clone(),
        objects: collection.len(),
        tombstones: collection.tombstones(),
    }
}

/// An object as the log and snapshot store it.
fn to_pb(object: &Object) -> pb::VectorObject {
    pb::VectorObject {
        id: object.id.clone(),
        vector: object.vector.clone(),
        payload: object.payload.clone(),
        text: object.text.clone(),
    }
}

fn from_pb(object: pb::VectorObject) -> Object {
    Object {
        id: object.id,
        vector: object.vector,
        payload: object.payload,
        text: object.text,
    }
}

/// Applies a logged write to a collection (replay and compaction journals).
fn apply(collection: &mut Collection, op: Op) {
    match op {
        Op::Upsert(upsert) => {
            collection.apply_upsert(upsert.objects.into_iter().map(from_pb).collect());
        }
        Op::Delete(delete) => {
            collection.apply_delete(&delete.ids);
        }
        Op::CreateCollection(_) | Op::DeleteCollection(_) => {}
    }
}

fn replay(collections: &mut BTreeMap<String, Collection>, op: Op) -> Result<()> {
    let missing =
        |name: &str| VectorError::Corrupt(format!("log names unknown collection '{name}'"));
    match op {
        Op::CreateCollection(stored) => {
            let spec = CollectionSpec::from_pb(&stored)?;
            collections.insert(spec.name.clone(), Collection::new(spec));
        }
        Op::DeleteCollection(name) => {
            collections.remove(&name);
        }
        Op::Upsert(ref upsert) => {
            let name = upsert.collection.clone();
            apply(
                collections.get_mut(&name).ok_or_else(|| missing(&name))?,
                op,
            );
        }
        Op::Delete(ref delete) => {
            let name = delete.collection.clone();
            apply(
                collections.get_mut(&name).ok_or_else(|| missing(&name))?,
                op,
            );
        }
    }
    Ok(())
}

/// Reads `snapshot.bin`: its sequence number and the collections it holds.
fn load_snapshot(dir: &Path) -> Result<(u64, BTreeMap<String, Collection>)> {
    let path = dir.join(SNAPSHOT_FILE);
    let Some(records) = read_snapshot::<SnapshotRecord>(&path)? else {
        return Ok((0, BTreeMap::new()));
    };
    let corrupt = |why: String| VectorError::Corrupt(format!("{}: {why}", path.display()));
    let mut parts = records
        .into_iter()
        .map(|record| record.part.ok_or_else(|| corrupt("empty record".into())));
    let Some(Ok(SnapshotPart::Header(lsn))) = parts.next() else {
        return Err(corrupt("missing header".into()));
    };
    let mut collections = BTreeMap::new();
    let mut current: Option<(SnapshotCollection, Vec<(usize, Object)>)> = None;
    let finish = |current: Option<(SnapshotCollection, Vec<(usize, Object)>)>,
                  collections: &mut BTreeMap<String, Collection>|
     -> Result<()> {
        if let Some((meta, objects)) = current {
            let spec = CollectionSpec::from_pb(&meta.spec.clone().unwrap_or_default())?;
            let index = load_index(dir, &spec, &meta);
            let collection = Collection::restore(spec, objects, meta.next_slot as usize, index);
            collections.insert(collection.spec().name.clone(), collection);
        }
        Ok(())
    };
    loop {
        match parts.next().transpose()? {
            Some(SnapshotPart::Collection(meta)) => {
                finish(current.take(), &mut collections)?;
                current = Some((meta, Vec::new()));
            }
            Some(SnapshotPart::Objects(chunk)) => {
                let (_, objects) = current
                    .as_mut()
                    .ok_or_else(|| corrupt("objects before a collection".into()))?;
                objects.extend(
                    chunk
                        .slots
                        .into_iter()
                        .map(|s| s as usize)
                        .zip(chunk.objects.into_iter().map(from_pb)),
                );
            }
            Some(SnapshotPart::End(totals)) => {
                finish(current.take(), &mut collections)?;
                let objects: usize = collections.values().map(Collection::len).sum();
                if totals.collections as usize != collections.len()
                    || totals.objects as usize != objects
                {
                    return Err(corrupt("totals do not match the contents".into()));
                }
                return Ok((lsn, collections));
            }
            Some(SnapshotPart::Header(_)) => return Err(corrupt("second header".into())),
            None => return Err(corrupt("missing end marker".into())),
        }
    }
}

/// The dumped index of a collection, when it exists and is complete.
fn load_index(dir: &Path, spec: &CollectionSpec, meta: &SnapshotCollection) -> Option<Index> {
    if meta.index_points == 0 {
        return None;
    }
    match Index::load(spec.metric, dir, &meta.index_basename) {
        Ok(index) if index.len() as u64 == meta.index_points => Some(index),
        Ok(index) => {
            tracing::warn!(collection = %spec.name, found = index.len(), expected = meta.index_points, "index dump incomplete; rebuilding");
            None
        }
        Err(e) => {
            tracing::warn!(collection = %spec.name, error = %e, "index dump unreadable; rebuilding");
            None
        }
    }
}

fn remove_stale_dumps(dir: &Path, keep: &HashSet<String>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(base) = name
            .strip_suffix(".hnsw.graph")
            .or_else(|| name.strip_suffix(".hnsw.data"))
        else {
            continue;
        };
        if !keep.contains(base) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}
