//! Built-in entity extraction from free text: people's names, the one entity no single regular
//! expression captures well. A name is a run of two or more capitalised words ("Grace Hopper",
//! "Margaret Hamilton's"), after dropping question words and verbs that start a sentence
//! ("Who", "Does", "Show").

/// Capitalised words that start questions and commands rather than names.
const NOT_NAME_WORDS: [&str; 28] = [
    "who", "whom", "whose", "what", "which", "when", "where", "why", "how", "is", "are", "does",
    "do", "did", "can", "could", "show", "list", "tell", "find", "give", "get", "the", "a", "an",
    "i", "please", "order",
];

/// At most this many words are taken as one name.
const MAX_NAME_WORDS: usize = 4;

/// The first person's name in `text`, if any.
pub(crate) fn person_name(text: &str) -> Option<String> {
    let mut run: Vec<&str> = Vec::new();
    for raw in text.split_whitespace() {
        let (word, ends_run) = trim_word(raw);
        if is_name_word(word) && !(run.is_empty() && is_not_name(word)) {
            run.push(word);
            if ends_run || run.len() == MAX_NAME_WORDS {
                if run.len() >= 2 {
                    return Some(run.join(" "));
                }
                run.clear();
            }
            continue;
        }
        if run.len() >= 2 {
            return Some(run.join(" "));
        }
        run.clear();
    }
    (run.len() >= 2).then(|| run.join(" "))
}

/// Strips punctuation around a word and a possessive "'s"; says whether the word ended a phrase
/// (punctuation or a possessive after it), so "Hopper, Alan" are not one name.
fn trim_word(raw: &str) -> (&str, bool) {
    let trimmed_end = raw.trim_end_matches(|c: char| !c.is_alphanumeric());
    let mut ends = trimmed_end.len() != raw.len();
    let mut word = trimmed_end.trim_start_matches(|c: char| !c.is_alphanumeric());
    for suffix in ["'s", "\u{2019}s"] {
        if let Some(stem) = word.strip_suffix(suffix) {
            word = stem;
            ends = true;
        }
    }
    (word, ends)
}

fn is_name_word(word: &str) -> bool {
    let mut chars = word.chars();
    let Some(first) = chars.next() else {
        return false;
    };
    let rest: Vec<char> = chars.collect();
    first.is_uppercase()
        && !rest.is_empty()
        && rest
            .iter()
            .all(|c| c.is_alphabetic() || *c == '-' || *c == '\'')
        && rest.iter().any(|c| c.is_lowercase())
}

fn is_not_name(word: &str) -> bool {
    let lower = word.to_lowercase();
    NOT_NAME_WORDS.contains(&lower.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_in_questions() {
        let cases = [
            ("who manages Grace Hopper?", Some("Grace Hopper")),
            ("Who manages Grace Hopper", Some("Grace Hopper")),
            ("Does Alan Turing manage anyone", Some("Alan Turing")),
            (
                "Show Margaret Hamilton's manager",
                Some("Margaret Hamilton"),
            ),
            ("what did Ada Lovelace order", Some("Ada Lovelace")),
            ("Grace Hopper, Alan Turing", Some("Grace Hopper")),
            ("who is Theo Nair’s boss", Some("Theo Nair")),
            ("How do I reset my password?", None),
            ("Who is Grace", None),
            ("status of order 100001", None),
            ("NASA API docs", None),
            ("", None),
        ];
        for (text, want) in cases {
            assert_eq!(person_name(text).as_deref(), want, "{text}");
        }
    }
}
