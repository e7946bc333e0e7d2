//! The vector service's figures: build time and memory of an HNSW collection, and a table of
//! ef → recall@10, queries/s on one thread and p50/p99 latency, both in process and through
//! gRPC on loopback (the difference is the gRPC overhead per query).
//!
//! `cargo bench -p chatmesh-vector --bench ann -- [--points 100000] [--dimension 128]
//! [--queries 1000] [--efs 16,32,64,128,256] [--database-url postgres://…]`
//!
//! With `--database-url` the service behind gRPC runs on PostgreSQL + pgvector (an HNSW index
//! per collection, `ef` as `hnsw.ef_search`) instead of the embedded engine, so the gRPC table
//! is that engine's recall and speed against the same exact ground truth.
//!
//! The data is clustered with low intrinsic dimension (100 clusters, each spread in its own
//! 8-dimensional subspace, plus small noise), the same generator as the recall test; ground
//! truth is exact brute force over the same data.

use std::time::{Duration, Instant};

use chatmesh_proto::vector::{self as pb, vector_service_client::VectorServiceClient};
use chatmesh_vector::internals::testdata::clustered;
use chatmesh_vector::internals::{Collection, CollectionSpec, Metric, Object};

struct Args {
    points: usize,
    dimension: usize,
    queries: usize,
    efs: Vec<usize>,
    database_url: Option<String>,
}

fn args() -> Args {
    let mut args = Args {
        points: 100_000,
        dimension: 128,
        queries: 1000,
        efs: vec![16, 32, 64, 128, 256],
        database_url: None,
    };
    let raw: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < raw.len() {
        let value = raw.get(i + 1).cloned().unwrap_or_default();
        match raw[i].as_str() {
            "--points" => args.points = value.parse().expect("--points N"),
            "--dimension" => args.dimension = value.parse().expect("--dimension N"),
            "--queries" => args.queries = value.parse().expect("--queries N"),
            "--database-url" => args.database_url = Some(value),
            "--efs" => {
                args.efs = value
                    .split(',')
                    .map(|v| v.parse().expect("--efs 16,32"))
                    .collect()
            }
            _ => {
                i += 1;
                continue; // cargo bench passes --bench
            }
        }
        i += 2;
    }
    args
}

fn rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kib: f64 = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0);
    kib / 1024.0
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn cosine_truth(data: &[Vec<f32>], query: &[f32]) -> Vec<usize> {
    let norm = |v: &[f32]| v.iter().map(|x| x * x).sum::<f32>().sqrt();
    let qn = norm(query);
    let mut scored: Vec<(f32, usize)> = data
        .iter()
        .enumerate()
        .map(|(i, v)| {
            (
                -(v.iter().zip(query).map(|(a, b)| a * b).sum::<f32>() / (norm(v) * qn)),
                i,
            )
        })
        .collect();
    scored.select_nth_unstable_by(10, |a, b| a.0.total_cmp(&b.0));
    scored[..10].iter().map(|(_, i)| *i).collect()
}

struct Row {
    ef: usize,
    recall: f64,
    qps: f64,
    p50: Duration,
    p99: Duration,
}

fn report(title: &str, rows: &[Row]) {
    println!("\n{title}\n");
    println!("| ef | recall@10 | queries/s (1 thread) | p50 | p99 |");
    println!("| --- | --- | --- | --- | --- |");
    for r in rows {
        println!(
            "| {} | {:.3} | {:.0} | {:.0} µs | {:.0} µs |",
            r.ef,
            r.recall,
            r.qps,
            r.p50.as_secs_f64() * 1e6,
            r.p99.as_secs_f64() * 1e6
        );
    }
}

fn measure(
    ef: usize,
    queries: &[Vec<f32>],
    truth: &[Vec<usize>],
    mut search: impl FnMut(&[f32], usize) -> Vec<usize>,
) -> Row {
    let mut latencies = Vec::with_capacity(queries.len());
    let mut found = 0;
    let started = Instant::now();
    for (query, expected) in queries.iter().zip(truth) {
        let t = Instant::now();
        let got = search(query, ef);
        latencies.push(t.elapsed());
        found += expected.iter().filter(|e| got.contains(e)).count();
    }
    let total = started.elapsed();
    latencies.sort();
    Row {
        ef,
        recall: found as f64 / (queries.len() * 10) as f64,
        qps: queries.len() as f64 / total.as_secs_f64(),
        p50: percentile(&latencies, 0.5),
        p99: percentile(&latencies, 0.99),
    }
}

/// Builds the collection in this process and measures each ef with one thread.
fn in_process(
    args: &Args,
    data: &[Vec<f32>],
    queries: &[Vec<f32>],
    truth: &[Vec<usize>],
) -> Vec<Row> {
    let spec = CollectionSpec::new("bench", args.dimension, Metric::Cosine);
    let before = rss_mib();
    let started = Instant::now();
    let mut collection = Collection::new(spec);
    collection.set_full_scan_threshold(0);
    for (n, chunk) in data.chunks(1000).enumerate() {
        let objects = chunk
            .iter()
            .enumerate()
            .map(|(i, v)| Object {
                id: format!("p{}", n * 1000 + i),
                vector: v.clone(),
                payload: Default::default(),
                text: None,
            })
            .collect();
        collection.apply_upsert(objects);
    }
    let build = started.elapsed();
    let after = rss_mib();
    println!(
        "\nin-process build: {:.1} s ({:.0} points/s), resident memory +{:.0} MiB ({:.0} bytes/point; raw vectors are {} bytes/point)",
        build.as_secs_f64(),
        args.points as f64 / build.as_secs_f64(),
        after - before,
        (after - before) * 1024.0 * 1024.0 / args.points as f64,
        args.dimension * 4
    );
    let in_process: Vec<Row> = args
        .efs
        .iter()
        .map(|&ef| {
            measure(ef, queries, truth, |q, ef| {
                collection
                    .search(q, 10, ef, None)
                    .into_iter()
                    .map(|h| h.slot)
                    .collect()
            })
        })
        .collect();
    report("In process (Collection::search, one thread):", &in_process);
    in_process
}

/// Serves the vector service on loopback (the embedded engine, or pgvector with
/// `--database-url`), loads the same data with UpsertObjects and searches one call at a time.
fn through_grpc(
    args: &Args,
    data: &[Vec<f32>],
    queries: &[Vec<f32>],
    truth: &[Vec<usize>],
) -> Vec<Row> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    runtime.block_on(async {
        let data_dir = dir.path().display().to_string();
        let mut flags = vec!["chatmesh-vector", "--data-dir", &data_dir, "--log", "warn"];
        if let Some(url) = &args.database_url {
            flags.extend(["--database-url", url]);
        }
        let config: chatmesh_vector::Config =
            chatmesh_runtime::cli::parse_config(&chatmesh_vector::INFO, flags).unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let shutdown = chatmesh_runtime::CancellationToken::new();
        let server = tokio::spawn(chatmesh_vector::serve_on(config, listener, shutdown.clone()));
        let channel = tonic::transport::Channel::from_shared(format!("http://{addr}")).unwrap().connect().await.unwrap();
        let mut client = VectorServiceClient::new(channel).max_decoding_message_size(64 << 20);
        while client.list_collections(pb::ListCollectionsRequest::default()).await.is_err() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        client
            .create_collection(pb::CreateCollectionRequest {
                name: "bench".into(),
                dimension: args.dimension as i32,
                distance: pb::Distance::Cosine as i32,
                hnsw_config: None,
                embedder: "none".into(),
            })
            .await
            .unwrap();
        let started = Instant::now();
        for (n, chunk) in data.chunks(1000).enumerate() {
            let objects = chunk
                .iter()
                .enumerate()
                .map(|(i, v)| pb::VectorObject { id: format!("p{}", n * 1000 + i), vector: v.clone(), ..Default::default() })
                .collect();
            client.upsert_objects(pb::UpsertObjectsRequest { collection: "bench".into(), objects }).await.unwrap();
        }
        let load = started.elapsed();
        println!(
            "\ngRPC load (UpsertObjects, 1000 per call, fsync per call): {:.1} s ({:.0} points/s), process resident memory {:.0} MiB",
            load.as_secs_f64(),
            args.points as f64 / load.as_secs_f64(),
            rss_mib()
        );
        let mut rows = Vec::new();
        for &ef in &args.efs {
            let mut latencies = Vec::with_capacity(queries.len());
            let mut found = 0;
            let t0 = Instant::now();
            for (query, expected) in queries.iter().zip(truth) {
                let t = Instant::now();
                let response = client
                    .search(pb::SearchRequest {
                        collection: "bench".into(),
                        query: Some(pb::search_request::Query::NearVector(pb::NearVector { vector: query.clone() })),
                        k: 10,
                        ef: Some(ef as i32),
                        ..Default::default()
                    })
                    .await
                    .unwrap()
                    .into_inner();
                latencies.push(t.elapsed());
                let got: Vec<usize> = response.hits.iter().map(|h| h.id[1..].parse().unwrap()).collect();
                found += expected.iter().filter(|e| got.contains(e)).count();
            }
            let total = t0.elapsed();
            latencies.sort();
            rows.push(Row {
                ef,
                recall: found as f64 / (queries.len() * 10) as f64,
                qps: queries.len() as f64 / total.as_secs_f64(),
                p50: percentile(&latencies, 0.5),
                p99: percentile(&latencies, 0.99),
            });
        }
        shutdown.cancel();
        server.await.unwrap().unwrap();
        rows
    })
}

fn main() {
    let args = args();
    println!(
        "vector benchmark: {} points × {} dims (clustered), {} queries, cosine, M=16, ef_construction=200",
        args.points, args.dimension, args.queries
    );
    let data = clustered(args.points, 100, args.dimension, 7);
    let queries = clustered(args.queries, 100, args.dimension, 99);
    let truth: Vec<Vec<usize>> = queries.iter().map(|q| cosine_truth(&data, q)).collect();

    let in_process = in_process(&args, &data, &queries, &truth);
    let rows = through_grpc(&args, &data, &queries, &truth);
    let engine = if args.database_url.is_some() {
        "PostgreSQL + pgvector"
    } else {
        "the embedded engine"
    };
    report(
        &format!("Through gRPC on loopback, {engine} (one client, one call at a time):"),
        &rows,
    );
    println!("\n| ef | gRPC p50 − in-process p50 |\n| --- | --- |");
    for (a, b) in in_process.iter().zip(&rows) {
        println!(
            "| {} | {:.0} µs |",
            a.ef,
            (b.p50.as_secs_f64() - a.p50.as_secs_f64()) * 1e6
        );
    }
}
