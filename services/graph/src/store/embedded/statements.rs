//! Parsed Cypher statements kept by their text, so a statement that comes again with other
//! parameters (an agent's graph tool, the router's query templates, a client's prepared
//! query) is not lexed, parsed and checked again. Parsing the chat path's one-line lookup
//! measured a fifth of the graph service's CPU in the chat mix (docs/benchmarks.md), where the
//! walk after it cost less.
//!
//! Bounded so that no caller can grow it: texts longer than [`MAX_TEXT`] bytes are parsed every
//! time and not kept, and the kept ones weigh at most [`WEIGHT`] in all, each weighed as an
//! upper estimate of the memory its syntax tree holds ([`OVERHEAD`] plus [`TREE_PER_BYTE`] per
//! byte of text, which `tests/statement_memory.rs` checks): about 800 statements of a short line,
//! or 8 of the longest. `quick_cache`'s CLOCK-Pro policy evicts them: a statement used again
//! stays, one-off texts leave first. A text that does not parse is never kept, so its error is
//! reported afresh each time.

use std::sync::Arc;

use quick_cache::sync::{Cache, DefaultLifecycle};
use quick_cache::{DefaultHashBuilder, OptionsBuilder};

use crate::cypher::{self, Statement};
use crate::error::Result;

/// Longest text kept (bytes). Templates are a line or two; a longer text is most likely built
/// per call and would only push the templates out.
const MAX_TEXT: usize = 2048;

/// A kept statement's fixed cost in bytes: the key, the cache's slot, the statement's root.
pub const OVERHEAD: u64 = 512;

/// Bytes of syntax tree one byte of text can make at most: an upper estimate, which
/// `tests/statement_memory.rs` checks against the texts that make the most tree per byte.
pub const TREE_PER_BYTE: u64 = 128;

/// Most weight kept: 2 MiB.
const WEIGHT: u64 = 2 << 20;

/// Shards of the cache, each with its own lock and a quarter of the weight.
const SHARDS: usize = 4;

/// See the module documentation.
pub(super) struct Statements {
    parsed: Cache<String, Arc<Statement>, TextWeight>,
}

/// A kept statement's weight: [`OVERHEAD`] plus [`TREE_PER_BYTE`] per byte of its text.
#[derive(Clone)]
struct TextWeight;

impl quick_cache::Weighter<String, Arc<Statement>> for TextWeight {
    fn weight(&self, text: &String, _: &Arc<Statement>) -> u64 {
        OVERHEAD + TREE_PER_BYTE * text.len() as u64
    }
}

impl Default for Statements {
    fn default() -> Self {
        Self {
            parsed: Cache::with_options(
                OptionsBuilder::new()
                    .estimated_items_capacity(1024)
                    .weight_capacity(WEIGHT)
                    // Each shard holds a share of the weight; few enough that the longest
                    // statement fits one on any machine (the default grows with the cores).
                    .shards(SHARDS)
                    .build()
                    .expect("every option is set"),
                TextWeight,
                DefaultHashBuilder::default(),
                DefaultLifecycle::default(),
            ),
        }
    }
}

impl Statements {
    /// The statement `text` parses to: kept from an earlier call, or parsed now.
    pub(super) fn parse(&self, text: &str) -> Result<Arc<Statement>> {
        if text.len() > MAX_TEXT {
            return Ok(Arc::new(cypher::parse(text)?));
        }
        if let Some(statement) = self.parsed.get(text) {
            return Ok(statement);
        }
        let statement = Arc::new(cypher::parse(text)?);
        self.parsed.insert(text.to_owned(), Arc::clone(&statement));
        Ok(statement)
    }

    /// How many statements are kept.
    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.parsed.len()
    }

    /// What the kept statements weigh.
    #[cfg(test)]
    fn weight(&self) -> u64 {
        self.parsed.weight()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_text_is_parsed_once_and_bad_or_long_texts_are_not_kept() {
        let statements = Statements::default();
        let text = "MATCH (n:Person {name: $name}) RETURN n.name";
        let first = statements.parse(text).unwrap();
        let again = statements.parse(text).unwrap();
        assert!(Arc::ptr_eq(&first, &again), "the kept statement is reused");
        assert_eq!(statements.len(), 1);

        assert!(statements.parse("MATCH (n RETURN n").is_err());
        assert!(statements.parse("MATCH (n RETURN n").is_err());
        assert_eq!(
            statements.len(),
            1,
            "a text that does not parse is not kept"
        );

        let long = format!("RETURN 1 AS x{}", " ".repeat(MAX_TEXT));
        let a = statements.parse(&long).unwrap();
        let b = statements.parse(&long).unwrap();
        assert!(!Arc::ptr_eq(&a, &b), "a long text is parsed every time");
        assert_eq!(statements.len(), 1);
    }

    #[test]
    fn what_is_kept_stays_within_its_weight() {
        let weight = |text: &str| OVERHEAD + TREE_PER_BYTE * text.len() as u64;
        let short = Statements::default();
        for i in 0..4_000 {
            short.parse(&format!("RETURN {i} AS n")).unwrap();
        }
        assert!(short.weight() <= WEIGHT, "{}", short.weight());
        let kept = short.len() as u64;
        assert!(
            kept <= WEIGHT / weight("RETURN 0 AS n"),
            "{kept} short statements kept"
        );
        let least = WEIGHT / weight("RETURN 1999 AS n") / 4;
        assert!(kept >= least, "only {kept} short statements kept");

        // The longest kept texts still fit a shard.
        let padding = " ".repeat(MAX_TEXT - 20);
        let long = Statements::default();
        for i in 0..400 {
            long.parse(&format!("RETURN {i} AS n{padding}")).unwrap();
        }
        assert!(long.weight() <= WEIGHT, "{}", long.weight());
        let kept = long.len() as u64;
        let each = weight(&format!("RETURN 0 AS n{padding}"));
        assert!(
            (1..=WEIGHT / each).contains(&kept),
            "{kept} long statements kept"
        );

        // Once full of statements in use, one-off texts do not push them out.
        for i in 0..4_000 {
            short.parse(&format!("RETURN {i} AS n{padding}")).unwrap();
        }
        assert!(short.weight() <= WEIGHT, "{}", short.weight());
    }
}
