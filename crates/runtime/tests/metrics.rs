//! `GET /metrics` over a real socket: after known gRPC calls, the page parses as Prometheus text
//! (checked by a strict parser below) and counts exactly those calls, by method and status code,
//! whether the status came in the trailers (a successful unary call) or in the headers (an
//! early error); paths of services the server does not serve count as `unknown`.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;

use chatmesh_runtime::{CancellationToken, GrpcServer, ServerArgs, ServiceInfo};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tonic::transport::Channel;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_client::HealthClient;

const INFO: ServiceInfo = ServiceInfo {
    name: "metrics-test",
    fqn: "chatmesh.test.v1.MetricsService",
    default_port: 0,
    file_descriptor_set: &[],
};

const HEALTH: &str = "grpc.health.v1.Health";

async fn start() -> (SocketAddr, CancellationToken) {
    let server = GrpcServer::new(&INFO, &ServerArgs::for_tests())
        .await
        .unwrap();
    server.health().set_serving().await;
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let shutdown = CancellationToken::new();
    tokio::spawn(server.serve(listener, shutdown.clone()));
    (addr, shutdown)
}

async fn channel(addr: SocketAddr) -> Channel {
    tonic::transport::Endpoint::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect()
        .await
        .unwrap()
}

/// `GET /metrics` over HTTP/1.1, as a Prometheus server scrapes it: (status line, content
/// type, body).
async fn scrape(addr: SocketAddr) -> (String, String, String) {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(b"GET /metrics HTTP/1.1\r\nhost: test\r\nconnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut response = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut response))
        .await
        .expect("the server answers and closes")
        .unwrap();
    let response = String::from_utf8(response).expect("UTF-8");
    let (head, body) = response.split_once("\r\n\r\n").expect("a head and a body");
    let status = head.lines().next().unwrap_or_default().to_owned();
    let content_type = head
        .lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("content-type")
                .then(|| value.trim().to_owned())
        })
        .unwrap_or_default();
    (status, content_type, body.to_owned())
}

#[tokio::test]
async fn metrics_parse_as_prometheus_text_and_count_the_requests_made() {
    let (addr, shutdown) = start().await;
    let channel = channel(addr).await;
    let mut health = HealthClient::new(channel.clone());
    for _ in 0..3 {
        health
            .check(HealthCheckRequest {
                service: INFO.fqn.into(),
            })
            .await
            .expect("SERVING");
    }
    for _ in 0..2 {
        let err = health
            .check(HealthCheckRequest {
                service: "no.such.Service".into(),
            })
            .await
            .unwrap_err();
        assert_eq!(err.code(), tonic::Code::NotFound);
    }
    let mut grpc = tonic::client::Grpc::new(channel);
    grpc.ready().await.unwrap();
    let err = grpc
        .unary::<(), (), _>(
            tonic::Request::new(()),
            "/chatmesh.test.v1.Nope/Missing".parse().unwrap(),
            tonic_prost::ProstCodec::default(),
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), tonic::Code::Unimplemented);

    let (status, content_type, _) = scrape(addr).await;
    assert!(status.starts_with("HTTP/1.1 200"), "{status}");
    assert!(
        content_type.starts_with("text/plain; version=0.0.4"),
        "{content_type}"
    );
    let (_, _, text) = scrape(addr).await;
    let samples = parse(&text).unwrap_or_else(|e| panic!("not Prometheus text: {e}\n{text}"));

    let requests = |service: &str, method: &str, code: &str| {
        value(
            &samples,
            "chatmesh_rpc_requests_total",
            &[("service", service), ("method", method), ("code", code)],
        )
    };
    assert_eq!(requests(HEALTH, "Check", "OK"), Some(3.0), "{text}");
    assert_eq!(requests(HEALTH, "Check", "NOT_FOUND"), Some(2.0), "{text}");
    assert_eq!(
        requests("unknown", "unknown", "UNIMPLEMENTED"),
        Some(1.0),
        "{text}"
    );
    let rpc_total: f64 = samples
        .iter()
        .filter(|s| s.name == "chatmesh_rpc_requests_total")
        .map(|s| s.value)
        .sum();
    assert_eq!(rpc_total, 6.0, "no other gRPC request was counted: {text}");
    // The first scrape was answered before the second one rendered.
    let scrapes = value(
        &samples,
        "chatmesh_http_requests_total",
        &[("class", "2xx")],
    );
    assert_eq!(scrapes, Some(1.0), "{text}");

    check_histograms(&samples, &text);
    shutdown.cancel();
}

/// Every latency histogram: buckets never decrease, `+Inf` equals `_count`, which equals the
/// request counter of the same series.
fn check_histograms(samples: &[Sample], text: &str) {
    let counts: Vec<&Sample> = samples
        .iter()
        .filter(|s| s.name == "chatmesh_rpc_duration_seconds_count")
        .collect();
    assert!(!counts.is_empty(), "no histogram: {text}");
    for count in counts {
        let labels: Vec<(&str, &str)> = count
            .labels
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let mut buckets: Vec<(f64, f64)> = samples
            .iter()
            .filter(|s| s.name == "chatmesh_rpc_duration_seconds_bucket")
            .filter(|s| {
                labels
                    .iter()
                    .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(v))
            })
            .map(|s| {
                (
                    parse_value(&s.labels["le"]).expect("a number in le"),
                    s.value,
                )
            })
            .collect();
        buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
        assert!(buckets.len() > 1, "{labels:?}: no buckets");
        assert!(
            buckets.windows(2).all(|w| w[0].1 <= w[1].1),
            "{labels:?}: buckets are not cumulative: {buckets:?}"
        );
        let last = buckets.last().unwrap();
        assert!(
            last.0.is_infinite(),
            "{labels:?}: the last bucket is not +Inf"
        );
        assert_eq!(last.1, count.value, "{labels:?}: +Inf differs from _count");
        let requests = value(samples, "chatmesh_rpc_requests_total", &labels);
        assert_eq!(requests, Some(count.value), "{labels:?}");
        let sum = value(samples, "chatmesh_rpc_duration_seconds_sum", &labels);
        assert!(sum.is_some_and(|s| s >= 0.0), "{labels:?}: _sum {sum:?}");
    }
}

/// One sample line.
#[derive(Debug)]
struct Sample {
    name: String,
    labels: BTreeMap<String, String>,
    value: f64,
}

/// The value of the sample `name` whose labels are exactly `labels`.
fn value(samples: &[Sample], name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    samples
        .iter()
        .find(|s| {
            s.name == name
                && s.labels.len() == labels.len()
                && labels
                    .iter()
                    .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v))
        })
        .map(|s| s.value)
}

/// A strict reader of the Prometheus text format (version 0.0.4): `# HELP` and `# TYPE` lines,
/// and samples `name{label="value",...} value [timestamp]`. Refuses what a Prometheus server
/// would: bad names, bad escapes, a family without `# TYPE` before its samples, a family
/// declared twice or split into separate groups, duplicate series.
fn parse(text: &str) -> Result<Vec<Sample>, String> {
    let mut types: BTreeMap<String, String> = BTreeMap::new();
    let mut finished: Vec<String> = Vec::new();
    let mut current: Option<String> = None;
    let mut seen = std::collections::BTreeSet::new();
    let mut samples = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let at = |e: String| format!("line {}: {e}: {line}", number + 1);
        if line.trim().is_empty() {
            continue;
        }
        if let Some(comment) = line.strip_prefix('#') {
            let mut words = comment.trim_start().splitn(3, ' ');
            match (words.next(), words.next(), words.next()) {
                (Some("TYPE"), Some(name), Some(kind)) => {
                    check_name(name, true).map_err(at)?;
                    if !["counter", "gauge", "histogram", "summary", "untyped"].contains(&kind) {
                        return Err(at(format!("unknown type {kind}")));
                    }
                    if types.insert(name.to_owned(), kind.to_owned()).is_some() {
                        return Err(at(format!("{name} declared twice")));
                    }
                }
                (Some("HELP"), Some(name), _) => check_name(name, true).map_err(at)?,
                _ => {}
            }
            continue;
        }
        let sample = parse_sample(line).map_err(at)?;
        let family = family_of(&sample.name, &types)
            .ok_or_else(|| at(format!("{} has no # TYPE before it", sample.name)))?;
        if current.as_deref() != Some(family.as_str()) {
            if finished.contains(&family) {
                return Err(at(format!("samples of {family} are not grouped together")));
            }
            if let Some(previous) = current.replace(family.clone()) {
                finished.push(previous);
            }
        }
        if !seen.insert(format!("{}{:?}", sample.name, sample.labels)) {
            return Err(at("duplicate series".into()));
        }
        samples.push(sample);
    }
    Ok(samples)
}

/// The declared family a sample belongs to (histogram samples carry a suffix).
fn family_of(name: &str, types: &BTreeMap<String, String>) -> Option<String> {
    if types.contains_key(name) {
        return Some(name.to_owned());
    }
    ["_bucket", "_sum", "_count"].iter().find_map(|suffix| {
        let base = name.strip_suffix(suffix)?;
        (types.get(base).map(String::as_str) == Some("histogram")).then(|| base.to_owned())
    })
}

fn check_name(name: &str, metric: bool) -> Result<(), String> {
    let mut chars = name.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || (metric && c == ':'));
    let rest_ok = chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || (metric && c == ':'));
    if first_ok && rest_ok {
        Ok(())
    } else {
        Err(format!("bad name '{name}'"))
    }
}

fn parse_sample(line: &str) -> Result<Sample, String> {
    let name_end = line.find(['{', ' ']).ok_or_else(|| "no value".to_owned())?;
    let name = &line[..name_end];
    check_name(name, true)?;
    let mut rest = &line[name_end..];
    let mut labels = BTreeMap::new();
    if let Some(after) = rest.strip_prefix('{') {
        rest = after;
        loop {
            if let Some(after) = rest.strip_prefix('}') {
                rest = after;
                break;
            }
            let eq = rest.find('=').ok_or("label without '='")?;
            let label = &rest[..eq];
            check_name(label, false)?;
            rest = rest[eq + 1..]
                .strip_prefix('"')
                .ok_or("label value not quoted")?;
            let mut value = String::new();
            let mut chars = rest.char_indices();
            let end = loop {
                match chars.next() {
                    Some((i, '"')) => break i,
                    Some((_, '\\')) => match chars.next() {
                        Some((_, '\\')) => value.push('\\'),
                        Some((_, '"')) => value.push('"'),
                        Some((_, 'n')) => value.push('\n'),
                        _ => return Err("bad escape in a label value".into()),
                    },
                    Some((_, c)) => value.push(c),
                    None => return Err("unterminated label value".into()),
                }
            };
            if labels.insert(label.to_owned(), value).is_some() {
                return Err(format!("label {label} twice"));
            }
            rest = &rest[end + 1..];
            rest = rest.strip_prefix(',').unwrap_or(rest);
        }
    }
    let mut fields = rest
        .strip_prefix(' ')
        .ok_or("no space before the value")?
        .split(' ');
    let value = fields
        .next()
        .and_then(parse_value)
        .ok_or("the value is not a number")?;
    if let Some(timestamp) = fields.next() {
        timestamp
            .parse::<i64>()
            .map_err(|_| "the timestamp is not an integer")?;
    }
    if fields.next().is_some() {
        return Err("trailing text".into());
    }
    Ok(Sample {
        name: name.to_owned(),
        labels,
        value,
    })
}

/// A sample value: a Go-style float, or `+Inf`, `-Inf`, `NaN`.
fn parse_value(text: &str) -> Option<f64> {
    match text {
        "+Inf" => Some(f64::INFINITY),
        "-Inf" => Some(f64::NEG_INFINITY),
        "NaN" => Some(f64::NAN),
        _ if text
            .chars()
            .all(|c| c.is_ascii_digit() || "+-.eE".contains(c)) =>
        {
            text.parse().ok()
        }
        _ => None,
    }
}
