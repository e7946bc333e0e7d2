//! The Cypher subset, on the in-memory engine: [`lexer`] (tokens with line:column) →
//! [`parser`] (recursive descent into [`ast`], then [`check`] of the variables' scope) →
//! [`exec`] (clauses over rows of bindings, with [`matcher`] for patterns, [`eval`] for
//! expressions, [`write`] for the writing clauses and [`project`] for RETURN and WITH), all on
//! [`rval`]'s run-time values. The embedded store parses with [`parse`] and runs with
//! [`execute`] inside its read lock or write transaction; the Bolt engine reads the [`lexer`]'s
//! tokens to scan the text it passes through. [`lowest_node_with`] answers a walk's start
//! node (a label and one property) from the same matching code without a statement.

mod ast;
mod check;
mod eval;
mod exec;
mod lexer;
mod matcher;
mod parser;
mod project;
mod rval;
mod write;

pub use ast::Statement;
pub use exec::{Graph, Output, execute};
pub(crate) use lexer::{Tok, Token, tokenize};
pub(crate) use matcher::lowest_node_with;
pub use parser::parse;
