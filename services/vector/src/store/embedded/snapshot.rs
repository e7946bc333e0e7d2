//! Snapshots of the embedded engine: every collection's description, its objects with their
//! slots, and an hnsw_rs dump of its index, so that a start loads instead of re-indexing. The
//! snapshot file (our checksummed records) is the source of truth; an index dump is reused only
//! when it matches it, and rebuilt otherwise.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;
use std::sync::Arc;

use chatmesh_durable::{Log, SnapshotWriter, read_snapshot};

use super::Cell;
use super::collection::Collection;
use super::index::Index;
use super::records::{
    LogEntry, SnapshotCollection, SnapshotEnd, SnapshotObjects, SnapshotPart, SnapshotRecord,
};
use crate::error::{Result, VectorError};
use crate::model::{CollectionSpec, Object};
use crate::wire;

const SNAPSHOT_FILE: &str = "snapshot.bin";
const OBJECTS_PER_CHUNK: usize = 1000;

/// Writes a snapshot of `catalog` and empties `log` (the caller holds both locks).
pub(super) fn write(
    dir: &Path,
    catalog: &BTreeMap<String, Arc<Cell>>,
    log: &mut Log<LogEntry>,
) -> Result<()> {
    let lsn = log.last_lsn();
    let mut out = SnapshotWriter::create(&dir.join(SNAPSHOT_FILE))?;
    let mut record = |part: SnapshotPart| out.write(&SnapshotRecord { part: Some(part) });
    record(SnapshotPart::Header(lsn))?;
    let mut keep_dumps = HashSet::new();
    let mut object_count = 0u64;
    for (name, cell) in catalog.iter() {
        let collection = cell.read();
        let basename = format!("index-{name}-{lsn}");
        // A collection within the scan size has no index to dump.
        let index_points = match collection.index().map(|i| (i, i.dump(dir, &basename))) {
            None => 0,
            Some((index, Ok(()))) => {
                keep_dumps.insert(basename.clone());
                index.len() as u64
            }
            Some((_, Err(e))) => {
                tracing::warn!(collection = %name, error = %e, "index dump failed; it will be rebuilt at start");
                0
            }
        };
        let spec =
            wire::collection_to_pb(collection.spec(), collection.len(), collection.tombstones());
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
                objects: chunk
                    .iter()
                    .map(|(_, o)| wire::object_to_pb((*o).clone()))
                    .collect(),
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
    remove_stale_dumps(dir, &keep_dumps);
    tracing::info!(
        lsn,
        collections = catalog.len(),
        objects = object_count,
        "snapshot written"
    );
    Ok(())
}

/// Reads `snapshot.bin`: its sequence number and the collections it holds, set up for
/// searches that scan up to `full_scan_floats`.
pub(super) fn load(
    dir: &Path,
    full_scan_floats: usize,
) -> Result<(u64, BTreeMap<String, Collection>)> {
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
            let spec = super::records::spec(&meta.spec.clone().unwrap_or_default())?;
            // A dump is read only for a collection past the scan size, which searches it.
            let next_slot = meta.next_slot as usize;
            let index = (next_slot * spec.dimension > full_scan_floats)
                .then(|| load_index(dir, &spec, &meta))
                .flatten();
            let collection = Collection::restore(spec, objects, next_slot, index, full_scan_floats);
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
                        .zip(chunk.objects.into_iter().map(wire::object_from_pb)),
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
