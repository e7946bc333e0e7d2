//! The work budget of one request: long walks (neighbour listings, shortest paths, Cypher
//! pattern matches) count their steps here and stop with DEADLINE_EXCEEDED once the caller's
//! deadline has passed. Reading the clock costs more than a step, so it is read every 256.
//! A Cypher query's budget also carries its share of memory (see [`super::memory`]).

use std::cell::Cell;
use std::time::Instant;

use super::memory::QueryMemory;
use crate::error::{GraphError, Result};

/// Checks the deadline every so many steps.
pub struct Budget {
    deadline: Option<Instant>,
    steps: Cell<u64>,
    memory: Option<QueryMemory>,
}

impl Budget {
    /// A budget ending at `deadline` (none: the walk may run to its end).
    pub fn new(deadline: Option<Instant>) -> Self {
        Self {
            deadline,
            steps: Cell::new(0),
            memory: None,
        }
    }

    /// A budget ending at `deadline` that also holds the query to its share of memory.
    pub(crate) fn with_memory(deadline: Option<Instant>, memory: QueryMemory) -> Self {
        Self {
            memory: Some(memory),
            ..Self::new(deadline)
        }
    }

    /// Charges an estimated `bytes` of memory the query now holds too.
    pub(crate) fn charge(&self, bytes: u64) -> Result<()> {
        self.memory.as_ref().map_or(Ok(()), |m| m.charge(bytes))
    }

    /// Sets the memory the query holds to an estimated `bytes` (the rows a clause kept).
    pub(crate) fn settle(&self, bytes: u64) -> Result<()> {
        self.memory.as_ref().map_or(Ok(()), |m| m.settle(bytes))
    }

    /// Fails once the deadline has passed (reads the clock now): between clauses, and before a
    /// write commits, so that work past the deadline is neither continued nor kept.
    pub(crate) fn check(&self) -> Result<()> {
        match self.deadline {
            Some(deadline) if Instant::now() >= deadline => Err(GraphError::DeadlineExceeded(
                "the request ran past the caller's deadline; nothing was changed".into(),
            )),
            _ => Ok(()),
        }
    }

    /// Counts one step; fails once the deadline has passed.
    pub(crate) fn tick(&self) -> Result<()> {
        let steps = self.steps.get().wrapping_add(1);
        self.steps.set(steps);
        if steps.is_multiple_of(256)
            && let Some(deadline) = self.deadline
            && Instant::now() >= deadline
        {
            return Err(GraphError::DeadlineExceeded(
                "the request ran past the caller's deadline; nothing was changed".into(),
            ));
        }
        Ok(())
    }
}
