//! The work budget of one request: long walks (neighbour listings, shortest paths, Cypher
//! pattern matches) count their steps here and stop with DEADLINE_EXCEEDED once the caller's
//! deadline has passed. Reading the clock costs more than a step, so it is read every 256.
//! A Cypher query's budget also carries its share of memory (see [`super::memory`]).
//!
//! A walk also stops, at its next step, once its caller has gone away (a cancelled call, a
//! dropped connection): the store runs such work on the blocking pool inside [`watched`], with a
//! flag that is set when the call's future is dropped, and every budget made there reads it. The
//! flag travels by thread-local rather than through every signature, because budgets are made
//! deep in the engine, always on the thread that runs the call.

use std::cell::{Cell, RefCell};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use super::memory::QueryMemory;
use crate::error::{GraphError, Result};

/// Checks the deadline every so many steps.
pub struct Budget {
    deadline: Option<Instant>,
    steps: Cell<u64>,
    memory: Option<QueryMemory>,
    /// Set once the caller has gone away (see the module docs).
    abandoned: Option<Arc<AtomicBool>>,
    /// Most steps before the work must move off the async thread ([`Budget::inline`]).
    max_steps: u64,
}

thread_local! {
    /// The flag of the call this thread works for, inside [`watched`].
    static ABANDONED: RefCell<Option<Arc<AtomicBool>>> = const { RefCell::new(None) };
}

/// Runs `work` on this thread for a call whose caller may go away: every [`Budget`] made inside
/// stops once `abandoned` is set.
pub(crate) fn watched<T>(abandoned: Arc<AtomicBool>, work: impl FnOnce() -> T) -> T {
    /// Clears the flag when `work` ends, even by a panic, so that the pool thread's next call
    /// does not inherit it.
    struct Clear;
    impl Drop for Clear {
        fn drop(&mut self) {
            ABANDONED.with(|slot| slot.borrow_mut().take());
        }
    }
    ABANDONED.with(|slot| *slot.borrow_mut() = Some(abandoned));
    let _clear = Clear;
    work()
}

/// Sets its flag when dropped: the async side of [`watched`], held by the call's future.
#[derive(Debug, Default)]
pub(crate) struct AbandonOnDrop(Arc<AtomicBool>);

impl AbandonOnDrop {
    /// The flag to hand to [`watched`].
    pub(crate) fn flag(&self) -> Arc<AtomicBool> {
        self.0.clone()
    }
}

impl Drop for AbandonOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

impl Budget {
    /// A budget ending at `deadline` (none: the walk may run to its end).
    pub fn new(deadline: Option<Instant>) -> Self {
        Self {
            deadline,
            steps: Cell::new(0),
            memory: None,
            abandoned: ABANDONED.with(|slot| slot.borrow().clone()),
            max_steps: u64::MAX,
        }
    }

    /// A budget for work tried on an async thread: past `max_steps` steps it stops with
    /// [`GraphError::Reschedule`], and the store runs the work again on the blocking pool.
    pub(crate) fn inline(self, max_steps: u64) -> Self {
        Self { max_steps, ..self }
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
        self.check_caller()?;
        match self.deadline {
            Some(deadline) if Instant::now() >= deadline => Err(GraphError::DeadlineExceeded(
                "the request ran past the caller's deadline; nothing was changed".into(),
            )),
            _ => Ok(()),
        }
    }

    /// Fails once the caller has gone away (one relaxed load: cheap enough for every step).
    fn check_caller(&self) -> Result<()> {
        match &self.abandoned {
            Some(flag) if flag.load(Ordering::Relaxed) => Err(GraphError::Cancelled(
                "the caller went away; the request stopped and nothing was changed".into(),
            )),
            _ => Ok(()),
        }
    }

    /// Counts one step; fails once the deadline has passed or the caller has gone away.
    pub(crate) fn tick(&self) -> Result<()> {
        self.check_caller()?;
        let steps = self.steps.get().wrapping_add(1);
        self.steps.set(steps);
        if steps > self.max_steps {
            return Err(GraphError::Reschedule);
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_budget_made_for_an_abandoned_call_stops_at_its_next_step() {
        let abandon = AbandonOnDrop::default();
        let flag = abandon.flag();
        watched(flag, || {
            let budget = Budget::new(None);
            assert!(budget.tick().is_ok() && budget.check().is_ok());
            drop(abandon);
            assert!(matches!(budget.tick(), Err(GraphError::Cancelled(_))));
            assert!(matches!(budget.check(), Err(GraphError::Cancelled(_))));
        });
        // Outside `watched` a budget has no caller to lose.
        assert!(Budget::new(None).tick().is_ok());
    }

    #[test]
    fn a_panicking_call_leaves_no_flag_behind_on_its_thread() {
        let abandon = AbandonOnDrop::default();
        let flag = abandon.flag();
        drop(abandon);
        let panicked = std::panic::catch_unwind(|| watched(flag, || panic!("a bug in a walk")));
        assert!(panicked.is_err());
        assert!(
            Budget::new(None).tick().is_ok(),
            "the next call inherited the flag"
        );
    }
}
