//! The OpenAPI 3 description of the chatbot's JSON API (`GET /openapi.json`). It is written
//! here by hand, next to the handlers it describes; the schemathesis suite in
//! `integration-tests/web/` checks the service against it.

use std::sync::LazyLock;

use serde_json::json;

use crate::chat::{MAX_MESSAGE_BYTES, MAX_SESSION_ID};

/// The document, serialised once.
pub static DOCUMENT: LazyLock<String> = LazyLock::new(|| document().to_string());

fn error_response(description: &str) -> serde_json::Value {
    json!({
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    })
}

fn document() -> serde_json::Value {
    let target = json!({"type": "string", "enum": ["graph", "vector", "relational"]});
    json!({
        "openapi": "3.0.3",
        "info": {
            "title": "chatmesh chatbot",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Ask the chatmesh chatbot a question over HTTP. The same turn as the \
                gRPC ChatService.Chat: the answer cites its sources, and a failing backend gives \
                a fallback answer (fallback = true, degraded says which backend and how), not an \
                error."
        },
        "paths": {
            "/v1/chat": {
                "post": {
                    "operationId": "chat",
                    "summary": "Answer one message in a session and record the turn.",
                    "requestBody": {
                        "required": true,
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ChatRequest"}}}
                    },
                    "responses": {
                        "200": {
                            "description": "The answer (possibly a fallback answer).",
                            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ChatResponse"}}}
                        },
                        "400": error_response("The body is not a valid chat request; the message names the field."),
                        "413": error_response("The body is larger than 64 KiB."),
                        "500": error_response("The chatbot failed."),
                        "503": error_response("The chatbot is shutting down or its session store is down."),
                        "504": error_response("The turn did not finish in time.")
                    }
                }
            }
        },
        "components": {
            "schemas": {
                "ChatRequest": {
                    "type": "object",
                    "required": ["session_id", "message"],
                    "properties": {
                        "session_id": {
                            "type": "string",
                            "minLength": 1,
                            "maxLength": MAX_SESSION_ID,
                            "pattern": "^[A-Za-z0-9._:-]{1,128}$",
                            "description": "The conversation; created on first use."
                        },
                        "message": {
                            "type": "string",
                            "minLength": 1,
                            "maxLength": MAX_MESSAGE_BYTES,
                            "description": "The user's message: 1-8192 bytes of UTF-8, not blank. \
                                A prefix such as [graph], [vector] or [relational] asks for that backend."
                        },
                        "hints": {"$ref": "#/components/schemas/RouteHints"}
                    }
                },
                "RouteHints": {
                    "type": "object",
                    "description": "Optional facts that steer routing (see chatmesh.router.v1.RouteHints).",
                    "properties": {
                        "target": target,
                        "cypher": {"type": "string", "description": "A read-only Cypher query for the graph."},
                        "order_id": {"type": "integer", "format": "int64", "minimum": 1},
                        "customer": {"type": "string"},
                        "collection": {"type": "string"},
                        "k": {"type": "integer", "format": "int32", "minimum": 1, "maximum": 1000},
                        "person_name": {"type": "string"}
                    }
                },
                "Source": {
                    "type": "object",
                    "required": ["kind", "id", "title", "snippet"],
                    "properties": {
                        "kind": {"type": "string", "enum": ["graph_node", "document", "order", "unspecified"]},
                        "id": {"type": "string", "description": "Node id, document id or order id."},
                        "title": {"type": "string"},
                        "snippet": {"type": "string"},
                        "score": {"type": "number", "description": "Similarity, for documents."}
                    }
                },
                "Degradation": {
                    "type": "object",
                    "required": ["code", "status", "message"],
                    "properties": {
                        "target": target,
                        "code": {"type": "integer", "description": "gRPC status code number."},
                        "status": {"type": "string", "description": "gRPC status code name."},
                        "message": {"type": "string"}
                    }
                },
                "Explanation": {
                    "type": "object",
                    "required": ["decision", "rule", "confidence", "reason", "entities"],
                    "properties": {
                        "decision": {"type": "string", "enum": ["hint", "rule", "fallback", "unspecified"]},
                        "rule": {"type": "string"},
                        "confidence": {"type": "number"},
                        "reason": {"type": "string"},
                        "entities": {"type": "object", "additionalProperties": {"type": "string"}}
                    }
                },
                "ChatResponse": {
                    "type": "object",
                    "required": ["answer", "sources", "fallback"],
                    "properties": {
                        "answer": {"type": "string"},
                        "sources": {"type": "array", "items": {"$ref": "#/components/schemas/Source"}},
                        "target": target,
                        "fallback": {"type": "boolean"},
                        "degraded": {"$ref": "#/components/schemas/Degradation"},
                        "explanation": {"$ref": "#/components/schemas/Explanation"}
                    }
                },
                "Error": {
                    "type": "object",
                    "required": ["error"],
                    "properties": {
                        "error": {
                            "type": "object",
                            "required": ["code", "message"],
                            "properties": {
                                "code": {"type": "string", "description": "gRPC status code name."},
                                "message": {"type": "string"}
                            }
                        }
                    }
                }
            }
        }
    })
}
