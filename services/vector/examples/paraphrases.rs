//! Retrieval quality of the embedders, measured the way docs/benchmarks.md reports it:
//!
//! - recall@1, recall@5 and MRR on the paraphrase set in `services/vector/eval/` (245 questions
//!   that share no content word with the FAQ they should find, among 112 FAQs);
//! - nDCG@5 on the benchmark workload's 300 FAQ questions (`vector_search.jsonl` of the shared
//!   peers' data) over its 2,000 FAQs, one relevant FAQ per question: the one whose title is the
//!   question;
//! - the relevance-threshold trade-off: how many paraphrases would still be answered (and
//!   answered right) and how many of the 67 off-topic questions would get an answer, per
//!   threshold on the top score;
//! - the embedding time of a question (p50 over the paraphrases, one thread, in process).
//!
//! `cargo run --release -p chatmesh-vector --example paraphrases -- MODEL_DIR [EVAL_DIR]
//! [WORKLOAD] [QUESTIONS]` (defaults, from the repository root: services/vector/eval,
//! ../shared/bench/workload.json, ../shared/peers/python-seed/data/vector_search.jsonl).

use std::path::{Path, PathBuf};
use std::time::Instant;

use chatmesh_vector::internals::TextEmbedder;
use serde_json::Value;

const THRESHOLDS: [f32; 8] = [0.10, 0.15, 0.20, 0.225, 0.25, 0.275, 0.30, 0.35];

fn main() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let model = PathBuf::from(
        args.first()
            .ok_or("usage: paraphrases MODEL_DIR [EVAL_DIR] [WORKLOAD]")?,
    );
    let eval = PathBuf::from(args.get(1).map_or("services/vector/eval", String::as_str));
    let workload = PathBuf::from(
        args.get(2)
            .map_or("../shared/bench/workload.json", String::as_str),
    );
    let questions = PathBuf::from(args.get(3).map_or(
        "../shared/peers/python-seed/data/vector_search.jsonl",
        String::as_str,
    ));
    let set = EvalSet::read(&eval, &workload, &questions)?;
    for embedder in [
        TextEmbedder::hashing(256)?,
        TextEmbedder::load_static(&model)?,
    ] {
        report(&embedder, &set);
    }
    Ok(())
}

struct EvalSet {
    faq_ids: Vec<String>,
    faqs: Vec<String>,
    paraphrases: Vec<(String, usize)>,
    offtopic: Vec<String>,
    workload_faqs: Vec<String>,
    workload_questions: Vec<(String, usize)>,
}

fn lines(path: &Path) -> Result<Vec<Value>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).map_err(|e| format!("{}: {e}", path.display())))
        .collect()
}

fn field(value: &Value, key: &str) -> String {
    value[key].as_str().unwrap_or_default().to_owned()
}

impl EvalSet {
    fn read(eval: &Path, workload: &Path, questions: &Path) -> Result<Self, String> {
        let faqs = lines(&eval.join("faqs.jsonl"))?;
        let faq_ids: Vec<String> = faqs.iter().map(|f| field(f, "id")).collect();
        let paraphrases = lines(&eval.join("paraphrases.jsonl"))?
            .iter()
            .map(|p| {
                let target = field(p, "faq");
                let index = faq_ids.iter().position(|id| *id == target);
                index
                    .map(|i| (field(p, "question"), i))
                    .ok_or(format!("unknown faq {target}"))
            })
            .collect::<Result<_, _>>()?;
        let offtopic = lines(&eval.join("offtopic.jsonl"))?
            .iter()
            .map(|o| field(o, "question"))
            .collect();
        let text = std::fs::read_to_string(workload)
            .map_err(|e| format!("{}: {e}", workload.display()))?;
        let workload: Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
        let workload_faqs: Vec<String> = workload["vector"]["items"]
            .as_array()
            .ok_or("workload: no vector items")?
            .iter()
            .map(|i| field(i, "text"))
            .collect();
        // Each question is the title of exactly one FAQ (compared without case).
        let titles: Vec<String> = workload_faqs
            .iter()
            .map(|t| t.split('?').next().unwrap_or_default().to_lowercase() + "?")
            .collect();
        let workload_questions = lines(questions)?
            .iter()
            .map(|q| {
                let text = field(q, "text");
                let target = titles.iter().position(|t| *t == text.to_lowercase());
                target
                    .map(|i| (text.clone(), i))
                    .ok_or(format!("no FAQ is titled '{text}'"))
            })
            .collect::<Result<_, _>>()?;
        Ok(Self {
            faq_ids,
            faqs: faqs.iter().map(|f| field(f, "text")).collect(),
            paraphrases,
            offtopic,
            workload_faqs,
            workload_questions,
        })
    }
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// The rank (0-based) of `target` among `docs` for `query`, ties counted against it, and the
/// top score.
fn rank(query: &[f32], docs: &[Vec<f32>], target: usize) -> (usize, f32) {
    let scores: Vec<f32> = docs.iter().map(|d| dot(query, d)).collect();
    let own = scores[target];
    let rank = scores
        .iter()
        .enumerate()
        .filter(|(i, s)| *i != target && **s >= own)
        .count();
    (rank, scores.iter().copied().fold(f32::MIN, f32::max))
}

fn report(embedder: &TextEmbedder, set: &EvalSet) {
    println!(
        "\n## {}  ({} FAQs, {} paraphrases)",
        embedder.name(),
        set.faq_ids.len(),
        set.paraphrases.len()
    );
    let docs: Vec<Vec<f32>> = set.faqs.iter().map(|t| embedder.document(t)).collect();
    let mut times = Vec::new();
    let mut ranked = Vec::new();
    for (question, target) in &set.paraphrases {
        let started = Instant::now();
        let query = embedder.query(question);
        times.push(started.elapsed().as_nanos() as f64 / 1000.0);
        ranked.push(rank(&query, &docs, *target));
    }
    let n = ranked.len() as f64;
    let at = |k: usize| ranked.iter().filter(|(r, _)| *r < k).count() as f64 / n;
    let mrr = ranked
        .iter()
        .map(|(r, _)| 1.0 / (*r as f64 + 1.0))
        .sum::<f64>()
        / n;
    times.sort_by(f64::total_cmp);
    println!(
        "paraphrases: recall@1 {:.3}, recall@5 {:.3}, MRR {:.3}; question embedding p50 {:.1} µs",
        at(1),
        at(5),
        mrr,
        times[times.len() / 2]
    );
    let workload_docs: Vec<Vec<f32>> = set
        .workload_faqs
        .iter()
        .map(|t| embedder.document(t))
        .collect();
    let ndcg = set
        .workload_questions
        .iter()
        .map(|(q, target)| {
            let (r, _) = rank(&embedder.query(q), &workload_docs, *target);
            if r < 5 {
                1.0 / (r as f64 + 2.0).log2()
            } else {
                0.0
            }
        })
        .sum::<f64>()
        / set.workload_questions.len() as f64;
    println!(
        "workload FAQ questions: nDCG@5 {ndcg:.3} ({} questions, {} FAQs)",
        set.workload_questions.len(),
        set.workload_faqs.len()
    );
    let off: Vec<f32> = set
        .offtopic
        .iter()
        .map(|q| {
            let query = embedder.query(q);
            docs.iter().map(|d| dot(&query, d)).fold(f32::MIN, f32::max)
        })
        .collect();
    println!(
        "| threshold | paraphrases answered | answered right (top 1) | off-topic answered | precision of answers |"
    );
    println!("| --- | --- | --- | --- | --- |");
    for t in THRESHOLDS {
        let answered = ranked.iter().filter(|(_, top)| *top >= t).count();
        let right = ranked
            .iter()
            .filter(|(r, top)| *top >= t && *r == 0)
            .count();
        let false_answers = off.iter().filter(|s| **s >= t).count();
        let precision = right as f64 / (answered + false_answers).max(1) as f64;
        println!(
            "| {t:.3} | {:.0} % | {:.0} % | {:.0} % | {:.0} % |",
            100.0 * answered as f64 / n,
            100.0 * right as f64 / n,
            100.0 * false_answers as f64 / off.len() as f64,
            100.0 * precision
        );
    }
}
