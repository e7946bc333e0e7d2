//! Reading a tool's arguments after they passed its schema: typed getters with defaults, so the
//! tools build their backend requests without re-checking what the schema already checked.
//! A getter that finds a value of the wrong type (only possible if a tool's code and its schema
//! disagree) reports it as bad arguments rather than panicking.

use serde_json::{Map, Value};

use super::ToolError;
use super::schema::is_integer;

/// The arguments object of one call to one tool.
#[derive(Debug, Clone, Copy)]
pub struct Args<'a> {
    tool: &'a str,
    values: &'a Map<String, Value>,
}

impl<'a> Args<'a> {
    /// Wraps `values`, the arguments of `tool`.
    pub fn new(tool: &'a str, values: &'a Map<String, Value>) -> Self {
        Self { tool, values }
    }

    /// The raw value of an argument, if given (null counts as not given).
    pub fn get(&self, name: &str) -> Option<&'a Value> {
        self.values.get(name).filter(|v| !v.is_null())
    }

    /// An error naming `name` as badly typed.
    pub fn invalid(&self, name: &str, reason: &str) -> ToolError {
        ToolError::InvalidArguments {
            tool: self.tool.to_owned(),
            reason: format!("argument `{name}` {reason}"),
        }
    }

    /// A string argument.
    pub fn string(&self, name: &str) -> Result<Option<&'a str>, ToolError> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(self.invalid(name, "must be a string")),
        }
    }

    /// A required string argument.
    pub fn required_string(&self, name: &str) -> Result<&'a str, ToolError> {
        self.string(name)?
            .ok_or_else(|| self.invalid(name, "is required"))
    }

    /// An integer argument (whole doubles such as `5.0` count).
    pub fn integer(&self, name: &str) -> Result<Option<i64>, ToolError> {
        match self.get(name) {
            None => Ok(None),
            Some(v) if is_integer(v) => Ok(v.as_i64().or_else(|| v.as_f64().map(|f| f as i64))),
            Some(_) => Err(self.invalid(name, "must be an integer")),
        }
    }

    /// An integer argument that fits an `i32` (the schema's bounds make sure of it).
    pub fn int32(&self, name: &str) -> Result<Option<i32>, ToolError> {
        self.integer(name)?
            .map(|n| i32::try_from(n).map_err(|_| self.invalid(name, "is out of range")))
            .transpose()
    }

    /// A list of strings.
    pub fn strings(&self, name: &str) -> Result<Vec<String>, ToolError> {
        match self.get(name) {
            None => Ok(Vec::new()),
            Some(Value::Array(items)) => items
                .iter()
                .map(|item| {
                    item.as_str()
                        .map(str::to_owned)
                        .ok_or_else(|| self.invalid(name, "must be a list of strings"))
                })
                .collect(),
            Some(_) => Err(self.invalid(name, "must be a list of strings")),
        }
    }

    /// An object argument.
    pub fn object(&self, name: &str) -> Result<Option<&'a Map<String, Value>>, ToolError> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Object(object)) => Ok(Some(object)),
            Some(_) => Err(self.invalid(name, "must be an object")),
        }
    }
}
