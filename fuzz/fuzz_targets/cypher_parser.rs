//! Fuzzes the Cypher parser (lexer, parser, scope checks) with arbitrary text: it must answer
//! every input with a statement or an error, never a panic, a stack overflow or a hang.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = chatmesh_graph::internals::parse(text);
    }
});
