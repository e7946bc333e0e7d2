//! The graphs the TCK runs on: [`InMemory`] (the service's parser, executor and transactions
//! on a bare `GraphState`: fast, used for every feature folder) and [`Service`] (the real gRPC
//! service on a loopback port: the contract), either on the embedded engine in a temporary
//! data directory or on a Bolt server ([`Service::start_bolt`]).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use chatmesh_graph::internals::{
    Budget, Graph, GraphState, Txn, execute, node_to_pb, parameter_from_pb, parse,
    relationship_to_pb, row_to_pb, status,
};
use chatmesh_proto::graph as pb;
use futures::StreamExt;
use tonic::Code;

use crate::common;
use crate::judge::{Answer, Backend, Failure};

/// How long one query may take before the runner calls it a failure (a hang is a bug).
const QUERY_BUDGET: Duration = Duration::from_secs(5);

fn failure(status: tonic::Status) -> Failure {
    Failure {
        code: status.code(),
        message: status.message().to_owned(),
    }
}

/// The executor on an in-memory graph.
pub(crate) struct InMemory {
    state: GraphState,
}

impl InMemory {
    pub(crate) fn new() -> Self {
        Self {
            state: GraphState::new(),
        }
    }
}

impl Backend for InMemory {
    fn reset(&mut self) -> Result<(), Failure> {
        self.state = GraphState::new();
        Ok(())
    }

    fn run(
        &mut self,
        cypher: &str,
        params: &HashMap<String, pb::Value>,
    ) -> Result<Answer, Failure> {
        let status = |e| failure(status(e));
        let statement = parse(cypher).map_err(status)?;
        let params = params
            .iter()
            .map(|(k, v)| Ok((k.clone(), parameter_from_pb(v, k)?)))
            .collect::<Result<HashMap<_, _>, _>>()
            .map_err(status)?;
        let budget = Budget::new(Some(Instant::now() + QUERY_BUDGET));
        let mut txn = Txn::new(&mut self.state);
        match execute(Graph::Write(&mut txn), &statement, &params, &budget, None) {
            Ok(output) => Ok(Answer {
                columns: output.columns,
                rows: output.rows.into_iter().map(row_to_pb).collect(),
            }),
            Err(e) => {
                txn.rollback();
                Err(status(e))
            }
        }
    }

    fn contents(&mut self) -> Result<(Vec<pb::Node>, Vec<pb::Relationship>), Failure> {
        let nodes = self
            .state
            .nodes()
            .map(|node| node_to_pb(node.clone()))
            .collect();
        let relationships = self
            .state
            .relationships()
            .map(|(data, start, end)| relationship_to_pb(data.to_relationship(start, end)))
            .collect();
        Ok((nodes, relationships))
    }
}

/// The graph service over gRPC, driven from this (synchronous) thread through its own runtime.
pub(crate) struct Service {
    runtime: tokio::runtime::Runtime,
    service: Option<common::Service>,
    _data: tempfile::TempDir,
    _bolt: Option<tokio::sync::MutexGuard<'static, ()>>,
}

impl Service {
    /// The service on the embedded engine.
    pub(crate) fn start() -> Self {
        Self::start_with(false)
    }

    /// The service on the Bolt server of `CHATMESH_TEST_BOLT_URL` (its database is emptied
    /// before every scenario, as the embedded one is).
    pub(crate) fn start_bolt() -> Self {
        Self::start_with(true)
    }

    fn start_with(bolt: bool) -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let data = tempfile::tempdir().expect("temporary data directory");
        let (lock, flags) = if bolt {
            let lock = common::engines::BOLT_LOCK.blocking_lock();
            let url = common::engines::bolt_url();
            (Some(lock), common::engines::bolt_flags(&url, data.path()))
        } else {
            (None, Vec::new())
        };
        let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
        let service = runtime.block_on(common::Service::start(&data.path().join("graph"), &flags));
        Self {
            runtime,
            service: Some(service),
            _data: data,
            _bolt: lock,
        }
    }

    fn client(&self) -> common::Client {
        self.service.as_ref().expect("running").client.clone()
    }

    /// Runs `cypher` with the access mode the contract asks for: READ first; a query the
    /// service refuses because it writes is sent again marked as a write.
    fn execute(
        &self,
        cypher: &str,
        params: &HashMap<String, pb::Value>,
    ) -> Result<pb::ExecuteQueryResponse, tonic::Status> {
        let mut client = self.client();
        let request = |mode: pb::AccessMode| {
            let mut request = tonic::Request::new(pb::ExecuteQueryRequest {
                cypher: cypher.to_owned(),
                parameters: params.clone(),
                access_mode: mode as i32,
                row_limit: 10_000,
            });
            request.set_timeout(QUERY_BUDGET);
            request
        };
        self.runtime.block_on(async {
            match client.execute_query(request(pb::AccessMode::Read)).await {
                Err(s)
                    if s.code() == Code::InvalidArgument
                        && s.message().contains("access_mode is READ") =>
                {
                    client.execute_query(request(pb::AccessMode::Write)).await
                }
                other => other,
            }
            .map(tonic::Response::into_inner)
        })
    }

    /// Every row of a read query, through StreamQuery (no row limit).
    fn stream(&self, cypher: &str) -> Result<Vec<pb::Row>, tonic::Status> {
        use pb::stream_query_response::Part;
        let mut client = self.client();
        self.runtime.block_on(async {
            let mut stream = client
                .stream_query(pb::StreamQueryRequest {
                    cypher: cypher.to_owned(),
                    ..Default::default()
                })
                .await?
                .into_inner();
            let mut rows = Vec::new();
            while let Some(message) = stream.next().await {
                if let Some(Part::RowBatch(batch)) = message?.part {
                    rows.extend(batch.rows);
                }
            }
            Ok(rows)
        })
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        if let Some(service) = self.service.take() {
            self.runtime.block_on(service.stop());
        }
    }
}

impl Backend for Service {
    fn reset(&mut self) -> Result<(), Failure> {
        self.execute("MATCH (n) DETACH DELETE n", &HashMap::new())
            .map(drop)
            .map_err(failure)
    }

    fn run(
        &mut self,
        cypher: &str,
        params: &HashMap<String, pb::Value>,
    ) -> Result<Answer, Failure> {
        let response = self.execute(cypher, params).map_err(failure)?;
        if response.truncated {
            return Err(Failure {
                code: Code::ResourceExhausted,
                message: "more rows than the runner's row limit".into(),
            });
        }
        Ok(Answer {
            columns: response.columns,
            rows: response.rows,
        })
    }

    fn contents(&mut self) -> Result<(Vec<pb::Node>, Vec<pb::Relationship>), Failure> {
        use pb::value::Kind;
        let single = |row: pb::Row| row.values.into_iter().next().and_then(|v| v.kind);
        let nodes = self
            .stream("MATCH (n) RETURN n")
            .map_err(failure)?
            .into_iter()
            .filter_map(|row| match single(row) {
                Some(Kind::NodeValue(node)) => Some(node),
                _ => None,
            })
            .collect();
        let relationships = self
            .stream("MATCH ()-[r]->() RETURN r")
            .map_err(failure)?
            .into_iter()
            .filter_map(|row| match single(row) {
                Some(Kind::RelationshipValue(rel)) => Some(rel),
                _ => None,
            })
            .collect();
        Ok((nodes, relationships))
    }
}
