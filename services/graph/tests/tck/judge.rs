//! Running one TCK scenario against a [`Backend`] and judging it: set-up steps, parameters,
//! the query, then the expected rows (in order or not), the expected error (with its gRPC
//! code, and the graph left unchanged) and the side effects (a diff of the graph's contents,
//! as the TCK defines them).
//!
//! A scenario is "outside" only when a query it runs is refused as outside the subset
//! ("unsupported: X"; X becomes the reason) or when it needs a procedure; any other failure,
//! a failing set-up query included, is a failure.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;

use chatmesh_proto::graph as pb;
use tonic::Code;

use crate::render::{expected_cell, render};

/// What a backend answered for one query.
#[derive(Debug, Clone)]
pub(crate) struct Answer {
    pub columns: Vec<String>,
    pub rows: Vec<pb::Row>,
}

/// A query's error as the gRPC edge reports it.
#[derive(Debug, Clone)]
pub(crate) struct Failure {
    pub code: Code,
    pub message: String,
}

impl Failure {
    /// The construct the subset refuses, when that is why the query failed.
    pub(crate) fn unsupported(&self) -> Option<String> {
        let (_, rest) = self.message.split_once("unsupported: ")?;
        let what = rest.split(" is outside").next().unwrap_or(rest);
        Some(what.trim().to_owned())
    }
}

/// A graph the scenarios run on: the in-memory executor or the gRPC service.
pub(crate) trait Backend {
    /// Empties the graph.
    fn reset(&mut self) -> Result<(), Failure>;
    /// Runs one statement with parameters.
    fn run(&mut self, cypher: &str, params: &HashMap<String, pb::Value>)
    -> Result<Answer, Failure>;
    /// Every node and relationship.
    fn contents(&mut self) -> Result<(Vec<pb::Node>, Vec<pb::Relationship>), Failure>;
}

/// The graph's contents as the TCK counts them: node ids, relationship ids, property facts,
/// label names in use.
pub(crate) type Contents = [BTreeSet<String>; 4];

fn contents(backend: &mut dyn Backend) -> Result<Contents, Failure> {
    let (nodes, relationships) = backend.contents()?;
    let mut sets: Contents = Default::default();
    for node in nodes {
        sets[0].insert(node.id.to_string());
        for (k, v) in &node.properties {
            sets[2].insert(format!("n{}.{k}={}", node.id, render(v, false)));
        }
        sets[3].extend(node.labels.iter().cloned());
    }
    for rel in relationships {
        sets[1].insert(rel.id.to_string());
        for (k, v) in &rel.properties {
            sets[2].insert(format!("r{}.{k}={}", rel.id, render(v, false)));
        }
    }
    Ok(sets)
}

/// The TCK's side-effect keys, in the order of [`Contents`], each as (+added, -removed).
const EFFECT_KEYS: [(&str, &str); 4] = [
    ("+nodes", "-nodes"),
    ("+relationships", "-relationships"),
    ("+properties", "-properties"),
    ("+labels", "-labels"),
];

fn effects(before: &Contents, after: &Contents) -> HashMap<&'static str, usize> {
    let mut out = HashMap::new();
    for (i, (plus, minus)) in EFFECT_KEYS.iter().enumerate() {
        out.insert(*plus, after[i].difference(&before[i]).count());
        out.insert(*minus, before[i].difference(&after[i]).count());
    }
    out
}

/// The verdict on one scenario.
#[derive(Debug, PartialEq, Eq, Clone)]
pub(crate) enum Verdict {
    Pass,
    /// Why it failed.
    Fail(String),
    /// The construct outside the subset.
    Outside(String),
}

/// The gRPC codes a TCK error class may come back as.
fn codes_for(class: &str) -> &'static [Code] {
    match class {
        "ConstraintVerificationFailed" => &[Code::FailedPrecondition],
        "EntityNotFound" => &[
            Code::NotFound,
            Code::FailedPrecondition,
            Code::InvalidArgument,
        ],
        // SyntaxError, SemanticError, TypeError, ArgumentError, ParameterMissing.
        _ => &[Code::InvalidArgument],
    }
}

/// Runs a set-up query: refusals of the subset make the scenario outside; other errors fail it.
fn set_up(
    backend: &mut dyn Backend,
    what: &str,
    cypher: &str,
    params: &HashMap<String, pb::Value>,
) -> Result<(), Verdict> {
    match backend.run(cypher, params) {
        Ok(_) => Ok(()),
        Err(f) => Err(match f.unsupported() {
            Some(construct) => Verdict::Outside(construct),
            None => Verdict::Fail(format!("{what} failed: {}", f.message)),
        }),
    }
}

/// The query's outcome, with the contents before and after it.
struct Last {
    result: Result<Answer, Failure>,
    before: Contents,
    after: Contents,
}

/// Runs `scenario` on a fresh graph of `backend`; `root` holds the TCK's named graphs.
pub(crate) fn judge(
    backend: &mut dyn Backend,
    scenario: &crate::feature::Scenario,
    root: &Path,
) -> Verdict {
    match judge_steps(backend, scenario, root) {
        Ok(()) => Verdict::Pass,
        Err(verdict) => verdict,
    }
}

/// Runs the scenario's steps in order; the first step that does not hold gives the verdict.
fn judge_steps(
    backend: &mut dyn Backend,
    scenario: &crate::feature::Scenario,
    root: &Path,
) -> Result<(), Verdict> {
    backend.reset().map_err(backend_error)?;
    let mut params: HashMap<String, pb::Value> = HashMap::new();
    let mut last: Option<Last> = None;
    for step in &scenario.steps {
        let line = step.keyword_line.as_str();
        let doc = step.doc.as_deref().unwrap_or("");
        if line.contains("an empty graph") || line.contains("any graph") {
            backend.reset().map_err(backend_error)?;
        } else if let Some(name) = line
            .strip_prefix("Given the ")
            .and_then(|l| l.strip_suffix(" graph"))
        {
            named_graph(backend, root, name)?;
        } else if line.contains("having executed") {
            set_up(backend, "set-up query", doc, &params)?;
        } else if line.contains("parameters are") {
            parameters(backend, step, &mut params)?;
        } else if line.contains("there exists a procedure") {
            return Err(Verdict::Outside("CALL (procedures)".into()));
        } else if line.starts_with("When executing") {
            last = Some(execute(backend, doc, &params)?);
        } else if line.contains("should be raised") {
            expected_error(last.as_ref(), line)?;
        } else if line.starts_with("Then the result should be") {
            expected_result(last.as_ref(), step, line)?;
        } else if line.contains("no side effects") || line.contains("side effects should be") {
            side_effects(last.as_ref(), step)?;
        }
    }
    Ok(())
}

/// A backend error outside any query's judgement fails the scenario.
fn backend_error(f: Failure) -> Verdict {
    Verdict::Fail(format!("backend: {}", f.message))
}

/// Loads the TCK's named graph `name` (from `root/graphs`) as a set-up query.
fn named_graph(backend: &mut dyn Backend, root: &Path, name: &str) -> Result<(), Verdict> {
    let file = root
        .join("graphs")
        .join(name)
        .join(format!("{name}.cypher"));
    let setup =
        std::fs::read_to_string(&file).map_err(|e| Verdict::Fail(format!("graph {name}: {e}")))?;
    set_up(backend, &format!("graph {name}"), &setup, &HashMap::new())
}

/// Evaluates each parameter of the step's table on the backend into `params`.
fn parameters(
    backend: &mut dyn Backend,
    step: &crate::feature::Step,
    params: &mut HashMap<String, pb::Value>,
) -> Result<(), Verdict> {
    for row in &step.table {
        let [name, value] = row.as_slice() else {
            return Err(Verdict::Fail("bad parameter table".into()));
        };
        let answer = backend
            .run(&format!("RETURN {value} AS v"), &HashMap::new())
            .map_err(|f| match f.unsupported() {
                Some(construct) => Verdict::Outside(construct),
                None => Verdict::Fail(format!("parameter {name}: {}", f.message)),
            })?;
        let value = answer
            .rows
            .first()
            .and_then(|r| r.values.first())
            .cloned()
            .ok_or_else(|| Verdict::Fail(format!("parameter {name}: no value")))?;
        params.insert(name.clone(), value);
    }
    Ok(())
}

/// Runs the scenario's query, with the graph's contents before and after it.
fn execute(
    backend: &mut dyn Backend,
    doc: &str,
    params: &HashMap<String, pb::Value>,
) -> Result<Last, Verdict> {
    let before = contents(backend).map_err(backend_error)?;
    let result = backend.run(doc, params);
    let after = contents(backend).map_err(backend_error)?;
    Ok(Last {
        result,
        before,
        after,
    })
}

/// The query failed with a gRPC code of the expected error class and left the graph unchanged.
fn expected_error(last: Option<&Last>, line: &str) -> Result<(), Verdict> {
    let Some(last) = last else {
        return Err(Verdict::Fail("no query".into()));
    };
    let failure = match &last.result {
        Ok(_) => return Err(Verdict::Fail(format!("expected an error: {line}"))),
        Err(f) => f,
    };
    if let Some(construct) = failure.unsupported() {
        return Err(Verdict::Outside(construct));
    }
    let class = line
        .trim_start_matches("Then a ")
        .trim_start_matches("Then an ")
        .split_whitespace()
        .next()
        .unwrap_or("");
    if !codes_for(class).contains(&failure.code) {
        return Err(Verdict::Fail(format!(
            "{class} came back as {:?}: {}",
            failure.code, failure.message
        )));
    }
    if last.before != last.after {
        return Err(Verdict::Fail(
            "the failing query changed the graph".to_owned(),
        ));
    }
    Ok(())
}

/// The query succeeded and its rows are the step's table (see [`compare_rows`]).
fn expected_result(
    last: Option<&Last>,
    step: &crate::feature::Step,
    line: &str,
) -> Result<(), Verdict> {
    let answer = match last.map(|l| &l.result) {
        Some(Ok(answer)) => answer,
        Some(Err(f)) => {
            return Err(match f.unsupported() {
                Some(construct) => Verdict::Outside(construct),
                None => Verdict::Fail(format!("error: {}", f.message)),
            });
        }
        None => return Err(Verdict::Fail("no query".into())),
    };
    compare_rows(answer, step, line)
}

/// A successful query's side effects are the step's table (keys not listed: zero).
fn side_effects(last: Option<&Last>, step: &crate::feature::Step) -> Result<(), Verdict> {
    let Some(Last {
        result: Ok(_),
        before,
        after,
    }) = last
    else {
        return Ok(());
    };
    let got = effects(before, after);
    let mut wanted: HashMap<&str, usize> = HashMap::new();
    for row in &step.table {
        if let [key, value] = row.as_slice() {
            wanted.insert(key.as_str(), value.parse().unwrap_or(0));
        }
    }
    for (plus, minus) in EFFECT_KEYS {
        for key in [plus, minus] {
            let (got, want) = (got[key], wanted.get(key).copied().unwrap_or(0));
            if got != want {
                return Err(Verdict::Fail(format!(
                    "side effect {key}: {got}, expected {want}"
                )));
            }
        }
    }
    Ok(())
}

fn compare_rows(answer: &Answer, step: &crate::feature::Step, line: &str) -> Result<(), Verdict> {
    let sort_lists = line.contains("ignoring element order for lists");
    let got: Vec<Vec<String>> = answer
        .rows
        .iter()
        .map(|r| r.values.iter().map(|v| render(v, sort_lists)).collect())
        .collect();
    let expected: Vec<Vec<String>> = if line.contains("empty") {
        Vec::new()
    } else {
        let Some((header, body)) = step.table.split_first() else {
            return Err(Verdict::Fail("no table".into()));
        };
        if header != &answer.columns {
            return Err(Verdict::Fail(format!(
                "columns {:?}, expected {header:?}",
                answer.columns
            )));
        }
        body.iter()
            .map(|r| r.iter().map(|c| expected_cell(c, sort_lists)).collect())
            .collect()
    };
    let (mut got_sorted, mut expected_sorted) = (got.clone(), expected.clone());
    if !line.contains("in order") {
        got_sorted.sort();
        expected_sorted.sort();
    }
    if got_sorted != expected_sorted {
        return Err(Verdict::Fail(format!(
            "rows {got:?}\n      expected {expected:?}"
        )));
    }
    Ok(())
}
