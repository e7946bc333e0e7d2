//! Running a compiled workflow: start at `START`'s edge, run a node, apply its update, follow
//! its edge, until `END` or the step limit. An observer, when given, sees every step start and
//! finish in order, with the state keys the node wrote.

use std::time::Duration;

use tokio::time::Instant;
use tracing::Instrument;

use super::graph::{Compiled, Next, NodeError, State, Target};

/// Whether a node started or finished.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EventKind {
    /// The node began running.
    Started,
    /// The node returned and its update was applied.
    Finished,
}

/// One step of a run, as an observer sees it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Event {
    /// 1-based number of the node run; a node's Started and Finished share it.
    pub step: u32,
    /// The node's name.
    pub node: &'static str,
    /// Started or finished.
    pub kind: EventKind,
    /// The state keys the node wrote with their new values (empty for Started).
    pub delta: serde_json::Map<String, serde_json::Value>,
    /// Time since the run started.
    pub elapsed: Duration,
}

/// Receives a run's events as they happen.
pub(crate) trait Observer: Send {
    /// Called once per event, in order.
    fn event(&mut self, event: Event);
}

impl<F: FnMut(Event) + Send> Observer for F {
    fn event(&mut self, event: Event) {
        self(event)
    }
}

/// Why a run did not reach `END`.
#[derive(Debug, thiserror::Error)]
pub(crate) enum RunError {
    /// More node runs were needed than the graph's step limit allows.
    #[error("the workflow did not finish within {limit} steps")]
    StepLimit {
        /// The limit.
        limit: usize,
    },
    /// A conditional edge chose a target it had not declared.
    #[error("node '{from}' routed to undeclared target '{to}'")]
    UndeclaredRoute {
        /// The node whose edge chose.
        from: &'static str,
        /// What it chose.
        to: &'static str,
    },
    /// A node failed.
    #[error("node '{node}' failed: {source}")]
    Node {
        /// The failing node.
        node: &'static str,
        /// Its error.
        source: NodeError,
    },
}

impl<S: State> Compiled<S> {
    /// Runs the workflow on `state` until END; returns the number of node runs.
    pub(crate) async fn run(
        &self,
        state: &mut S,
        mut observer: Option<&mut dyn Observer>,
    ) -> Result<usize, RunError> {
        let started = Instant::now();
        let mut target = self.follow(&self.entry, "__start__", state)?;
        let mut steps = 0usize;
        while let Target::Node(i) = target {
            if steps == self.step_limit {
                return Err(RunError::StepLimit {
                    limit: self.step_limit,
                });
            }
            steps += 1;
            let (name, node) = &self.nodes[i];
            let step = steps as u32;
            if let Some(observer) = observer.as_deref_mut() {
                observer.event(Event {
                    step,
                    node: name,
                    kind: EventKind::Started,
                    delta: serde_json::Map::new(),
                    elapsed: started.elapsed(),
                });
            }
            let span = tracing::info_span!(
                "workflow.step",
                otel.name = %format_args!("workflow.step {name}"),
                node = *name,
                step
            );
            let update = node
                .run(state)
                .instrument(span)
                .await
                .map_err(|source| RunError::Node { node: name, source })?;
            let delta = observer.as_ref().map(|_| S::describe(&update));
            state.apply(update);
            if let (Some(observer), Some(delta)) = (observer.as_deref_mut(), delta) {
                observer.event(Event {
                    step,
                    node: name,
                    kind: EventKind::Finished,
                    delta,
                    elapsed: started.elapsed(),
                });
            }
            target = self.follow(&self.next[i], name, state)?;
        }
        Ok(steps)
    }

    fn follow(&self, next: &Next<S>, from: &'static str, state: &S) -> Result<Target, RunError> {
        match next {
            Next::To(t) => Ok(*t),
            Next::Choose { route, targets } => {
                let to = route(state);
                targets
                    .iter()
                    .find(|(name, _)| *name == to)
                    .map(|(_, t)| *t)
                    .ok_or(RunError::UndeclaredRoute { from, to })
            }
        }
    }
}
