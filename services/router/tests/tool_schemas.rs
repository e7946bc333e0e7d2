//! The tools as an MCP client sees them must be portable to function-calling APIs (OpenAI,
//! Gemini), which accept only a subset of JSON Schema: this checks every tool's input schema
//! against a strict subset (no combinators, one `type` per schema, no references, a closed
//! object at the root), and that every tool has a title and an output schema for its structured
//! result. It also pins the refusal of a writing `graph_query`: the tool is read-only, and says
//! so instead of advising an access mode a tool caller cannot send.

mod tools_support;

use std::sync::Arc;

use chatmesh_router::internals::{Classifier, McpServer, Rules, ToolRegistry};
use rmcp::model::{CallToolRequestParams, Tool};
use rmcp::{RoleClient, ServiceExt, service::RunningService};
use serde_json::{Map, Value, json};
use tools_support::Fake;

async fn connect() -> RunningService<RoleClient, ()> {
    let registry = ToolRegistry::new(Fake::default().backends())
        .with_router(Arc::new(Classifier::new(Rules::built_in(), None)));
    let (client_io, server_io) = tokio::io::duplex(256 * 1024);
    tokio::spawn(async move {
        let running = McpServer::new(Arc::new(registry))
            .serve(server_io)
            .await
            .expect("server initializes");
        let _ = running.waiting().await;
    });
    ().serve(client_io).await.expect("client initializes")
}

/// The keywords the strict subset allows; anything else is refused by at least one
/// function-calling API or silently dropped by it.
const ALLOWED: &[&str] = &[
    "type",
    "title",
    "description",
    "properties",
    "required",
    "additionalProperties",
    "items",
    "enum",
    "default",
    "minimum",
    "maximum",
    "minLength",
    "maxLength",
    "minItems",
    "maxItems",
];

const TYPES: &[&str] = &["object", "array", "string", "integer", "number", "boolean"];

/// Checks one schema (and those nested in it) against the strict subset; `at` says where.
fn check_strict(schema: &Value, at: &str, problems: &mut Vec<String>) {
    let Some(object) = schema.as_object() else {
        problems.push(format!("{at}: a schema must be an object, not {schema}"));
        return;
    };
    for keyword in object.keys() {
        if !ALLOWED.contains(&keyword.as_str()) {
            problems.push(format!("{at}: keyword `{keyword}` is outside the subset"));
        }
    }
    let kind = match object.get("type") {
        Some(Value::String(kind)) if TYPES.contains(&kind.as_str()) => kind.as_str(),
        Some(other) => {
            problems.push(format!("{at}: `type` must be one type name, not {other}"));
            return;
        }
        None => {
            problems.push(format!("{at}: no `type`"));
            return;
        }
    };
    if let Some(Value::Array(values)) = object.get("enum") {
        let fits = values.iter().all(|v| match kind {
            "string" => v.is_string(),
            "integer" => v.is_i64(),
            "number" => v.is_number(),
            _ => false,
        });
        if !fits || values.is_empty() {
            problems.push(format!(
                "{at}: `enum` values must be non-empty and of type {kind}"
            ));
        }
    }
    match kind {
        "object" => check_object(object, at, problems),
        "array" => match object.get("items") {
            Some(items) => check_strict(items, &format!("{at}/items"), problems),
            None => problems.push(format!("{at}: an array needs `items`")),
        },
        _ => {}
    }
}

fn check_object(object: &Map<String, Value>, at: &str, problems: &mut Vec<String>) {
    let properties = object.get("properties").and_then(Value::as_object);
    for (name, property) in properties.into_iter().flatten() {
        if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            problems.push(format!("{at}: property name {name:?}"));
        }
        check_strict(property, &format!("{at}/properties/{name}"), problems);
    }
    for name in object
        .get("required")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let known = name
            .as_str()
            .is_some_and(|n| properties.is_some_and(|p| p.contains_key(n)));
        if !known {
            problems.push(format!("{at}: required {name} is not a property"));
        }
    }
    match object.get("additionalProperties") {
        None | Some(Value::Bool(_)) => {}
        Some(schema) => check_strict(schema, &format!("{at}/additionalProperties"), problems),
    }
}

/// Every problem of one tool as a client sees it.
fn tool_problems(tool: &Tool) -> Vec<String> {
    let mut problems = Vec::new();
    let schema = Value::Object((*tool.input_schema).clone());
    check_strict(&schema, "#", &mut problems);
    if schema.get("properties").is_none() {
        problems.push("#: the root needs `properties`".into());
    }
    if schema["additionalProperties"] != false {
        problems.push("#: the root must close `additionalProperties`".into());
    }
    if tool.title.as_deref().is_none_or(str::is_empty) {
        problems.push("no title".into());
    }
    if schema.get("title") != tool.title.as_ref().map(|t| json!(t)).as_ref() {
        problems.push("the input schema's title differs from the tool's".into());
    }
    match &tool.output_schema {
        Some(output) if output.get("type") == Some(&json!("object")) => {}
        _ => problems.push("no output schema with `type: object`".into()),
    }
    problems
}

#[tokio::test]
async fn every_tool_is_portable_to_function_calling_apis() {
    let client = connect().await;
    let tools = client.list_all_tools().await.unwrap();
    assert_eq!(tools.len(), 7);
    let mut report = Vec::new();
    for tool in &tools {
        for problem in tool_problems(tool) {
            report.push(format!("{}: {problem}", tool.name));
        }
    }
    assert!(report.is_empty(), "{report:#?}");
    client.cancel().await.unwrap();
}

#[test]
fn the_checker_refuses_what_function_calling_apis_refuse() {
    let refused = [
        json!({"type": "object", "properties": {}, "oneOf": [{"required": ["a"]}]}),
        json!({"type": "object", "properties": {"n": {"type": ["integer", "string"]}}}),
        json!({"type": "object", "properties": {"n": {"$ref": "#/$defs/N"}}}),
        json!({"type": "object", "properties": {"n": {"anyOf": [{"type": "string"}]}}}),
        json!({"type": "object", "properties": {"n": {"type": "array"}}}),
        json!({"type": "object", "properties": {}, "required": ["ghost"]}),
    ];
    for schema in refused {
        let mut problems = Vec::new();
        check_strict(&schema, "#", &mut problems);
        assert!(!problems.is_empty(), "{schema}");
    }
}

#[tokio::test]
async fn graph_query_says_it_is_read_only_when_refusing_a_write() {
    let client = connect().await;
    let mut params = CallToolRequestParams::new("graph_query");
    params.arguments = json!({"cypher": "CREATE (n)"}).as_object().cloned();
    let result = client.call_tool(params).await.unwrap();
    assert_eq!(result.is_error, Some(true));
    let text = &result.content[0].as_text().unwrap().text;
    assert!(text.contains("INVALID_ARGUMENT"), "{text}");
    assert!(text.contains("graph_query is read-only"), "{text}");
    assert!(!text.contains("ACCESS_MODE_WRITE"), "{text}");
    client.cancel().await.unwrap();
}

#[tokio::test]
#[ignore = "prints the published tools, for reading"]
async fn print_the_tools() {
    let client = connect().await;
    for tool in client.list_all_tools().await.unwrap() {
        let mut tool = serde_json::to_value(&tool).unwrap();
        tool["outputSchema"] = json!("…");
        println!("{}", serde_json::to_string_pretty(&tool).unwrap());
    }
    client.cancel().await.unwrap();
}
