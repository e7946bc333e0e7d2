//! Parsed Cypher statements kept by their text, so a statement that comes again with other
//! parameters (an agent's graph tool, the router's query templates, a client's prepared
//! query) is not lexed, parsed and checked again. Parsing the chat path's one-line lookup
//! measured a fifth of the graph service's CPU in the chat mix (docs/benchmarks.md), where the
//! walk after it cost less.
//!
//! Bounded twice, so no caller can grow it: texts longer than [`MAX_TEXT`] bytes are parsed
//! every time and not kept, and at most [`CAPACITY`] statements are, evicted by `quick_cache`'s
//! CLOCK-Pro policy (hits keep a statement, one-off texts leave first). A text that does not
//! parse is never kept, so its error is reported afresh each time.

use std::sync::Arc;

use quick_cache::sync::Cache;

use crate::cypher::{self, Statement};
use crate::error::Result;

/// Longest text kept (bytes). Templates are a line or two; a longer text is most likely built
/// per call and would only push the templates out.
const MAX_TEXT: usize = 2048;

/// Most statements kept.
const CAPACITY: usize = 256;

/// See the module documentation.
pub(super) struct Statements {
    parsed: Cache<String, Arc<Statement>>,
}

impl Default for Statements {
    fn default() -> Self {
        Self {
            parsed: Cache::new(CAPACITY),
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
    fn at_most_capacity_statements_are_kept() {
        let statements = Statements::default();
        for i in 0..CAPACITY * 4 {
            statements.parse(&format!("RETURN {i} AS n")).unwrap();
        }
        assert!(statements.len() <= CAPACITY, "{}", statements.len());
        assert!(statements.len() > 0);
    }
}
