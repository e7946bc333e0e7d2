//! Text embedding: the [`Embedder`] trait and [`Embedders`], the embedders this server has. A
//! collection records the full name of the embedder that built its vectors (a static model's
//! name carries a fingerprint of its files, `wordllama-l2-256@3f9c0a1b2c3d`), and its texts are
//! only ever embedded by that same embedder: near_text on a collection built by another one is
//! FAILED_PRECONDITION naming both, and ReembedCollection moves a collection over. The service
//! embeds texts before any engine sees them, so engines store and search vectors only.
//!
//! The embedders: `hashing-v1` (built in, no files, lexical: texts that share words are near),
//! and a static model loaded from local files ([`static_model`], semantic: paraphrases are near).
//! `--embedder auto` (the default) loads the model when its files are in one of the usual places
//! and says in the log which embedder runs.

mod hashing;
mod static_model;

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;

use crate::error::{Result, VectorError, invalid};

/// Turns text into a vector of a fixed dimension.
pub(crate) trait Embedder: Send + Sync {
    /// The full name collections record, e.g. `hashing-v1` or `wordllama-l2-256@3f9c0a1b2c3d`.
    fn name(&self) -> &str;
    /// The only dimension it produces, or `None` when it produces any.
    fn dimension(&self) -> Option<usize>;
    /// The embedding of a query; all zeros when the text has nothing to embed.
    fn embed(&self, text: &str) -> Vec<f32>;
    /// The embedding of a stored document (the query embedding unless the embedder differs).
    fn embed_document(&self, text: &str) -> Vec<f32> {
        self.embed(text)
    }
}

/// Name of the built-in embedder.
pub(crate) const HASHING_V1: &str = "hashing-v1";
/// Name meaning "this collection takes vectors only".
pub(crate) const NONE: &str = "none";
/// Dimension `hashing-v1` uses when none is asked for.
pub(crate) const DEFAULT_DIMENSION: usize = 256;
/// Where `--embedder auto` looks for a model, in order: the repository's `models/` folder (what
/// `scripts/fetch-model.sh` fills, and where `chatmesh up` runs), then the container image's.
pub(crate) const MODEL_DIRS: [&str; 2] = [
    "models/wordllama-l2-256",
    "/usr/share/chatmesh/models/wordllama-l2-256",
];

/// The `--embedder` setting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EmbedderSetting {
    /// The static model when its files are in one of [`MODEL_DIRS`], else `hashing-v1`.
    Auto,
    /// `hashing-v1` only.
    Hashing,
    /// The static model in this directory (a start-up error when it cannot be loaded).
    Static(PathBuf),
}

impl FromStr for EmbedderSetting {
    type Err = String;

    fn from_str(text: &str) -> std::result::Result<Self, String> {
        match text {
            "auto" => Ok(Self::Auto),
            HASHING_V1 => Ok(Self::Hashing),
            _ => match text.strip_prefix("static:") {
                Some(path) if !path.is_empty() => Ok(Self::Static(PathBuf::from(path))),
                _ => Err(format!(
                    "'{text}' is not an embedder setting (auto, {HASHING_V1} or static:DIR)"
                )),
            },
        }
    }
}

/// The embedders this server has: always `hashing-v1`, and the static model when one is loaded
/// (then also the default for collections that name none).
#[derive(Clone, Default)]
pub(crate) struct Embedders {
    model: Option<Arc<static_model::StaticModel>>,
}

impl Embedders {
    /// Loads what `setting` asks for; logs which embedder new collections get.
    pub(crate) fn load(setting: &EmbedderSetting) -> std::result::Result<Self, String> {
        let dir = match setting {
            EmbedderSetting::Hashing => None,
            EmbedderSetting::Static(dir) => Some(dir.clone()),
            EmbedderSetting::Auto => MODEL_DIRS
                .iter()
                .map(PathBuf::from)
                .find(|dir| dir.join(static_model::WEIGHTS_FILE).is_file()),
        };
        let Some(dir) = dir else {
            let why = if *setting == EmbedderSetting::Auto {
                format!(
                    " (no model files in {}; scripts/fetch-model.sh fetches them)",
                    MODEL_DIRS.join(" or ")
                )
            } else {
                String::new()
            };
            tracing::info!("text embedder: {HASHING_V1}, lexical{why}");
            return Ok(Self::default());
        };
        let model = load_model(&dir)?;
        // Parsing the 1.8 MB tokenizer file leaves about 3 MB of freed memory in the allocator
        // that the process would otherwise keep for its lifetime; give it back once, here.
        chatmesh_runtime::memory::release_free_memory();
        tracing::info!(
            "text embedder: {} (static model from {})",
            model.name(),
            dir.display()
        );
        Ok(Self {
            model: Some(Arc::new(model)),
        })
    }

    /// What a collection that names no embedder records.
    pub(crate) fn default_name(&self) -> &str {
        self.model.as_ref().map_or(HASHING_V1, |m| m.name())
    }

    /// The embedder a create (or re-embed) request names, at `dimension`: `""` (the default),
    /// `hashing-v1`, `none` (`None`), the model by its short name, or by its full name.
    pub(crate) fn resolve(
        &self,
        name: &str,
        dimension: usize,
    ) -> Result<Option<Arc<dyn Embedder>>> {
        let name = if name.is_empty() {
            self.default_name()
        } else {
            name
        };
        match name {
            NONE => return Ok(None),
            HASHING_V1 => return hashing(dimension).map(Some),
            _ => {}
        }
        match &self.model {
            Some(model) if name == model.name() || Some(name) == short(model.name()) => {
                check_dimension(model.as_ref(), dimension)?;
                Ok(Some(model.clone()))
            }
            _ => Err(invalid(format!(
                "unknown embedder '{name}' (this server has {})",
                self.known()
            ))),
        }
    }

    /// The embedder that built a collection's vectors (recorded as `recorded`), or why this
    /// server cannot embed texts for it.
    pub(crate) fn of_collection(
        &self,
        collection: &str,
        recorded: &str,
        dimension: usize,
    ) -> Result<Arc<dyn Embedder>> {
        let model = self.model.as_ref().filter(|m| m.name() == recorded);
        let found = match (recorded, model) {
            (NONE, _) => Err(format!(
                "collection '{collection}' has no text embedder (embedder '{NONE}'); send vectors instead"
            )),
            (HASHING_V1 | "", _) => hashing(dimension).map_err(|e| e.to_string()),
            (_, Some(model)) => Ok(model.clone() as Arc<dyn Embedder>),
            (_, None) => Err(format!(
                "collection '{collection}' was built by embedder '{recorded}', and this server \
                 embeds with {}: re-embed it (ReembedCollection) or send vectors",
                self.known()
            )),
        };
        found.map_err(VectorError::FailedPrecondition)
    }

    fn known(&self) -> String {
        match &self.model {
            Some(model) => format!("'{}', '{HASHING_V1}' and '{NONE}'", model.name()),
            None => format!("'{HASHING_V1}' and '{NONE}'"),
        }
    }
}

/// `hashing-v1` at `dimension`.
fn hashing(dimension: usize) -> Result<Arc<dyn Embedder>> {
    if !(16..=4096).contains(&dimension) {
        return Err(invalid(format!(
            "embedder {HASHING_V1} produces 16 to 4096 dimensions, not {dimension}"
        )));
    }
    Ok(Arc::new(hashing::HashingEmbedder::new(dimension)))
}

fn check_dimension(embedder: &dyn Embedder, dimension: usize) -> Result<()> {
    match embedder.dimension() {
        Some(d) if d != dimension => Err(invalid(format!(
            "embedder {} produces {d} dimensions, not {dimension}",
            embedder.name()
        ))),
        _ => Ok(()),
    }
}

/// The name without its fingerprint.
fn short(name: &str) -> Option<&str> {
    name.split_once('@').map(|(short, _)| short)
}

fn load_model(dir: &Path) -> std::result::Result<static_model::StaticModel, String> {
    static_model::StaticModel::load(dir).map_err(|e| format!("cannot load the text model: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashing_only_registry_knows_its_embedders() {
        let embedders = Embedders::default();
        assert_eq!(embedders.default_name(), HASHING_V1);
        assert!(embedders.resolve("", 256).unwrap().is_some());
        assert!(embedders.resolve(HASHING_V1, 8).is_err());
        assert!(embedders.resolve(NONE, 3).unwrap().is_none());
        let err = embedders
            .resolve("word2vec", 256)
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("unknown embedder 'word2vec'"), "{err}");
        let err = embedders
            .of_collection("docs", "wordllama-l2-256@0123456789ab", 256)
            .err()
            .unwrap();
        assert!(matches!(err, VectorError::FailedPrecondition(ref m)
            if m.contains("'wordllama-l2-256@0123456789ab'") && m.contains("'hashing-v1'")));
    }

    #[test]
    fn settings_parse() {
        assert_eq!("auto".parse(), Ok(EmbedderSetting::Auto));
        assert_eq!(HASHING_V1.parse(), Ok(EmbedderSetting::Hashing));
        assert_eq!(
            "static:/m".parse(),
            Ok(EmbedderSetting::Static(PathBuf::from("/m")))
        );
        assert!("static:".parse::<EmbedderSetting>().is_err());
        assert!("bert".parse::<EmbedderSetting>().is_err());
    }
}
