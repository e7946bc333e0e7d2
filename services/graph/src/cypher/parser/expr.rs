//! Expressions, one function per precedence level (OR, XOR, AND, NOT, comparisons, string and
//! list predicates, + -, * / %, ^, unary, postfix property and label access, atoms), counting
//! nesting as it descends so a deep expression is refused before it could exhaust the stack.
//! Constructs outside the subset (CASE, comprehensions, subscripts, regular expressions,
//! pattern expressions, unknown functions) are refused by name.

use super::{MAX_NESTING, Parser, syntax, unsupported};
use crate::cypher::ast::{AGGREGATES, BinOp, Expr, FUNCTIONS};
use crate::cypher::lexer::{Pos, Tok};
use crate::cypher::rval::RVal;
use crate::error::Result;

impl Parser<'_> {
    pub(super) fn expr(&mut self) -> Result<Expr> {
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
        if !FUNCTIONS.contains(&lower.as_str()) && !AGGREGATES.contains(&lower.as_str()) {
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
