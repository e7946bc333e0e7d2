//! Splits Cypher text into tokens, each with its 1-based line and column (counted in Unicode
//! scalar values, as the contract says). Keywords are identifiers here; the parser compares
//! them case-insensitively. Backtick-quoted names are identifiers that are never keywords.

use crate::error::{GraphError, Result};

/// A position in the query text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Pos {
    pub(crate) line: u32,
    pub(crate) column: u32,
}

/// What a token is.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok {
    /// A name or keyword; `quoted` when written in backticks.
    Ident { name: String, quoted: bool },
    /// An integer literal.
    Int(i64),
    /// A float literal.
    Float(f64),
    /// A string literal, unescaped.
    Str(String),
    /// `$name`.
    Param(String),
    /// Punctuation and operators: `( ) [ ] { } , . : | * .. = <> < <= > >= + - / % ^ ;`.
    Sym(&'static str),
    /// The end of the text.
    End,
}

/// A token and where it starts; `offset` is its byte offset (column names quote the text).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Token {
    pub(crate) tok: Tok,
    pub(crate) pos: Pos,
    pub(crate) offset: usize,
}

/// A syntax error at `pos`.
pub(crate) fn syntax(pos: Pos, message: impl std::fmt::Display) -> GraphError {
    GraphError::InvalidArgument(format!(
        "line {}:column {}: {message}",
        pos.line, pos.column
    ))
}

const SYMBOLS: [&str; 24] = [
    "..", "<>", "<=", ">=", "(", ")", "[", "]", "{", "}", ",", ".", ":", "|", "*", "=", "<", ">",
    "+", "-", "/", "%", ";", "^",
];

struct Lexer<'a> {
    text: &'a str,
    chars: Vec<(usize, char)>,
    at: usize,
    pos: Pos,
}

impl Lexer<'_> {
    fn peek(&self, ahead: usize) -> Option<char> {
        self.chars.get(self.at + ahead).map(|&(_, c)| c)
    }

    fn offset(&self) -> usize {
        self.chars.get(self.at).map_or(self.text.len(), |&(o, _)| o)
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek(0)?;
        self.at += 1;
        if c == '\n' {
            self.pos.line += 1;
            self.pos.column = 1;
        } else {
            self.pos.column += 1;
        }
        Some(c)
    }

    fn skip_space_and_comments(&mut self) -> Result<()> {
        loop {
            match (self.peek(0), self.peek(1)) {
                (Some(c), _) if c.is_whitespace() => {
                    self.bump();
                }
                (Some('/'), Some('/')) => {
                    while self.peek(0).is_some_and(|c| c != '\n') {
                        self.bump();
                    }
                }
                (Some('/'), Some('*')) => {
                    let start = self.pos;
                    self.bump();
                    self.bump();
                    loop {
                        match self.bump() {
                            Some('*') if self.peek(0) == Some('/') => {
                                self.bump();
                                break;
                            }
                            Some(_) => {}
                            None => return Err(syntax(start, "unterminated comment")),
                        }
                    }
                }
                _ => return Ok(()),
            }
        }
    }

    fn next(&mut self) -> Result<Token> {
        self.skip_space_and_comments()?;
        let pos = self.pos;
        let offset = self.offset();
        let token = |tok| Token { tok, pos, offset };
        let Some(c) = self.peek(0) else {
            return Ok(token(Tok::End));
        };
        if c.is_alphabetic() || c == '_' {
            let mut name = String::new();
            while let Some(c) = self.peek(0).filter(|c| c.is_alphanumeric() || *c == '_') {
                name.push(c);
                self.bump();
            }
            return Ok(token(Tok::Ident {
                name,
                quoted: false,
            }));
        }
        if c == '`' {
            self.bump();
            let mut name = String::new();
            loop {
                match self.bump() {
                    Some('`') if self.peek(0) == Some('`') => {
                        self.bump();
                        name.push('`');
                    }
                    Some('`') => break,
                    Some(c) => name.push(c),
                    None => return Err(syntax(pos, "unterminated `quoted name`")),
                }
            }
            return Ok(token(Tok::Ident { name, quoted: true }));
        }
        if c == '$' {
            self.bump();
            let mut name = String::new();
            while let Some(c) = self.peek(0).filter(|c| c.is_alphanumeric() || *c == '_') {
                name.push(c);
                self.bump();
            }
            if name.is_empty() {
                return Err(syntax(pos, "expected a parameter name after '$'"));
            }
            return Ok(token(Tok::Param(name)));
        }
        if c.is_ascii_digit() {
            return self.number(pos, offset);
        }
        if c == '\'' || c == '"' {
            return self.string(c, pos, offset);
        }
        for symbol in SYMBOLS {
            let matches = symbol
                .chars()
                .enumerate()
                .all(|(i, s)| self.peek(i) == Some(s));
            if matches {
                for _ in 0..symbol.len() {
                    self.bump();
                }
                return Ok(token(Tok::Sym(symbol)));
            }
        }
        Err(syntax(pos, format!("unexpected character {c:?}")))
    }

    fn number(&mut self, pos: Pos, offset: usize) -> Result<Token> {
        if self.peek(0) == Some('0')
            && let Some(radix) = match self.peek(1) {
                Some('x' | 'X') => Some(16),
                Some('o' | 'O') => Some(8),
                _ => None,
            }
        {
            self.bump();
            self.bump();
            let mut digits = String::new();
            while let Some(c) = self
                .peek(0)
                .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
            {
                digits.push(c);
                self.bump();
            }
            let value = i64::from_str_radix(&digits, radix).map_err(|_| {
                syntax(
                    pos,
                    format!("invalid or too large integer literal '{digits}'"),
                )
            })?;
            return Ok(Token {
                tok: Tok::Int(value),
                pos,
                offset,
            });
        }
        let mut digits = String::new();
        let mut float = false;
        while let Some(c) = self.peek(0) {
            let fraction = c == '.' && !float && self.peek(1).is_some_and(|d| d.is_ascii_digit());
            let exponent = (c == 'e' || c == 'E')
                && (self.peek(1).is_some_and(|d| d.is_ascii_digit())
                    || (matches!(self.peek(1), Some('-' | '+'))
                        && self.peek(2).is_some_and(|d| d.is_ascii_digit())));
            if c.is_ascii_digit() {
                digits.push(c);
                self.bump();
            } else if fraction || exponent {
                float = true;
                digits.push(c);
                self.bump();
                if exponent && matches!(self.peek(0), Some('-' | '+')) {
                    digits.extend(self.bump());
                }
            } else {
                break;
            }
        }
        if self
            .peek(0)
            .is_some_and(|c| c.is_alphanumeric() || c == '_')
        {
            return Err(syntax(pos, format!("invalid number starting '{digits}'")));
        }
        let tok = if float {
            Tok::Float(
                digits
                    .parse()
                    .map_err(|_| syntax(pos, format!("invalid number '{digits}'")))?,
            )
        } else {
            Tok::Int(
                digits
                    .parse()
                    .map_err(|_| syntax(pos, format!("integer '{digits}' is too large")))?,
            )
        };
        Ok(Token { tok, pos, offset })
    }

    fn string(&mut self, quote: char, pos: Pos, offset: usize) -> Result<Token> {
        self.bump();
        let mut out = String::new();
        loop {
            let escape_pos = self.pos;
            match self.bump() {
                None => return Err(syntax(pos, "unterminated string")),
                Some(c) if c == quote => break,
                Some('\\') => {
                    let unescaped = match self.bump() {
                        Some('n') => '\n',
                        Some('t') => '\t',
                        Some('r') => '\r',
                        Some('b') => '\u{8}',
                        Some('f') => '\u{c}',
                        Some('0') => '\0',
                        Some(c @ ('\\' | '\'' | '"')) => c,
                        Some('u') => {
                            let hex: String = (0..4).filter_map(|_| self.bump()).collect();
                            u32::from_str_radix(&hex, 16)
                                .ok()
                                .and_then(char::from_u32)
                                .ok_or_else(|| syntax(escape_pos, "invalid \\u escape"))?
                        }
                        _ => return Err(syntax(escape_pos, "invalid escape in string")),
                    };
                    out.push(unescaped);
                }
                Some(c) => out.push(c),
            }
        }
        Ok(Token {
            tok: Tok::Str(out),
            pos,
            offset,
        })
    }
}

/// Tokenizes `text`; the last token is [`Tok::End`].
pub(crate) fn tokenize(text: &str) -> Result<Vec<Token>> {
    let mut lexer = Lexer {
        text,
        chars: text.char_indices().collect(),
        at: 0,
        pos: Pos { line: 1, column: 1 },
    };
    let mut tokens = Vec::new();
    loop {
        let token = lexer.next()?;
        let end = token.tok == Tok::End;
        tokens.push(token);
        if end {
            return Ok(tokens);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_and_positions() {
        let tokens =
            tokenize("MATCH (n)-[*1..2]->(m)\n  WHERE n.x <= 1.5e2 // c\nRETURN 'a\\'b', $p")
                .unwrap();
        let toks: Vec<&Tok> = tokens.iter().map(|t| &t.tok).collect();
        assert!(toks.contains(&&Tok::Sym("..")));
        assert!(toks.contains(&&Tok::Float(150.0)));
        assert!(toks.contains(&&Tok::Str("a'b".into())));
        assert!(toks.contains(&&Tok::Param("p".into())));
        let where_ = tokens
            .iter()
            .find(|t| matches!(&t.tok, Tok::Ident { name, .. } if name == "WHERE"))
            .unwrap();
        assert_eq!(where_.pos, Pos { line: 2, column: 3 });
        let err = tokenize("RETURN 'open").unwrap_err().to_string();
        assert!(err.starts_with("line 1:column 8:"), "{err}");
        assert!(tokenize("RETURN 99999999999999999999").is_err());
        let hex = tokenize("0xff 0o17").unwrap();
        assert_eq!((&hex[0].tok, &hex[1].tok), (&Tok::Int(255), &Tok::Int(15)));
    }
}
