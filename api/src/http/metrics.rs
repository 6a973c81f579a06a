//! Prometheus metrics: requests by route template, method and status, and
//! a latency histogram per route template. Kept in memory per instance;
//! Prometheus aggregates across replicas.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::time::Duration;

const BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
];

#[derive(Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

#[derive(Default)]
struct Inner {
    requests: BTreeMap<(String, String, u16), u64>,
    latency: BTreeMap<String, Histogram>,
}

#[derive(Default)]
pub struct Metrics {
    inner: Mutex<Inner>,
}

/// Pool figures included in the exposition.
pub struct PoolState {
    pub connections: u32,
    pub idle: u32,
    pub max_size: u32,
}

impl Metrics {
    pub fn record(&self, method: &str, route: &str, status: u16, elapsed: Duration) {
        let Ok(mut inner) = self.inner.lock() else {
            return;
        };
        *inner
            .requests
            .entry((method.to_owned(), route.to_owned(), status))
            .or_default() += 1;
        let seconds = elapsed.as_secs_f64();
        let histogram = inner.latency.entry(route.to_owned()).or_default();
        for (count, bound) in histogram.counts.iter_mut().zip(BUCKETS) {
            if seconds <= bound {
                *count += 1;
            }
        }
        histogram.count += 1;
        histogram.sum += seconds;
    }

    /// The text exposition format.
    pub fn render(&self, pool: &PoolState) -> String {
        let mut out = String::new();
        if let Ok(inner) = self.inner.lock() {
            out.push_str("# HELP http_requests_total HTTP requests by method, route template and status.\n# TYPE http_requests_total counter\n");
            for ((method, route, status), n) in &inner.requests {
                let _ = writeln!(
                    out,
                    "http_requests_total{{method=\"{method}\",route=\"{route}\",status=\"{status}\"}} {n}"
                );
            }
            out.push_str("# HELP http_request_duration_seconds Request latency by route template.\n# TYPE http_request_duration_seconds histogram\n");
            for (route, h) in &inner.latency {
                for (bound, count) in BUCKETS.iter().zip(h.counts) {
                    let _ = writeln!(
                        out,
                        "http_request_duration_seconds_bucket{{route=\"{route}\",le=\"{bound}\"}} {count}"
                    );
                }
                let _ = writeln!(
                    out,
                    "http_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {}\nhttp_request_duration_seconds_sum{{route=\"{route}\"}} {}\nhttp_request_duration_seconds_count{{route=\"{route}\"}} {}",
                    h.count, h.sum, h.count
                );
            }
        }
        let in_use = pool.connections.saturating_sub(pool.idle);
        let _ = write!(
            out,
            "# HELP db_pool_connections Database pool connections by state.\n# TYPE db_pool_connections gauge\n\
             db_pool_connections{{state=\"idle\"}} {}\ndb_pool_connections{{state=\"in_use\"}} {in_use}\n\
             # HELP db_pool_max_connections Configured pool size.\n# TYPE db_pool_max_connections gauge\n\
             db_pool_max_connections {}\n",
            pool.idle, pool.max_size
        );
        out
    }
}
