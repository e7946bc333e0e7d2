//! What one routing decision costs in process: the built-in rules deciding each line of a file of
//! questions (one per line), many times over, timed as a whole.
//!
//! ```text
//! cargo run --release -p chatmesh-router --example classify_cost -- questions.txt [ROUNDS]
//! ```

use std::time::Instant;

use chatmesh_router::internals::{Classifier, Rules};

fn main() {
    let mut args = std::env::args().skip(1);
    let path = args.next().expect("a file of questions, one per line");
    let rounds: usize = args
        .next()
        .map_or(200, |r| r.parse().expect("ROUNDS is a number"));
    let text = std::fs::read_to_string(&path).expect("readable questions file");
    let questions: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let classifier = Classifier::new(Rules::built_in(), Some("faq".to_owned()));
    let mut decided = 0usize;
    for q in &questions {
        decided += usize::from(classifier.decide(q, None, "session-1").is_ok());
    }
    let started = Instant::now();
    for _ in 0..rounds {
        for q in &questions {
            let plan = classifier.decide(q, None, "session-1");
            std::hint::black_box(&plan);
        }
    }
    let each = started.elapsed().as_nanos() as f64 / (rounds * questions.len()) as f64;
    println!(
        "{} questions ({decided} decided), {rounds} rounds: {each:.0} ns per decision",
        questions.len()
    );
}
