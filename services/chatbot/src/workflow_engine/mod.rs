//! The workflow engine (the default workflow a chat turn runs is [`crate::turn_workflow`]): a
//! small engine in the spirit of LangGraph: a typed state, nodes that are async steps
//! returning updates to it, plain and conditional edges between them, `START` and `END`, and a
//! step limit. A graph is built as data ([`Graph`]), validated once when compiled
//! ([`Graph::compile`]), and then run any number of times, concurrently ([`Compiled::run`]).
//! A run can be observed: every step reports its node starting and finishing, with the state
//! keys the node wrote ([`Event`]).

mod graph;
mod run;

pub(crate) use graph::{Compiled, END, Graph, Node, NodeFuture, START, State};
pub(crate) use run::{Event, EventKind, Observer, RunError};

#[cfg(test)]
mod tests;
