//! Finding a walk's start node by a label and a property value (ListNeighbors' `start`), so a
//! caller that knows a node by name (the router's "who manages Ada?") makes one call, not a
//! lookup query and then the walk. Every engine can answer it as the Cypher statement of
//! [`NodeMatch::lookup`] (a Bolt server does, from its own indexes); the embedded engine answers
//! it with the same matching code directly, since parsing that statement on every call was a
//! quarter of the graph service's CPU in the chat mix (docs/benchmarks.md). Both agree on "the
//! lowest id" (`ORDER BY id(n)`).

use std::collections::HashMap;
use std::time::Instant;

use super::query::{AccessMode, CypherQuery, QueryResult, QueryValue};
use crate::error::{GraphError, Result, invalid};

/// A node named by a label and the value of one of its properties.
#[derive(Debug, Clone)]
pub(crate) struct NodeMatch {
    /// A label the node carries.
    pub(crate) label: String,
    /// The property compared.
    pub(crate) property: String,
    /// The value it must equal (never null: a node has no null properties).
    pub(crate) value: QueryValue,
}

impl NodeMatch {
    /// Checks the names: they are written into the statement between backticks, so a backtick
    /// in one is refused (other names are checked like any label or key by the API).
    pub(crate) fn checked(self) -> Result<Self> {
        for (field, name) in [
            ("start.label", &self.label),
            ("start.property", &self.property),
        ] {
            if name.contains('`') {
                return Err(invalid(format!("{field}: must not contain a backtick")));
            }
        }
        if self.value == QueryValue::Null {
            return Err(invalid(
                "start.value: must be set (a node has no null properties)",
            ));
        }
        Ok(self)
    }

    /// The read that finds the node's id: at most one row.
    pub(crate) fn lookup(&self, deadline: Option<Instant>) -> CypherQuery {
        CypherQuery {
            text: format!(
                "MATCH (n:`{}` {{`{}`: $value}}) RETURN id(n) ORDER BY id(n) LIMIT 1",
                self.label, self.property
            ),
            parameters: HashMap::from([("value".to_owned(), self.value.clone())]),
            access_mode: AccessMode::Read,
            row_limit: Some(1),
            deadline,
        }
    }

    /// The id in the lookup statement's answer (`None`: no row).
    pub(crate) fn first_id(answer: &QueryResult) -> Option<u64> {
        answer
            .rows
            .first()
            .and_then(|row| match row.values.first() {
                Some(QueryValue::Int(id)) => u64::try_from(*id).ok(),
                _ => None,
            })
    }

    /// The node found, or NOT_FOUND naming the match when there is none.
    pub(crate) fn found(&self, id: Option<u64>) -> Result<u64> {
        id.ok_or_else(|| {
            GraphError::NotFound(format!(
                "start: no node with label {} whose {} is {}",
                self.label,
                self.property,
                shown(&self.value)
            ))
        })
    }
}

/// A value as the NOT_FOUND message shows it: strings quoted, at most 64 characters.
fn shown(value: &QueryValue) -> String {
    let text = match value {
        QueryValue::String(s) => format!("'{s}'"),
        QueryValue::Int(i) => i.to_string(),
        QueryValue::Float(f) => f.to_string(),
        QueryValue::Bool(b) => b.to_string(),
        other => format!("{other:?}"),
    };
    match text.char_indices().nth(64) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text,
    }
}
