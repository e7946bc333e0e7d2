//! The syntax tree of the Cypher subset, as the parser produces it and the executor runs it,
//! with the names and limits of the language both sides share (functions, aggregates, hops).

use super::rval::RVal;

/// Largest hop count of a variable-length relationship; also the expansion limit of an
/// unbounded one (`*`, `*2..`), so the matcher's recursion stays shallow.
pub(crate) const MAX_HOPS: u32 = 100;

/// The scalar functions the subset knows (lower-cased); aggregates are in [`AGGREGATES`].
pub(crate) const FUNCTIONS: [&str; 17] = [
    "id",
    "labels",
    "type",
    "properties",
    "keys",
    "size",
    "length",
    "nodes",
    "relationships",
    "startnode",
    "endnode",
    "coalesce",
    "tostring",
    "tointeger",
    "tofloat",
    "tolower",
    "toupper",
];

/// One statement.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    /// Clauses in order; a RETURN, when present, is last.
    pub(crate) clauses: Vec<Clause>,
}

impl Statement {
    /// The first writing clause's name, if the statement writes.
    pub(crate) fn first_write(&self) -> Option<&'static str> {
        self.clauses.iter().find_map(|c| match c {
            Clause::Create(_) => Some("CREATE"),
            Clause::Merge { .. } => Some("MERGE"),
            Clause::Set(_) => Some("SET"),
            Clause::Remove(_) => Some("REMOVE"),
            Clause::Delete { detach: false, .. } => Some("DELETE"),
            Clause::Delete { detach: true, .. } => Some("DETACH DELETE"),
            Clause::Match { .. } | Clause::With { .. } | Clause::Return(_) => None,
        })
    }
}

/// A clause.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Clause {
    /// `[OPTIONAL] MATCH patterns [WHERE predicate]`.
    Match {
        optional: bool,
        patterns: Vec<PathPattern>,
        predicate: Option<Expr>,
    },
    /// `CREATE patterns`.
    Create(Vec<PathPattern>),
    /// `MERGE pattern [ON CREATE SET ...] [ON MATCH SET ...]`.
    Merge {
        pattern: PathPattern,
        on_create: Vec<SetItem>,
        on_match: Vec<SetItem>,
    },
    /// `SET items`.
    Set(Vec<SetItem>),
    /// `REMOVE items`.
    Remove(Vec<RemoveItem>),
    /// `[DETACH] DELETE expressions`.
    Delete { detach: bool, targets: Vec<Expr> },
    /// `WITH ... [WHERE predicate]`: projects rows into new ones.
    With {
        projection: Projection,
        predicate: Option<Expr>,
    },
    /// `RETURN ...`.
    Return(Projection),
}

/// `RETURN|WITH [DISTINCT] items [ORDER BY ...] [SKIP n] [LIMIT n]`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Projection {
    pub(crate) distinct: bool,
    pub(crate) items: Vec<ReturnItem>,
    pub(crate) order: Vec<SortItem>,
    pub(crate) skip: Option<Expr>,
    pub(crate) limit: Option<Expr>,
}

/// One returned column: its expression and its name (the alias, or the expression's text).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ReturnItem {
    pub(crate) expr: Expr,
    pub(crate) name: String,
}

/// One ORDER BY key.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SortItem {
    pub(crate) expr: Expr,
    /// The expression's text, to match it against a returned column.
    pub(crate) text: String,
    pub(crate) descending: bool,
}

/// `[p =] (a)-[r]->(b)...`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PathPattern {
    pub(crate) variable: Option<String>,
    pub(crate) start: NodePattern,
    pub(crate) steps: Vec<(RelPattern, NodePattern)>,
}

/// `(var:Label {key: value})`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct NodePattern {
    pub(crate) variable: Option<String>,
    pub(crate) labels: Vec<String>,
    pub(crate) properties: Vec<(String, Expr)>,
    /// Whether a property map was written, even an empty `{}`.
    pub(crate) has_map: bool,
}

/// Which way a relationship pattern points, left to right.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Arrow {
    /// `-[]->`
    Right,
    /// `<-[]-`
    Left,
    /// `-[]-`
    Either,
}

/// `-[var:TYPE|OTHER *min..max {key: value}]->`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RelPattern {
    pub(crate) variable: Option<String>,
    pub(crate) types: Vec<String>,
    pub(crate) arrow: Arrow,
    pub(crate) properties: Vec<(String, Expr)>,
    /// `Some((min, max))` for a variable-length pattern; `max` `None` is unbounded.
    pub(crate) length: Option<(u32, Option<u32>)>,
}

/// One item of SET.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum SetItem {
    /// `var.key = value`.
    Property {
        variable: String,
        key: String,
        value: Expr,
    },
    /// `var = map` (replaces all properties).
    Replace { variable: String, value: Expr },
    /// `var += map`.
    Merge { variable: String, value: Expr },
    /// `var:Label:Other`.
    Labels {
        variable: String,
        labels: Vec<String>,
    },
}

/// One item of REMOVE.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum RemoveItem {
    /// `var.key`.
    Property { variable: String, key: String },
    /// `var:Label`.
    Labels {
        variable: String,
        labels: Vec<String>,
    },
}

/// Binary operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BinOp {
    Or,
    Xor,
    And,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    StartsWith,
    EndsWith,
    Contains,
    In,
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Pow,
}

/// An expression.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Expr {
    Literal(RVal),
    Parameter(String),
    Variable(String),
    Property(Box<Expr>, String),
    List(Vec<Expr>),
    Map(Vec<(String, Expr)>),
    Not(Box<Expr>),
    Negate(Box<Expr>),
    Binary(BinOp, Box<Expr>, Box<Expr>),
    /// `expr IS NULL` (`negated`: IS NOT NULL).
    IsNull {
        expr: Box<Expr>,
        negated: bool,
    },
    /// `var:Label:Other`.
    HasLabels(Box<Expr>, Vec<String>),
    /// `name([DISTINCT] args)`, `name` lower-cased.
    Call {
        name: String,
        distinct: bool,
        args: Vec<Expr>,
    },
    /// `count(*)`.
    CountStar,
}

/// Names of the aggregating functions.
pub(crate) const AGGREGATES: [&str; 6] = ["count", "sum", "avg", "min", "max", "collect"];

impl Expr {
    /// Whether the expression contains an aggregate.
    pub(crate) fn has_aggregate(&self) -> bool {
        match self {
            Expr::CountStar => true,
            Expr::Call { name, args, .. } => {
                AGGREGATES.contains(&name.as_str()) || args.iter().any(Expr::has_aggregate)
            }
            Expr::Property(e, _) | Expr::Not(e) | Expr::Negate(e) | Expr::HasLabels(e, _) => {
                e.has_aggregate()
            }
            Expr::IsNull { expr, .. } => expr.has_aggregate(),
            Expr::Binary(_, a, b) => a.has_aggregate() || b.has_aggregate(),
            Expr::List(items) => items.iter().any(Expr::has_aggregate),
            Expr::Map(entries) => entries.iter().any(|(_, e)| e.has_aggregate()),
            Expr::Literal(_) | Expr::Parameter(_) | Expr::Variable(_) => false,
        }
    }
}

impl Expr {
    /// The expressions directly inside this one.
    pub(crate) fn children(&self) -> Vec<&Expr> {
        match self {
            Expr::Literal(_) | Expr::Parameter(_) | Expr::Variable(_) | Expr::CountStar => {
                Vec::new()
            }
            Expr::Property(e, _)
            | Expr::Not(e)
            | Expr::Negate(e)
            | Expr::HasLabels(e, _)
            | Expr::IsNull { expr: e, .. } => vec![e],
            Expr::Binary(_, a, b) => vec![a, b],
            Expr::List(items) | Expr::Call { args: items, .. } => items.iter().collect(),
            Expr::Map(entries) => entries.iter().map(|(_, e)| e).collect(),
        }
    }

    /// Whether this is a call of an aggregate function (or `count(*)`).
    pub(crate) fn is_aggregate_call(&self) -> bool {
        match self {
            Expr::CountStar => true,
            Expr::Call { name, .. } => AGGREGATES.contains(&name.as_str()),
            _ => false,
        }
    }
}
