//! Text embedding: the [`Embedder`] trait and the registry of the embedders this server has.
//! Collections record the embedder that built their vectors; the service embeds texts (near_text
//! searches, objects sent with a text and no vector) before any engine sees them, so engines store
//! and search vectors only.

mod hashing;

use std::sync::Arc;

use crate::error::{Result, invalid};

/// Turns text into a vector of a fixed dimension.
pub(crate) trait Embedder: Send + Sync {
    /// The name collections record, e.g. `hashing-v1`.
    fn name(&self) -> &str;
    /// The embedding of `text`; all zeros when the text has nothing to embed.
    fn embed(&self, text: &str) -> Vec<f32>;
}

/// Name of the built-in embedder.
pub(crate) const HASHING_V1: &str = "hashing-v1";
/// Name meaning "this collection takes vectors only".
pub(crate) const NONE: &str = "none";
/// Dimension `hashing-v1` uses when none is asked for.
pub(crate) const DEFAULT_DIMENSION: usize = 256;

/// The embedder called `name` at `dimension`, or `None` for the `none` embedder.
pub(crate) fn by_name(name: &str, dimension: usize) -> Result<Option<Arc<dyn Embedder>>> {
    match name {
        "" | HASHING_V1 => {
            if !(16..=4096).contains(&dimension) {
                return Err(invalid(format!(
                    "embedder {HASHING_V1} produces 16 to 4096 dimensions, not {dimension}"
                )));
            }
            Ok(Some(Arc::new(hashing::HashingEmbedder::new(dimension))))
        }
        NONE => Ok(None),
        other => Err(invalid(format!(
            "unknown embedder '{other}' (this server has '{HASHING_V1}' and '{NONE}')"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_knows_its_embedders() {
        assert!(by_name("", 256).unwrap().is_some());
        assert!(by_name(HASHING_V1, 8).is_err());
        assert!(by_name(NONE, 3).unwrap().is_none());
        assert!(by_name("word2vec", 256).is_err());
    }
}
