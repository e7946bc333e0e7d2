//! Compiles every `.proto` under the workspace's `proto/chatmesh/` with protox (pure Rust, no
//! system protoc), writes the encoded file descriptor set for server reflection, and generates
//! the prost messages and tonic clients/servers from that same descriptor set, in two runs: the
//! first makes every message, client and server but the servers of the packages in
//! [`WIRE_ANSWERS`]; the second makes those servers alone, with the answers listed there as
//! `crate::wire::Encoded<M>` (every other type is the first run's, through `extern_path`).

use std::path::{Path, PathBuf};

use prost::Message;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let manifest_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?);
    let proto_root = manifest_dir.join("../../proto").canonicalize()?;
    println!("cargo:rerun-if-changed={}", proto_root.display());

    let mut files = Vec::new();
    collect_protos(&proto_root, &proto_root.join("chatmesh"), &mut files)?;
    files.sort();

    let descriptors = protox::compile(&files, [&proto_root])?;
    let out_dir = PathBuf::from(std::env::var("OUT_DIR")?);
    std::fs::write(
        out_dir.join("chatmesh_descriptor.bin"),
        descriptors.encode_to_vec(),
    )?;

    // Every message, client and server, except the servers of WIRE_ANSWERS' packages, which
    // the second run makes: their server modules get `#[cfg(any())]`, which is never true.
    let mut first = tonic_prost_build::configure();
    for package in wire_answer_packages() {
        first = first.server_mod_attribute(package, "#[cfg(any())]");
    }
    common(first).compile_fds(descriptors.clone())?;

    // The servers of WIRE_ANSWERS' packages, which answer those messages as
    // `crate::wire::Encoded<M>` (src/wire.rs says why). Every message is the first run's; only
    // those packages' services are left in.
    let wire_dir = out_dir.join("wire_servers");
    std::fs::create_dir_all(&wire_dir)?;
    let mut second = tonic_prost_build::configure()
        .build_client(false)
        .out_dir(&wire_dir)
        .extern_path(".chatmesh", "crate::generated");
    for (_, message) in WIRE_ANSWERS {
        let rust = message.trim_start_matches(".chatmesh.").replace('.', "::");
        second = second.extern_path(
            message,
            format!("crate::wire::Encoded<crate::generated::{rust}>"),
        );
    }
    let mut servers = descriptors;
    let kept = wire_answer_packages();
    for file in &mut servers.file {
        if !kept.contains(&file.package()) {
            file.service.clear();
        }
    }
    common(second).compile_fds(servers)?;
    Ok(())
}

/// Answers that their service writes in wire form itself: the package whose servers send it,
/// and the message.
const WIRE_ANSWERS: &[(&str, &str)] = &[(
    "chatmesh.graph.v1",
    ".chatmesh.graph.v1.ListNeighborsResponse",
)];

fn wire_answer_packages() -> Vec<&'static str> {
    let mut packages: Vec<&str> = WIRE_ANSWERS.iter().map(|(p, _)| *p).collect();
    packages.sort_unstable();
    packages.dedup();
    packages
}

/// What both runs share.
fn common(builder: tonic_prost_build::Builder) -> tonic_prost_build::Builder {
    builder
        // Until a service's own issue lands, an RPC it does not implement answers UNIMPLEMENTED.
        .generate_default_stubs(true)
        // tonic-prost's codec with smaller per-call buffers (src/codec.rs says why).
        .codec_path("crate::codec::SmallBufferCodec")
}

/// Every `.proto` file below `dir`, as a path relative to `root` (the import root).
fn collect_protos(root: &Path, dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect_protos(root, &path, out)?;
        } else if path.extension().is_some_and(|ext| ext == "proto") {
            out.push(path.strip_prefix(root).expect("below root").to_path_buf());
        }
    }
    Ok(())
}
