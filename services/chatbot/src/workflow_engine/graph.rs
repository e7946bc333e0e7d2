//! Building and validating a workflow graph: nodes by name, plain and conditional edges, the
//! step limit. [`Graph::compile`] checks the shape once (names, dangling edges, every node
//! reachable from `START`, `END` reachable from every node) and resolves names to indices, so a
//! run never looks a name up.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use futures::future::BoxFuture;

/// The virtual node a run starts from.
pub(crate) const START: &str = "__start__";
/// The virtual node a run ends at.
pub(crate) const END: &str = "__end__";

/// The typed state a workflow works on. Nodes read it and return an update; the engine applies
/// updates one at a time, so nodes never share mutable state.
pub(crate) trait State: Send + Sync + 'static {
    /// What a node returns: the changes it wants made.
    type Update: Send + 'static;

    /// Applies a node's update.
    fn apply(&mut self, update: Self::Update);

    /// The state keys `update` writes, with their new values as JSON. Only called when a run is
    /// observed, so unobserved runs pay nothing for it.
    fn describe(update: &Self::Update) -> serde_json::Map<String, serde_json::Value>;
}

/// Why a node failed (a node that can degrade gracefully records that in the state instead).
pub(crate) type NodeError = Box<dyn std::error::Error + Send + Sync>;

/// What a node's step returns.
pub(crate) type NodeFuture<'a, U> = BoxFuture<'a, Result<U, NodeError>>;

/// One step of a workflow: reads the state, returns an update.
pub(crate) trait Node<S: State>: Send + Sync {
    /// Runs the step.
    fn run<'a>(&'a self, state: &'a S) -> NodeFuture<'a, S::Update>;
}

/// A node made of a function, mostly for tests and small steps.
struct FnNode<F>(F);

impl<S, F> Node<S> for FnNode<F>
where
    S: State,
    F: for<'a> Fn(&'a S) -> NodeFuture<'a, S::Update> + Send + Sync,
{
    fn run<'a>(&'a self, state: &'a S) -> NodeFuture<'a, S::Update> {
        (self.0)(state)
    }
}

/// Picks the next node of a conditional edge from the state; returns one of the edge's
/// declared targets (a node name or [`END`]).
pub(crate) type Route<S> = Arc<dyn Fn(&S) -> &'static str + Send + Sync>;

/// Where a run goes after a node.
pub(super) enum Next<S> {
    /// Always the same place.
    To(Target),
    /// Wherever `route` says, among `targets` (indexed by name).
    Choose {
        route: Route<S>,
        targets: Vec<(&'static str, Target)>,
    },
}

/// A resolved edge end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Target {
    Node(usize),
    End,
}

enum PendingEdge<S> {
    To(&'static str),
    Choose {
        route: Route<S>,
        targets: Vec<&'static str>,
    },
}

/// Why a graph does not compile.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum BuildError {
    /// Two nodes share a name.
    #[error("node '{0}' is defined twice")]
    DuplicateNode(&'static str),
    /// A node uses `START` or `END` as its name, or an empty name.
    #[error("'{0}' cannot be a node name")]
    ReservedName(&'static str),
    /// An edge leaves a node that does not exist.
    #[error("edge from unknown node '{0}'")]
    UnknownSource(&'static str),
    /// An edge goes to a node that does not exist.
    #[error("edge from '{from}' to unknown node '{to}'")]
    UnknownTarget {
        /// Where the edge starts.
        from: &'static str,
        /// The missing node.
        to: &'static str,
    },
    /// A node (or `START`) has more than one outgoing edge.
    #[error("'{0}' has more than one outgoing edge")]
    SeveralEdges(&'static str),
    /// A conditional edge declares no targets.
    #[error("conditional edge from '{0}' declares no targets")]
    NoTargets(&'static str),
    /// `START` has no outgoing edge.
    #[error("nothing leaves START")]
    NoEntry,
    /// A node has no outgoing edge (add one to END if it is a last step).
    #[error("node '{0}' has no outgoing edge")]
    DeadEnd(&'static str),
    /// No path from `START` reaches the node.
    #[error("node '{0}' is not reachable from START")]
    Unreachable(&'static str),
    /// No path from the node reaches `END`: a run through it could never finish.
    #[error("END is not reachable from node '{0}'")]
    EndUnreachable(&'static str),
    /// The step limit is zero.
    #[error("the step limit must be at least 1")]
    ZeroStepLimit,
}

/// A workflow graph being built.
pub(crate) struct Graph<S: State> {
    nodes: Vec<(&'static str, Arc<dyn Node<S>>)>,
    edges: Vec<(&'static str, PendingEdge<S>)>,
    step_limit: usize,
}

impl<S: State> Default for Graph<S> {
    fn default() -> Self {
        Self::new()
    }
}

impl<S: State> Graph<S> {
    /// An empty graph with a step limit of 25.
    pub(crate) fn new() -> Self {
        Self {
            nodes: Vec::new(),
            edges: Vec::new(),
            step_limit: 25,
        }
    }

    /// Adds a node.
    pub(crate) fn node(mut self, name: &'static str, node: impl Node<S> + 'static) -> Self {
        self.nodes.push((name, Arc::new(node)));
        self
    }

    /// Adds a node made of a function returning a boxed future.
    pub(crate) fn node_fn<F>(self, name: &'static str, f: F) -> Self
    where
        F: for<'a> Fn(&'a S) -> NodeFuture<'a, S::Update> + Send + Sync + 'static,
    {
        self.node(name, FnNode(f))
    }

    /// Adds an edge that is always taken (`from` may be [`START`], `to` may be [`END`]).
    pub(crate) fn edge(mut self, from: &'static str, to: &'static str) -> Self {
        self.edges.push((from, PendingEdge::To(to)));
        self
    }

    /// Adds a conditional edge: after `from`, `route` picks one of `targets`.
    pub(crate) fn conditional_edge(
        mut self,
        from: &'static str,
        targets: &[&'static str],
        route: impl Fn(&S) -> &'static str + Send + Sync + 'static,
    ) -> Self {
        self.edges.push((
            from,
            PendingEdge::Choose {
                route: Arc::new(route),
                targets: targets.to_vec(),
            },
        ));
        self
    }

    /// The most node runs one run may take (a guard against routing loops).
    pub(crate) fn step_limit(mut self, limit: usize) -> Self {
        self.step_limit = limit;
        self
    }

    /// Validates the graph and resolves it for running.
    pub(crate) fn compile(self) -> Result<Compiled<S>, BuildError> {
        if self.step_limit == 0 {
            return Err(BuildError::ZeroStepLimit);
        }
        let mut index = HashMap::new();
        for (i, (name, _)) in self.nodes.iter().enumerate() {
            if name.is_empty() || *name == START || *name == END {
                return Err(BuildError::ReservedName(name));
            }
            if index.insert(*name, i).is_some() {
                return Err(BuildError::DuplicateNode(name));
            }
        }
        let resolve = |from: &'static str, to: &'static str| -> Result<Target, BuildError> {
            if to == END {
                return Ok(Target::End);
            }
            index
                .get(to)
                .map(|i| Target::Node(*i))
                .ok_or(BuildError::UnknownTarget { from, to })
        };
        let mut entry: Option<Next<S>> = None;
        let mut next: Vec<Option<Next<S>>> = self.nodes.iter().map(|_| None).collect();
        for (from, edge) in self.edges {
            let resolved = match edge {
                PendingEdge::To(to) => Next::To(resolve(from, to)?),
                PendingEdge::Choose { route, targets } => {
                    if targets.is_empty() {
                        return Err(BuildError::NoTargets(from));
                    }
                    let targets = targets
                        .into_iter()
                        .map(|to| resolve(from, to).map(|t| (to, t)))
                        .collect::<Result<_, _>>()?;
                    Next::Choose { route, targets }
                }
            };
            let slot = if from == START {
                &mut entry
            } else {
                let i = *index.get(from).ok_or(BuildError::UnknownSource(from))?;
                &mut next[i]
            };
            if slot.replace(resolved).is_some() {
                return Err(BuildError::SeveralEdges(from));
            }
        }
        let entry = entry.ok_or(BuildError::NoEntry)?;
        let next = next
            .into_iter()
            .enumerate()
            .map(|(i, n)| n.ok_or(BuildError::DeadEnd(self.nodes[i].0)))
            .collect::<Result<Vec<_>, _>>()?;
        check_reachability(&self.nodes, &entry, &next)?;
        Ok(Compiled {
            nodes: self.nodes,
            entry,
            next,
            step_limit: self.step_limit,
        })
    }
}

fn targets_of<S>(next: &Next<S>) -> Vec<Target> {
    match next {
        Next::To(t) => vec![*t],
        Next::Choose { targets, .. } => targets.iter().map(|(_, t)| *t).collect(),
    }
}

/// Every node reachable from START; END reachable from every node.
fn check_reachability<S: State>(
    nodes: &[(&'static str, Arc<dyn Node<S>>)],
    entry: &Next<S>,
    next: &[Next<S>],
) -> Result<(), BuildError> {
    let mut seen = vec![false; nodes.len()];
    let mut queue: VecDeque<Target> = targets_of(entry).into();
    while let Some(t) = queue.pop_front() {
        if let Target::Node(i) = t
            && !std::mem::replace(&mut seen[i], true)
        {
            queue.extend(targets_of(&next[i]));
        }
    }
    if let Some(i) = seen.iter().position(|s| !s) {
        return Err(BuildError::Unreachable(nodes[i].0));
    }
    // Walk backwards from END: a node finishes if one of its targets is END or a finishing node.
    let mut finishes = vec![false; nodes.len()];
    let mut changed = true;
    while changed {
        changed = false;
        for (i, n) in next.iter().enumerate() {
            if !finishes[i]
                && targets_of(n).iter().any(|t| match t {
                    Target::End => true,
                    Target::Node(j) => finishes[*j],
                })
            {
                finishes[i] = true;
                changed = true;
            }
        }
    }
    match finishes.iter().position(|f| !f) {
        Some(i) => Err(BuildError::EndUnreachable(nodes[i].0)),
        None => Ok(()),
    }
}

/// A validated graph, ready to run; cheap to share (`Arc`) between concurrent runs.
pub(crate) struct Compiled<S: State> {
    pub(super) nodes: Vec<(&'static str, Arc<dyn Node<S>>)>,
    pub(super) entry: Next<S>,
    pub(super) next: Vec<Next<S>>,
    pub(super) step_limit: usize,
}
