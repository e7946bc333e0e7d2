//! Clauses: the statement as a sequence of clauses (a RETURN only last), each clause's own
//! syntax (MATCH … WHERE, MERGE … ON CREATE/ON MATCH SET, SET and REMOVE items, DELETE), and
//! the projection RETURN and WITH share (items and their names, ORDER BY, SKIP, LIMIT).

use super::{Parser, syntax, unsupported};
use crate::cypher::ast::{
    Clause, Expr, Projection, RemoveItem, ReturnItem, SetItem, SortItem, Statement,
};
use crate::cypher::lexer::Tok;
use crate::error::Result;

impl Parser<'_> {
    pub(super) fn statement(&mut self) -> Result<Statement> {
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
}
