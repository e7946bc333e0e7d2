//! The write-ahead log: one file of framed entries, each a protobuf message carrying its own
//! sequence number (LSN). Appends are fsync'd; a failed append is cut back off; opening replays
//! the entries a snapshot does not hold yet and cuts a torn tail.

use std::fs::{File, OpenOptions};
use std::io::{BufReader, Seek, SeekFrom, Write};
use std::marker::PhantomData;
use std::path::{Path, PathBuf};

use crate::Error;
use crate::framing::{End, read_records, write_record};

/// A log entry: a protobuf message that knows its sequence number.
pub trait Entry: prost::Message + Default {
    /// The entry's sequence number (1 for the first write of a store, +1 per write).
    fn lsn(&self) -> u64;
}

/// An open write-ahead log (see the module documentation). Not synchronised: the store keeps
/// it behind its own lock, taken after the store's data locks.
pub struct Log<E> {
    file: File,
    path: PathBuf,
    bytes: u64,
    next_lsn: u64,
    entries: PhantomData<fn() -> E>,
}

impl<E: Entry> Log<E> {
    /// Opens (or creates) the log at `path` and hands every entry after `snapshot_lsn` to
    /// `replay`, in order; returns the log, ready to append, and how many entries were replayed.
    /// An error from `replay` (an entry that cannot apply) is [`Error::Corrupt`].
    pub fn open(
        path: &Path,
        snapshot_lsn: u64,
        mut replay: impl FnMut(E) -> Result<(), String>,
    ) -> Result<(Self, usize), Error> {
        let mut file = OpenOptions::new()
            .create(true)
            .read(true)
            .append(true)
            .open(path)?;
        let (records, end) = read_records(&mut BufReader::new(&file))?;
        let corrupt = |why: String| Error::Corrupt(format!("{}: {why}", path.display()));
        let mut next_lsn = snapshot_lsn + 1;
        let mut replayed = 0;
        for bytes in records {
            let entry = E::decode(bytes.as_slice()).map_err(|e| corrupt(e.to_string()))?;
            let lsn = entry.lsn();
            if lsn < next_lsn {
                continue; // already in the snapshot
            }
            replay(entry).map_err(|e| corrupt(format!("entry {lsn}: {e}")))?;
            next_lsn = lsn + 1;
            replayed += 1;
        }
        if let End::Damaged(offset) = end {
            tracing::warn!(
                offset,
                "cutting a torn record off the end of {}",
                path.display()
            );
            file.set_len(offset)?;
            file.sync_all()?;
        }
        let bytes = file.seek(SeekFrom::End(0))?;
        let log = Self {
            file,
            path: path.to_path_buf(),
            bytes,
            next_lsn,
            entries: PhantomData,
        };
        Ok((log, replayed))
    }

    /// Appends the entry `make` builds for the next sequence number and fsyncs it; returns that
    /// number. When this fails nothing was logged: a partial record is cut back off.
    pub fn append(&mut self, make: impl FnOnce(u64) -> E) -> Result<u64, Error> {
        let lsn = self.next_lsn;
        let entry = make(lsn);
        let mut framed = Vec::with_capacity(entry.encoded_len() + 8);
        write_record(&mut framed, &entry.encode_to_vec())?;
        if let Err(e) = self
            .file
            .write_all(&framed)
            .and_then(|()| self.file.sync_data())
        {
            let _ = self.file.set_len(self.bytes);
            return Err(e.into());
        }
        self.bytes += framed.len() as u64;
        self.next_lsn += 1;
        Ok(lsn)
    }

    /// The sequence number of the last entry written (0 before the first write).
    pub fn last_lsn(&self) -> u64 {
        self.next_lsn - 1
    }

    /// The log's size in bytes (what a snapshot policy looks at).
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Empties the log, once a committed snapshot holds everything in it.
    pub fn truncate(&mut self) -> Result<(), Error> {
        self.file.set_len(0)?;
        self.file.sync_all()?;
        self.bytes = 0;
        Ok(())
    }

    /// Where the log lives.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, PartialEq, prost::Message)]
    struct Note {
        #[prost(uint64, tag = "1")]
        lsn: u64,
        #[prost(string, tag = "2")]
        text: String,
    }

    impl Entry for Note {
        fn lsn(&self) -> u64 {
            self.lsn
        }
    }

    fn note(text: &str) -> impl FnOnce(u64) -> Note + '_ {
        move |lsn| Note {
            lsn,
            text: text.into(),
        }
    }

    fn reopen(path: &Path, after: u64) -> (Log<Note>, Vec<(u64, String)>) {
        let mut seen = Vec::new();
        let (log, replayed) = Log::<Note>::open(path, after, |n| {
            seen.push((n.lsn, n.text));
            Ok(())
        })
        .unwrap();
        assert_eq!(replayed, seen.len());
        (log, seen)
    }

    #[test]
    fn entries_survive_reopen_and_numbers_continue() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("wal.log");
        let (mut log, seen) = reopen(&path, 0);
        assert!(seen.is_empty());
        assert_eq!(log.append(note("a")).unwrap(), 1);
        assert_eq!(log.append(note("b")).unwrap(), 2);
        drop(log);
        let (mut log, seen) = reopen(&path, 0);
        assert_eq!(seen, vec![(1, "a".into()), (2, "b".into())]);
        assert_eq!(log.append(note("c")).unwrap(), 3);
        assert_eq!(log.last_lsn(), 3);
    }

    #[test]
    fn entries_a_snapshot_holds_are_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("wal.log");
        let (mut log, _) = reopen(&path, 0);
        for text in ["a", "b", "c"] {
            log.append(note(text)).unwrap();
        }
        drop(log);
        // A crash after the snapshot of lsn 2 was committed, before the log was emptied.
        let (mut log, seen) = reopen(&path, 2);
        assert_eq!(seen, vec![(3, "c".into())]);
        assert_eq!(log.append(note("d")).unwrap(), 4);
        // Truncated after a snapshot of everything: numbering still continues.
        log.truncate().unwrap();
        assert_eq!(log.bytes(), 0);
        drop(log);
        let (mut log, seen) = reopen(&path, 4);
        assert!(seen.is_empty());
        assert_eq!(log.append(note("e")).unwrap(), 5);
    }

    #[test]
    fn a_torn_tail_is_cut_and_the_log_goes_on() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("wal.log");
        let (mut log, _) = reopen(&path, 0);
        log.append(note("kept")).unwrap();
        log.append(note("torn")).unwrap();
        let whole = log.bytes();
        drop(log);
        for cut in [whole - 1, whole - 5, whole - 12] {
            let copy = dir.path().join(format!("cut-{cut}.log"));
            std::fs::copy(&path, &copy).unwrap();
            OpenOptions::new()
                .write(true)
                .open(&copy)
                .unwrap()
                .set_len(cut)
                .unwrap();
            let (mut log, seen) = reopen(&copy, 0);
            assert_eq!(seen, vec![(1, "kept".into())], "cut at {cut}");
            let first = std::fs::metadata(&copy).unwrap().len();
            assert!(first < cut, "the torn record was cut off");
            assert_eq!(log.append(note("after")).unwrap(), 2);
            drop(log);
            let (_, seen) = reopen(&copy, 0);
            assert_eq!(seen, vec![(1, "kept".into()), (2, "after".into())]);
        }
    }

    #[test]
    fn an_entry_that_cannot_apply_is_corruption() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("wal.log");
        let (mut log, _) = reopen(&path, 0);
        log.append(note("bad")).unwrap();
        drop(log);
        let err = Log::<Note>::open(&path, 0, |_| Err("no such thing".into()))
            .err()
            .unwrap();
        let Error::Corrupt(message) = err else {
            panic!("{err:?}")
        };
        assert!(message.contains("entry 1: no such thing"), "{message}");
    }
}
