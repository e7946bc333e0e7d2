//! A recursive-descent parser from tokens to a [`Statement`]. Errors name the position
//! ("line L:column C: expected ..., found ..."); constructs outside the subset are refused as
//! "unsupported: <clause>" rather than ignored. Nesting is limited so hostile input cannot
//! overflow the stack.

use super::ast::*;
use super::eval::RVal;
use super::lexer::{Pos, Tok, Token, syntax, tokenize};
use crate::error::{GraphError, Result};

/// Deepest expression nesting accepted (parentheses, lists, maps, NOT, and chains of
/// operators, which nest as deeply as they are long).
const MAX_NESTING: u32 = 100;
/// Most relationships in one path pattern, and most patterns in one clause.
const MAX_PATTERN_PARTS: usize = 100;
/// Largest hop count of a variable-length relationship.
pub const MAX_HOPS: u32 = 100;

/// Clauses and keywords of Cypher that the subset does not run.
const UNSUPPORTED: [&str; 13] = [
    "UNWIND", "CALL", "UNION", "FOREACH", "LOAD", "USE", "SHOW", "DROP", "START", "CASE", "EXISTS",
    "FINISH", "INSERT",
];

/// Parses one statement.
pub fn parse(text: &str) -> Result<Statement> {
    let mut parser = Parser {
        tokens: tokenize(text)?,
        at: 0,
        text,
        depth: 0,
    };
    let statement = parser.statement()?;
    super::scope::check(&statement)?;
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

    fn statement(&mut self) -> Result<Statement> {
        if self.peek().tok == Tok::End {
            return Err(self.expected("a clause"));
        }
        let mut clauses = Vec::new();
        loop {
            self.eat_sym(";");
            if self.peek().tok == Tok::End {
                break;
            }
            if matches!(clauses.last(), Some(Clause::Return(_))) {
                self.refuse_unsupported()?;
                return Err(self.expected("the end of the query after RETURN"));
            }
            clauses.push(self.clause()?);
        }
        if matches!(
            clauses.last(),
            Some(Clause::Match { .. } | Clause::With { .. })
        ) {
            let last = self.peek().pos;
            return Err(syntax(
                last,
                "expected RETURN or a writing clause at the end of the query",
            ));
        }
        Ok(Statement { clauses })
    }

    fn clause(&mut self) -> Result<Clause> {
        self.refuse_unsupported()?;
        if self.eat_keyword("OPTIONAL") {
            self.expect_keyword("MATCH")?;
            return self.match_clause(true);
        }
        if self.eat_keyword("MATCH") {
            return self.match_clause(false);
        }
        if self.eat_keyword("CREATE") {
            return Ok(Clause::Create(self.patterns()?));
        }
        if self.eat_keyword("MERGE") {
            return self.merge_clause();
        }
        if self.eat_keyword("SET") {
            return Ok(Clause::Set(self.set_items()?));
        }
        if self.eat_keyword("REMOVE") {
            return Ok(Clause::Remove(self.remove_items()?));
        }
        if self.eat_keyword("DETACH") {
            self.expect_keyword("DELETE")?;
            return self.delete_clause(true);
        }
        if self.eat_keyword("DELETE") {
            return self.delete_clause(false);
        }
        if self.eat_keyword("WITH") {
            let projection = self.projection(true)?;
            let predicate = if self.eat_keyword("WHERE") {
                Some(self.expr()?)
            } else {
                None
            };
            return Ok(Clause::With {
                projection,
                predicate,
            });
        }
        if self.eat_keyword("RETURN") {
            return Ok(Clause::Return(self.projection(false)?));
        }
        Err(self.expected(
            "a clause (MATCH, OPTIONAL MATCH, CREATE, MERGE, SET, REMOVE, DELETE, DETACH DELETE, RETURN)",
        ))
    }

    fn match_clause(&mut self, optional: bool) -> Result<Clause> {
        let patterns = self.patterns()?;
        let predicate = if self.eat_keyword("WHERE") {
            Some(self.expr()?)
        } else {
            None
        };
        Ok(Clause::Match {
            optional,
            patterns,
            predicate,
        })
    }

    fn merge_clause(&mut self) -> Result<Clause> {
        let pattern = self.path_pattern()?;
        if self.is_sym(",") {
            return Err(unsupported(self.peek().pos, "MERGE of several patterns"));
        }
        let (mut on_create, mut on_match) = (Vec::new(), Vec::new());
        while self.eat_keyword("ON") {
            if self.eat_keyword("CREATE") {
                self.expect_keyword("SET")?;
                on_create.extend(self.set_items()?);
            } else if self.eat_keyword("MATCH") {
                self.expect_keyword("SET")?;
                on_match.extend(self.set_items()?);
            } else {
                return Err(self.expected("CREATE or MATCH after ON"));
            }
        }
        Ok(Clause::Merge {
            pattern,
            on_create,
            on_match,
        })
    }

    fn delete_clause(&mut self, detach: bool) -> Result<Clause> {
        let mut targets = vec![self.expr()?];
        while self.eat_sym(",") {
            targets.push(self.expr()?);
        }
        Ok(Clause::Delete { detach, targets })
    }

    fn set_items(&mut self) -> Result<Vec<SetItem>> {
        let mut items = Vec::new();
        loop {
            // `SET (n).key = ...` names the variable in parentheses.
            let variable = if self.eat_sym("(") {
                let name = self.name("a variable")?;
                self.expect_sym(")")?;
                name
            } else {
                self.name("a variable")?
            };
            let item = if self.eat_sym(".") {
                let key = self.name("a property key")?;
                self.expect_sym("=")?;
                SetItem::Property {
                    variable,
                    key,
                    value: self.expr()?,
                }
            } else if self.is_sym(":") {
                SetItem::Labels {
                    variable,
                    labels: self.labels()?,
                }
            } else if self.eat_sym("=") {
                SetItem::Replace {
                    variable,
                    value: self.expr()?,
                }
            } else if self.is_sym("+") && self.peek_at(1) == &Tok::Sym("=") {
                self.advance();
                self.advance();
                SetItem::Merge {
                    variable,
                    value: self.expr()?,
                }
            } else {
                return Err(self.expected("'.', ':', '=' or '+=' in SET"));
            };
            items.push(item);
            if !self.eat_sym(",") {
                return Ok(items);
            }
        }
    }

    fn remove_items(&mut self) -> Result<Vec<RemoveItem>> {
        let mut items = Vec::new();
        loop {
            let variable = self.name("a variable")?;
            let item = if self.eat_sym(".") {
                RemoveItem::Property {
                    variable,
                    key: self.name("a property key")?,
                }
            } else if self.is_sym(":") {
                RemoveItem::Labels {
                    variable,
                    labels: self.labels()?,
                }
            } else {
                return Err(self.expected("'.' or ':' in REMOVE"));
            };
            items.push(item);
            if !self.eat_sym(",") {
                return Ok(items);
            }
        }
    }

    /// The body of RETURN or (`with`) WITH, where an expression other than a variable needs
    /// an alias.
    fn projection(&mut self, with: bool) -> Result<Projection> {
        let distinct = self.eat_keyword("DISTINCT");
        if self.is_sym("*") {
            let clause = if with { "WITH *" } else { "RETURN *" };
            return Err(unsupported(self.peek().pos, clause));
        }
        let mut items = Vec::new();
        loop {
            let start = self.peek().clone();
            let expr = self.expr()?;
            let text = self.text[start.offset..self.peek().offset]
                .trim()
                .to_owned();
            let name = if self.eat_keyword("AS") {
                self.name("a column name after AS")?
            } else if let (true, Expr::Variable(var)) = (with, &expr) {
                var.clone()
            } else if with {
                return Err(syntax(
                    start.pos,
                    format!("expected AS after '{text}': expressions in WITH need an alias"),
                ));
            } else {
                text
            };
            items.push(ReturnItem { expr, name });
            if !self.eat_sym(",") {
                break;
            }
        }
        let mut order = Vec::new();
        if self.eat_keyword("ORDER") {
            self.expect_keyword("BY")?;
            loop {
                let start = self.peek().offset;
                let expr = self.expr()?;
                let text = self.text[start..self.peek().offset].trim().to_owned();
                let descending = if self.eat_keyword("DESC") || self.eat_keyword("DESCENDING") {
                    true
                } else {
                    let _ = self.eat_keyword("ASC") || self.eat_keyword("ASCENDING");
                    false
                };
                order.push(SortItem {
                    expr,
                    text,
                    descending,
                });
                if !self.eat_sym(",") {
                    break;
                }
            }
        }
        let skip = if self.eat_keyword("SKIP") {
            Some(self.expr()?)
        } else {
            None
        };
        let limit = if self.eat_keyword("LIMIT") {
            Some(self.expr()?)
        } else {
            None
        };
        Ok(Projection {
            distinct,
            items,
            order,
            skip,
            limit,
        })
    }

    fn patterns(&mut self) -> Result<Vec<PathPattern>> {
        let mut patterns = vec![self.path_pattern()?];
        while self.eat_sym(",") {
            if patterns.len() >= MAX_PATTERN_PARTS {
                return Err(syntax(
                    self.peek().pos,
                    format!("a clause may hold at most {MAX_PATTERN_PARTS} patterns"),
                ));
            }
            patterns.push(self.path_pattern()?);
        }
        Ok(patterns)
    }

    fn path_pattern(&mut self) -> Result<PathPattern> {
        let variable =
            if matches!(self.peek().tok, Tok::Ident { .. }) && self.peek_at(1) == &Tok::Sym("=") {
                let name = self.name("a path variable")?;
                self.advance();
                Some(name)
            } else {
                None
            };
        if self.is_keyword("shortestPath") || self.is_keyword("allShortestPaths") {
            return Err(unsupported(
                self.peek().pos,
                "shortestPath() in patterns (use the FindShortestPath RPC)",
            ));
        }
        let start = self.node_pattern()?;
        let mut steps = Vec::new();
        while self.is_sym("-") || self.is_sym("<") {
            if steps.len() >= MAX_PATTERN_PARTS {
                return Err(syntax(
                    self.peek().pos,
                    format!("a pattern may hold at most {MAX_PATTERN_PARTS} relationships"),
                ));
            }
            let rel = self.rel_pattern()?;
            steps.push((rel, self.node_pattern()?));
        }
        Ok(PathPattern {
            variable,
            start,
            steps,
        })
    }

    fn node_pattern(&mut self) -> Result<NodePattern> {
        self.expect_sym("(")?;
        let variable = match &self.peek().tok {
            Tok::Ident { .. } => Some(self.name("a variable")?),
            _ => None,
        };
        let labels = if self.is_sym(":") {
            self.labels()?
        } else {
            Vec::new()
        };
        let has_map = self.is_sym("{");
        let properties = if has_map {
            self.map_literal()?
        } else {
            Vec::new()
        };
        self.expect_sym(")")?;
        Ok(NodePattern {
            variable,
            labels,
            properties,
            has_map,
        })
    }

    fn labels(&mut self) -> Result<Vec<String>> {
        let mut labels = Vec::new();
        while self.eat_sym(":") {
            labels.push(self.name("a label")?);
        }
        Ok(labels)
    }

    fn rel_pattern(&mut self) -> Result<RelPattern> {
        let left = self.eat_sym("<");
        self.expect_sym("-")?;
        let mut rel = RelPattern {
            variable: None,
            types: Vec::new(),
            arrow: Arrow::Either,
            properties: Vec::new(),
            length: None,
        };
        if self.eat_sym("[") {
            if let Tok::Ident { .. } = self.peek().tok {
                rel.variable = Some(self.name("a variable")?);
            }
            if self.eat_sym(":") {
                rel.types.push(self.name("a relationship type")?);
                while self.eat_sym("|") {
                    self.eat_sym(":");
                    rel.types.push(self.name("a relationship type")?);
                }
            }
            if self.eat_sym("*") {
                rel.length = Some(self.length()?);
            }
            if self.is_sym("{") {
                rel.properties = self.map_literal()?;
            }
            self.expect_sym("]")?;
        }
        self.expect_sym("-")?;
        let right = self.eat_sym(">");
        rel.arrow = match (left, right) {
            (false, true) => Arrow::Right,
            (true, false) => Arrow::Left,
            // `<-[]->` points both ways, which matches like `-[]-`.
            (false, false) | (true, true) => Arrow::Either,
        };
        Ok(rel)
    }

    fn length(&mut self) -> Result<(u32, Option<u32>)> {
        let bound = |p: &mut Self| -> Result<Option<u32>> {
            match p.peek().tok {
                Tok::Int(i) => {
                    let pos = p.peek().pos;
                    p.advance();
                    match u32::try_from(i) {
                        Ok(n) if n <= MAX_HOPS => Ok(Some(n)),
                        _ => Err(syntax(
                            pos,
                            format!("a variable-length relationship spans at most {MAX_HOPS} hops"),
                        )),
                    }
                }
                _ => Ok(None),
            }
        };
        let min = bound(self)?;
        let (min, max) = if self.eat_sym("..") {
            (min.unwrap_or(1), bound(self)?)
        } else {
            match min {
                Some(n) => (n, Some(n)),
                None => (1, None),
            }
        };
        // A maximum below the minimum is an empty interval: it matches nothing.
        Ok((min, max))
    }

    fn map_literal(&mut self) -> Result<Vec<(String, Expr)>> {
        self.expect_sym("{")?;
        let mut entries = Vec::new();
        if !self.eat_sym("}") {
            loop {
                let key = match &self.peek().tok {
                    Tok::Str(s) => {
                        let s = s.clone();
                        self.advance();
                        s
                    }
                    _ => self.name("a property key")?,
                };
                self.expect_sym(":")?;
                entries.push((key, self.expr()?));
                if self.eat_sym("}") {
                    break;
                }
                self.expect_sym(",")?;
            }
        }
        Ok(entries)
    }

    fn expr(&mut self) -> Result<Expr> {
        let entry = self.depth;
        self.nest()?;
        let result = self.or();
        self.depth = entry;
        result
    }

    /// Counts one level of nesting (an operator applied, a bracket opened); fails past the limit
    /// so that evaluating the tree cannot exhaust the stack.
    fn nest(&mut self) -> Result<()> {
        self.depth += 1;
        if self.depth > MAX_NESTING {
            return Err(syntax(self.peek().pos, "expression nested too deeply"));
        }
        Ok(())
    }

    fn binary_level(
        &mut self,
        operators: &[(&str, BinOp)],
        next: fn(&mut Self) -> Result<Expr>,
    ) -> Result<Expr> {
        let mut left = next(self)?;
        'outer: loop {
            for (keyword, op) in operators {
                if self.eat_keyword(keyword) {
                    self.nest()?;
                    left = Expr::Binary(*op, Box::new(left), Box::new(next(self)?));
                    continue 'outer;
                }
            }
            return Ok(left);
        }
    }

    fn or(&mut self) -> Result<Expr> {
        self.binary_level(&[("OR", BinOp::Or)], Self::xor)
    }

    fn xor(&mut self) -> Result<Expr> {
        self.binary_level(&[("XOR", BinOp::Xor)], Self::and)
    }

    fn and(&mut self) -> Result<Expr> {
        self.binary_level(&[("AND", BinOp::And)], Self::not)
    }

    fn not(&mut self) -> Result<Expr> {
        if self.eat_keyword("NOT") {
            self.nest()?;
            return Ok(Expr::Not(Box::new(self.not()?)));
        }
        self.comparison()
    }

    /// Comparisons; a chain `a < b <= c` means `a < b AND b <= c`.
    fn comparison(&mut self) -> Result<Expr> {
        let first = self.predicate()?;
        let mut pairs: Vec<Expr> = Vec::new();
        let mut left = first.clone();
        loop {
            let symbol = [
                ("=", BinOp::Eq),
                ("<>", BinOp::Ne),
                ("<=", BinOp::Le),
                (">=", BinOp::Ge),
                ("<", BinOp::Lt),
                (">", BinOp::Gt),
            ]
            .into_iter()
            .find(|(s, _)| self.is_sym(s));
            let Some((_, op)) = symbol else {
                break;
            };
            self.advance();
            self.nest()?;
            let right = self.predicate()?;
            pairs.push(Expr::Binary(op, Box::new(left), Box::new(right.clone())));
            left = right;
        }
        let mut pairs = pairs.into_iter();
        let Some(mut chain) = pairs.next() else {
            return Ok(first);
        };
        for pair in pairs {
            chain = Expr::Binary(BinOp::And, Box::new(chain), Box::new(pair));
        }
        Ok(chain)
    }

    /// String and list predicates and null tests, which bind tighter than comparisons.
    fn predicate(&mut self) -> Result<Expr> {
        let mut left = self.additive()?;
        loop {
            let op = if self.is_keyword("STARTS") && self.is_keyword_at(1, "WITH") {
                self.advance();
                self.advance();
                BinOp::StartsWith
            } else if self.is_keyword("ENDS") && self.is_keyword_at(1, "WITH") {
                self.advance();
                self.advance();
                BinOp::EndsWith
            } else if self.eat_keyword("CONTAINS") {
                BinOp::Contains
            } else if self.eat_keyword("IN") {
                BinOp::In
            } else if self.eat_keyword("IS") {
                self.nest()?;
                let negated = self.eat_keyword("NOT");
                self.expect_keyword("NULL")?;
                left = Expr::IsNull {
                    expr: Box::new(left),
                    negated,
                };
                continue;
            } else if self.is_sym("=~") {
                return Err(unsupported(self.peek().pos, "=~ (regular expressions)"));
            } else {
                return Ok(left);
            };
            self.nest()?;
            left = Expr::Binary(op, Box::new(left), Box::new(self.additive()?));
        }
    }

    fn additive(&mut self) -> Result<Expr> {
        let mut left = self.multiplicative()?;
        loop {
            let op = if self.is_sym("+") && self.peek_at(1) != &Tok::Sym("=") {
                BinOp::Add
            } else if self.is_sym("-") {
                BinOp::Sub
            } else {
                return Ok(left);
            };
            self.advance();
            self.nest()?;
            left = Expr::Binary(op, Box::new(left), Box::new(self.multiplicative()?));
        }
    }

    fn multiplicative(&mut self) -> Result<Expr> {
        let mut left = self.power()?;
        loop {
            let op = if self.is_sym("*") {
                BinOp::Mul
            } else if self.is_sym("/") {
                BinOp::Div
            } else if self.is_sym("%") {
                BinOp::Mod
            } else {
                return Ok(left);
            };
            self.advance();
            self.nest()?;
            left = Expr::Binary(op, Box::new(left), Box::new(self.power()?));
        }
    }

    fn power(&mut self) -> Result<Expr> {
        let mut left = self.unary()?;
        while self.eat_sym("^") {
            self.nest()?;
            left = Expr::Binary(BinOp::Pow, Box::new(left), Box::new(self.unary()?));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Expr> {
        if self.eat_sym("-") {
            return match self.peek().tok {
                // A negative literal is a literal, not an operation.
                Tok::Int(i) => {
                    self.advance();
                    self.postfix(Expr::Literal(RVal::Int(-i)))
                }
                _ => Ok(Expr::Negate(Box::new(self.unary_operand()?))),
            };
        }
        if self.eat_sym("+") {
            return self.unary_operand();
        }
        let atom = self.atom()?;
        self.postfix(atom)
    }

    fn unary_operand(&mut self) -> Result<Expr> {
        let atom = self.atom()?;
        self.postfix(atom)
    }

    fn postfix(&mut self, mut expr: Expr) -> Result<Expr> {
        loop {
            if self.is_sym(".") || self.is_sym(":") {
                self.nest()?;
            }
            if self.eat_sym(".") {
                let key = self.name("a property key")?;
                if self.is_sym("(") {
                    return Err(unsupported(
                        self.peek().pos,
                        &format!("function ...{key}()"),
                    ));
                }
                expr = Expr::Property(Box::new(expr), key);
            } else if self.is_sym(":") {
                expr = Expr::HasLabels(Box::new(expr), self.labels()?);
            } else if self.is_sym("[") {
                return Err(unsupported(self.peek().pos, "subscripts and slices"));
            } else {
                return Ok(expr);
            }
        }
    }

    fn atom(&mut self) -> Result<Expr> {
        let token = self.peek().clone();
        match token.tok {
            Tok::Int(i) => {
                self.advance();
                Ok(Expr::Literal(RVal::Int(i)))
            }
            Tok::Float(f) => {
                self.advance();
                Ok(Expr::Literal(RVal::Float(f)))
            }
            Tok::Str(s) => {
                self.advance();
                Ok(Expr::Literal(RVal::String(s)))
            }
            Tok::Param(p) => {
                self.advance();
                Ok(Expr::Parameter(p))
            }
            Tok::Sym("(") => {
                if self.pattern_follows() {
                    return Err(unsupported(token.pos, "pattern expressions"));
                }
                self.advance();
                let inner = self.expr()?;
                self.expect_sym(")")?;
                Ok(inner)
            }
            Tok::Sym("[") => {
                self.advance();
                let mut items = Vec::new();
                if !self.eat_sym("]") {
                    loop {
                        items.push(self.expr()?);
                        if self.is_sym("|") || self.is_keyword("WHERE") {
                            return Err(unsupported(token.pos, "list comprehensions"));
                        }
                        if self.eat_sym("]") {
                            break;
                        }
                        self.expect_sym(",")?;
                    }
                }
                Ok(Expr::List(items))
            }
            Tok::Sym("{") => Ok(Expr::Map(self.map_literal()?)),
            Tok::Ident { name, quoted } => {
                if !quoted {
                    let upper = name.to_ascii_uppercase();
                    match upper.as_str() {
                        "TRUE" => {
                            self.advance();
                            return Ok(Expr::Literal(RVal::Bool(true)));
                        }
                        "FALSE" => {
                            self.advance();
                            return Ok(Expr::Literal(RVal::Bool(false)));
                        }
                        "NULL" => {
                            self.advance();
                            return Ok(Expr::Literal(RVal::Null));
                        }
                        "CASE" | "EXISTS" => return Err(unsupported(token.pos, &upper)),
                        _ => {}
                    }
                }
                self.advance();
                if self.peek().tok == Tok::Sym("(") {
                    return self.call(name, token.pos);
                }
                Ok(Expr::Variable(name))
            }
            _ => Err(self.expected("an expression")),
        }
    }

    /// Whether the parenthesis at the cursor opens a pattern like `(a)-[:T]->(b)` rather than
    /// a parenthesized expression: its closing parenthesis is followed by `-[`, `--`, `->` or
    /// `<-`.
    fn pattern_follows(&self) -> bool {
        let mut depth = 0usize;
        let mut ahead = 0;
        loop {
            match self.peek_at(ahead) {
                Tok::Sym("(") => depth += 1,
                Tok::Sym(")") => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        break;
                    }
                }
                Tok::End => return false,
                _ => {}
            }
            ahead += 1;
        }
        matches!(
            (self.peek_at(ahead + 1), self.peek_at(ahead + 2)),
            (Tok::Sym("-"), Tok::Sym("[" | "-" | ">")) | (Tok::Sym("<"), Tok::Sym("-"))
        )
    }

    fn call(&mut self, name: String, pos: Pos) -> Result<Expr> {
        self.expect_sym("(")?;
        let lower = name.to_ascii_lowercase();
        if lower == "count" && self.is_sym("*") {
            self.advance();
            self.expect_sym(")")?;
            return Ok(Expr::CountStar);
        }
        if !super::eval::FUNCTIONS.contains(&lower.as_str())
            && !AGGREGATES.contains(&lower.as_str())
        {
            return Err(unsupported(pos, &format!("function {name}()")));
        }
        let distinct = self.eat_keyword("DISTINCT");
        let mut args = Vec::new();
        if !self.eat_sym(")") {
            loop {
                args.push(self.expr()?);
                if self.eat_sym(")") {
                    break;
                }
                self.expect_sym(",")?;
            }
        }
        Ok(Expr::Call {
            name: lower,
            distinct,
            args,
        })
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
