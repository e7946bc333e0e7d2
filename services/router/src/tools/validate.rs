//! Checks a call's arguments against the JSON Schema its tool publishes, with messages that name
//! the argument (``argument `k` must be at most 1000``) so a model can correct its call.
//!
//! The schema itself is derived from the tool's argument struct (see [`super::arguments`]), so
//! this does not define what is allowed, it only enforces it. It earns its place over a general
//! JSON Schema crate because the derived schemas use a small, portable subset and the messages
//! are part of the tools' contract (clients and tests read them): `type` (one name), `enum`,
//! `properties`, `required`, `additionalProperties` (a boolean or a schema), `items`, `minItems`,
//! `maxItems`, `minLength`, `maxLength`, `minimum` and `maximum`; `title`, `description` and
//! `default` only annotate. A unit test (`check_keywords`) refuses any other keyword in the
//! tools' schemas, so a tool cannot publish a constraint that is silently not enforced.

use serde_json::{Map, Value};

/// Why an arguments value is refused: where, and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.describe())]
pub(crate) struct ArgError {
    /// Where the offending value is, e.g. `k`, `statuses[1]`, `filter.team`; empty for the
    /// arguments object itself.
    path: String,
    /// What is wrong with it, e.g. "must be at most 1000".
    message: String,
}

impl ArgError {
    /// `message` about the value at `path`.
    pub(crate) fn new(path: &str, message: impl Into<String>) -> Self {
        Self {
            path: path.to_owned(),
            message: message.into(),
        }
    }

    fn describe(&self) -> String {
        if self.path.is_empty() {
            self.message.clone()
        } else {
            format!("argument `{}` {}", self.path, self.message)
        }
    }
}

/// The keywords [`validate`] enforces.
#[cfg(test)]
const ENFORCED: &[&str] = &[
    "type",
    "enum",
    "properties",
    "required",
    "additionalProperties",
    "items",
    "minItems",
    "maxItems",
    "minLength",
    "maxLength",
    "minimum",
    "maximum",
];

/// Keywords that only annotate.
#[cfg(test)]
const ANNOTATIONS: &[&str] = &["title", "description", "default"];

/// Checks that `schema` (and every schema nested in it) uses only keywords this validator
/// understands; the error names the first other keyword and where it is.
#[cfg(test)]
pub(crate) fn check_keywords(schema: &Value) -> Result<(), String> {
    check_keywords_at(schema, "#")
}

#[cfg(test)]
fn check_keywords_at(schema: &Value, at: &str) -> Result<(), String> {
    let Some(object) = schema.as_object() else {
        return Err(format!("{at}: a schema must be an object"));
    };
    for (keyword, value) in object {
        if !ENFORCED.contains(&keyword.as_str()) && !ANNOTATIONS.contains(&keyword.as_str()) {
            return Err(format!("{at}: unsupported keyword `{keyword}`"));
        }
        match keyword.as_str() {
            "properties" => {
                for (name, sub) in value.as_object().into_iter().flatten() {
                    check_keywords_at(sub, &format!("{at}/properties/{name}"))?;
                }
            }
            "items" => check_keywords_at(value, &format!("{at}/items"))?,
            "additionalProperties" if value.is_object() => {
                check_keywords_at(value, &format!("{at}/additionalProperties"))?;
            }
            _ => {}
        }
    }
    Ok(())
}

/// Checks `value` against `schema`; the error names the first offending argument.
pub(crate) fn validate(schema: &Value, value: &Value) -> Result<(), ArgError> {
    validate_at(schema, value, "")
}

fn validate_at(schema: &Value, value: &Value, path: &str) -> Result<(), ArgError> {
    let Some(schema) = schema.as_object() else {
        return Ok(());
    };
    if let Some(Value::String(name)) = schema.get("type")
        && !has_type(value, name)
    {
        return Err(ArgError::new(
            path,
            format!("must be {}, not {}", type_phrase(name), describe(value)),
        ));
    }
    if let Some(Value::Array(allowed)) = schema.get("enum")
        && !allowed.iter().any(|a| same_value(a, value))
    {
        let listed: Vec<String> = allowed.iter().map(Value::to_string).collect();
        return Err(ArgError::new(
            path,
            format!("must be one of {}", listed.join(", ")),
        ));
    }
    match value {
        Value::Object(object) => validate_object(schema, object, path),
        Value::Array(items) => validate_array(schema, items, path),
        Value::String(text) => validate_string(schema, text, path),
        Value::Number(_) => validate_number(schema, value, path),
        Value::Bool(_) | Value::Null => Ok(()),
    }
}

fn has_type(value: &Value, name: &str) -> bool {
    match name {
        "object" => value.is_object(),
        "array" => value.is_array(),
        "string" => value.is_string(),
        "boolean" => value.is_boolean(),
        "null" => value.is_null(),
        "number" => value.is_number(),
        "integer" => is_integer(value),
        _ => false,
    }
}

/// JSON Schema counts 1.0 as an integer; so do we (protobuf `Struct` numbers are all doubles).
pub(crate) fn is_integer(value: &Value) -> bool {
    match value {
        Value::Number(n) => {
            n.is_i64()
                || n.is_u64()
                || n.as_f64()
                    .is_some_and(|f| f.is_finite() && f.fract() == 0.0)
        }
        _ => false,
    }
}

fn type_phrase(name: &str) -> &str {
    match name {
        "object" => "an object",
        "array" => "an array",
        "string" => "a string",
        "boolean" => "a boolean",
        "null" => "null",
        "number" => "a number",
        "integer" => "an integer",
        other => other,
    }
}

/// What kind of JSON value `value` is, for messages: "a string", "an integer", ….
pub(crate) fn describe(value: &Value) -> &'static str {
    match value {
        Value::Object(_) => "an object",
        Value::Array(_) => "an array",
        Value::String(_) => "a string",
        Value::Bool(_) => "a boolean",
        Value::Null => "null",
        Value::Number(_) if is_integer(value) => "an integer",
        Value::Number(_) => "a number",
    }
}

fn same_value(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}

fn child_path(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_owned()
    } else {
        format!("{path}.{name}")
    }
}

fn validate_object(
    schema: &Map<String, Value>,
    object: &Map<String, Value>,
    path: &str,
) -> Result<(), ArgError> {
    let properties = schema.get("properties").and_then(Value::as_object);
    for name in schema
        .get("required")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
    {
        if !object.contains_key(name) {
            return Err(ArgError::new(&child_path(path, name), "is required"));
        }
    }
    for (name, value) in object {
        let child = child_path(path, name);
        match properties.and_then(|p| p.get(name)) {
            Some(sub) => validate_at(sub, value, &child)?,
            None => match schema.get("additionalProperties") {
                Some(Value::Bool(false)) => {
                    let known: Vec<&str> = properties
                        .map(|p| p.keys().map(String::as_str).collect())
                        .unwrap_or_default();
                    return Err(ArgError::new(
                        &child,
                        format!("is not a known argument (known: {})", known.join(", ")),
                    ));
                }
                Some(sub @ Value::Object(_)) => validate_at(sub, value, &child)?,
                _ => {}
            },
        }
    }
    Ok(())
}

fn validate_array(
    schema: &Map<String, Value>,
    items: &[Value],
    path: &str,
) -> Result<(), ArgError> {
    if let Some(min) = schema.get("minItems").and_then(Value::as_u64)
        && (items.len() as u64) < min
    {
        return Err(ArgError::new(
            path,
            format!("must have at least {min} items, not {}", items.len()),
        ));
    }
    if let Some(max) = schema.get("maxItems").and_then(Value::as_u64)
        && (items.len() as u64) > max
    {
        return Err(ArgError::new(
            path,
            format!("must have at most {max} items, not {}", items.len()),
        ));
    }
    if let Some(item_schema) = schema.get("items") {
        for (i, item) in items.iter().enumerate() {
            validate_at(item_schema, item, &format!("{path}[{i}]"))?;
        }
    }
    Ok(())
}

fn validate_string(schema: &Map<String, Value>, text: &str, path: &str) -> Result<(), ArgError> {
    let length = text.chars().count() as u64;
    if let Some(min) = schema.get("minLength").and_then(Value::as_u64)
        && length < min
    {
        let message = if min == 1 {
            "must not be empty".to_owned()
        } else {
            format!("must be at least {min} characters long")
        };
        return Err(ArgError::new(path, message));
    }
    if let Some(max) = schema.get("maxLength").and_then(Value::as_u64)
        && length > max
    {
        return Err(ArgError::new(
            path,
            format!("must be at most {max} characters long, not {length}"),
        ));
    }
    Ok(())
}

fn validate_number(schema: &Map<String, Value>, value: &Value, path: &str) -> Result<(), ArgError> {
    let Some(number) = value.as_f64() else {
        return Ok(());
    };
    if let Some(min) = schema.get("minimum")
        && let Some(bound) = min.as_f64()
        && number < bound
    {
        return Err(ArgError::new(path, format!("must be at least {min}")));
    }
    if let Some(max) = schema.get("maximum")
        && let Some(bound) = max.as_f64()
        && number > bound
    {
        return Err(ArgError::new(path, format!("must be at most {max}")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schema() -> Value {
        json!({
            "type": "object",
            "properties": {
                "id": {"type": "integer", "minimum": 1},
                "name": {"type": "string", "minLength": 1, "maxLength": 5},
                "mode": {"type": "string", "enum": ["a", "b"]},
                "tags": {"type": "array", "items": {"type": "string"}, "minItems": 1, "maxItems": 2},
                "filter": {"type": "object", "additionalProperties": {"type": "string"}},
                "text": {"type": "string"},
                "vector": {"type": "array", "items": {"type": "number"}}
            },
            "required": ["id"],
            "additionalProperties": false
        })
    }

    fn check(value: Value) -> Result<(), String> {
        validate(&schema(), &value).map_err(|e| e.to_string())
    }

    #[test]
    fn accepts_valid_arguments() {
        assert_eq!(check(json!({"id": 1, "text": "x"})), Ok(()));
        assert_eq!(
            check(
                json!({"id": 2.0, "vector": [0.5, 1], "mode": "b", "tags": ["t"],
                "filter": {"team": "Search"}})
            ),
            Ok(())
        );
    }

    #[test]
    fn rejects_each_violation_naming_the_argument() {
        let cases = [
            (json!({"text": "x"}), "argument `id` is required"),
            (
                json!({"id": "7"}),
                "argument `id` must be an integer, not a string",
            ),
            (
                json!({"id": 1.5}),
                "argument `id` must be an integer, not a number",
            ),
            (json!({"id": 0}), "argument `id` must be at least 1"),
            (
                json!({"id": 1, "name": ""}),
                "argument `name` must not be empty",
            ),
            (
                json!({"id": 1, "name": "abcdef"}),
                "argument `name` must be at most 5 characters long, not 6",
            ),
            (
                json!({"id": 1, "mode": "c"}),
                "argument `mode` must be one of \"a\", \"b\"",
            ),
            (
                json!({"id": 1, "tags": []}),
                "argument `tags` must have at least 1 items, not 0",
            ),
            (
                json!({"id": 1, "tags": ["a", 2]}),
                "argument `tags[1]` must be a string, not an integer",
            ),
            (
                json!({"id": 1, "filter": {"team": [1]}}),
                "argument `filter.team` must be a string, not an array",
            ),
            (
                json!({"id": 1, "colour": "red"}),
                "argument `colour` is not a known argument (known: filter, id, mode, name, tags, text, vector)",
            ),
            (json!([1]), "must be an object, not an array"),
        ];
        for (value, expected) in cases {
            assert_eq!(check(value.clone()), Err(expected.to_owned()), "{value}");
        }
    }

    #[test]
    fn keyword_check_refuses_unenforced_constraints() {
        assert_eq!(check_keywords(&schema()), Ok(()));
        let bad =
            json!({"type": "object", "properties": {"x": {"type": "string", "pattern": "^a"}}});
        assert_eq!(
            check_keywords(&bad),
            Err("#/properties/x: unsupported keyword `pattern`".to_owned())
        );
    }
}
