//! One collection behind its lock, with the version that names its contents.
//!
//! Every write to a collection takes [`Cell::write`], and taking it gives the collection a new
//! [`Cell::version`], drawn from a counter shared by every collection of the process. A version
//! therefore names one state of one collection: whatever was computed from the collection
//! under its read lock can be kept under that version (`searches`) and is never found again
//! once the collection may have changed, nor by a collection of the same name created later.
//! The lock is a private field of this module so that no write can reach the collection
//! without passing through here.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use parking_lot::{Mutex, RwLock, RwLockReadGuard, RwLockWriteGuard};

use super::collection::Collection;
use super::records::Op;

/// The next version any collection gets (0 is never given).
static VERSIONS: AtomicU64 = AtomicU64::new(1);

fn next_version() -> u64 {
    VERSIONS.fetch_add(1, Ordering::Relaxed)
}

/// A collection and, while it is being compacted, the writes the compaction must replay.
pub(super) struct Cell {
    state: RwLock<Collection>,
    /// Changed only while `state` is write-locked, so it is steady while a reader holds it.
    version: AtomicU64,
    compaction_journal: Mutex<Option<Vec<Op>>>,
    /// Held while an upsert builds the collection's first index off the lock, so that a second
    /// upsert crossing the scan size at the same time waits for it instead of building twice.
    indexing: Mutex<()>,
}

impl Cell {
    pub(super) fn new(collection: Collection) -> Arc<Self> {
        Arc::new(Self {
            state: RwLock::new(collection),
            version: AtomicU64::new(next_version()),
            compaction_journal: Mutex::new(None),
            indexing: Mutex::new(()),
        })
    }

    /// The collection, for reading; its version stays [`Cell::version`] until the guard drops.
    pub(super) fn read(&self) -> RwLockReadGuard<'_, Collection> {
        self.state.read()
    }

    /// The collection, for writing: from here on it has a new version.
    pub(super) fn write(&self) -> RwLockWriteGuard<'_, Collection> {
        let state = self.state.write();
        self.version.store(next_version(), Ordering::Relaxed);
        state
    }

    /// The version of the collection's contents. Read it while holding [`Cell::read`]: the
    /// lock orders it after the last write and before the next.
    pub(super) fn version(&self) -> u64 {
        self.version.load(Ordering::Relaxed)
    }

    /// Builds the index an upsert of `more` objects is about to need, without holding the
    /// collection's lock while the graph is linked: reads and writes go on meanwhile, and the
    /// slots written during the build are added when it is installed.
    pub(super) fn index_before_upsert(&self, more: usize) {
        if !self.read().will_need_index(more) {
            return;
        }
        let _building = self.indexing.lock();
        let source = {
            let state = self.read();
            if !state.will_need_index(more) {
                return;
            }
            state.index_source()
        };
        let built = source.build();
        self.write().install_index(built);
    }

    /// Starts recording writes for a compaction; false when one is already recording.
    pub(super) fn start_journal(&self) -> bool {
        let mut journal = self.compaction_journal.lock();
        if journal.is_some() {
            return false;
        }
        *journal = Some(Vec::new());
        true
    }

    /// Stops recording and hands over what was recorded.
    pub(super) fn take_journal(&self) -> Vec<Op> {
        self.compaction_journal.lock().take().unwrap_or_default()
    }

    /// Records a write for a running compaction to replay.
    pub(super) fn journal(&self, op: &Op) {
        if let Some(journal) = self.compaction_journal.lock().as_mut() {
            journal.push(op.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{CollectionSpec, Metric};

    fn cell() -> Arc<Cell> {
        let spec = CollectionSpec::new("c", 2, Metric::Cosine);
        Cell::new(Collection::new(spec))
    }

    #[test]
    fn every_write_lock_gives_a_version_no_collection_had() {
        let (a, b) = (cell(), cell());
        assert_ne!(a.version(), b.version());
        let before = a.version();
        {
            let _reading = a.read();
            assert_eq!(a.version(), before, "reading changes nothing");
        }
        drop(a.write());
        let after = a.version();
        assert!(after != before && after != b.version());
    }
}
