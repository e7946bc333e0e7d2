//! What the Bolt engine needs to know about a Cypher text before sending it, read from the
//! tokens of our own lexer (so words inside strings and comments never count), without
//! parsing: the engine's Cypher is larger than our subset, and the engine judges the rest.
//!
//! - [`first_write`]: the first writing clause (CREATE, MERGE, SET, DELETE, DETACH DELETE,
//!   REMOVE, DROP, FOREACH, CALL … IN TRANSACTIONS), so a READ query that writes is refused up
//!   front with the embedded engine's message. It is a courtesy, not the guard: READ queries
//!   also run in a transaction that is always rolled back (a procedure may write unseen here).
//! - [`load_csv`]: LOAD CSV, refused in every mode (the engine would read its own files).
//! - [`contract_ids`]: `id(x)` rewritten to `(id(x) + 1)`, so that ids in Cypher are the
//!   contract's, as the RPCs give them (engine id + 1; see `values`): `RETURN id(n)` then names
//!   the node GetNode finds, and `WHERE id(n) = $id` takes the id a client holds.
//! - [`columns`]: the names of the final RETURN's columns, in order. neo4rs 0.8 hands rows over
//!   as maps (the field order the server sends is not exposed), so the order is taken from the
//!   text: an alias, or the expression exactly as written, which is how Neo4j names a column.

use crate::cypher::{Tok, Token, tokenize};
use crate::error::{GraphError, Result};

/// The tokens of `text`, or `None` when our lexer cannot read it (the engine may).
pub(super) fn tokens(text: &str) -> Option<Vec<Token>> {
    tokenize(text).ok()
}

/// The unquoted keyword at `i`, upper-cased, unless it is a property key (`n.set`), a label or
/// type (`:Create`), or a map key (`{set: 1}`).
fn keyword(tokens: &[Token], i: usize) -> Option<String> {
    let Tok::Ident {
        name,
        quoted: false,
    } = &tokens[i].tok
    else {
        return None;
    };
    let before = i.checked_sub(1).map(|j| &tokens[j].tok);
    if matches!(before, Some(Tok::Sym("." | ":" | "$"))) {
        return None;
    }
    if matches!(tokens.get(i + 1).map(|t| &t.tok), Some(Tok::Sym(":"))) {
        return None;
    }
    Some(name.to_ascii_uppercase())
}

/// The first writing clause, named as the embedded engine names it.
pub(super) fn first_write(tokens: &[Token]) -> Option<&'static str> {
    for i in 0..tokens.len() {
        let Some(word) = keyword(tokens, i) else {
            continue;
        };
        let next = || keyword(tokens, i + 1);
        let found = match word.as_str() {
            "CREATE" => "CREATE",
            "MERGE" => "MERGE",
            "SET" => "SET",
            "DELETE" => "DELETE",
            "DETACH" if next().as_deref() == Some("DELETE") => "DETACH DELETE",
            "REMOVE" => "REMOVE",
            "DROP" => "DROP",
            "FOREACH" => "FOREACH",
            "IN" if next().as_deref() == Some("TRANSACTIONS") => "CALL … IN TRANSACTIONS",
            _ => continue,
        };
        return Some(found);
    }
    None
}

/// INVALID_ARGUMENT when the text uses LOAD CSV.
pub(super) fn load_csv(tokens: &[Token]) -> Result<()> {
    for i in 0..tokens.len() {
        if keyword(tokens, i).as_deref() == Some("LOAD")
            && keyword(tokens, i + 1).as_deref() == Some("CSV")
        {
            let pos = tokens[i].pos;
            return Err(GraphError::InvalidArgument(format!(
                "line {}:column {}: unsupported: LOAD CSV is outside what this service sends to \
                 the graph engine (it would read the engine's files)",
                pos.line, pos.column
            )));
        }
    }
    Ok(())
}

/// `text` with every call of `id()` shifted to the contract's ids: `(id(x) + 1)`.
pub(super) fn contract_ids(text: &str, tokens: &[Token]) -> String {
    let depth = depths(tokens);
    let mut edits: Vec<(usize, &str)> = Vec::new();
    for i in 0..tokens.len() {
        let is_id = keyword(tokens, i).as_deref() == Some("ID")
            && matches!(tokens.get(i + 1).map(|t| &t.tok), Some(Tok::Sym("(")));
        if !is_id {
            continue;
        }
        let open = depth[i + 1];
        let close =
            (i + 2..tokens.len()).find(|&j| tokens[j].tok == Tok::Sym(")") && depth[j] == open);
        if let Some(close) = close {
            edits.push((tokens[i].offset, "("));
            edits.push((tokens[close].offset + 1, " + 1)"));
        }
    }
    edits.sort_by_key(|&(at, _)| std::cmp::Reverse(at));
    let mut out = text.to_owned();
    for (at, insert) in edits {
        out.insert_str(at, insert);
    }
    out
}

/// How deep in brackets each token is (a RETURN inside `{ }` belongs to a subquery).
fn depths(tokens: &[Token]) -> Vec<i32> {
    let mut depth = 0;
    tokens
        .iter()
        .map(|t| {
            let at = depth;
            match t.tok {
                Tok::Sym("(" | "[" | "{") => depth += 1,
                Tok::Sym(")" | "]" | "}") => depth -= 1,
                _ => {}
            }
            match t.tok {
                Tok::Sym(")" | "]" | "}") => depth,
                _ => at,
            }
        })
        .collect()
}

/// The final RETURN's column names in order; `None` for `RETURN *` or when there is no
/// top-level RETURN (the engine's row keys are used then, sorted).
pub(super) fn columns(text: &str, tokens: &[Token]) -> Option<Vec<String>> {
    let depth = depths(tokens);
    let ret = (0..tokens.len())
        .rev()
        .find(|&i| depth[i] == 0 && keyword(tokens, i).as_deref() == Some("RETURN"))?;
    let mut at = ret + 1;
    if keyword(tokens, at).as_deref() == Some("DISTINCT") {
        at += 1;
    }
    let ends_items = |i: usize| {
        matches!(tokens[i].tok, Tok::End | Tok::Sym(";"))
            || (depth[i] == 0
                && matches!(
                    keyword(tokens, i).as_deref(),
                    Some("ORDER" | "SKIP" | "LIMIT" | "UNION")
                ))
    };
    let mut names = Vec::new();
    loop {
        let start = at;
        let item_ends =
            |i: usize| ends_items(i) || (depth[i] == 0 && tokens[i].tok == Tok::Sym(","));
        while !item_ends(at) {
            at += 1;
        }
        names.push(item_name(text, &tokens[start..=at])?);
        if tokens[at].tok != Tok::Sym(",") {
            return Some(names);
        }
        at += 1;
    }
}

/// The name of one RETURN item (its tokens, then the token that ends it).
fn item_name(text: &str, item: &[Token]) -> Option<String> {
    let (end, body) = item.split_last()?;
    match body {
        [] => None,
        [
            Token {
                tok: Tok::Sym("*"), ..
            },
        ] => None,
        [
            ..,
            as_,
            Token {
                tok: Tok::Ident { name, .. },
                ..
            },
        ] if matches!(&as_.tok, Tok::Ident { name, quoted: false } if name.eq_ignore_ascii_case("AS")) => {
            Some(name.clone())
        }
        [first, ..] => Some(text[first.offset..end.offset].trim().to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(text: &str) -> (Option<&'static str>, Option<Vec<String>>) {
        let tokens = tokens(text).unwrap();
        (first_write(&tokens), columns(text, &tokens))
    }

    #[test]
    fn writes_are_found_outside_strings_and_names() {
        assert_eq!(scan("MATCH (n) RETURN n").0, None);
        assert_eq!(scan("MATCH (n) SET n.x = 1").0, Some("SET"));
        assert_eq!(scan("match (n) detach delete n").0, Some("DETACH DELETE"));
        assert_eq!(
            scan("MATCH (n:Create {set: 'DELETE'}) RETURN n.set // CREATE").0,
            None
        );
        assert_eq!(
            scan("CALL { CREATE () } IN TRANSACTIONS RETURN 1").0,
            Some("CREATE")
        );
        let tokens = tokens("LOAD CSV FROM 'file:///etc/passwd' AS l RETURN l").unwrap();
        assert!(
            load_csv(&tokens)
                .unwrap_err()
                .to_string()
                .contains("LOAD CSV")
        );
    }

    #[test]
    fn ids_are_shifted_to_the_contracts() {
        let shift = |text: &str| contract_ids(text, &tokens(text).unwrap());
        assert_eq!(
            shift("MATCH (n) WHERE ID(n) = $id RETURN id(n), n.id, 'id(x)'"),
            "MATCH (n) WHERE (ID(n) + 1) = $id RETURN (id(n) + 1), n.id, 'id(x)'"
        );
        assert_eq!(
            shift("RETURN id(head([(n)-->(m) | m]))"),
            "RETURN (id(head([(n)-->(m) | m])) + 1)"
        );
    }

    #[test]
    fn columns_follow_the_final_return() {
        let names = |text| scan(text).1;
        assert_eq!(
            names("MATCH (n) RETURN n.name AS name, count( * ), n ORDER BY name LIMIT 2"),
            Some(vec!["name".into(), "count( * )".into(), "n".into()])
        );
        assert_eq!(
            names("CALL { MATCH (m) RETURN m } RETURN DISTINCT m.x, [1, 2] AS `a b`;"),
            Some(vec!["m.x".into(), "a b".into()])
        );
        assert_eq!(names("MATCH (n) RETURN *"), None);
        assert_eq!(names("CREATE (n)"), None);
        assert_eq!(
            names("RETURN 1 AS x UNION RETURN 2 AS x"),
            Some(vec!["x".into()])
        );
    }
}
