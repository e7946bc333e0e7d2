//! A tool's arguments are one Rust struct: `schemars` derives the JSON Schema the tool publishes,
//! `serde` the typing, and [`ToolArgs::check`] the few rules a portable schema cannot state. So
//! what a client is told and what the router enforces come from the same place.
//!
//! The published schema is made portable here ([`input_schema`]): function-calling APIs (OpenAI,
//! Gemini) refuse `type` lists and top-level `oneOf`/`anyOf`/`allOf`, so `Option<T>` publishes
//! as plain `T` (not required), `format` hints and `$schema` are dropped, and everything is
//! inlined (no `$ref`). A call is then read in four steps ([`parse`]): whole doubles become
//! integers (protobuf `Struct` numbers are all doubles), the tool's lenient inputs are
//! normalised ([`ToolArgs::lenient`]), the arguments are validated against the published schema
//! (messages name the argument), and serde builds the struct.

use schemars::JsonSchema;
use schemars::generate::SchemaSettings;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::validate::{self, ArgError};

/// The arguments of one tool.
pub(crate) trait ToolArgs: DeserializeOwned + JsonSchema {
    /// Rewrites inputs the schema does not advertise but the tool still accepts (older clients),
    /// before validation. Most tools accept exactly their schema.
    fn lenient(_arguments: &mut Map<String, Value>) -> Result<(), ArgError> {
        Ok(())
    }

    /// Rules across arguments that a portable schema cannot say (e.g. "exactly one of").
    fn check(&self) -> Result<(), ArgError> {
        Ok(())
    }
}

/// The portable JSON Schema of `T`, with `title`.
pub(crate) fn input_schema<T: JsonSchema>(title: &str) -> Map<String, Value> {
    let mut settings = SchemaSettings::draft2020_12();
    settings.inline_subschemas = true;
    settings.meta_schema = None;
    let schema = settings.into_generator().into_root_schema_for::<T>();
    let mut schema = schema.to_value();
    make_portable(&mut schema);
    let Value::Object(mut object) = schema else {
        return Map::new();
    };
    // The tool's description says what it does; the struct's doc comment is for readers of the
    // code.
    object.remove("description");
    object.insert("title".into(), Value::String(title.to_owned()));
    object
}

/// Drops what function-calling APIs refuse or ignore: `null` in `type` lists (an optional
/// argument is simply not required), `default: null`, `format`, `$schema`, `$defs`.
fn make_portable(schema: &mut Value) {
    let Value::Object(object) = schema else {
        return;
    };
    object.remove("format");
    object.remove("$schema");
    object.remove("$defs");
    if object.get("default") == Some(&Value::Null) {
        object.remove("default");
    }
    if let Some(Value::Array(types)) = object.get("type") {
        let types: Vec<Value> = types.iter().filter(|t| *t != "null").cloned().collect();
        let single = match types.as_slice() {
            [one] => one.clone(),
            _ => Value::Array(types),
        };
        object.insert("type".into(), single);
    }
    if let Some(Value::String(text)) = object.get_mut("description") {
        // Doc comments arrive one source line per line: join them back into sentences.
        *text = text
            .split('\n')
            .map(str::trim)
            .collect::<Vec<_>>()
            .join(" ");
    }
    if let Some(Value::Array(values)) = object.get_mut("enum") {
        values.retain(|v| !v.is_null());
    }
    for branches in ["anyOf", "oneOf"] {
        if let Some(Value::Array(list)) = object.get(branches) {
            let rest: Vec<Value> = list
                .iter()
                .filter(|b| b.get("type").is_none_or(|t| t != "null"))
                .cloned()
                .collect();
            if let [Value::Object(only)] = rest.as_slice() {
                let only = only.clone();
                object.remove(branches);
                for (k, v) in only {
                    object.entry(k).or_insert(v);
                }
            }
        }
    }
    for value in object.values_mut() {
        match value {
            Value::Object(_) => make_portable(value),
            Value::Array(items) => items.iter_mut().for_each(make_portable),
            _ => {}
        }
    }
}

/// Reads the arguments of a tool whose published schema is `schema`.
pub(crate) fn parse<T: ToolArgs>(
    schema: &Value,
    arguments: &Map<String, Value>,
) -> Result<T, ArgError> {
    let mut arguments = arguments.clone();
    arguments.values_mut().for_each(whole_numbers);
    T::lenient(&mut arguments)?;
    let value = Value::Object(arguments);
    validate::validate(schema, &value)?;
    let args: T = serde_json::from_value(value).map_err(|e| ArgError::new("", e.to_string()))?;
    args.check()?;
    Ok(args)
}

/// Whole doubles as integers (`5.0` → `5`), so integer arguments read as integers.
fn whole_numbers(value: &mut Value) {
    match value {
        Value::Number(n) if !n.is_i64() && !n.is_u64() => {
            if let Some(f) = n.as_f64()
                && f.fract() == 0.0
                && f.abs() < 9.2e18
            {
                *value = Value::from(f as i64);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(whole_numbers),
        Value::Object(object) => object.values_mut().for_each(whole_numbers),
        _ => {}
    }
}

/// `{"type": "object"}`: a free-form map whose values the tool checks itself (schemars would
/// say `additionalProperties: true`, which adds nothing).
pub(crate) fn free_object(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({"type": "object"})
}
