//! Patterns: `[p =] (a:Label {k: v})-[r:TYPE|OTHER *min..max {k: v}]->(b)`, for MATCH, CREATE
//! and MERGE, with the limits on their size and hop counts; and the map literal they share with
//! expressions.

use super::{MAX_PATTERN_PARTS, Parser, syntax, unsupported};
use crate::cypher::ast::{Arrow, Expr, MAX_HOPS, NodePattern, PathPattern, RelPattern};
use crate::cypher::lexer::Tok;
use crate::error::Result;

impl Parser<'_> {
    pub(super) fn patterns(&mut self) -> Result<Vec<PathPattern>> {
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

    pub(super) fn path_pattern(&mut self) -> Result<PathPattern> {
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

    pub(super) fn labels(&mut self) -> Result<Vec<String>> {
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

    pub(super) fn map_literal(&mut self) -> Result<Vec<(String, Expr)>> {
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
}
