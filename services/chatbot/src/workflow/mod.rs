//! A small workflow engine in the spirit of LangGraph: a typed state, nodes that are async steps
//! returning updates to it, plain and conditional edges between them, `START` and `END`, and a
//! step limit. A graph is built as data ([`Graph`]), validated once when compiled
//! ([`Graph::compile`]), and then run any number of times, concurrently ([`Compiled::run`]).
//! A run can be observed: every step reports its node starting and finishing, with the state
//! keys the node wrote ([`Event`]).

mod graph;
mod run;

pub use graph::{
    BuildError, Compiled, END, Graph, Node, NodeError, NodeFuture, Route, START, State,
};
pub use run::{Event, EventKind, Observer, RunError};

#[cfg(test)]
mod tests;
