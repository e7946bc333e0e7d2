//! Fuzzes the routing-rules file (TOML parsing, validation, regex compilation) and the
//! classifier it builds. The input is a rules file, optionally followed by a NUL byte and a
//! query. A file is accepted or refused with a message naming what is wrong, never a panic; an
//! accepted file keeps its promises (valid, unique rule names, confidences in (0, 1], defaults
//! in range), and the classifier over it answers the query with a well-formed plan or a named
//! field error.

#![no_main]

use std::collections::HashSet;

use chatmesh_proto::router::Decision;
use chatmesh_router::internals::{BackendCall, Classifier, RouteError, Rules, RulesError};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (file, query) = match data.iter().position(|&b| b == 0) {
        Some(nul) => (&data[..nul], &data[nul + 1..]),
        None => (data, &b"where is order 42"[..]),
    };
    let Ok(file) = std::str::from_utf8(file) else {
        return;
    };
    match Rules::parse(file) {
        Ok(rules) => {
            check_rules(&rules);
            check_plan(&rules, &String::from_utf8_lossy(query));
        }
        Err(RulesError::Rule { rule, reason }) => assert!(!rule.is_empty() && !reason.is_empty()),
        Err(RulesError::Syntax(reason) | RulesError::Defaults(reason)) => {
            assert!(!reason.is_empty())
        }
    }
});

fn check_rules(rules: &Rules) {
    let d = &rules.defaults;
    assert!(!d.collection.trim().is_empty() && (1..=1000).contains(&d.k));
    assert!((0.0..=1.0).contains(&d.fallback_confidence));
    let mut names = HashSet::new();
    for rule in &rules.rules {
        assert!(names.insert(rule.name.as_str()), "{} twice", rule.name);
        let mut chars = rule.name.chars();
        assert!(chars.next().is_some_and(|c| c.is_ascii_lowercase()) && rule.name.len() <= 64);
        assert!(chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'));
        assert!(rule.confidence > 0.0 && rule.confidence <= 1.0);
        assert!(rule.k.is_none_or(|k| (1..=1000).contains(&k)));
    }
}

fn check_plan(rules: &Rules, query: &str) {
    let classifier = Classifier::new(rules.clone(), None);
    match classifier.decide(query, None, "") {
        Ok(plan) => {
            let e = &plan.explanation;
            assert!((0.0..=1.0).contains(&e.confidence));
            if e.decision == Decision::Rule as i32 {
                let rule = rules.rules.iter().find(|r| r.name == e.rule);
                assert_eq!(rule.map(|r| r.confidence), Some(e.confidence), "{}", e.rule);
            } else {
                assert_eq!(e.decision, Decision::Fallback as i32);
                assert!(e.rule.is_empty());
            }
            match &plan.call {
                BackendCall::VectorSearch(r) => {
                    assert!(!r.collection.is_empty() && (1..=1000).contains(&r.k))
                }
                BackendCall::GetOrder(r) => assert!(r.id >= 1),
                _ => {}
            }
        }
        Err(RouteError::InvalidField { field, reason }) => {
            assert!(!field.is_empty() && !reason.is_empty());
        }
    }
}
