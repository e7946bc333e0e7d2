//! The Cypher subset, on the in-memory engine: [`lexer`] (tokens with line:column) →
//! [`parser`] (recursive descent into [`ast`], then [`check`] of the variables' scope) →
//! [`exec`] (clauses over rows of bindings, with [`matcher`] for patterns, [`eval`] for
//! expressions, [`write`] for the writing clauses and [`project`] for RETURN and WITH), all on
//! [`rval`]'s run-time values. The embedded store parses with [`parse`] and runs with
//! [`execute`] inside its read lock or write transaction.

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
pub use parser::parse;
