//! The chatmesh wire contracts, generated at build time from `proto/` (see `build.rs`).
//!
//! Generated code lives here and nowhere else: services depend on this crate for their message
//! types, clients and server traits, and the runtime registers [`FILE_DESCRIPTOR_SET`] with
//! server reflection so that `grpcurl` and other tools work without `.proto` files.

#![allow(clippy::all, missing_docs)]

/// `chatmesh.*.v1` packages, one module per protobuf package.
pub mod chatmesh {
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

pub mod json;

pub use chatmesh::chat::v1 as chat;
pub use chatmesh::graph::v1 as graph;
pub use chatmesh::relational::v1 as relational;
pub use chatmesh::router::v1 as router;
pub use chatmesh::vector::v1 as vector;

/// The encoded `google.protobuf.FileDescriptorSet` of every chatmesh `.proto` file.
pub const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/chatmesh_descriptor.bin"));
