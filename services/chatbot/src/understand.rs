//! The "understand" step: normalise the message, take an explicit target prefix such as
//! `[graph]`, extract the entities it names (order ids, people's names, customer ids), and
//! resolve a reference such as "her" or "that order" to the session's last entity by rewriting
//! the query, so the router sees a self-contained question.

use chatmesh_proto::router::Target;

use crate::conversation::Entity;

/// Entity kinds, as RouteExplanation.entities names them.
pub(crate) const PERSON: &str = "person_name";
/// An order id in decimal.
pub(crate) const ORDER: &str = "order_id";
/// A customer identifier such as `cust-0042`.
pub(crate) const CUSTOMER: &str = "customer";

/// What understanding a message produced.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Understanding {
    /// The query for the router: normalised, prefix removed, references resolved.
    pub query: String,
    /// The target an explicit prefix asked for.
    pub prefix_target: Option<Target>,
    /// Entities named in the query (after resolution), in order of appearance.
    pub entities: Vec<Entity>,
    /// The session entity a reference was resolved to, if any.
    pub resolved: Option<Entity>,
}

/// Understands `message` in a session whose last entity is `last`.
pub(crate) fn understand(message: &str, last: Option<&Entity>) -> Understanding {
    let normalised = normalise(message);
    let (prefix_target, rest) = strip_prefix(&normalised);
    let mut query = rest.to_owned();
    let mut entities = extract(&query);
    let mut resolved = None;
    if entities.is_empty()
        && let Some(last) = last
        && let Some(rewritten) = resolve_reference(&query, last)
    {
        query = rewritten;
        entities = extract(&query);
        resolved = Some(last.clone());
    }
    Understanding {
        query,
        prefix_target,
        entities,
        resolved,
    }
}

/// Whitespace collapsed to single spaces, ends trimmed, control characters dropped.
pub(crate) fn normalise(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    for word in message
        .split(|c: char| c.is_whitespace() || c.is_control())
        .filter(|w| !w.is_empty())
    {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// `[graph] …`, `[vector] …`, `[docs] …`, `[relational] …`, `[orders] …` (any case).
fn strip_prefix(text: &str) -> (Option<Target>, &str) {
    let Some(rest) = text.strip_prefix('[') else {
        return (None, text);
    };
    let Some((tag, rest)) = rest.split_once(']') else {
        return (None, text);
    };
    let target = match tag.trim().to_ascii_lowercase().as_str() {
        "graph" | "people" => Target::Graph,
        "vector" | "docs" | "faq" => Target::Vector,
        "relational" | "orders" | "order" => Target::Relational,
        _ => return (None, text),
    };
    (Some(target), rest.trim_start())
}

/// Words that start a sentence or a request in capitals without being part of a name.
const NOT_NAMES: &[&str] = &[
    "Who", "Whom", "Whose", "What", "Which", "Where", "When", "Why", "How", "Is", "Are", "Was",
    "Does", "Do", "Did", "Can", "Could", "Show", "Tell", "List", "Find", "Give", "Get", "And",
    "The", "A", "An", "Status", "Order", "Orders", "Please", "I", "My", "Me",
];

fn trim_word(word: &str) -> &str {
    word.trim_matches(|c: char| !(c.is_alphanumeric() || c == '-' || c == '\''))
}

fn is_name_word(word: &str) -> bool {
    let mut chars = word.chars();
    chars.next().is_some_and(char::is_uppercase)
        && word
            .chars()
            .all(|c| c.is_alphabetic() || c == '-' || c == '\'')
        && !NOT_NAMES.contains(&word)
}

/// Order ids ("order 42", "order #42", "#42"), customer ids ("cust-0042") and people's names
/// (two or more capitalised words in a row).
pub(crate) fn extract(text: &str) -> Vec<Entity> {
    let words: Vec<&str> = text.split(' ').collect();
    let mut entities = Vec::new();
    let mut i = 0;
    while i < words.len() {
        let word = trim_word(words[i]);
        let lower = word.to_ascii_lowercase();
        if lower == "order" || lower == "orders" {
            let mut j = i + 1;
            while j < words.len()
                && matches!(
                    trim_word(words[j]).to_ascii_lowercase().as_str(),
                    "" | "no" | "number" | "id"
                )
            {
                j += 1;
            }
            if let Some(id) = words.get(j).and_then(|w| order_number(w)) {
                entities.push(entity(ORDER, id));
                i = j + 1;
                continue;
            }
        }
        if let Some(id) = words[i].strip_prefix('#').and_then(order_number) {
            entities.push(entity(ORDER, id));
        } else if lower.starts_with("cust-") && lower.len() > 5 {
            entities.push(entity(CUSTOMER, word.to_owned()));
        } else if is_name_word(word) {
            let mut j = i + 1;
            while j < words.len() && is_name_word(trim_word(words[j])) {
                j += 1;
            }
            if j - i >= 2 {
                let name: Vec<&str> = words[i..j].iter().map(|w| trim_word(w)).collect();
                let name = name.join(" ");
                let name = name.strip_suffix("'s").unwrap_or(&name).to_owned();
                entities.push(entity(PERSON, name));
                i = j;
                continue;
            }
        }
        i += 1;
    }
    entities
}

fn order_number(word: &str) -> Option<String> {
    let digits = word
        .trim_start_matches('#')
        .trim_end_matches(|c: char| !c.is_ascii_digit());
    let id: i64 = digits.parse().ok()?;
    (id >= 1).then(|| id.to_string())
}

fn entity(kind: &str, value: String) -> Entity {
    Entity::new(kind, value)
}

/// Rewrites a reference to `last` in `query`, or `None` when the query has none.
fn resolve_reference(query: &str, last: &Entity) -> Option<String> {
    let words: Vec<&str> = query.split(' ').collect();
    let mut out: Vec<String> = Vec::with_capacity(words.len());
    let mut replaced = false;
    let mut i = 0;
    while i < words.len() {
        let word = words[i];
        let core = trim_word(word);
        let lower = core.to_ascii_lowercase();
        let tail = &word[word.find(core).map_or(word.len(), |p| p + core.len())..];
        let replacement = if replaced {
            None
        } else if last.kind == PERSON {
            match lower.as_str() {
                "her" | "him" | "them" | "she" | "he" | "they" => Some(last.value.clone()),
                "his" | "their" | "hers" => Some(format!("{}'s", last.value)),
                _ => None,
            }
        } else if last.kind == ORDER {
            let next = words.get(i + 1).map(|w| trim_word(w).to_ascii_lowercase());
            if matches!(lower.as_str(), "that" | "this" | "the") && next.as_deref() == Some("order")
            {
                // "that order" → "order 42", keeping what followed "order".
                let tail = &words[i + 1][words[i + 1]
                    .to_ascii_lowercase()
                    .find("order")
                    .map_or(0, |p| p + 5)..];
                out.push(format!("order {}{tail}", last.value));
                replaced = true;
                i += 2;
                continue;
            }
            matches!(lower.as_str(), "it").then(|| format!("order {}", last.value))
        } else {
            matches!(lower.as_str(), "it" | "them").then(|| last.value.clone())
        };
        match replacement {
            Some(r) => {
                out.push(format!("{r}{tail}"));
                replaced = true;
            }
            None => out.push(word.to_owned()),
        }
        i += 1;
    }
    replaced.then(|| out.join(" "))
}

/// The target the chatbot expects the router to pick; used only to say which source a failure
/// most likely concerns when the router does not say.
pub(crate) fn expected_target(understanding: &Understanding) -> Target {
    if let Some(t) = understanding.prefix_target {
        return t;
    }
    let has = |kind: &str| understanding.entities.iter().any(|e| e.kind == kind);
    let lower = understanding.query.to_ascii_lowercase();
    if has(ORDER) || has(CUSTOMER) || lower.contains("order") {
        Target::Relational
    } else if has(PERSON)
        || ["manage", "report", "team", "lead", "boss"]
            .iter()
            .any(|w| lower.contains(w))
    {
        Target::Graph
    } else {
        Target::Vector
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(u: &Understanding) -> Vec<(&str, &str)> {
        u.entities
            .iter()
            .map(|e| (e.kind.as_str(), e.value.as_str()))
            .collect()
    }

    #[test]
    fn normalising_collapses_whitespace_and_drops_control_characters() {
        assert_eq!(
            normalise("  who\tmanages \n Ada\u{7}  Lovelace? "),
            "who manages Ada Lovelace?"
        );
        assert_eq!(normalise(" \t "), "");
    }

    #[test]
    fn entities_are_found_where_users_put_them() {
        let u = understand("Who manages Alan Turing?", None);
        assert_eq!(kinds(&u), [(PERSON, "Alan Turing")]);
        assert_eq!(expected_target(&u), Target::Graph);
        let u = understand("status of order 42", None);
        assert_eq!(kinds(&u), [(ORDER, "42")]);
        assert_eq!(expected_target(&u), Target::Relational);
        assert_eq!(
            kinds(&understand("where is order #7?", None)),
            [(ORDER, "7")]
        );
        assert_eq!(kinds(&understand("what about #12", None)), [(ORDER, "12")]);
        assert_eq!(
            kinds(&understand(
                "orders of cust-0293 and Grace Hopper's team",
                None
            )),
            [(CUSTOMER, "cust-0293"), (PERSON, "Grace Hopper")]
        );
        let u = understand("how do I reset my password?", None);
        assert!(u.entities.is_empty());
        assert_eq!(expected_target(&u), Target::Vector);
        assert!(
            understand("order 0 please", None).entities.is_empty(),
            "ids start at 1"
        );
    }

    #[test]
    fn a_target_prefix_is_a_hint_and_leaves_the_question() {
        let u = understand("[Graph]  who leads Search?", None);
        assert_eq!(u.prefix_target, Some(Target::Graph));
        assert_eq!(u.query, "who leads Search?");
        let u = understand("[orders] 42", None);
        assert_eq!(u.prefix_target, Some(Target::Relational));
        let u = understand("[unknown] hello", None);
        assert_eq!(
            (u.prefix_target, u.query.as_str()),
            (None, "[unknown] hello")
        );
    }

    #[test]
    fn references_resolve_to_the_last_entity() {
        let ada = entity(PERSON, "Ada Lovelace".into());
        let u = understand("and who manages her?", Some(&ada));
        assert_eq!(u.query, "and who manages Ada Lovelace?");
        assert_eq!(u.resolved.as_ref(), Some(&ada));
        assert_eq!(kinds(&u), [(PERSON, "Ada Lovelace")]);
        let u = understand("what is his team?", Some(&ada));
        assert_eq!(u.query, "what is Ada Lovelace's team?");

        let order = entity(ORDER, "100003".into());
        let u = understand("who placed that order?", Some(&order));
        assert_eq!(u.query, "who placed order 100003?");
        assert_eq!(kinds(&u), [(ORDER, "100003")]);
        let u = understand("is it shipped", Some(&order));
        assert_eq!(u.query, "is order 100003 shipped");

        // A message naming its own entity is left alone.
        let u = understand("who manages Alan Turing?", Some(&ada));
        assert_eq!(u.resolved, None);
        assert_eq!(u.query, "who manages Alan Turing?");
        // No reference, no rewrite.
        let u = understand("how do I deploy?", Some(&ada));
        assert_eq!((u.resolved, u.query.as_str()), (None, "how do I deploy?"));
    }
}
