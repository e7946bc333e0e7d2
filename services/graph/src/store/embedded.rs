//! The embedded store: the graph in memory, made durable by a write-ahead log and snapshots in
//! the data directory.
//!
//! - A write runs as a [`Txn`] under the graph's write lock: its mutations are validated and
//!   applied as they come, then logged as one entry and fsync'd; only then is the lock released
//!   and the caller answered. When anything fails (validation, a later step, the disk) the
//!   transaction is rolled back, so a request changes everything it asked for or nothing, and an
//!   acknowledged write survives a crash.
//! - Reads take the read lock and run in parallel. Small reads (`try_*`) only try it, so they
//!   can run on an async thread without ever waiting behind a write's fsync.
//! - When the log grows past a threshold (and at graceful shutdown) a snapshot is written:
//!   `snapshot.bin` (every node and relationship with its id, and the id counters, as
//!   checksummed records, written to a temporary file, fsync'd and renamed). The log is then
//!   emptied; entries carry sequence numbers, so a crash between the two steps replays nothing
//!   twice.
//! - At start the snapshot is loaded and the log replayed; a torn record at the end of the log
//!   (a write that was never acknowledged) is cut off.
//!
//! Locks, always taken in this order: the graph, then the log.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use chatmesh_proto::graph as pb;
use parking_lot::{Mutex, RwLock};

use super::graph::{GraphState, Mutation};
use super::records::{
    LogEntry, SnapshotEnd, SnapshotHeader, SnapshotPart, SnapshotRecord, from_record, node_from_pb,
    node_value, relationship_from_pb, relationship_value, to_record,
};
use super::txn::{Txn, WriteStats};
use super::{
    CypherQuery, CypherResult, FoundPath, GraphStore, Neighbor, NeighborQuery, NodeUpdate,
    PathQuery,
};
use crate::cypher;
use crate::error::{GraphError, Result};
use crate::value::Properties;
use chatmesh_durable::{Log, SnapshotWriter, read_snapshot};

const LOG_FILE: &str = "wal.log";
const SNAPSHOT_FILE: &str = "snapshot.bin";
const ENTITIES_PER_CHUNK: usize = 1000;

/// Tuning of the embedded store.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// Log size that triggers a snapshot.
    pub snapshot_after_bytes: u64,
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self {
            snapshot_after_bytes: 64 * 1024 * 1024,
        }
    }
}

/// See the module documentation.
pub struct EmbeddedGraph {
    dir: PathBuf,
    options: StoreOptions,
    state: RwLock<GraphState>,
    log: Mutex<Log<LogEntry>>,
}

impl EmbeddedGraph {
    /// Opens (or creates) the store in `dir`: loads the snapshot, replays the log.
    pub fn open(dir: &Path, options: StoreOptions) -> Result<Self> {
        std::fs::create_dir_all(dir)?;
        let (snapshot_lsn, mut state) = load_snapshot(dir)?;
        let (log, replayed) = Log::open(&dir.join(LOG_FILE), snapshot_lsn, |entry: LogEntry| {
            for record in entry.mutations {
                let mutation = from_record(record).map_err(|e| e.to_string())?;
                state.apply(mutation).map_err(|e| e.to_string())?;
            }
            Ok(())
        })?;
        tracing::info!(
            nodes = state.node_count(),
            relationships = state.relationship_count(),
            replayed,
            "graph store loaded"
        );
        Ok(Self {
            dir: dir.to_path_buf(),
            options,
            state: RwLock::new(state),
            log: Mutex::new(log),
        })
    }

    /// Runs `read` on the graph; reads run in parallel with each other.
    pub fn read<T>(&self, read: impl FnOnce(&GraphState) -> T) -> T {
        read(&self.state.read())
    }

    /// Runs `write` as one transaction: committed (logged and fsync'd) when it returns `Ok`,
    /// rolled back completely when it or the log fails. Writes are serialized.
    pub fn write<T>(&self, write: impl FnOnce(&mut Txn) -> Result<T>) -> Result<(T, WriteStats)> {
        let result = {
            let mut state = self.state.write();
            let mut txn = Txn::new(&mut state);
            match write(&mut txn) {
                Err(e) => {
                    txn.rollback();
                    Err(e)
                }
                Ok(value) => match self.append(txn.mutations()) {
                    Ok(()) => Ok((value, txn.stats())),
                    Err(e) => {
                        txn.rollback();
                        Err(e)
                    }
                },
            }
        };
        self.snapshot_if_due();
        result
    }

    /// Appends and fsyncs one entry holding `mutations` (nothing when there are none).
    fn append(&self, mutations: &[Mutation]) -> Result<()> {
        if mutations.is_empty() {
            return Ok(());
        }
        self.log.lock().append(|lsn| LogEntry {
            lsn,
            mutations: mutations.iter().map(to_record).collect(),
        })?;
        Ok(())
    }

    fn snapshot_if_due(&self) {
        if self.log.lock().bytes() < self.options.snapshot_after_bytes {
            return;
        }
        if let Err(e) = self.snapshot() {
            tracing::error!(error = %e, "snapshot failed; the log keeps every write");
        }
    }

    /// Writes a snapshot and empties the log. Blocks writes (not reads) while it runs.
    fn snapshot(&self) -> Result<()> {
        let state = self.state.read();
        let mut log = self.log.lock();
        let lsn = log.last_lsn();
        let mut out = SnapshotWriter::create(&self.dir.join(SNAPSHOT_FILE))?;
        let mut record = |part: SnapshotPart| out.write(&SnapshotRecord { part: Some(part) });
        let (next_node_id, next_relationship_id) = state.next_ids();
        record(SnapshotPart::Header(SnapshotHeader {
            lsn,
            next_node_id,
            next_relationship_id,
        }))?;
        let nodes: Vec<pb::Value> = state.nodes().map(node_value).collect();
        for chunk in nodes.chunks(ENTITIES_PER_CHUNK) {
            record(SnapshotPart::Nodes(pb::ValueList {
                values: chunk.to_vec(),
            }))?;
        }
        let relationships: Vec<pb::Value> = state
            .relationships()
            .map(|(data, start, end)| relationship_value(data, start, end))
            .collect();
        for chunk in relationships.chunks(ENTITIES_PER_CHUNK) {
            record(SnapshotPart::Relationships(pb::ValueList {
                values: chunk.to_vec(),
            }))?;
        }
        record(SnapshotPart::End(SnapshotEnd {
            nodes: nodes.len() as u64,
            relationships: relationships.len() as u64,
        }))?;
        out.commit()?;
        log.truncate()?;
        tracing::info!(
            lsn,
            nodes = nodes.len(),
            relationships = relationships.len(),
            "snapshot written"
        );
        Ok(())
    }
}

impl GraphStore for EmbeddedGraph {
    fn create_node(&self, labels: BTreeSet<String>, properties: Properties) -> Result<pb::Node> {
        let (node, _) = self.write(|txn| {
            let id = txn.create_node(labels, properties)?;
            txn.state().node_pb(id)
        })?;
        Ok(node)
    }

    fn node(&self, id: u64) -> Result<pb::Node> {
        self.read(|state| state.node_pb(id))
    }

    fn update_node(&self, update: NodeUpdate) -> Result<pb::Node> {
        let (node, _) = self.write(|txn| {
            let id = update.id;
            txn.state().node(id)?;
            for key in update.remove_keys {
                txn.set_node_property(id, key, crate::value::Value::Null)?;
            }
            for label in update.remove_labels {
                txn.set_node_label(id, label, false)?;
            }
            for (key, value) in update.set_properties {
                txn.set_node_property(id, key, value)?;
            }
            for label in update.add_labels {
                txn.set_node_label(id, label, true)?;
            }
            txn.state().node_pb(id)
        })?;
        Ok(node)
    }

    fn delete_node(&self, id: u64) -> Result<u64> {
        let (deleted, _) = self.write(|txn| txn.delete_node(id, true))?;
        Ok(deleted)
    }

    fn create_relationship(
        &self,
        start: u64,
        end: u64,
        rel_type: String,
        properties: Properties,
    ) -> Result<pb::Relationship> {
        let (relationship, _) = self.write(|txn| {
            let id = txn.create_relationship(start, end, rel_type, properties)?;
            txn.state().relationship_pb(id)
        })?;
        Ok(relationship)
    }

    fn relationship(&self, id: u64) -> Result<pb::Relationship> {
        self.read(|state| state.relationship_pb(id))
    }

    fn delete_relationship(&self, id: u64) -> Result<()> {
        self.write(|txn| txn.delete_relationship(id))?;
        Ok(())
    }

    fn neighbors(&self, query: &NeighborQuery) -> Result<(Vec<Neighbor>, bool)> {
        self.read(|state| {
            let (reached, cut) = super::traverse::neighbors(state, query)?;
            Ok((neighbors_pb(state, reached)?, cut))
        })
    }

    fn try_node(&self, id: u64) -> Option<Result<pb::Node>> {
        Some(self.state.try_read()?.node_pb(id))
    }

    fn try_relationship(&self, id: u64) -> Option<Result<pb::Relationship>> {
        Some(self.state.try_read()?.relationship_pb(id))
    }

    fn try_neighbors(
        &self,
        query: &NeighborQuery,
        max_steps: usize,
    ) -> Option<Result<(Vec<Neighbor>, bool)>> {
        let state = self.state.try_read()?;
        match super::traverse::neighbors_within(&state, query, max_steps) {
            Err(e) => Some(Err(e)),
            Ok(None) => None,
            Ok(Some((reached, cut))) => Some(neighbors_pb(&state, reached).map(|n| (n, cut))),
        }
    }

    fn shortest_path(&self, query: &PathQuery) -> Result<FoundPath> {
        self.read(|state| super::traverse::shortest_path(state, query))
    }

    fn schema(&self) -> Result<pb::GetSchemaResponse> {
        Ok(self.read(super::schema::summarize))
    }

    fn query(&self, query: &CypherQuery) -> Result<CypherResult> {
        let statement = cypher::parser::parse(&query.text)?;
        if let Some(clause) = statement.first_write()
            && !query.may_write
        {
            return Err(GraphError::InvalidArgument(format!(
                "the query writes ({clause}) but access_mode is READ; send ACCESS_MODE_WRITE to allow writes"
            )));
        }
        let parameters = query
            .parameters
            .iter()
            .map(|(k, v)| Ok((k.clone(), cypher::eval::RVal::from_pb(v, k)?)))
            .collect::<Result<_>>()?;
        let budget = cypher::matcher::Budget::new(query.deadline);
        let run = |graph: cypher::exec::Graph| {
            cypher::exec::execute(graph, &statement, &parameters, &budget, query.row_limit)
        };
        let (output, stats) = if statement.first_write().is_some() {
            self.write(|txn| run(cypher::exec::Graph::Write(txn)))?
        } else {
            let output = self.read(|state| run(cypher::exec::Graph::Read(state)))?;
            (output, WriteStats::default())
        };
        Ok(CypherResult {
            columns: output.columns,
            rows: output.rows,
            truncated: output.truncated,
            stats,
        })
    }

    fn flush(&self) -> Result<()> {
        self.snapshot()
    }
}

/// The wire form of the nodes a neighbor walk reached.
fn neighbors_pb(
    state: &GraphState,
    reached: Vec<super::traverse::Reached>,
) -> Result<Vec<Neighbor>> {
    reached
        .into_iter()
        .map(|(node, depth, relationship)| {
            Ok(Neighbor {
                node: state.node_pb(node)?,
                depth,
                relationship: state.relationship_pb(relationship)?,
            })
        })
        .collect()
}

/// Reads `snapshot.bin`: its sequence number and the graph it holds.
fn load_snapshot(dir: &Path) -> Result<(u64, GraphState)> {
    let path = dir.join(SNAPSHOT_FILE);
    let Some(records) = read_snapshot::<SnapshotRecord>(&path)? else {
        return Ok((0, GraphState::new()));
    };
    let corrupt = |why: String| GraphError::Corrupt(format!("{}: {why}", path.display()));
    let mut parts = records
        .into_iter()
        .map(|record| record.part.ok_or_else(|| corrupt("empty record".into())));
    let Some(Ok(SnapshotPart::Header(header))) = parts.next() else {
        return Err(corrupt("missing header".into()));
    };
    let mut state = GraphState::new();
    let entity = |value: pb::Value| value.kind.ok_or_else(|| corrupt("empty entity".into()));
    loop {
        match parts.next().transpose()? {
            Some(SnapshotPart::Nodes(chunk)) => {
                for value in chunk.values {
                    let pb::value::Kind::NodeValue(node) = entity(value)? else {
                        return Err(corrupt("a node chunk holds something else".into()));
                    };
                    let data = node_from_pb(node)?;
                    state.apply(Mutation::CreateNode {
                        id: data.id,
                        labels: data.labels,
                        properties: data.properties,
                    })?;
                }
            }
            Some(SnapshotPart::Relationships(chunk)) => {
                for value in chunk.values {
                    let pb::value::Kind::RelationshipValue(rel) = entity(value)? else {
                        return Err(corrupt("a relationship chunk holds something else".into()));
                    };
                    let (data, start, end) = relationship_from_pb(rel)?;
                    state
                        .apply(Mutation::CreateRelationship {
                            id: data.id,
                            rel_type: data.rel_type,
                            start,
                            end,
                            properties: data.properties,
                        })
                        .map_err(|e| corrupt(e.to_string()))?;
                }
            }
            Some(SnapshotPart::End(totals)) => {
                if totals.nodes as usize != state.node_count()
                    || totals.relationships as usize != state.relationship_count()
                {
                    return Err(corrupt("totals do not match the contents".into()));
                }
                let (nodes, relationships) = state.next_ids();
                state.set_next_ids(
                    nodes.max(header.next_node_id),
                    relationships.max(header.next_relationship_id),
                );
                return Ok((header.lsn, state));
            }
            Some(SnapshotPart::Header(_)) => return Err(corrupt("second header".into())),
            None => return Err(corrupt("missing end marker".into())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::Value;

    #[test]
    fn survives_reopen_through_log_and_snapshot() {
        let dir = tempfile::tempdir().unwrap();
        let options = StoreOptions::default();
        let (a, b) = {
            let store = EmbeddedGraph::open(dir.path(), options.clone()).unwrap();
            let a = store
                .create_node(
                    BTreeSet::from(["Person".into()]),
                    Properties::from([("name".into(), Value::String("Ada".into()))]),
                )
                .unwrap();
            let b = store
                .create_node(BTreeSet::new(), Properties::new())
                .unwrap();
            store
                .create_relationship(a.id, b.id, "KNOWS".into(), Properties::new())
                .unwrap();
            store.flush().unwrap();
            let c = store
                .create_node(BTreeSet::new(), Properties::new())
                .unwrap();
            store.delete_node(c.id).unwrap();
            (a, b)
        };
        let store = EmbeddedGraph::open(dir.path(), options.clone()).unwrap();
        assert_eq!(store.node(a.id).unwrap(), a);
        assert_eq!(store.node(b.id).unwrap(), b);
        assert_eq!(store.schema().unwrap().relationship_count, 1);
        // Deleted ids are never reused, across restarts too.
        let d = store
            .create_node(BTreeSet::new(), Properties::new())
            .unwrap();
        assert_eq!(d.id, 4);
        store.flush().unwrap();
        drop(store);
        let store = EmbeddedGraph::open(dir.path(), options).unwrap();
        let e = store
            .create_node(BTreeSet::new(), Properties::new())
            .unwrap();
        assert_eq!(e.id, 5);
    }

    #[test]
    fn neighbors_and_paths_stop_at_the_deadline() {
        use crate::store::{Direction, NeighborQuery, PathQuery, Weight};
        let dir = tempfile::tempdir().unwrap();
        let store = EmbeddedGraph::open(dir.path(), StoreOptions::default()).unwrap();
        // A hub with 600 spokes that all lead on to one target: every walk from the hub
        // past depth 1 visits hundreds of nodes.
        let ((hub, target), _) = store
            .write(|txn| {
                let hub = txn.create_node(BTreeSet::new(), Properties::new())?;
                let target = txn.create_node(BTreeSet::new(), Properties::new())?;
                for _ in 0..600 {
                    let spoke = txn.create_node(BTreeSet::new(), Properties::new())?;
                    txn.create_relationship(hub, spoke, "OUT".into(), Properties::new())?;
                    txn.create_relationship(spoke, target, "IN".into(), Properties::new())?;
                }
                Ok((hub, target))
            })
            .unwrap();
        let neighbors = |deadline| NeighborQuery {
            node_id: hub,
            direction: Direction::Outgoing,
            types: Vec::new(),
            min_depth: 1,
            max_depth: 2,
            limit: None,
            deadline,
        };
        let path = |deadline, weight| PathQuery {
            source: hub,
            target,
            direction: Direction::Outgoing,
            types: Vec::new(),
            max_depth: 10,
            weight,
            deadline,
        };
        let weight = || {
            Some(Weight {
                property: "w".into(),
                default: Some(1.0),
            })
        };
        let past = Some(std::time::Instant::now());
        let expired = [
            store.neighbors(&neighbors(past)).map(|_| ()).unwrap_err(),
            store
                .shortest_path(&path(past, None))
                .map(|_| ())
                .unwrap_err(),
            store
                .shortest_path(&path(past, weight()))
                .map(|_| ())
                .unwrap_err(),
        ];
        for err in expired {
            assert!(matches!(err, GraphError::DeadlineExceeded(_)), "{err}");
        }
        // Without a deadline all three finish.
        assert_eq!(store.neighbors(&neighbors(None)).unwrap().0.len(), 601);
        assert_eq!(store.shortest_path(&path(None, None)).unwrap().hop_count, 2);
        assert_eq!(
            store
                .shortest_path(&path(None, weight()))
                .unwrap()
                .total_weight,
            2.0
        );
    }

    #[test]
    fn quick_reads_answer_like_blocking_ones_or_not_at_all() {
        use crate::store::{Direction, NeighborQuery};
        let dir = tempfile::tempdir().unwrap();
        let store = EmbeddedGraph::open(dir.path(), StoreOptions::default()).unwrap();
        // A chain a -> b -> c, and a hub with 20 spokes.
        let ((a, hub), _) = store
            .write(|txn| {
                let a = txn.create_node(BTreeSet::new(), Properties::new())?;
                let b = txn.create_node(BTreeSet::new(), Properties::new())?;
                let c = txn.create_node(BTreeSet::new(), Properties::new())?;
                txn.create_relationship(a, b, "R".into(), Properties::new())?;
                txn.create_relationship(b, c, "R".into(), Properties::new())?;
                let hub = txn.create_node(BTreeSet::new(), Properties::new())?;
                for _ in 0..20 {
                    let spoke = txn.create_node(BTreeSet::new(), Properties::new())?;
                    txn.create_relationship(hub, spoke, "R".into(), Properties::new())?;
                }
                Ok((a, hub))
            })
            .unwrap();
        let walk = |node_id| NeighborQuery {
            node_id,
            direction: Direction::Outgoing,
            types: Vec::new(),
            min_depth: 1,
            max_depth: 2,
            limit: None,
            deadline: None,
        };
        let quick = store.try_neighbors(&walk(a), 10).unwrap().unwrap();
        assert_eq!(quick, store.neighbors(&walk(a)).unwrap());
        assert_eq!(quick.0.len(), 2);
        // A walk taking more relationships than allowed is left to the blocking method.
        assert!(store.try_neighbors(&walk(hub), 10).is_none());
        assert_eq!(
            store
                .try_neighbors(&walk(hub), 20)
                .unwrap()
                .unwrap()
                .0
                .len(),
            20
        );
        // Errors come back as answers.
        assert!(matches!(
            store.try_neighbors(&walk(999), 10),
            Some(Err(GraphError::NotFound(_)))
        ));
        assert_eq!(store.try_node(a).unwrap().unwrap(), store.node(a).unwrap());
        assert_eq!(
            store.try_relationship(1).unwrap().unwrap(),
            store.relationship(1).unwrap()
        );
        // While a write holds the graph, nothing is answered at once.
        let writing = store.state.write();
        assert!(store.try_node(a).is_none());
        assert!(store.try_relationship(1).is_none());
        assert!(store.try_neighbors(&walk(a), 10).is_none());
        drop(writing);
        assert!(store.try_node(a).is_some());
    }

    #[test]
    fn queries_stop_at_the_deadline_and_writes_roll_back() {
        let dir = tempfile::tempdir().unwrap();
        let store = EmbeddedGraph::open(dir.path(), StoreOptions::default()).unwrap();
        let query = |text: &str, deadline| CypherQuery {
            text: text.into(),
            parameters: Default::default(),
            may_write: true,
            row_limit: None,
            deadline,
        };
        store
            .query(&query(
                "CREATE (:N), (:N), (:N), (:N), (:N), (:N), (:N), (:N)",
                None,
            ))
            .unwrap();
        for _ in 0..5 {
            store
                .query(&query("MATCH (n:N) CREATE (:N)", None))
                .unwrap();
        }
        let nodes = || store.schema().unwrap().node_count;
        assert_eq!(nodes(), 256);
        let past = Some(std::time::Instant::now());
        let err = store
            .query(&query("MATCH (a:N), (b:N) RETURN count(*)", past))
            .unwrap_err();
        assert!(matches!(err, GraphError::DeadlineExceeded(_)), "{err}");
        let err = store
            .query(&query("MATCH (a:N), (b:N) CREATE (:X)", past))
            .unwrap_err();
        assert!(matches!(err, GraphError::DeadlineExceeded(_)), "{err}");
        assert_eq!(nodes(), 256);
        let rows = store
            .query(&query("MATCH (a:N), (b:N) RETURN count(*)", None))
            .unwrap()
            .rows;
        assert_eq!(rows[0].values[0], Value::Int(65536).to_pb());
    }
}
