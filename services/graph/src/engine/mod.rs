//! The in-memory graph engine, below Cypher and the store: [`state`] (the petgraph graph with
//! our own stable ids, and the [`Mutation`]s that change it), [`lookup`] (its label and
//! property indexes), [`txn`] (a write transaction that
//! can undo itself), [`traverse`] (neighbour walks and shortest paths), [`schema`] (the GetSchema
//! counts), [`budget`] (the deadline and caller checks every long walk shares) and [`memory`] (the memory
//! budget of Cypher queries). It knows nothing of logs, locks, Cypher or protobuf.

mod budget;
mod lookup;
mod memory;
mod schema;
mod state;
mod traverse;
mod txn;

pub use budget::Budget;
pub(crate) use budget::{AbandonOnDrop, watched};
pub(crate) use memory::{MemoryPool, QueryMemory};
pub(crate) use schema::summarize;
pub(crate) use state::Mutation;
pub use state::{EdgeData, GraphState};
pub(crate) use traverse::{neighbors, neighbors_within, shortest_path};
pub(crate) use txn::DeletedTypes;
pub use txn::Txn;
