//! Routing rules: the TOML file format, its validation, and the compiled form the classifier
//! runs. A file is validated whole at start-up; every problem names the rule it is in.

use std::collections::HashSet;

use regex::Regex;
use serde::Deserialize;

/// The rules compiled into the binary (`services/router/rules/default.toml`).
pub(crate) const DEFAULT_RULES: &str = include_str!("../../rules/default.toml");

/// Entity kinds the router extracts itself, without a pattern group.
const BUILT_IN_ENTITIES: [&str; 1] = ["person_name"];

/// A rules file that cannot be used.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum RulesError {
    /// Not TOML, or not the expected shape.
    #[error("not a valid rules file: {0}")]
    Syntax(String),
    /// A rule is wrong.
    #[error("rule '{rule}': {reason}")]
    Rule {
        /// The rule's name (or its position when the name itself is the problem).
        rule: String,
        /// What is wrong.
        reason: String,
    },
    /// The `[defaults]` table is wrong.
    #[error("defaults: {0}")]
    Defaults(String),
}

/// What a rule makes the router do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Relational GetOrder by the `order_id` entity.
    GetOrder,
    /// Relational ListOrders, filtered by `customer` (or `person_name`) when extracted.
    ListOrders,
    /// Graph ListNeighbors of the Person named by `person_name`.
    PersonNeighbors,
    /// A read-only Cypher query, entities bound as parameters.
    GraphQuery,
    /// Vector near-text search with the query text.
    VectorSearch,
}

/// Which way `person_neighbors` walks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Walk {
    /// Relationships ending at the person (e.g. their manager, via MANAGES).
    Incoming,
    /// Relationships starting at the person (e.g. their reports).
    Outgoing,
    /// Either way.
    #[default]
    Both,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RulesFile {
    #[serde(default)]
    defaults: DefaultsFile,
    #[serde(default)]
    rules: Vec<RuleFile>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DefaultsFile {
    #[serde(default = "default_collection")]
    collection: String,
    #[serde(default = "default_k")]
    k: i32,
    #[serde(default = "default_fallback_confidence")]
    fallback_confidence: f32,
}

impl Default for DefaultsFile {
    fn default() -> Self {
        Self {
            collection: default_collection(),
            k: default_k(),
            fallback_confidence: default_fallback_confidence(),
        }
    }
}

fn default_collection() -> String {
    "docs".to_owned()
}

fn default_k() -> i32 {
    5
}

fn default_fallback_confidence() -> f32 {
    0.3
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    name: String,
    action: Action,
    #[serde(default)]
    keywords: Vec<String>,
    #[serde(default)]
    patterns: Vec<String>,
    #[serde(default)]
    requires: Vec<String>,
    confidence: f32,
    #[serde(default)]
    direction: Option<Walk>,
    #[serde(default)]
    relationship_types: Vec<String>,
    #[serde(default)]
    cypher: Option<String>,
    #[serde(default)]
    collection: Option<String>,
    #[serde(default)]
    k: Option<i32>,
}

/// Settings that apply when no rule or hint says otherwise.
#[derive(Debug, Clone, PartialEq)]
pub struct Defaults {
    /// The vector collection searched by default.
    pub collection: String,
    /// Vector hits wanted by default (1-1000).
    pub k: i32,
    /// Confidence reported with DECISION_FALLBACK.
    pub fallback_confidence: f32,
}

/// One validated, compiled rule.
#[derive(Debug, Clone)]
pub struct Rule {
    /// Stable name, reported in `RouteExplanation.rule`.
    pub name: String,
    /// What a match does.
    pub action: Action,
    keywords: Option<Regex>,
    patterns: Vec<Regex>,
    /// Entities that must be present for a match.
    pub requires: Vec<String>,
    /// Confidence reported when this rule decides.
    pub confidence: f32,
    /// `person_neighbors`: which way to walk.
    pub direction: Walk,
    /// `person_neighbors`: relationship types to follow (empty: all).
    pub relationship_types: Vec<String>,
    /// `graph_query`: the Cypher text.
    pub cypher: Option<String>,
    /// `vector_search`: collection override.
    pub collection: Option<String>,
    /// `vector_search`: k override.
    pub k: Option<i32>,
}

/// The text evidence a rule found: the named groups of the pattern that matched.
#[derive(Debug, Default)]
pub struct RuleMatch {
    /// (entity kind, value) pairs from named capture groups.
    pub captures: Vec<(String, String)>,
}

impl Rule {
    /// Whether the query text triggers this rule (ignoring `requires`), with the captures of the
    /// first pattern that matched. A rule with no keywords and no patterns always triggers.
    pub fn triggers(&self, query: &str) -> Option<RuleMatch> {
        for pattern in &self.patterns {
            if let Some(caps) = pattern.captures(query) {
                let captures = pattern
                    .capture_names()
                    .flatten()
                    .filter_map(|name| {
                        caps.name(name)
                            .map(|m| (name.to_owned(), m.as_str().to_owned()))
                    })
                    .collect();
                return Some(RuleMatch { captures });
            }
        }
        if let Some(keywords) = &self.keywords
            && keywords.is_match(query)
        {
            return Some(RuleMatch::default());
        }
        if self.keywords.is_none() && self.patterns.is_empty() {
            return Some(RuleMatch::default());
        }
        None
    }
}

/// A validated rule set.
#[derive(Debug, Clone)]
pub struct Rules {
    /// Defaults for vector searches and the fallback.
    pub defaults: Defaults,
    /// The rules, in the order they are tried.
    pub rules: Vec<Rule>,
}

impl Rules {
    /// The built-in rules.
    pub fn built_in() -> Self {
        Self::parse(DEFAULT_RULES).expect("the built-in rules are valid (tested)")
    }

    /// Parses and validates a rules file.
    pub fn parse(text: &str) -> Result<Self, RulesError> {
        let file: RulesFile =
            toml::from_str(text).map_err(|e| RulesError::Syntax(one_line(&e.to_string())))?;
        let defaults = validate_defaults(file.defaults)?;
        let mut names = HashSet::new();
        let mut rules = Vec::with_capacity(file.rules.len());
        for (i, rule) in file.rules.into_iter().enumerate() {
            let compiled = compile(rule, i)?;
            if !names.insert(compiled.name.clone()) {
                return Err(RulesError::Rule {
                    rule: compiled.name,
                    reason: "the name is used by an earlier rule".into(),
                });
            }
            rules.push(compiled);
        }
        Ok(Self { defaults, rules })
    }
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn validate_defaults(file: DefaultsFile) -> Result<Defaults, RulesError> {
    if file.collection.trim().is_empty() {
        return Err(RulesError::Defaults("collection must not be empty".into()));
    }
    if !(1..=1000).contains(&file.k) {
        return Err(RulesError::Defaults(format!(
            "k must be 1-1000, got {}",
            file.k
        )));
    }
    if !(0.0..=1.0).contains(&file.fallback_confidence) {
        return Err(RulesError::Defaults(format!(
            "fallback_confidence must be 0-1, got {}",
            file.fallback_confidence
        )));
    }
    Ok(Defaults {
        collection: file.collection,
        k: file.k,
        fallback_confidence: file.fallback_confidence,
    })
}

fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some('a'..='z'))
        && name.len() <= 64
        && chars.all(|c| matches!(c, 'a'..='z' | '0'..='9' | '_'))
}

fn compile(rule: RuleFile, index: usize) -> Result<Rule, RulesError> {
    let name = rule.name.clone();
    let fail = |reason: String| RulesError::Rule {
        rule: if valid_name(&name) {
            name.clone()
        } else {
            format!("#{} ({name:?})", index + 1)
        },
        reason,
    };
    if !valid_name(&rule.name) {
        return Err(fail("name must match [a-z][a-z0-9_]{0,63}".into()));
    }
    if !(rule.confidence > 0.0 && rule.confidence <= 1.0) {
        return Err(fail(format!(
            "confidence must be in (0, 1], got {}",
            rule.confidence
        )));
    }
    let keywords = keyword_regex(&rule.keywords).map_err(&fail)?;
    let (patterns, groups) = compile_patterns(&rule.patterns).map_err(&fail)?;
    if keywords.is_none() && patterns.is_empty() && rule.requires.is_empty() {
        return Err(fail(
            "needs keywords, patterns or requires (it would match everything)".into(),
        ));
    }
    let requires = required_entities(&rule, &groups).map_err(&fail)?;
    check_action_settings(&rule).map_err(&fail)?;
    Ok(Rule {
        name: rule.name,
        action: rule.action,
        keywords,
        patterns,
        requires,
        confidence: rule.confidence,
        direction: rule.direction.unwrap_or_default(),
        relationship_types: rule.relationship_types,
        cypher: rule.cypher,
        collection: rule.collection,
        k: rule.k,
    })
}

/// The keywords as one case-insensitive, word-bounded alternation (`None` without keywords).
fn keyword_regex(keywords: &[String]) -> Result<Option<Regex>, String> {
    if keywords.iter().any(|k| k.trim().is_empty()) {
        return Err("a keyword is empty".into());
    }
    if keywords.is_empty() {
        return Ok(None);
    }
    let alternatives: Vec<String> = keywords
        .iter()
        .map(|k| {
            k.split_whitespace()
                .map(regex::escape)
                .collect::<Vec<_>>()
                .join(r"\s+")
        })
        .collect();
    let source = format!(r"(?i)\b(?:{})\b", alternatives.join("|"));
    Regex::new(&source)
        .map(Some)
        .map_err(|e| format!("keywords: {e}"))
}

/// The patterns, compiled, with the names of every capture group they have.
fn compile_patterns(sources: &[String]) -> Result<(Vec<Regex>, HashSet<String>), String> {
    let mut patterns = Vec::with_capacity(sources.len());
    let mut groups: HashSet<String> = HashSet::new();
    for source in sources {
        let pattern = Regex::new(source)
            .map_err(|e| format!("pattern {source:?}: {}", one_line(&e.to_string())))?;
        groups.extend(pattern.capture_names().flatten().map(str::to_owned));
        patterns.push(pattern);
    }
    Ok((patterns, groups))
}

/// The entities the rule needs (its own list plus what its action needs), each one built in
/// or captured by a pattern group.
fn required_entities(rule: &RuleFile, groups: &HashSet<String>) -> Result<Vec<String>, String> {
    let mut requires = rule.requires.clone();
    let needed: &[&str] = match rule.action {
        Action::GetOrder => &["order_id"],
        Action::PersonNeighbors => &["person_name"],
        _ => &[],
    };
    for entity in needed {
        if !requires.iter().any(|r| r == entity) {
            requires.push((*entity).to_owned());
        }
    }
    for entity in &requires {
        if !BUILT_IN_ENTITIES.contains(&entity.as_str()) && !groups.contains(entity) {
            return Err(format!(
                "requires entity '{entity}', which no pattern captures (add a (?P<{entity}>...) group)"
            ));
        }
    }
    Ok(requires)
}

/// Each setting belongs to one action, and the action's own settings are well formed.
fn check_action_settings(rule: &RuleFile) -> Result<(), String> {
    let action = rule.action;
    let only = |field: &str, set: bool, for_action: Action| {
        if set && action != for_action {
            Err(format!("{field} is only for action {for_action:?}"))
        } else {
            Ok(())
        }
    };
    only(
        "direction",
        rule.direction.is_some(),
        Action::PersonNeighbors,
    )?;
    only(
        "relationship_types",
        !rule.relationship_types.is_empty(),
        Action::PersonNeighbors,
    )?;
    only("cypher", rule.cypher.is_some(), Action::GraphQuery)?;
    only(
        "collection",
        rule.collection.is_some(),
        Action::VectorSearch,
    )?;
    only("k", rule.k.is_some(), Action::VectorSearch)?;
    if action == Action::GraphQuery && rule.cypher.as_deref().is_none_or(|c| c.trim().is_empty()) {
        return Err("action graph_query needs a non-empty cypher".into());
    }
    if let Some(k) = rule.k
        && !(1..=1000).contains(&k)
    {
        return Err(format!("k must be 1-1000, got {k}"));
    }
    if rule
        .collection
        .as_deref()
        .is_some_and(|c| c.trim().is_empty())
    {
        return Err("collection must not be empty".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_rules_are_valid() {
        let rules = Rules::parse(DEFAULT_RULES).unwrap();
        assert_eq!(rules.defaults.collection, "docs");
        assert!(rules.rules.iter().any(|r| r.name == "order_id_pattern"));
    }

    fn rule_error(text: &str) -> RulesError {
        Rules::parse(text).unwrap_err()
    }

    #[test]
    fn bad_files_name_the_rule() {
        let cases = [
            (
                "[[rules]]\nname = \"bad_re\"\naction = \"get_order\"\npatterns = ['(?P<order_id>\\d+']\nconfidence = 0.5\n",
                "bad_re",
                "pattern",
            ),
            (
                "[[rules]]\nname = \"no_group\"\naction = \"get_order\"\nkeywords = [\"order\"]\nconfidence = 0.5\n",
                "no_group",
                "order_id",
            ),
            (
                "[[rules]]\nname = \"conf\"\naction = \"vector_search\"\nkeywords = [\"x\"]\nconfidence = 1.5\n",
                "conf",
                "confidence",
            ),
            (
                "[[rules]]\nname = \"Bad Name\"\naction = \"vector_search\"\nkeywords = [\"x\"]\nconfidence = 0.5\n",
                "#1",
                "name must match",
            ),
            (
                "[[rules]]\nname = \"everything\"\naction = \"vector_search\"\nconfidence = 0.5\n",
                "everything",
                "match everything",
            ),
            (
                "[[rules]]\nname = \"q\"\naction = \"graph_query\"\nkeywords = [\"x\"]\nconfidence = 0.5\n",
                "q",
                "cypher",
            ),
            (
                "[[rules]]\nname = \"dir\"\naction = \"vector_search\"\nkeywords = [\"x\"]\ndirection = \"incoming\"\nconfidence = 0.5\n",
                "dir",
                "direction",
            ),
            (
                "[[rules]]\nname = \"twice\"\naction = \"vector_search\"\nkeywords = [\"x\"]\nconfidence = 0.5\n[[rules]]\nname = \"twice\"\naction = \"vector_search\"\nkeywords = [\"y\"]\nconfidence = 0.5\n",
                "twice",
                "earlier rule",
            ),
        ];
        for (text, rule, reason) in cases {
            match rule_error(text) {
                RulesError::Rule {
                    rule: r,
                    reason: why,
                } => {
                    assert!(r.contains(rule), "{r} for {text}");
                    assert!(why.contains(reason), "{why} for {text}");
                }
                other => panic!("{other:?} for {text}"),
            }
        }
    }

    #[test]
    fn syntax_and_defaults_errors() {
        assert!(matches!(rule_error("rules = 3"), RulesError::Syntax(_)));
        assert!(matches!(
            rule_error("[[rules]]\nname = \"x\"\naction = \"fly\"\nconfidence = 0.5\n"),
            RulesError::Syntax(_)
        ));
        assert!(matches!(
            rule_error("[defaults]\nk = 0\n"),
            RulesError::Defaults(_)
        ));
        assert!(matches!(
            rule_error("[defaults]\ncollection = \" \"\n"),
            RulesError::Defaults(_)
        ));
    }

    #[test]
    fn keywords_match_whole_words_case_insensitively() {
        let rules = Rules::parse(
            "[[rules]]\nname = \"kw\"\naction = \"vector_search\"\nkeywords = [\"how to\", \"faq\"]\nconfidence = 0.5\n",
        )
        .unwrap();
        let rule = &rules.rules[0];
        assert!(rule.triggers("HOW   TO reset").is_some());
        assert!(rule.triggers("see the FAQ.").is_some());
        assert!(rule.triggers("faqs").is_none());
        assert!(rule.triggers("show toys").is_none());
    }
}
