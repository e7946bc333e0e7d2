//! `chatmesh bench`: a reusable closed-loop gRPC load generator (`runner`) with scenarios per
//! service (`relational`, `vector`; the graph service and the chatbot add theirs), and
//! `bench load-orders` / `bench load-faqs` to load the benchmark workload through the public API.
//!
//! Run it on the same machine as the service under test, against a release build:
//! `chatmesh bench --addr 127.0.0.1:50055 --scenario relational-get --concurrency 16`.

mod baseline;
mod chat;
mod graph;
mod load;
mod relational;
mod runner;
mod vector;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use chatmesh_runtime::channel::{ClientArgs, TracedChannel};
use chatmesh_runtime::config::parse_duration;
use chatmesh_runtime::http2::Http2Channel;

use crate::caller::CallerArgs;
use runner::{Plan, Until};

#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub(crate) struct BenchArgs {
    #[command(subcommand)]
    command: Option<BenchCommand>,
    /// Address of the service under test, `HOST:PORT` or `http://HOST:PORT`.
    #[arg(long, default_value = "127.0.0.1:50055", value_name = "ADDR")]
    addr: String,
    /// What to send: grpc-health (a baseline: the cost of gRPC itself), relational-get,
    /// relational-create, relational-update, relational-list100, vector-near-text,
    /// graph-neighbors (--addr :50053), graph-query, chat-graph,
    /// chat-vector, chat-relational, chat-mix (chat-* go to the chatbot, e.g. --addr :50051).
    #[arg(long, default_value = "relational-get", value_name = "NAME")]
    scenario: String,
    /// Calls in flight at once (closed loop: each worker waits for its answer).
    #[arg(long, default_value_t = 16, value_name = "N",
          value_parser = clap::value_parser!(u32).range(1..=10_000))]
    concurrency: u32,
    /// HTTP/2 connections the workers share (round-robin).
    #[arg(long, default_value_t = 1, value_name = "N",
          value_parser = clap::value_parser!(u32).range(1..=1000))]
    connections: u32,
    /// Measure for this long.
    #[arg(long, default_value = "10s", value_parser = parse_duration, value_name = "DURATION",
          conflicts_with = "requests")]
    duration: Duration,
    /// Measure this many calls instead of a duration.
    #[arg(long, value_name = "N")]
    requests: Option<u64>,
    /// Unmeasured calls first, for this long.
    #[arg(long, default_value = "2s", value_parser = parse_duration, value_name = "DURATION")]
    warmup: Duration,
    /// The benchmark workload (questions for vector-near-text come from its FAQ texts).
    #[arg(
        long,
        default_value = "../shared/bench/workload.json",
        value_name = "PATH"
    )]
    workload: PathBuf,
    /// Ids that exist (1..=N), for scenarios that read or change existing rows.
    #[arg(long, default_value_t = 10_000, value_name = "N")]
    ids: i64,
    /// How to reach a service that checks its callers (the subcommands take these from the
    /// environment: CHATMESH_TLS_CA, CHATMESH_TLS_CERT, CHATMESH_TLS_KEY, CHATMESH_SERVICE_TOKEN).
    #[command(flatten)]
    caller: CallerArgs,
}

/// A vector service and the workload file, for the vector subcommands.
#[derive(Debug, clap::Args)]
struct VectorTarget {
    /// Address of the vector service.
    #[arg(long, default_value = "127.0.0.1:50054", value_name = "ADDR")]
    addr: String,
    /// The workload file.
    #[arg(
        long,
        default_value = "../shared/bench/workload.json",
        value_name = "PATH"
    )]
    workload: PathBuf,
}

#[derive(Debug, clap::Subcommand)]
enum BenchCommand {
    /// Load the benchmark workload's FAQ texts into a running vector service (collection `faq`).
    LoadFaqs {
        #[command(flatten)]
        target: VectorTarget,
        /// The embedder of the collection when this creates it: `hashing-v1` unless named (the
        /// published figures use it), `""` for the service's default (the static model when it
        /// has one), or a model's name. Named, an existing `faq` collection must have it.
        #[arg(long, value_name = "NAME")]
        embedder: Option<String>,
    },
    /// Recall@5 of near_text on the FAQ collection against exact search with the same embedder.
    VectorRecall(VectorTarget),
    /// Load the benchmark workload's graph (people, teams, MANAGES, MEMBER_OF) into a running
    /// graph service, idempotently (Cypher MERGE through ExecuteQuery).
    LoadGraph {
        /// Address of the graph service.
        #[arg(long, default_value = "127.0.0.1:50053", value_name = "ADDR")]
        addr: String,
        /// The workload file.
        #[arg(
            long,
            default_value = "../shared/bench/workload.json",
            value_name = "PATH"
        )]
        workload: PathBuf,
    },
    /// Load the benchmark workload's orders into a running relational service.
    LoadOrders {
        /// Address of the relational service.
        #[arg(long, default_value = "127.0.0.1:50055", value_name = "ADDR")]
        addr: String,
        /// The workload file.
        #[arg(
            long,
            default_value = "../shared/bench/workload.json",
            value_name = "PATH"
        )]
        workload: PathBuf,
        /// Calls in flight at once.
        #[arg(long, default_value_t = 8, value_name = "N")]
        concurrency: usize,
    },
}

/// A channel connected now, with the caller's TLS and token.
async fn connect_to(addr: &str, client: &ClientArgs) -> Result<TracedChannel, String> {
    let channel = Http2Channel::connect(addr, client)
        .await
        .map_err(|e| e.message().to_owned())?;
    Ok(TracedChannel::new(channel).with_token(client.token.clone()))
}

pub(crate) async fn run(args: BenchArgs) -> ExitCode {
    match execute(args).await {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("chatmesh bench: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Runs the command; `Ok(false)` when some measured call failed.
async fn execute(args: BenchArgs) -> Result<bool, String> {
    let client = args.caller.client(ClientArgs::default())?;
    if let Some(command) = args.command {
        println!("{}", load_workload(command, &client).await?);
        return Ok(true);
    }
    let connect = |addr: &str| {
        let addr = addr.to_owned();
        let client = client.clone();
        async move { connect_to(&addr, &client).await }
    };
    let concurrency = args.concurrency as usize;
    let graph_make = if graph::SCENARIOS.contains(&args.scenario.as_str()) {
        Some(graph::scenario(&args.scenario, connect(&args.addr).await?).await?)
    } else {
        None
    };
    let make = graph_make
        .or_else(|| baseline::scenario(&args.scenario))
        .or_else(|| relational::scenario(&args.scenario, args.ids, concurrency))
        .map(Ok)
        .or_else(|| {
            vector::SCENARIOS
                .contains(&args.scenario.as_str())
                .then(|| {
                    let questions = vector::questions(&args.workload)?;
                    vector::scenario(&args.scenario, std::sync::Arc::new(questions))
                        .ok_or_else(|| "unreachable".to_owned())
                })
        })
        .or_else(|| {
            chat::SCENARIOS.contains(&args.scenario.as_str()).then(|| {
                let questions = chat::questions(&args.workload)?;
                chat::scenario(&args.scenario, std::sync::Arc::new(questions))
                    .ok_or_else(|| "unreachable".to_owned())
            })
        })
        .transpose()?
        .ok_or_else(|| {
            format!(
                "unknown scenario '{}'; known: {}, {}, {}, {}, {}",
                args.scenario,
                baseline::SCENARIOS.join(", "),
                graph::SCENARIOS.join(", "),
                relational::SCENARIOS.join(", "),
                vector::SCENARIOS.join(", "),
                chat::SCENARIOS.join(", ")
            )
        })?;
    let mut channels = Vec::new();
    for _ in 0..args.connections {
        channels.push(connect(&args.addr).await?);
    }
    let plan = Plan {
        concurrency,
        warmup: args.warmup,
        until: match args.requests {
            Some(n) => Until::Calls(n),
            None => Until::Elapsed(args.duration),
        },
    };
    let report = runner::run(plan, &channels, make).await;
    print!("{}", runner::render(&args.scenario, &plan, &report));
    Ok(report.failures() == 0)
}

/// A subcommand's work (loading the workload, or measuring recall): what it reports.
async fn load_workload(command: BenchCommand, client: &ClientArgs) -> Result<String, String> {
    match command {
        BenchCommand::LoadOrders {
            addr,
            workload,
            concurrency,
        } => load::load_orders(&workload, connect_to(&addr, client).await?, concurrency).await,
        BenchCommand::LoadGraph { addr, workload } => {
            graph::load_graph(&workload, connect_to(&addr, client).await?).await
        }
        BenchCommand::LoadFaqs {
            target: VectorTarget { addr, workload },
            embedder,
        } => {
            let channel = connect_to(&addr, client).await?;
            vector::load_faqs(&workload, channel, embedder.as_deref()).await
        }
        BenchCommand::VectorRecall(VectorTarget { addr, workload }) => {
            vector::recall(&workload, connect_to(&addr, client).await?).await
        }
    }
}
