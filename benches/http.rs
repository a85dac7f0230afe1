//! The HTTP figures of docs/benchmarks.md: `steward serve` runs as a child
//! process and this load generator, a second process, drives it over
//! loopback with keep-alive connections.
//!
//! `cargo bench --bench http` (`STEWARD_HTTP_SECONDS`, default 5, per run;
//! `STEWARD_HTTP_CONNECTIONS`, default 16, for /v1/decide;
//! `STEWARD_HTTP_BIN`, another `steward` binary to drive, to compare two
//! builds side by side in one sitting). Three runs of each; the median is
//! the figure recorded.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use std::io::BufRead as _;
use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

fn main() {
    let seconds: u64 = std::env::var("STEWARD_HTTP_SECONDS").ok().and_then(|s| s.parse().ok()).unwrap_or(5);
    let connections: usize =
        std::env::var("STEWARD_HTTP_CONNECTIONS").ok().and_then(|s| s.parse().ok()).unwrap_or(16);
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let binary = std::env::var_os("STEWARD_HTTP_BIN").unwrap_or_else(|| env!("CARGO_BIN_EXE_steward").into());
    let mut server = std::process::Command::new(binary)
        .args(["serve", "--listen", "127.0.0.1:0", "--no-watch", "--max-batch", "1000", "--policy"])
        .arg(root.join("policies/crm"))
        .arg("--directory")
        .arg(root.join("examples/crm.yaml"))
        .env_remove("STEWARD_TOKEN")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("steward serve starts");
    let mut notices = std::io::BufReader::new(server.stderr.take().unwrap()).lines();
    let addr: SocketAddr = notices.next().unwrap().unwrap().rsplit(' ').next().unwrap().parse().unwrap();

    // A confirmed block with a reason, allowed (C2, C4), with its impact:
    // the verdict every admin tool asks for before it blocks someone.
    let one = r#"{"actor":"crm.Ada","action":"block","env":"CRM1","target":"crm.Uma","reason":"left","confirm":true,"now":"2026-11-23T09:00:00Z"}"#;
    let batch = format!("{{\"requests\":[{}]}}", vec![one; 1000].join(","));

    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let duration = Duration::from_secs(seconds);
    println!("POST /v1/decide, {connections} connections, {seconds} s per run");
    let mut singles = Vec::new();
    for run in 1..=3 {
        let r = runtime.block_on(load(addr, "/v1/decide", one, connections, duration, 1));
        println!(
            "  run {run}: {:>9.0} decisions/s, p50 {:.2} ms, p99 {:.2} ms, p99.9 {:.2} ms",
            r.rate, r.p50, r.p99, r.p999
        );
        singles.push(r);
    }
    println!("POST /v1/decide/batch, 1,000 requests per call, 2 connections, {seconds} s per run");
    let mut batches = Vec::new();
    for run in 1..=3 {
        let r = runtime.block_on(load(addr, "/v1/decide/batch", &batch, 2, duration, 1000));
        println!(
            "  run {run}: {:>9.0} decisions/s, p50 {:.2} ms, p99 {:.2} ms per call",
            r.rate, r.p50, r.p99
        );
        batches.push(r);
    }
    let median = |runs: &mut Vec<Run>| {
        runs.sort_by(|a, b| a.rate.total_cmp(&b.rate));
        runs[1]
    };
    let (s, b) = (median(&mut singles), median(&mut batches));
    println!("median /v1/decide: {:.0} decisions/s, p99 {:.2} ms", s.rate, s.p99);
    println!("median /v1/decide/batch: {:.0} decisions/s, p99 {:.2} ms per call", b.rate, b.p99);
    let _ = std::process::Command::new("kill").args(["-TERM", &server.id().to_string()]).status();
    let _ = server.wait();
}

/// One run's figures; latencies in milliseconds.
#[derive(Debug, Clone, Copy)]
struct Run {
    rate: f64,
    p50: f64,
    p99: f64,
    p999: f64,
}

/// Sends `body` to `path` on `connections` keep-alive connections, each
/// waiting for its answer before the next call, for `duration`.
async fn load(
    addr: SocketAddr,
    path: &str,
    body: &str,
    connections: usize,
    duration: Duration,
    per_call: usize,
) -> Run {
    let message = format!(
        "POST {path} HTTP/1.1\r\nhost: bench\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes();
    let message: &'static [u8] = Box::leak(message.into_boxed_slice());
    let start = Instant::now();
    let tasks: Vec<_> = (0..connections)
        .map(|_| {
            tokio::spawn(async move {
                let mut stream = TcpStream::connect(addr).await.unwrap();
                stream.set_nodelay(true).unwrap();
                let mut buffer = Vec::with_capacity(1 << 20);
                let mut latencies = Vec::new();
                while start.elapsed() < duration {
                    let sent = Instant::now();
                    stream.write_all(message).await.unwrap();
                    read_response(&mut stream, &mut buffer).await;
                    latencies.push(sent.elapsed());
                }
                latencies
            })
        })
        .collect();
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await.unwrap());
    }
    let elapsed = start.elapsed().as_secs_f64();
    latencies.sort();
    let at = |q: f64| latencies[((latencies.len() as f64 - 1.0) * q) as usize].as_secs_f64() * 1000.0;
    Run { rate: (latencies.len() * per_call) as f64 / elapsed, p50: at(0.5), p99: at(0.99), p999: at(0.999) }
}

/// Reads one response (status 200 expected) whose length the header gives.
/// Reads go straight into the buffer's spare capacity: a generator that
/// zeroes or copies a chunk per read takes CPU the server shares.
async fn read_response(stream: &mut TcpStream, buffer: &mut Vec<u8>) {
    buffer.clear();
    let (head_end, length) = loop {
        let n = stream.read_buf(buffer).await.unwrap();
        assert!(n > 0, "the server closed the connection");
        if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = std::str::from_utf8(&buffer[..end]).unwrap();
            assert!(head.starts_with("HTTP/1.1 200"), "{head}");
            let length = head
                .lines()
                .find_map(|l| {
                    let (k, v) = l.split_once(':')?;
                    k.eq_ignore_ascii_case("content-length").then(|| v.trim().parse::<usize>().ok())?
                })
                .expect("a content-length");
            break (end + 4, length);
        }
    };
    while buffer.len() < head_end + length {
        buffer.reserve(head_end + length - buffer.len());
        let n = stream.read_buf(buffer).await.unwrap();
        assert!(n > 0, "the server closed the connection");
    }
}
