//! The Cypher subset: [`lexer`] (tokens with line:column) → [`parser`] (recursive descent into
//! [`ast`]) → [`exec`] (clauses over rows, with [`matcher`] for patterns and [`eval`] for
//! values and expressions, [`project`] for RETURN and WITH). The embedded store parses with
//! [`parser::parse`] and runs with [`exec::execute`].

pub mod ast;
pub mod eval;
pub mod exec;
pub mod lexer;
pub mod matcher;
pub mod parser;
pub mod project;
pub mod scope;
