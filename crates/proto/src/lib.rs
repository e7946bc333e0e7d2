//! The chatmesh wire contracts, generated at build time from `proto/` (see `build.rs`).
//!
//! Generated code lives here and nowhere else: services depend on this crate for their message
//! types, clients and server traits, and each service hands [`FILE_DESCRIPTOR_SET`] to the
//! runtime (in its `ServiceInfo`) for server reflection, so that `grpcurl` and other tools work
//! without `.proto` files.
//!
//! Every generated client and server encodes with [`codec::SmallBufferCodec`] (tonic's prost
//! codec with 1 KiB per-call buffers instead of 8 KiB). A few answers are written by their
//! service in wire form ([`wire::Encoded`]): the generated server of the graph service returns
//! ListNeighbors' answer that way, while its client reads the ordinary message.
//!
//! Use the short aliases ([`chat`], [`router`], [`graph`], [`vector`], [`relational`]); the
//! generated modules sit under [`generated`], nested as the protobuf packages are
//! (`chatmesh.graph.v1` is `generated::graph::v1`).

#![allow(clippy::all, missing_docs)]

/// The generated code of the `chatmesh.*.v1` protobuf packages, one module per package (the
/// common `chatmesh.` prefix left out). Generated code decides its own visibility and the length
/// of its functions (tonic's server dispatch is one long `match` per service).
#[allow(unreachable_pub, clippy::too_many_lines)]
pub mod generated {
    pub mod chat {
        pub mod v1 {
            tonic::include_proto!("chatmesh.chat.v1");
        }
    }
    pub mod router {
        pub mod v1 {
            tonic::include_proto!("chatmesh.router.v1");
        }
    }
    pub mod graph {
        pub mod v1 {
            tonic::include_proto!("chatmesh.graph.v1");
            // `graph_service_server`, whose ListNeighbors answers `crate::wire::Encoded`.
            include!(concat!(
                env!("OUT_DIR"),
                "/wire_servers/chatmesh.graph.v1.rs"
            ));
        }
    }
    pub mod vector {
        pub mod v1 {
            tonic::include_proto!("chatmesh.vector.v1");
        }
    }
    pub mod relational {
        pub mod v1 {
            tonic::include_proto!("chatmesh.relational.v1");
        }
    }
}

pub mod codec;
pub mod json;
pub mod wire;

pub use generated::chat::v1 as chat;
pub use generated::graph::v1 as graph;
pub use generated::relational::v1 as relational;
pub use generated::router::v1 as router;
pub use generated::vector::v1 as vector;

/// The encoded `google.protobuf.FileDescriptorSet` of every chatmesh `.proto` file.
pub const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/chatmesh_descriptor.bin"));
