//! Durable storage for the embedded stores (graph, vector), written once: a write-ahead log
//! ([`Log`]) and atomic snapshots ([`SnapshotWriter`], [`read_snapshot`]), both made of
//! checksummed records ([`framing`]). The crate knows nothing of graphs or vectors: a store
//! brings its own record types (protobuf messages, so the on-disk format is versioned like the
//! wire) and its own apply and snapshot contents.
//!
//! The discipline every store follows with it:
//! - **log, then acknowledge**: a write is appended and fsync'd ([`Log::append`]) before the
//!   caller is answered; a failed append leaves the log as it was (the partial record is cut);
//! - **snapshot, then truncate**: a snapshot is written to a temporary file, fsync'd and renamed
//!   over the old one ([`SnapshotWriter::commit`]); only then is the log emptied
//!   ([`Log::truncate`]). Entries carry sequence numbers and the snapshot records the last one
//!   it includes, so a crash between the two steps replays nothing twice ([`Log::open`] skips
//!   them);
//! - **a torn tail is a write never acknowledged**: at open, reading stops at the first
//!   incomplete or damaged record and the log is cut there. A damaged snapshot is an error (it
//!   was fsync'd before it replaced the last good one, so damage means the disk lied).
//!
//! Hand-written because the format is small and the guarantees above are the point: an
//! embedded key-value engine would bring its own log next to the one the in-memory structures
//! need anyway.

pub mod framing;
mod log;
mod snapshot;

pub use log::{Entry, Log};
pub use snapshot::{SnapshotWriter, read_snapshot};

/// Why a log or snapshot could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The file system failed.
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// A file holds something that cannot be what was written (names the file and the reason).
    #[error("{0}")]
    Corrupt(String),
}
