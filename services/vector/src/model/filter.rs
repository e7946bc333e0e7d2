//! Payload filters as the domain sees them: a tree of conditions, evaluated against a candidate's
//! payload while a search walks its candidates. Requests are turned into filters (with every
//! malformed part refused and named) in `api/convert.rs`; an engine on SQL translates the same
//! tree to a `WHERE` clause.
//!
//! Semantics: a condition on a key the payload lacks does not match (except `match` with
//! null, which matches an absent or null key); when the payload value is a list, a condition
//! matches if any element does; integers and doubles compare numerically.

use super::payload::{Payload, PayloadValue};

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
    Match {
        /// The payload key.
        key: String,
        /// The value it must equal.
        value: Scalar,
    },
    /// The value at `key` equals one of `values`.
    In {
        /// The payload key.
        key: String,
        /// The values it may equal.
        values: Vec<Scalar>,
    },
    /// The numeric value at `key` lies within the bounds.
    Range {
        /// The payload key.
        key: String,
        /// The bounds.
        bounds: Bounds,
    },
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

/// Numeric bounds of a range condition: at least one, finite, and at most one lower and one
/// upper bound (built only by [`Bounds::new`]).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Bounds {
    gt: Option<f64>,
    gte: Option<f64>,
    lt: Option<f64>,
    lte: Option<f64>,
}

impl Bounds {
    /// Checked bounds; the error says what is wrong (the caller adds the field's path).
    pub fn new(
        gt: Option<f64>,
        gte: Option<f64>,
        lt: Option<f64>,
        lte: Option<f64>,
    ) -> Result<Self, &'static str> {
        let all = [gt, gte, lt, lte];
        if all.iter().all(Option::is_none) {
            return Err("set at least one of gt, gte, lt, lte");
        }
        if all.iter().flatten().any(|b| !b.is_finite()) {
            return Err("bounds must be finite numbers");
        }
        if gt.is_some() && gte.is_some() {
            return Err("set gt or gte, not both");
        }
        if lt.is_some() && lte.is_some() {
            return Err("set lt or lte, not both");
        }
        Ok(Self { gt, gte, lt, lte })
    }

    /// The lower bound and whether it is inclusive.
    pub fn lower(&self) -> Option<(f64, bool)> {
        self.gt.map(|b| (b, false)).or(self.gte.map(|b| (b, true)))
    }

    /// The upper bound and whether it is inclusive.
    pub fn upper(&self) -> Option<(f64, bool)> {
        self.lt.map(|b| (b, false)).or(self.lte.map(|b| (b, true)))
    }

    fn contains(&self, n: f64) -> bool {
        self.lower()
            .is_none_or(|(b, inclusive)| if inclusive { n >= b } else { n > b })
            && self
                .upper()
                .is_none_or(|(b, inclusive)| if inclusive { n <= b } else { n < b })
    }
}

impl Filter {
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

impl Scalar {
    /// The scalar form of a non-list value (`None` for lists).
    pub fn of(value: &PayloadValue) -> Option<Self> {
        Some(match value {
            PayloadValue::Null => Scalar::Null,
            PayloadValue::Bool(b) => Scalar::Bool(*b),
            PayloadValue::Int(i) => Scalar::Number(*i as f64),
            PayloadValue::Double(d) => Scalar::Number(*d),
            PayloadValue::Text(s) => Scalar::Text(s.clone()),
            PayloadValue::List(_) => return None,
        })
    }
}

/// Applies `test` to a value, or to each element of a list value (recursively).
fn any_scalar(value: &PayloadValue, test: &dyn Fn(&Scalar) -> bool) -> bool {
    match value {
        PayloadValue::List(values) => values.iter().any(|v| any_scalar(v, test)),
        _ => Scalar::of(value).is_some_and(|s| test(&s)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> PayloadValue {
        PayloadValue::Text(s.into())
    }

    fn matching(key: &str, value: Scalar) -> Filter {
        Filter::Match {
            key: key.into(),
            value,
        }
    }

    #[test]
    fn match_in_range_and_boolean_combinations() {
        let payload: Payload = [
            ("team".to_string(), text("atlas")),
            ("year".to_string(), PayloadValue::Int(2024)),
            (
                "tags".to_string(),
                PayloadValue::List(vec![text("billing"), text("faq")]),
            ),
        ]
        .into();
        let range = Filter::Range {
            key: "year".into(),
            bounds: Bounds::new(None, Some(2020.0), Some(2025.0), None).unwrap(),
        };
        let atlas = Scalar::Text("atlas".into());
        let orbit = Scalar::Text("orbit".into());
        let cases = [
            (matching("team", atlas.clone()), true),
            (matching("team", orbit.clone()), false),
            (matching("tags", Scalar::Text("faq".into())), true),
            (matching("year", Scalar::Number(2024.0)), true),
            (matching("missing", Scalar::Null), true),
            (range.clone(), true),
            (
                Filter::In {
                    key: "team".into(),
                    values: vec![orbit.clone(), atlas],
                },
                true,
            ),
            (
                Filter::And(vec![range.clone(), matching("team", orbit.clone())]),
                false,
            ),
            (
                Filter::Or(vec![range.clone(), matching("team", orbit)]),
                true,
            ),
            (Filter::Not(Box::new(range)), false),
        ];
        for (i, (f, expected)) in cases.into_iter().enumerate() {
            assert_eq!(f.matches(&payload), expected, "case {i}: {f:?}");
        }
    }

    #[test]
    fn bounds_refuse_what_the_contract_refuses() {
        assert!(Bounds::new(None, None, None, None).is_err());
        assert!(Bounds::new(Some(f64::NAN), None, None, None).is_err());
        assert_eq!(
            Bounds::new(Some(1.0), Some(2.0), None, None),
            Err("set gt or gte, not both")
        );
        assert_eq!(
            Bounds::new(None, None, Some(1.0), Some(2.0)),
            Err("set lt or lte, not both")
        );
        let b = Bounds::new(Some(1.0), None, None, Some(2.0)).unwrap();
        assert!(!b.contains(1.0) && b.contains(1.5) && b.contains(2.0) && !b.contains(2.1));
    }
}
