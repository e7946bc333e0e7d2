//! Generates the test-only `chatmesh.testing.v1` service (a controllable slow RPC), used to
//! observe deadlines, message limits and draining through the shared runtime.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo:rerun-if-changed=proto");
    let descriptors = protox::compile(["chatmesh/testing/v1/testing.proto"], ["proto"])?;
    tonic_prost_build::configure().compile_fds(descriptors)?;
    Ok(())
}
