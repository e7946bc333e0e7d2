//! The snapshot file, `snapshot.bin`: every node and relationship with its id, and the id
//! counters, as checksummed [`records`](super::records) written to a temporary file, fsync'd
//! and renamed (by [`chatmesh_durable`]); and loading it back into a [`GraphState`], checking
//! that it is complete.

use std::path::Path;

use chatmesh_durable::{SnapshotWriter, read_snapshot};

use super::records::{
    SnapshotEnd, SnapshotHeader, SnapshotPart, SnapshotRecord, chunk_nodes, chunk_relationships,
    node_chunk, relationship_chunk,
};
use crate::engine::{GraphState, Mutation};
use crate::error::{GraphError, Result};

const SNAPSHOT_FILE: &str = "snapshot.bin";
const ENTITIES_PER_CHUNK: usize = 1000;

/// Writes the snapshot of `state`, which includes the log up to `lsn`.
pub(super) fn write(dir: &Path, state: &GraphState, lsn: u64) -> Result<()> {
    let mut out = SnapshotWriter::create(&dir.join(SNAPSHOT_FILE))?;
    let mut record = |part: SnapshotPart| out.write(&SnapshotRecord { part: Some(part) });
    let (next_node_id, next_relationship_id) = state.next_ids();
    record(SnapshotPart::Header(SnapshotHeader {
        lsn,
        next_node_id,
        next_relationship_id,
    }))?;
    let nodes: Vec<_> = state.nodes().collect();
    for chunk in nodes.chunks(ENTITIES_PER_CHUNK) {
        record(SnapshotPart::Nodes(node_chunk(chunk)))?;
    }
    let relationships: Vec<_> = state.relationships().collect();
    for chunk in relationships.chunks(ENTITIES_PER_CHUNK) {
        record(SnapshotPart::Relationships(relationship_chunk(chunk)))?;
    }
    record(SnapshotPart::End(SnapshotEnd {
        nodes: nodes.len() as u64,
        relationships: relationships.len() as u64,
    }))?;
    out.commit()?;
    tracing::info!(
        lsn,
        nodes = nodes.len(),
        relationships = relationships.len(),
        "snapshot written"
    );
    Ok(())
}

/// Reads `snapshot.bin`: its sequence number and the graph it holds (empty when there is none).
pub(super) fn load(dir: &Path) -> Result<(u64, GraphState)> {
    let path = dir.join(SNAPSHOT_FILE);
    let Some(records) = read_snapshot::<SnapshotRecord>(&path)? else {
        return Ok((0, GraphState::new()));
    };
    let corrupt = |why: &str| GraphError::Corrupt(format!("{}: {why}", path.display()));
    let mut parts = records
        .into_iter()
        .map(|record| record.part.ok_or_else(|| corrupt("empty record")));
    let Some(Ok(SnapshotPart::Header(header))) = parts.next() else {
        return Err(corrupt("missing header"));
    };
    let mut state = GraphState::new();
    loop {
        match parts.next().transpose()? {
            Some(SnapshotPart::Nodes(chunk)) => {
                for node in chunk_nodes(chunk).map_err(|why| corrupt(&why))? {
                    state.apply(Mutation::create_node(node))?;
                }
            }
            Some(SnapshotPart::Relationships(chunk)) => {
                for relationship in chunk_relationships(chunk).map_err(|why| corrupt(&why))? {
                    state
                        .apply(Mutation::create_relationship(relationship))
                        .map_err(|e| corrupt(&e.to_string()))?;
                }
            }
            Some(SnapshotPart::End(totals)) => {
                if totals.nodes as usize != state.node_count()
                    || totals.relationships as usize != state.relationship_count()
                {
                    return Err(corrupt("totals do not match the contents"));
                }
                let (nodes, relationships) = state.next_ids();
                state.set_next_ids(
                    nodes.max(header.next_node_id),
                    relationships.max(header.next_relationship_id),
                );
                return Ok((header.lsn, state));
            }
            Some(SnapshotPart::Header(_)) => return Err(corrupt("second header")),
            None => return Err(corrupt("missing end marker")),
        }
    }
}
