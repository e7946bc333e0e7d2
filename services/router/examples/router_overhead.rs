//! Router overhead per call, in one run: the same order lookups sent straight to a running
//! relational service (`GetOrder`) and through a router (`Route` with "status of order <id>",
//! which classifies the text, then makes the same GetOrder call), interleaved in batches so that
//! both see the same machine state. Prints p50/p99 of each and the difference.
//!
//! ```text
//! chatmesh-relational --seed-demo --database-url sqlite:///tmp/overhead.db &
//! cargo run --release -p chatmesh-router --example router_overhead -- --relational-addr 127.0.0.1:50055
//! ```
//!
//! The router runs in this process (on its own loopback port, reached over TCP like any
//! client would), so its CPU is shared with the load generator, as on a small node.

use std::time::{Duration, Instant};

use chatmesh_proto::relational::GetOrderRequest;
use chatmesh_proto::relational::relational_service_client::RelationalServiceClient;
use chatmesh_proto::router::RouteRequest;
use chatmesh_proto::router::router_service_client::RouterServiceClient;
use chatmesh_runtime::CancellationToken;
use clap::Parser;
use tonic::transport::Channel;

/// Measures Route (through the router) against GetOrder (direct) on the same orders.
#[derive(Debug, Parser)]
struct Args {
    /// The running relational service.
    #[arg(long, default_value = "127.0.0.1:50055")]
    relational_addr: String,
    /// Measured calls of each kind.
    #[arg(long, default_value_t = 20_000)]
    calls: usize,
    /// Unmeasured calls of each kind first.
    #[arg(long, default_value_t = 2_000)]
    warmup: usize,
    /// Calls per batch before switching kind.
    #[arg(long, default_value_t = 200)]
    batch: usize,
    /// First order id that exists.
    #[arg(long, default_value_t = 100_001)]
    first_id: i64,
    /// Number of consecutive order ids that exist.
    #[arg(long, default_value_t = 24)]
    ids: i64,
}

fn percentile(sorted: &[Duration], q: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * q).round() as usize;
    sorted[index]
}

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let relational = format!(
        "http://{}",
        args.relational_addr.trim_start_matches("http://")
    );
    let config: chatmesh_router::Config = chatmesh_runtime::cli::parse_config(
        &chatmesh_router::INFO,
        [
            "chatmesh-router",
            "--relational-addr",
            &relational,
            "--log",
            "warn",
        ],
    )
    .map_err(|_| "router config")?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let router_addr = listener.local_addr()?;
    let shutdown = CancellationToken::new();
    let server = tokio::spawn(chatmesh_router::serve_on(
        config,
        listener,
        shutdown.clone(),
    ));
    let router_channel = Channel::from_shared(format!("http://{router_addr}"))?
        .tcp_nodelay(true)
        .connect()
        .await?;
    let direct_channel = Channel::from_shared(relational)?
        .tcp_nodelay(true)
        .connect()
        .await?;
    let mut router = RouterServiceClient::new(router_channel);
    let mut direct = RelationalServiceClient::new(direct_channel);

    let mut ids = (0..).map(|i: i64| args.first_id + i % args.ids);
    let mut via_router = Vec::with_capacity(args.calls);
    let mut straight = Vec::with_capacity(args.calls);
    let total = args.warmup + args.calls;
    let mut done = 0;
    while done < total {
        let n = args.batch.min(total - done);
        for _ in 0..n {
            let id = ids.next().unwrap_or(args.first_id);
            let start = Instant::now();
            direct.get_order(GetOrderRequest { id }).await?;
            let elapsed = start.elapsed();
            if done >= args.warmup {
                straight.push(elapsed);
            }
            let start = Instant::now();
            let response = router
                .route(RouteRequest {
                    query: format!("status of order {id}"),
                    ..Default::default()
                })
                .await?
                .into_inner();
            let elapsed = start.elapsed();
            assert_eq!(response.attempts, 1, "every routed call takes one attempt");
            if done >= args.warmup {
                via_router.push(elapsed);
            }
            done += 1;
        }
    }
    shutdown.cancel();
    let _ = server.await;

    straight.sort();
    via_router.sort();
    let (d50, d99) = (percentile(&straight, 0.5), percentile(&straight, 0.99));
    let (r50, r99) = (percentile(&via_router, 0.5), percentile(&via_router, 0.99));
    println!(
        "router overhead, {} calls of each kind, one at a time, interleaved",
        args.calls
    );
    println!("{:<34} {:>10} {:>10}", "", "p50 (µs)", "p99 (µs)");
    println!(
        "{:<34} {:>10.0} {:>10.0}",
        "direct GetOrder",
        micros(d50),
        micros(d99)
    );
    println!(
        "{:<34} {:>10.0} {:>10.0}",
        "Route \"status of order <id>\"",
        micros(r50),
        micros(r99)
    );
    println!(
        "{:<34} {:>10.0} {:>10.0}",
        "overhead (difference)",
        micros(r50) - micros(d50),
        micros(r99) - micros(d99)
    );
    Ok(())
}
