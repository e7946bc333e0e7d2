//! A static (token-lookup) text-embedding model loaded from local files: a Hugging Face
//! `tokenizer.json` and a safetensors file holding one matrix with a row per token id. A text's
//! vector is the sum of its tokens' rows, L2-normalised (so the mean and the sum give the same
//! direction). The rows are not unit length: frequent tokens have small rows and rare,
//! meaningful ones large rows, which is the model's own weighting (normalising rows first lost a
//! third of the recall in our measurements, docs/benchmarks.md).
//!
//! Documents are embedded a little differently from questions: when a document has a first
//! sentence shorter than itself (an FAQ's question, a title), its vector is the normalised sum
//! of the first sentence's unit vector and the whole text's unit vector, so the title counts as
//! much as the rest. On our paraphrase set this raised recall@5 from 0.57 to 0.64 for the same
//! model at no cost per query.
//!
//! The weights stay in the memory-mapped file as float16 and are widened row by row, so the
//! model adds its touched pages, not a 32 MB float32 copy, to the process. Nothing is fetched:
//! `scripts/fetch-model.sh` puts the files in place before the service starts.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use half::f16;
use half::slice::HalfFloatSliceExt;
use memmap2::Mmap;
use sha2::{Digest, Sha256};
use tokenizers::Tokenizer;

use super::Embedder;

/// The tokenizer file of a model directory.
pub(crate) const TOKENIZER_FILE: &str = "tokenizer.json";
/// The weights file of a model directory.
pub(crate) const WEIGHTS_FILE: &str = "model.safetensors";

/// A loaded static model (see the module documentation).
pub(crate) struct StaticModel {
    /// `<directory name>@<fingerprint>`: what collections record.
    name: String,
    tokenizer: Tokenizer,
    weights: Mmap,
    /// Byte offset of row 0 in `weights`.
    offset: usize,
    rows: usize,
    dimension: usize,
}

impl StaticModel {
    /// Loads the model in `dir`; the error says which file is missing or wrong.
    pub(crate) fn load(dir: &Path) -> Result<Self, String> {
        let tokenizer_path = dir.join(TOKENIZER_FILE);
        let weights_path = dir.join(WEIGHTS_FILE);
        let tokenizer = Tokenizer::from_file(&tokenizer_path)
            .map_err(|e| format!("{}: {e}", tokenizer_path.display()))?;
        let file =
            File::open(&weights_path).map_err(|e| format!("{}: {e}", weights_path.display()))?;
        // SAFETY: the map is read-only and the model files are not written while the service
        // runs (they are data shipped with it); a truncation under our feet would be a deployment
        // error that no checked read could recover from either.
        let weights =
            unsafe { Mmap::map(&file) }.map_err(|e| format!("{}: {e}", weights_path.display()))?;
        let (offset, rows, dimension) =
            matrix(&weights).map_err(|e| format!("{}: {e}", weights_path.display()))?;
        let vocabulary = tokenizer.get_vocab_size(true);
        if vocabulary > rows {
            return Err(format!(
                "{}: the tokenizer has {vocabulary} tokens but the matrix only {rows} rows",
                dir.display()
            ));
        }
        let fingerprint = fingerprint(&[&tokenizer_path, &weights_path])
            .map_err(|e| format!("{}: {e}", dir.display()))?;
        let base = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| "static".to_owned());
        Ok(Self {
            name: format!("{base}@{fingerprint}"),
            tokenizer,
            weights,
            offset,
            rows,
            dimension,
        })
    }

    /// The unnormalised sum of the rows of `text`'s tokens (zeros when it has none).
    fn sum(&self, text: &str) -> Vec<f32> {
        let mut sum = vec![0.0f32; self.dimension];
        let Ok(encoding) = self.tokenizer.encode_fast(text, false) else {
            return sum;
        };
        let mut row = vec![0.0f32; self.dimension];
        let width = self.dimension * 2;
        for &id in encoding.get_ids() {
            let id = id as usize;
            if id >= self.rows {
                continue;
            }
            let start = self.offset + id * width;
            let bytes = &self.weights[start..start + width];
            let halves: &[f16] = bytemuck_f16(bytes);
            halves.convert_to_f32_slice(&mut row);
            for (s, r) in sum.iter_mut().zip(&row) {
                *s += r;
            }
        }
        sum
    }
}

impl Embedder for StaticModel {
    fn name(&self) -> &str {
        &self.name
    }

    fn dimension(&self) -> Option<usize> {
        Some(self.dimension)
    }

    fn embed(&self, text: &str) -> Vec<f32> {
        unit(self.sum(text))
    }

    fn embed_document(&self, text: &str) -> Vec<f32> {
        let whole = unit(self.sum(text));
        match first_sentence(text) {
            Some(title) => {
                let title = unit(self.sum(title));
                unit(title.iter().zip(&whole).map(|(a, b)| a + b).collect())
            }
            None => whole,
        }
    }
}

/// Where the matrix is in a safetensors file: its data offset, rows and columns. It must be the
/// file's only tensor, two-dimensional, float16.
fn matrix(bytes: &[u8]) -> Result<(usize, usize, usize), String> {
    let tensors = safetensors::SafeTensors::deserialize(bytes).map_err(|e| e.to_string())?;
    let names = tensors.names();
    let [name] = names.as_slice() else {
        return Err(format!("expected one tensor, found {}", names.len()));
    };
    let view = tensors.tensor(name).map_err(|e| e.to_string())?;
    if view.dtype() != safetensors::Dtype::F16 {
        return Err(format!("tensor '{name}' is {:?}, not F16", view.dtype()));
    }
    let &[rows, dimension] = view.shape() else {
        return Err(format!(
            "tensor '{name}' has shape {:?}, not [rows, dim]",
            view.shape()
        ));
    };
    if !(1..=4096).contains(&dimension) || rows == 0 {
        return Err(format!("tensor '{name}' has shape [{rows}, {dimension}]"));
    }
    let data = view.data();
    // The view borrows `bytes`, so its data starts at a known offset inside it.
    let offset = data.as_ptr() as usize - bytes.as_ptr() as usize;
    if !offset.is_multiple_of(2) || data.len() != rows * dimension * 2 {
        return Err(format!("tensor '{name}' is misaligned or truncated"));
    }
    Ok((offset, rows, dimension))
}

/// Reinterprets little-endian float16 bytes (2-byte aligned: checked at load) as `f16`s.
fn bytemuck_f16(bytes: &[u8]) -> &[f16] {
    // SAFETY: `f16` is a `#[repr(transparent)]` u16; the slice starts at an even offset into a
    // page-aligned map (checked in `matrix`), so it is 2-byte aligned, and its length is even.
    // The file is little-endian, like every target this service builds for.
    unsafe { std::slice::from_raw_parts(bytes.as_ptr().cast::<f16>(), bytes.len() / 2) }
}

/// The first sentence of `text` (up to a `?`, `.` or `!` followed by whitespace), when it is
/// shorter than the whole text.
pub(crate) fn first_sentence(text: &str) -> Option<&str> {
    let text = text.trim();
    let bytes = text.as_bytes();
    let end = ['?', '.', '!'].iter().find_map(|mark| {
        text.match_indices(*mark)
            .map(|(i, _)| i + 1)
            .find(|&end| bytes.get(end).is_none_or(u8::is_ascii_whitespace))
    })?;
    (end < text.len()).then(|| &text[..end])
}

/// `v` scaled to unit length (zeros stay zeros).
fn unit(mut v: Vec<f32>) -> Vec<f32> {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        v.iter_mut().for_each(|x| *x /= norm);
    }
    v
}

/// The first 12 hex digits of the SHA-256 of the model files, in order. The files are read
/// through a small buffer, not through the map: hashing the map would make every page of the
/// weights resident in the process (16 MB), where serving touches only the rows of the tokens
/// it meets.
fn fingerprint(files: &[&Path]) -> std::io::Result<String> {
    let mut hash = Sha256::new();
    let mut buffer = vec![0u8; 64 * 1024];
    for path in files {
        let mut file = File::open(path)?;
        hash.update(file.metadata()?.len().to_le_bytes());
        loop {
            let n = file.read(&mut buffer)?;
            if n == 0 {
                break;
            }
            hash.update(&buffer[..n]);
        }
    }
    Ok(hash
        .finalize()
        .iter()
        .take(6)
        .map(|b| format!("{b:02x}"))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_sentences_are_found_only_when_shorter_than_the_text() {
        assert_eq!(
            first_sentence("How do I reset my password? Use the portal."),
            Some("How do I reset my password?")
        );
        assert_eq!(
            first_sentence("Version 1.2 is out. Upgrade now!"),
            Some("Version 1.2 is out.")
        );
        assert_eq!(first_sentence("How do I reset my password?"), None);
        assert_eq!(first_sentence("no sentence marks here"), None);
        assert_eq!(first_sentence("  What? "), None);
    }

    #[test]
    fn the_fingerprint_hashes_each_files_length_and_bytes_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a"), dir.path().join("b"));
        let big: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        std::fs::write(&a, b"tokens").unwrap();
        std::fs::write(&b, &big).unwrap();
        let mut expected = Sha256::new();
        for part in [&b"tokens"[..], &big] {
            expected.update((part.len() as u64).to_le_bytes());
            expected.update(part);
        }
        let expected: String = expected.finalize()[..6]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(fingerprint(&[&a, &b]).unwrap(), expected);
        assert_ne!(fingerprint(&[&b, &a]).unwrap(), expected);
    }

    #[test]
    fn a_directory_without_the_files_is_refused_by_name() {
        let dir = tempfile::tempdir().unwrap();
        let err = StaticModel::load(dir.path()).err().unwrap();
        assert!(err.contains(TOKENIZER_FILE), "{err}");
    }
}
