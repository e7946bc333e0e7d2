//! Checksummed record framing for the write-ahead log and the snapshots:
//! each record is its length (u32 little-endian), the CRC-32 of its bytes, then the bytes.
//! Reading stops cleanly at the first incomplete or damaged record, which is how a torn write at
//! the end of a log shows.

use std::io::{self, Read, Write};

/// Appends one framed record to `out`.
pub fn write_record(out: &mut impl Write, bytes: &[u8]) -> io::Result<()> {
    let len = u32::try_from(bytes.len()).map_err(|_| io::Error::other("record over 4 GiB"))?;
    let mut header = [0u8; 8];
    header[..4].copy_from_slice(&len.to_le_bytes());
    header[4..].copy_from_slice(&crc32fast::hash(bytes).to_le_bytes());
    out.write_all(&header)?;
    out.write_all(bytes)
}

/// Why reading stopped.
#[derive(Debug, PartialEq, Eq)]
pub enum End {
    /// The input ended exactly after a record.
    Clean,
    /// The input ended inside a record, or a checksum did not match, at this offset.
    Damaged(u64),
}

/// Reads framed records until the end or the first damaged one; returns the records and how
/// reading ended.
pub fn read_records(input: &mut impl Read) -> io::Result<(Vec<Vec<u8>>, End)> {
    let mut records = Vec::new();
    let mut offset = 0u64;
    loop {
        let mut header = [0u8; 8];
        match read_full(input, &mut header)? {
            0 => return Ok((records, End::Clean)),
            8 => {}
            _ => return Ok((records, End::Damaged(offset))),
        }
        let len = u32::from_le_bytes(header[..4].try_into().expect("4 bytes")) as usize;
        let crc = u32::from_le_bytes(header[4..].try_into().expect("4 bytes"));
        let mut bytes = vec![0u8; len];
        if read_full(input, &mut bytes)? != len || crc32fast::hash(&bytes) != crc {
            return Ok((records, End::Damaged(offset)));
        }
        offset += 8 + len as u64;
        records.push(bytes);
    }
}

/// Like `read_exact`, but reports how many bytes were read before the end.
fn read_full(input: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match input.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_torn_tails() {
        let mut file = Vec::new();
        write_record(&mut file, b"first").unwrap();
        write_record(&mut file, b"").unwrap();
        write_record(&mut file, b"third record").unwrap();
        let (records, end) = read_records(&mut file.as_slice()).unwrap();
        assert_eq!(
            records,
            vec![b"first".to_vec(), vec![], b"third record".to_vec()]
        );
        assert_eq!(end, End::Clean);

        let good = 8 + 5 + 8;
        for cut in good + 1..file.len() {
            let (records, end) = read_records(&mut &file[..cut]).unwrap();
            assert_eq!(records.len(), 2, "cut at {cut}");
            assert_eq!(end, End::Damaged(good as u64));
        }

        let mut flipped = file.clone();
        *flipped.last_mut().unwrap() ^= 1;
        let (records, end) = read_records(&mut flipped.as_slice()).unwrap();
        assert_eq!((records.len(), end), (2, End::Damaged(good as u64)));
    }
}
