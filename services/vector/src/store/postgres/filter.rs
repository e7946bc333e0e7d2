//! Payload filters as SQL: the domain's [`Filter`] tree becomes a `WHERE` condition over the
//! `payload jsonb` column with the same semantics as `Filter::matches` (the embedded engine's):
//! a condition on an absent key does not match (except `match` with null), list values match
//! when any element does (at any depth: jsonpath's `.**`), numbers compare numerically.
//!
//! Values are never written into the SQL text: keys and the jsonpath variables are bind
//! parameters (`$n`), and the jsonpath expressions are constants chosen by the condition's
//! shape. Every leaf is wrapped in `COALESCE(…, FALSE)` so that `NOT` over an absent key is
//! true, as in the embedded engine, rather than SQL's NULL.

use serde_json::{Value, json};

use crate::model::{Filter, Scalar};

/// A condition and its bind values (all text; the SQL casts them), numbered from `first`.
pub(super) struct Condition {
    /// The SQL condition.
    pub(super) sql: String,
    /// Bind values for `$first`, `$first+1`, ….
    pub(super) binds: Vec<String>,
    first: usize,
}

impl Condition {
    /// `filter` as SQL whose parameters start at `$first`.
    pub(super) fn new(filter: &Filter, first: usize) -> Self {
        let mut condition = Self {
            sql: String::new(),
            binds: Vec::new(),
            first,
        };
        condition.sql = condition.translate(filter);
        condition
    }

    fn bind(&mut self, value: String) -> String {
        self.binds.push(value);
        format!("${}", self.first + self.binds.len() - 1)
    }

    fn translate(&mut self, filter: &Filter) -> String {
        match filter {
            Filter::And(all) => self.join(all, " AND ", "TRUE"),
            Filter::Or(any) => self.join(any, " OR ", "FALSE"),
            Filter::Not(inner) => format!("(NOT {})", self.translate(inner)),
            Filter::Match {
                key,
                value: Scalar::Null,
            } => {
                let key = self.bind(key.clone());
                format!(
                    "(NOT (payload ? {key}) OR COALESCE(jsonb_path_exists(payload -> {key}, \
                     'lax $.** ? (@ == null)'), FALSE))"
                )
            }
            Filter::Match { key, value } => match scalar(value) {
                Some(v) => self.path(key, "lax $.** ? (@ == $v)", json!({ "v": v })),
                None => "FALSE".into(),
            },
            Filter::In { key, values } => {
                let values: Vec<Value> = values.iter().filter_map(scalar).collect();
                if values.is_empty() {
                    return "FALSE".into();
                }
                self.path(key, "lax $.** ? (@ == $vs[*])", json!({ "vs": values }))
            }
            Filter::Range { key, bounds } => {
                let mut tests = vec![r#"@.type() == "number""#];
                let mut vars = serde_json::Map::new();
                if let Some((b, inclusive)) = bounds.lower() {
                    tests.push(if inclusive { "@ >= $lo" } else { "@ > $lo" });
                    vars.insert("lo".into(), number(b));
                }
                if let Some((b, inclusive)) = bounds.upper() {
                    tests.push(if inclusive { "@ <= $hi" } else { "@ < $hi" });
                    vars.insert("hi".into(), number(b));
                }
                let path = format!("lax $.** ? ({})", tests.join(" && "));
                self.path(key, &path, Value::Object(vars))
            }
        }
    }

    fn join(&mut self, operands: &[Filter], operator: &str, empty: &str) -> String {
        if operands.is_empty() {
            return empty.into();
        }
        let parts: Vec<String> = operands.iter().map(|f| self.translate(f)).collect();
        format!("({})", parts.join(operator))
    }

    /// Whether the jsonpath `path` (a constant of this module) finds an item in the value at
    /// `key`, with `vars` as its variables.
    fn path(&mut self, key: &str, path: &str, vars: Value) -> String {
        let key = self.bind(key.to_owned());
        let vars = self.bind(vars.to_string());
        format!("COALESCE(jsonb_path_exists(payload -> {key}, '{path}', {vars}::jsonb), FALSE)")
    }
}

fn number(n: f64) -> Value {
    serde_json::Number::from_f64(n).map_or(Value::Null, Value::Number)
}

/// The JSON a scalar is compared with; `None` for a number that equals nothing (NaN).
fn scalar(value: &Scalar) -> Option<Value> {
    Some(match value {
        Scalar::Null => Value::Null,
        Scalar::Bool(b) => Value::Bool(*b),
        Scalar::Number(n) => Value::Number(serde_json::Number::from_f64(*n)?),
        Scalar::Text(s) => Value::String(s.clone()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Bounds;

    #[test]
    fn values_are_bound_never_written_into_the_sql() {
        let filter = Filter::Not(Box::new(Filter::And(vec![
            Filter::Match {
                key: "team'; DROP TABLE x; --".into(),
                value: Scalar::Text("a'b".into()),
            },
            Filter::Range {
                key: "year".into(),
                bounds: Bounds::new(None, Some(2020.0), Some(2025.0), None).unwrap(),
            },
        ])));
        let c = Condition::new(&filter, 3);
        assert!(
            !c.sql.contains("DROP") && !c.sql.contains("a'b"),
            "{}",
            c.sql
        );
        assert!(c.sql.contains("$3") && c.sql.contains("$6") && !c.sql.contains("$7"));
        assert_eq!(c.binds.len(), 4);
        assert!(c.sql.contains("@ >= $lo && @ < $hi"), "{}", c.sql);
    }
}
