//! Objects: what a collection holds (an id, a vector, a payload and optionally the text the
//! vector was embedded from), the rules on ids, and what writes report.

use super::payload::{MAX_TEXT_BYTES, Payload, check_payload};
use crate::error::{Result, invalid};

/// A stored object (its vector final: given, or embedded from `text`).
#[derive(Debug, Clone, PartialEq)]
pub struct Object {
    /// Client-chosen id.
    pub id: String,
    /// The vector.
    pub vector: Vec<f32>,
    /// Metadata.
    pub payload: Payload,
    /// Source text, if any.
    pub text: Option<String>,
}

/// What an upsert did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UpsertCounts {
    /// Objects that did not exist before.
    pub created: u64,
    /// Objects that replaced an existing one.
    pub replaced: u64,
}

/// Longest object id, in bytes.
pub(crate) const MAX_ID_BYTES: usize = 256;

/// Checks an object id: 1 to 256 bytes, no control characters.
pub(crate) fn check_id(id: &str, field: &str) -> Result<()> {
    if id.is_empty() || id.len() > MAX_ID_BYTES {
        return Err(invalid(format!(
            "{field}: must be 1 to {MAX_ID_BYTES} bytes"
        )));
    }
    if id.chars().any(char::is_control) {
        return Err(invalid(format!(
            "{field}: must not contain control characters"
        )));
    }
    Ok(())
}

/// Checks what can be checked of a batch without the collection: ids (and their uniqueness in
/// the batch), text sizes and payloads. `field(i)` names the i-th object in errors.
pub(crate) fn check_batch(objects: &[Object]) -> Result<()> {
    let mut seen = std::collections::HashSet::new();
    for (i, object) in objects.iter().enumerate() {
        let field = format!("objects[{i}]");
        check_id(&object.id, &format!("{field}.id"))?;
        if !seen.insert(object.id.as_str()) {
            return Err(invalid(format!(
                "{field}.id: '{}' appears twice in the request",
                object.id
            )));
        }
        let field = format!("objects[{i}] (id '{}')", object.id);
        if let Some(text) = &object.text
            && text.len() > MAX_TEXT_BYTES
        {
            return Err(invalid(format!(
                "{field}.text: longer than {MAX_TEXT_BYTES} bytes"
            )));
        }
        check_payload(&object.payload, &format!("{field}.payload"))?;
        if object.text.is_none() && object.vector.is_empty() {
            return Err(invalid(format!("{field}: needs a vector or a text")));
        }
    }
    Ok(())
}

/// How the i-th object of a batch is named in errors about its vector or text.
pub(crate) fn object_field(i: usize, object: &Object) -> String {
    format!("objects[{i}] (id '{}')", object.id)
}
