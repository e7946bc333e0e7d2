//! Payload filters: compiled once from the request (every malformed part is refused with the
//! path of the offending field), then evaluated against each candidate's payload during the
//! search.
//!
//! Semantics: a condition on a key the payload lacks does not match (except `match` with
//! null, which matches an absent or null key); when the payload value is a list, a condition
//! matches if any element does; integers and doubles compare numerically.

use std::collections::HashMap;

use chatmesh_proto::vector::{self as pb, payload_value::Kind};

use crate::error::{Result, invalid};

/// A payload: the object's metadata, in its wire representation.
pub type Payload = HashMap<String, pb::PayloadValue>;

/// A validated filter.
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    /// Every operand matches.
    And(Vec<Filter>),
    /// At least one operand matches.
    Or(Vec<Filter>),
    /// The operand does not match.
    Not(Box<Filter>),
    /// The value at `key` equals `value`.
    Match { key: String, value: Scalar },
    /// The value at `key` equals one of `values`.
    In { key: String, values: Vec<Scalar> },
    /// The numeric value at `key` lies within the bounds.
    Range { key: String, bounds: Bounds },
}

/// A non-list payload value, as filters compare them.
#[derive(Debug, Clone, PartialEq)]
pub enum Scalar {
    /// Null (or an absent key, for `match`).
    Null,
    /// A boolean.
    Bool(bool),
    /// A number (integers are compared as doubles).
    Number(f64),
    /// A string.
    Text(String),
}

/// Numeric bounds of a range condition.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Bounds {
    gt: Option<f64>,
    gte: Option<f64>,
    lt: Option<f64>,
    lte: Option<f64>,
}

const MAX_DEPTH: usize = 32;
const MAX_IN_VALUES: usize = 1024;

impl Filter {
    /// Validates a request's filter; `path` names it in error messages.
    pub fn compile(filter: &pb::Filter, path: &str) -> Result<Self> {
        compile(filter, path, 0)
    }

    /// Whether `payload` satisfies the filter.
    pub fn matches(&self, payload: &Payload) -> bool {
        match self {
            Filter::And(all) => all.iter().all(|f| f.matches(payload)),
            Filter::Or(any) => any.iter().any(|f| f.matches(payload)),
            Filter::Not(inner) => !inner.matches(payload),
            Filter::Match { key, value } => match payload.get(key) {
                None => *value == Scalar::Null,
                Some(v) => any_scalar(v, &|s| s == value),
            },
            Filter::In { key, values } => payload
                .get(key)
                .is_some_and(|v| any_scalar(v, &|s| values.contains(s))),
            Filter::Range { key, bounds } => payload.get(key).is_some_and(|v| {
                any_scalar(
                    v,
                    &|s| matches!(s, Scalar::Number(n) if bounds.contains(*n)),
                )
            }),
        }
    }
}

impl Bounds {
    fn contains(&self, n: f64) -> bool {
        self.gt.is_none_or(|b| n > b)
            && self.gte.is_none_or(|b| n >= b)
            && self.lt.is_none_or(|b| n < b)
            && self.lte.is_none_or(|b| n <= b)
    }
}

/// Applies `test` to a value, or to each element of a list value (recursively).
fn any_scalar(value: &pb::PayloadValue, test: &dyn Fn(&Scalar) -> bool) -> bool {
    match &value.kind {
        Some(Kind::ListValue(list)) => list.values.iter().any(|v| any_scalar(v, test)),
        _ => scalar(value).is_some_and(|s| test(&s)),
    }
}

/// The scalar form of a non-list value (`None` for lists).
fn scalar(value: &pb::PayloadValue) -> Option<Scalar> {
    Some(match &value.kind {
        None | Some(Kind::NullValue(_)) => Scalar::Null,
        Some(Kind::BoolValue(b)) => Scalar::Bool(*b),
        Some(Kind::IntValue(i)) => Scalar::Number(*i as f64),
        Some(Kind::DoubleValue(d)) => Scalar::Number(*d),
        Some(Kind::StringValue(s)) => Scalar::Text(s.clone()),
        Some(Kind::ListValue(_)) => return None,
    })
}

fn compile(filter: &pb::Filter, path: &str, depth: usize) -> Result<Filter> {
    use pb::filter::Kind as F;
    if depth > MAX_DEPTH {
        return Err(invalid(format!(
            "{path}: filters nest at most {MAX_DEPTH} deep"
        )));
    }
    let operands = |list: &pb::FilterList, name: &str| -> Result<Vec<Filter>> {
        if list.filters.is_empty() {
            return Err(invalid(format!(
                "{path}.{name}: needs at least one operand"
            )));
        }
        list.filters
            .iter()
            .enumerate()
            .map(|(i, f)| compile(f, &format!("{path}.{name}.filters[{i}]"), depth + 1))
            .collect()
    };
    match &filter.kind {
        None => Err(invalid(format!("{path}: no operator set"))),
        Some(F::AndFilter(list)) => Ok(Filter::And(operands(list, "and_filter")?)),
        Some(F::OrFilter(list)) => Ok(Filter::Or(operands(list, "or_filter")?)),
        Some(F::NotFilter(inner)) => Ok(Filter::Not(Box::new(compile(
            inner,
            &format!("{path}.not_filter"),
            depth + 1,
        )?))),
        Some(F::MatchCondition(c)) => {
            let path = format!("{path}.match_condition");
            let key = key(&c.key, &path)?;
            let value = c.value.as_ref().map_or(Some(Scalar::Null), scalar);
            let value =
                value.ok_or_else(|| invalid(format!("{path}.value: a list cannot be matched")))?;
            check_scalar(&value, &format!("{path}.value"))?;
            Ok(Filter::Match { key, value })
        }
        Some(F::InCondition(c)) => {
            let path = format!("{path}.in_condition");
            let key = key(&c.key, &path)?;
            if c.values.is_empty() || c.values.len() > MAX_IN_VALUES {
                return Err(invalid(format!(
                    "{path}.values: needs 1 to {MAX_IN_VALUES} values, got {}",
                    c.values.len()
                )));
            }
            let values = c
                .values
                .iter()
                .enumerate()
                .map(|(i, v)| {
                    let value = scalar(v).ok_or_else(|| {
                        invalid(format!("{path}.values[{i}]: lists are not allowed"))
                    })?;
                    check_scalar(&value, &format!("{path}.values[{i}]"))?;
                    Ok(value)
                })
                .collect::<Result<_>>()?;
            Ok(Filter::In { key, values })
        }
        Some(F::RangeCondition(c)) => {
            let path = format!("{path}.range_condition");
            let key = key(&c.key, &path)?;
            let bounds = Bounds {
                gt: c.gt,
                gte: c.gte,
                lt: c.lt,
                lte: c.lte,
            };
            let all = [bounds.gt, bounds.gte, bounds.lt, bounds.lte];
            if all.iter().all(Option::is_none) {
                return Err(invalid(format!(
                    "{path}: set at least one of gt, gte, lt, lte"
                )));
            }
            if all.iter().flatten().any(|b| !b.is_finite()) {
                return Err(invalid(format!("{path}: bounds must be finite numbers")));
            }
            Ok(Filter::Range { key, bounds })
        }
    }
}

fn key(key: &str, path: &str) -> Result<String> {
    if key.is_empty() || key.len() > 128 {
        return Err(invalid(format!("{path}.key: must be 1 to 128 bytes")));
    }
    Ok(key.to_owned())
}

fn check_scalar(value: &Scalar, path: &str) -> Result<()> {
    match value {
        Scalar::Number(n) if !n.is_finite() => Err(invalid(format!("{path}: must be finite"))),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pb::filter::Kind as F;

    fn int(i: i64) -> pb::PayloadValue {
        pb::PayloadValue {
            kind: Some(Kind::IntValue(i)),
        }
    }
    fn text(s: &str) -> pb::PayloadValue {
        pb::PayloadValue {
            kind: Some(Kind::StringValue(s.into())),
        }
    }
    fn list(values: Vec<pb::PayloadValue>) -> pb::PayloadValue {
        pb::PayloadValue {
            kind: Some(Kind::ListValue(pb::PayloadList { values })),
        }
    }
    fn filter(kind: F) -> pb::Filter {
        pb::Filter { kind: Some(kind) }
    }
    fn matching(key: &str, value: pb::PayloadValue) -> pb::Filter {
        filter(F::MatchCondition(pb::MatchCondition {
            key: key.into(),
            value: Some(value),
        }))
    }

    #[test]
    fn match_in_range_and_boolean_combinations() {
        let payload: Payload = [
            ("team".to_string(), text("atlas")),
            ("year".to_string(), int(2024)),
            ("tags".to_string(), list(vec![text("billing"), text("faq")])),
        ]
        .into();
        let range = filter(F::RangeCondition(pb::RangeCondition {
            key: "year".into(),
            gte: Some(2020.0),
            lt: Some(2025.0),
            ..Default::default()
        }));
        let cases = [
            (matching("team", text("atlas")), true),
            (matching("team", text("orbit")), false),
            (matching("tags", text("faq")), true),
            (
                matching(
                    "year",
                    pb::PayloadValue {
                        kind: Some(Kind::DoubleValue(2024.0)),
                    },
                ),
                true,
            ),
            (matching("missing", pb::PayloadValue::default()), true),
            (range.clone(), true),
            (
                filter(F::InCondition(pb::InCondition {
                    key: "team".into(),
                    values: vec![text("orbit"), text("atlas")],
                })),
                true,
            ),
            (
                filter(F::AndFilter(pb::FilterList {
                    filters: vec![range.clone(), matching("team", text("orbit"))],
                })),
                false,
            ),
            (
                filter(F::OrFilter(pb::FilterList {
                    filters: vec![range.clone(), matching("team", text("orbit"))],
                })),
                true,
            ),
            (filter(F::NotFilter(Box::new(range))), false),
        ];
        for (i, (f, expected)) in cases.into_iter().enumerate() {
            let compiled = Filter::compile(&f, "filter").unwrap();
            assert_eq!(compiled.matches(&payload), expected, "case {i}: {f:?}");
        }
    }

    #[test]
    fn malformed_filters_name_the_field() {
        let bad = [
            (pb::Filter::default(), "filter: no operator set"),
            (matching("", int(1)), "filter.match_condition.key"),
            (
                filter(F::AndFilter(pb::FilterList {
                    filters: vec![pb::Filter::default()],
                })),
                "filter.and_filter.filters[0]: no operator set",
            ),
            (
                filter(F::RangeCondition(pb::RangeCondition {
                    key: "x".into(),
                    ..Default::default()
                })),
                "set at least one",
            ),
            (
                filter(F::RangeCondition(pb::RangeCondition {
                    key: "x".into(),
                    gt: Some(f64::NAN),
                    ..Default::default()
                })),
                "finite",
            ),
            (
                matching("x", list(vec![int(1)])),
                "a list cannot be matched",
            ),
            (
                filter(F::InCondition(pb::InCondition {
                    key: "x".into(),
                    values: vec![],
                })),
                "needs 1 to 1024 values",
            ),
        ];
        for (f, expected) in bad {
            let err = Filter::compile(&f, "filter").unwrap_err().to_string();
            assert!(err.contains(expected), "{err} should contain {expected}");
        }
    }
}
