//! What one `near_text` search of the benchmark workload costs inside the vector service, with
//! no transport around it: the workload's 2,000 FAQs in one collection as the service holds
//! them (`hashing-v1`, 256 dimensions, cosine, the exact scan through the column layout), and
//! the 300 questions of the side-by-side Search cell, each embedded and searched for its best
//! five on one thread.
//!
//! The Search cell of `../shared/peers/side-by-side.sh` is gRPC plus this. Through the service
//! its cost per call swings with the machine's load and the transport's batching; in one thread
//! here it is steady enough to tell a change to the scan or the embedder from noise.
//!
//! `cargo bench -p chatmesh-vector --bench faq_search -- [WORKLOAD] [QUESTIONS] [PASSES]
//! [MODEL_DIR]`
//! (defaults: `shared/bench/workload.json` and
//! `shared/peers/python-seed/data/vector_search.jsonl` beside the checkout, as on the benchmark
//! machines, and 200 passes over the questions). With `MODEL_DIR` the static model embeds
//! instead of `hashing-v1` (its questions' vectors have no zero components, so the scan reads
//! every column).
//! Prints the median and best pass as µs per question: embedding, search, both.

use std::time::{Duration, Instant};

use chatmesh_vector::internals::{Collection, CollectionSpec, Metric, Object, TextEmbedder};
use serde_json::Value;

fn main() -> Result<(), String> {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    // Cargo runs a benchmark in its package's directory; the defaults are beside the checkout.
    let beside = |path: &str| format!("{}/../../../{path}", env!("CARGO_MANIFEST_DIR"));
    let workload = args
        .first()
        .cloned()
        .unwrap_or_else(|| beside("shared/bench/workload.json"));
    let questions = args
        .get(1)
        .cloned()
        .unwrap_or_else(|| beside("shared/peers/python-seed/data/vector_search.jsonl"));
    let passes: usize = args
        .get(2)
        .map_or(Ok(200), |p| p.parse())
        .map_err(|e| format!("PASSES: {e}"))?;

    let read = |path: &str| std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"));
    let workload: Value = serde_json::from_str(&read(&workload)?).map_err(|e| e.to_string())?;
    let faqs = workload["vector"]["items"]
        .as_array()
        .ok_or("workload: no vector items")?;
    let questions: Vec<String> = read(&questions)?
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let q: Value = serde_json::from_str(l).map_err(|e| e.to_string())?;
            Ok(q["text"].as_str().unwrap_or_default().to_owned())
        })
        .collect::<Result<_, String>>()?;

    let embedder = match args.get(3) {
        Some(model) => TextEmbedder::load_static(std::path::Path::new(model))?,
        None => TextEmbedder::hashing(256)?,
    };
    let mut collection = Collection::new(CollectionSpec::new("faq", 256, Metric::Cosine));
    collection.apply_upsert(
        faqs.iter()
            .map(|faq| {
                let text = faq["text"].as_str().unwrap_or_default();
                Object {
                    id: faq["id"].as_str().unwrap_or_default().to_owned(),
                    vector: embedder.document(text),
                    payload: Default::default(),
                    text: Some(text.to_owned()),
                }
            })
            .collect(),
    );
    println!(
        "{} FAQs, {} questions, {passes} passes, one thread, {}",
        collection.len(),
        questions.len(),
        embedder.name()
    );

    let ef = collection.spec().ef_search;
    let mut embed_passes = Vec::with_capacity(passes);
    let mut search_passes = Vec::with_capacity(passes);
    let mut answers = 0usize;
    for _ in 0..passes {
        let (mut embed, mut search) = (Duration::ZERO, Duration::ZERO);
        for question in &questions {
            let started = Instant::now();
            let vector = embedder.query(question);
            let embedded = Instant::now();
            let hits = collection.search(&vector, 5, ef, None);
            search += embedded.elapsed();
            embed += embedded - started;
            answers += std::hint::black_box(hits).len();
        }
        embed_passes.push(embed);
        search_passes.push(search);
    }
    if answers != passes * questions.len() * 5 {
        return Err(format!(
            "expected five hits per question, got {answers} in all"
        ));
    }
    let per_question = |d: Duration| d.as_secs_f64() * 1e6 / questions.len() as f64;
    let summary = |mut times: Vec<Duration>| {
        times.sort_unstable();
        (per_question(times[times.len() / 2]), per_question(times[0]))
    };
    let both: Vec<Duration> = embed_passes
        .iter()
        .zip(&search_passes)
        .map(|(e, s)| *e + *s)
        .collect();
    for (what, times) in [
        ("embed", embed_passes),
        ("search", search_passes),
        ("both", both),
    ] {
        let (median, best) = summary(times);
        println!("{what:<7} median {median:6.2} µs   best {best:6.2} µs   per question");
    }
    Ok(())
}
