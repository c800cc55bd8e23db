//! A load generator for the booking benchmark (`bench/bookings`): fires `PUT
//! /api/v1/slots/{slot}/booking`, one request per line of a plan (`<slot id> <candidate token>`),
//! from a fixed number of concurrent connections, and prints one JSON line: requests, seconds,
//! requests per second, answers by status, latency percentiles.
//!
//!   cargo run --release -p jobtour-tests --example seat_load -- <base url> <concurrency> <plan file>
#![allow(clippy::unwrap_used, clippy::expect_used)] // a benchmark tool: failing loudly is the point

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, base, concurrency, plan] = args.as_slice() else {
        eprintln!("usage: seat_load <base url> <concurrency> <plan file>");
        std::process::exit(2);
    };
    let concurrency: usize = concurrency.parse().expect("concurrency");
    let plan: Arc<Vec<(String, String)>> = Arc::new(
        std::fs::read_to_string(plan)
            .expect("plan file")
            .lines()
            .filter_map(|l| l.split_once(' ').map(|(s, t)| (s.to_owned(), t.to_owned())))
            .collect(),
    );
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency)
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let workers: Vec<_> = (0..concurrency)
        .map(|_| {
            let (client, plan, next, base) = (client.clone(), plan.clone(), next.clone(), base.clone());
            tokio::spawn(async move {
                let mut seen = Vec::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some((slot, token)) = plan.get(i) else { break };
                    let t = Instant::now();
                    let status = match client
                        .put(format!("{base}/api/v1/slots/{slot}/booking"))
                        .bearer_auth(token)
                        .send()
                        .await
                    {
                        Ok(res) => {
                            let status = res.status().as_u16();
                            let _ = res.bytes().await;
                            status
                        }
                        Err(_) => 0,
                    };
                    seen.push((status, t.elapsed()));
                }
                seen
            })
        })
        .collect();
    let mut all = Vec::with_capacity(plan.len());
    for w in workers {
        all.extend(w.await.unwrap());
    }
    let seconds = started.elapsed().as_secs_f64();
    let mut statuses: BTreeMap<String, usize> = BTreeMap::new();
    for (status, _) in &all {
        *statuses.entry(status.to_string()).or_default() += 1;
    }
    let mut latencies: Vec<Duration> = all.iter().map(|(_, d)| *d).collect();
    latencies.sort();
    let pct = |p: f64| {
        latencies
            .get(((latencies.len() as f64 * p) as usize).min(latencies.len().saturating_sub(1)))
            .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    };
    println!(
        "{}",
        serde_json::json!({
            "requests": all.len(),
            "seconds": (seconds * 1000.0).round() / 1000.0,
            "requests_per_second": (all.len() as f64 / seconds).round(),
            "statuses": statuses,
            "p50_ms": (pct(0.50) * 10.0).round() / 10.0,
            "p99_ms": (pct(0.99) * 10.0).round() / 10.0,
        })
    );
}
