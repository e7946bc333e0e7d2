//! The Cypher parser: tokens from [`lexer`](super::lexer) to a [`Statement`], by recursive
//! descent, split by what it reads: [`clause`] (clauses and RETURN/WITH projections),
//! [`pattern`] (node and relationship patterns) and [`expr`] (expressions by precedence).
//!
//! Hand-written rather than generated (pest, lalrpop, a Neo4j grammar) because it parses a
//! subset and must say so precisely: every error names its line and column ("line L:column C:
//! expected ..., found ..."), a construct outside the subset is refused by name ("unsupported:
//! UNWIND") rather than failing as a generic syntax error, and nesting is limited so hostile
//! input cannot overflow the stack. A generated parser of full Cypher would accept what the
//! executor cannot run; one of the subset would lose the named refusals.

mod clause;
mod expr;
mod pattern;

use super::ast::Statement;
use super::lexer::{Pos, Tok, Token, syntax, tokenize};
use crate::error::{GraphError, Result};

/// Deepest expression nesting accepted (parentheses, lists, maps, NOT, and chains of
/// operators, which nest as deeply as they are long).
const MAX_NESTING: u32 = 100;
/// Most relationships in one path pattern, and most patterns in one clause.
const MAX_PATTERN_PARTS: usize = 100;

/// Clauses and keywords of Cypher that the subset does not run.
const UNSUPPORTED: [&str; 13] = [
    "UNWIND", "CALL", "UNION", "FOREACH", "LOAD", "USE", "SHOW", "DROP", "START", "CASE", "EXISTS",
    "FINISH", "INSERT",
];

/// Parses one statement and checks its variables (see [`check`](super::check)).
pub fn parse(text: &str) -> Result<Statement> {
    let mut parser = Parser {
        tokens: tokenize(text)?,
        at: 0,
        text,
        depth: 0,
    };
    let statement = parser.statement()?;
    super::check::check(&statement)?;
    Ok(statement)
}

fn unsupported(pos: Pos, what: &str) -> GraphError {
    GraphError::InvalidArgument(format!(
        "line {}:column {}: unsupported: {what} is outside the Cypher subset this service runs",
        pos.line, pos.column
    ))
}

struct Parser<'a> {
    tokens: Vec<Token>,
    at: usize,
    text: &'a str,
    depth: u32,
}

impl Parser<'_> {
    fn peek(&self) -> &Token {
        &self.tokens[self.at.min(self.tokens.len() - 1)]
    }

    fn peek_at(&self, ahead: usize) -> &Tok {
        &self.tokens[(self.at + ahead).min(self.tokens.len() - 1)].tok
    }

    fn advance(&mut self) -> Token {
        let token = self.peek().clone();
        if self.at < self.tokens.len() - 1 {
            self.at += 1;
        }
        token
    }

    fn describe(tok: &Tok) -> String {
        match tok {
            Tok::Ident { name, .. } => format!("'{name}'"),
            Tok::Int(i) => format!("'{i}'"),
            Tok::Float(f) => format!("'{f}'"),
            Tok::Str(_) => "a string".into(),
            Tok::Param(p) => format!("'${p}'"),
            Tok::Sym(s) => format!("'{s}'"),
            Tok::End => "the end of the query".into(),
        }
    }

    fn expected(&self, what: &str) -> GraphError {
        let token = self.peek();
        syntax(
            token.pos,
            format!("expected {what}, found {}", Self::describe(&token.tok)),
        )
    }

    fn is_keyword_at(&self, ahead: usize, keyword: &str) -> bool {
        matches!(self.peek_at(ahead), Tok::Ident { name, quoted: false } if name.eq_ignore_ascii_case(keyword))
    }

    fn is_keyword(&self, keyword: &str) -> bool {
        self.is_keyword_at(0, keyword)
    }

    fn eat_keyword(&mut self, keyword: &str) -> bool {
        let found = self.is_keyword(keyword);
        if found {
            self.advance();
        }
        found
    }

    fn expect_keyword(&mut self, keyword: &str) -> Result<()> {
        if self.eat_keyword(keyword) {
            Ok(())
        } else {
            Err(self.expected(keyword))
        }
    }

    fn is_sym(&self, symbol: &str) -> bool {
        self.peek().tok == Tok::Sym(symbol_ref(symbol))
    }

    fn eat_sym(&mut self, symbol: &str) -> bool {
        let found = self.is_sym(symbol);
        if found {
            self.advance();
        }
        found
    }

    fn expect_sym(&mut self, symbol: &str) -> Result<()> {
        if self.eat_sym(symbol) {
            Ok(())
        } else {
            Err(self.expected(&format!("'{symbol}'")))
        }
    }

    /// A name: any identifier, keywords included.
    fn name(&mut self, what: &str) -> Result<String> {
        match &self.peek().tok {
            Tok::Ident { name, .. } => {
                let name = name.clone();
                self.advance();
                Ok(name)
            }
            _ => Err(self.expected(what)),
        }
    }

    fn refuse_unsupported(&self) -> Result<()> {
        let token = self.peek();
        if let Tok::Ident {
            name,
            quoted: false,
        } = &token.tok
        {
            let upper = name.to_ascii_uppercase();
            if UNSUPPORTED.contains(&upper.as_str()) {
                let what = if upper == "LOAD" {
                    "LOAD CSV"
                } else {
                    name.as_str()
                };
                return Err(unsupported(token.pos, &what.to_ascii_uppercase()));
            }
        }
        Ok(())
    }
}

/// The `'static` spelling of a symbol (tokens hold `&'static str`).
fn symbol_ref(symbol: &str) -> &'static str {
    const ALL: [&str; 25] = [
        "..", "<>", "<=", ">=", "(", ")", "[", "]", "{", "}", ",", ".", ":", "|", "*", "=", "<",
        ">", "+", "-", "/", "%", ";", "=~", "^",
    ];
    ALL.iter().copied().find(|s| *s == symbol).unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cypher::ast::Clause;

    fn error(text: &str) -> String {
        parse(text).unwrap_err().to_string()
    }

    #[test]
    fn parses_the_subset() {
        let statement = parse(
            "MATCH p = (a:Person {name: $n})-[r:MANAGES|LEADS*1..3]->(b)<-[]-(c) \
             WHERE a.x >= 1 AND NOT b.y STARTS WITH 'z' OR c.k IN [1, 2] AND c.q IS NOT NULL \
             RETURN DISTINCT a.name AS name, count(*), collect(DISTINCT b) ORDER BY name DESC SKIP 1 LIMIT 2",
        )
        .unwrap();
        assert_eq!(statement.clauses.len(), 2);
        let Clause::Return(projection) = &statement.clauses[1] else {
            panic!()
        };
        let names: Vec<&str> = projection.items.iter().map(|i| i.name.as_str()).collect();
        assert_eq!(names, vec!["name", "count(*)", "collect(DISTINCT b)"]);
        assert!(parse("CREATE (a)-[:T]->(b) SET a.x = 1, a:L REMOVE b.y DETACH DELETE a").is_ok());
        assert!(
            parse("MERGE (n:L {k: 1}) ON CREATE SET n.c = true ON MATCH SET n += {m: 1}").is_ok()
        );
    }

    #[test]
    fn errors_name_position_and_expectation() {
        let e = error("MATCH (n\nRETURN n");
        assert!(e.starts_with("line 2:column 1: expected ')'"), "{e}");
        let e = error("MATCH (n) RETURN");
        assert!(
            e.contains("expected an expression, found the end of the query"),
            "{e}"
        );
        let e = error("MATCH (n) WITH n.x RETURN n");
        assert!(e.contains("line 1:column 16: expected AS"), "{e}");
        let e = error("UNWIND [1] AS x RETURN x");
        assert!(e.contains("unsupported: UNWIND"), "{e}");
        let e = error("LOAD CSV FROM 'x' AS l RETURN l");
        assert!(e.contains("unsupported: LOAD CSV"), "{e}");
        let e = error("MATCH (n) RETURN n UNION MATCH (n) RETURN n");
        assert!(e.contains("unsupported: UNION"), "{e}");
        let e = error("RETURN foo(1)");
        assert!(e.contains("unsupported: function foo()"), "{e}");
        let e = error("MATCH (n)");
        assert!(e.contains("expected RETURN"), "{e}");
        assert!(error("").contains("expected a clause"));
        assert!(error("MATCH (n) RETURN m").contains("variable `m` is not defined"));
        assert!(error("MATCH (n) WITH n AS x RETURN n").contains("variable `n`"));
        assert!(parse("MATCH (n) WITH n AS x RETURN x ORDER BY x.k").is_ok());
        let deep = format!("RETURN {}1{}", "(".repeat(500), ")".repeat(500));
        assert!(error(&deep).contains("nested too deeply"));
        let deep_not = format!("RETURN {}true", "NOT ".repeat(500));
        assert!(error(&deep_not).contains("nested too deeply"));
    }
}
