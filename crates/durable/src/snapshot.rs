//! Atomic snapshots: a file of framed records, written beside the old one, fsync'd and renamed
//! over it, so a reader finds either the old snapshot or the new one, whole.

use std::fs::File;
use std::io::{BufReader, BufWriter};
use std::marker::PhantomData;
use std::path::{Path, PathBuf};

use crate::Error;
use crate::framing::{End, read_records, write_record};

/// A snapshot being written; it replaces the old one only on [`SnapshotWriter::commit`]. Dropped
/// without committing, it leaves a temporary file the next snapshot overwrites.
pub struct SnapshotWriter<R> {
    out: BufWriter<File>,
    tmp: PathBuf,
    path: PathBuf,
    records: PhantomData<fn(R)>,
}

impl<R: prost::Message> SnapshotWriter<R> {
    /// Starts a snapshot that will become `path` (written to `path` + `.tmp` until then).
    pub fn create(path: &Path) -> Result<Self, Error> {
        let tmp = path.with_extension("tmp");
        Ok(Self {
            out: BufWriter::new(File::create(&tmp)?),
            tmp,
            path: path.to_path_buf(),
            records: PhantomData,
        })
    }

    /// Appends one record.
    pub fn write(&mut self, record: &R) -> Result<(), Error> {
        write_record(&mut self.out, &record.encode_to_vec())?;
        Ok(())
    }

    /// Makes the snapshot durable and puts it in place: fsync, rename, fsync of the folder.
    pub fn commit(self) -> Result<(), Error> {
        let file = self.out.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        std::fs::rename(&self.tmp, &self.path)?;
        let dir = self.path.parent().unwrap_or(Path::new("."));
        File::open(dir)?.sync_all()?;
        Ok(())
    }
}

/// The records of the snapshot at `path`, or `None` when there is none yet. A damaged or
/// undecodable record is [`Error::Corrupt`].
pub fn read_snapshot<R: prost::Message + Default>(path: &Path) -> Result<Option<Vec<R>>, Error> {
    let file = match File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let corrupt = |why: String| Error::Corrupt(format!("{}: {why}", path.display()));
    let (records, end) = read_records(&mut BufReader::new(file))?;
    if end != End::Clean {
        return Err(corrupt("damaged record".into()));
    }
    records
        .iter()
        .map(|bytes| R::decode(bytes.as_slice()).map_err(|e| corrupt(e.to_string())))
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(path: &Path, values: &[&str], commit: bool) {
        let mut w = SnapshotWriter::<String>::create(path).unwrap();
        for v in values {
            w.write(&v.to_string()).unwrap();
        }
        if commit {
            w.commit().unwrap();
        }
    }

    #[test]
    fn only_a_committed_snapshot_replaces_the_last_one() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("snapshot.bin");
        assert_eq!(read_snapshot::<String>(&path).unwrap(), None);
        write(&path, &["one", "two"], true);
        assert_eq!(
            read_snapshot::<String>(&path).unwrap(),
            Some(vec!["one".into(), "two".into()])
        );
        write(&path, &["three"], false);
        assert_eq!(
            read_snapshot::<String>(&path).unwrap().unwrap().len(),
            2,
            "an uncommitted snapshot changes nothing"
        );
        write(&path, &["three"], true);
        assert_eq!(
            read_snapshot::<String>(&path).unwrap(),
            Some(vec!["three".into()])
        );
    }

    #[test]
    fn a_damaged_snapshot_is_an_error_not_an_empty_store() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("snapshot.bin");
        write(&path, &["one", "two"], true);
        let mut bytes = std::fs::read(&path).unwrap();
        *bytes.last_mut().unwrap() ^= 1;
        std::fs::write(&path, &bytes).unwrap();
        let err = read_snapshot::<String>(&path).unwrap_err();
        assert!(
            matches!(err, Error::Corrupt(ref m) if m.contains("damaged")),
            "{err:?}"
        );
    }
}
