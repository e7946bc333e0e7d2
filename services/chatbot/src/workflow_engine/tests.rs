//! The engine's rules: what compiling refuses, how conditional edges route, the step limit, and
//! the order of events.

use serde_json::json;

use super::graph::BuildError;
use super::*;

/// A counter that nodes increment, with the trail of nodes that ran.
#[derive(Debug, Default)]
struct Counter {
    n: i64,
    trail: Vec<&'static str>,
}

struct Add {
    by: i64,
    node: &'static str,
}

impl State for Counter {
    type Update = Add;

    fn apply(&mut self, update: Add) {
        self.n += update.by;
        self.trail.push(update.node);
    }

    fn describe(update: &Add) -> serde_json::Map<String, serde_json::Value> {
        let mut m = serde_json::Map::new();
        m.insert("added".into(), json!(update.by));
        m
    }
}

fn add(node: &'static str, by: i64) -> impl for<'a> Fn(&'a Counter) -> NodeFuture<'a, Add> {
    move |_state| Box::pin(async move { Ok(Add { by, node }) })
}

fn linear() -> Graph<Counter> {
    Graph::new()
        .node_fn("a", add("a", 1))
        .node_fn("b", add("b", 10))
        .edge(START, "a")
        .edge("a", "b")
        .edge("b", END)
}

#[tokio::test]
async fn a_linear_graph_runs_every_node_once_in_order() {
    let graph = linear().compile().unwrap();
    let mut state = Counter::default();
    let steps = graph.run(&mut state, None).await.unwrap();
    assert_eq!(steps, 2);
    assert_eq!(state.n, 11);
    assert_eq!(state.trail, ["a", "b"]);
}

#[test]
fn compile_refuses_malformed_graphs() {
    let err = |g: Graph<Counter>| g.compile().err().expect("should not compile");
    assert_eq!(
        err(linear().edge("b", "a")),
        BuildError::SeveralEdges("b"),
        "two edges out of one node"
    );
    assert_eq!(
        err(Graph::new()
            .node_fn("a", add("a", 1))
            .edge(START, "a")
            .edge("a", "missing")),
        BuildError::UnknownTarget {
            from: "a",
            to: "missing"
        }
    );
    assert_eq!(
        err(linear().edge("ghost", END)),
        BuildError::UnknownSource("ghost")
    );
    assert_eq!(
        err(linear().node_fn("a", add("a", 2))),
        BuildError::DuplicateNode("a")
    );
    assert_eq!(
        err(linear().node_fn(END, add("x", 2))),
        BuildError::ReservedName(END)
    );
    assert_eq!(
        err(Graph::new().node_fn("a", add("a", 1)).edge("a", END)),
        BuildError::NoEntry
    );
    assert_eq!(
        err(linear()
            .node_fn("lonely", add("lonely", 1))
            .edge("lonely", END)),
        BuildError::Unreachable("lonely")
    );
    assert_eq!(
        err(Graph::new().node_fn("a", add("a", 1)).edge(START, "a")),
        BuildError::DeadEnd("a")
    );
    // a and b only lead to each other: a run entering them could never finish.
    assert_eq!(
        err(Graph::new()
            .node_fn("a", add("a", 1))
            .node_fn("b", add("b", 1))
            .edge(START, "a")
            .edge("a", "b")
            .edge("b", "a")),
        BuildError::EndUnreachable("a")
    );
    assert_eq!(
        err(Graph::new()
            .node_fn("a", add("a", 1))
            .edge(START, "a")
            .conditional_edge("a", &[], |_| END)),
        BuildError::NoTargets("a")
    );
    assert_eq!(err(linear().step_limit(0)), BuildError::ZeroStepLimit);
}

/// a → (n even? "even" : "odd") → END.
fn branching() -> Graph<Counter> {
    Graph::new()
        .node_fn("start", add("start", 0))
        .node_fn("even", add("even", 100))
        .node_fn("odd", add("odd", -100))
        .edge(START, "start")
        .conditional_edge("start", &["even", "odd"], |s: &Counter| {
            if s.n % 2 == 0 { "even" } else { "odd" }
        })
        .edge("even", END)
        .edge("odd", END)
}

#[tokio::test]
async fn conditional_edges_follow_the_state() {
    let graph = branching().compile().unwrap();
    let mut even = Counter::default();
    graph.run(&mut even, None).await.unwrap();
    assert_eq!(even.trail, ["start", "even"]);
    let mut odd = Counter {
        n: 3,
        ..Counter::default()
    };
    graph.run(&mut odd, None).await.unwrap();
    assert_eq!(odd.trail, ["start", "odd"]);
    assert_eq!(odd.n, -97);
}

#[tokio::test]
async fn a_route_to_an_undeclared_target_is_an_error() {
    let graph = Graph::new()
        .node_fn("a", add("a", 1))
        .edge(START, "a")
        .conditional_edge("a", &[END], |_: &Counter| "elsewhere")
        .compile()
        .unwrap();
    let err = graph.run(&mut Counter::default(), None).await.unwrap_err();
    assert!(
        matches!(
            err,
            RunError::UndeclaredRoute {
                from: "a",
                to: "elsewhere"
            }
        ),
        "{err}"
    );
}

#[tokio::test]
async fn a_loop_stops_at_the_step_limit() {
    // Loops until n reaches 1000, one step at a time: far beyond the limit of 5.
    let graph = Graph::new()
        .node_fn("inc", add("inc", 1))
        .edge(START, "inc")
        .conditional_edge(
            "inc",
            &["inc", END],
            |s: &Counter| {
                if s.n < 1000 { "inc" } else { END }
            },
        )
        .step_limit(5)
        .compile()
        .unwrap();
    let mut state = Counter::default();
    let err = graph.run(&mut state, None).await.unwrap_err();
    assert!(matches!(err, RunError::StepLimit { limit: 5 }), "{err}");
    assert_eq!(state.n, 5, "exactly the allowed steps ran");

    // The same loop with a reachable exit finishes within the limit.
    let mut near = Counter {
        n: 997,
        ..Counter::default()
    };
    assert_eq!(graph.run(&mut near, None).await.unwrap(), 3);
}

#[tokio::test]
async fn events_come_in_order_with_the_written_keys() {
    let graph = branching().compile().unwrap();
    let mut events = Vec::new();
    let mut observer = |e: Event| events.push(e);
    graph
        .run(&mut Counter::default(), Some(&mut observer))
        .await
        .unwrap();
    let seen: Vec<_> = events.iter().map(|e| (e.step, e.node, e.kind)).collect();
    assert_eq!(
        seen,
        [
            (1, "start", EventKind::Started),
            (1, "start", EventKind::Finished),
            (2, "even", EventKind::Started),
            (2, "even", EventKind::Finished),
        ]
    );
    assert!(events[0].delta.is_empty());
    assert_eq!(events[3].delta.get("added"), Some(&json!(100)));
    assert!(events.windows(2).all(|w| w[0].elapsed <= w[1].elapsed));
}

#[tokio::test]
async fn a_failing_node_names_itself() {
    let graph = Graph::new()
        .node_fn("broken", |_: &Counter| -> NodeFuture<'_, Add> {
            Box::pin(async { Err("disk on fire".into()) })
        })
        .edge(START, "broken")
        .edge("broken", END)
        .compile()
        .unwrap();
    let err = graph.run(&mut Counter::default(), None).await.unwrap_err();
    assert_eq!(err.to_string(), "node 'broken' failed: disk on fire");
}
