//! Prometheus metrics: requests by route template, method and status, and
//! a latency histogram per route template. Kept in memory per instance;
//! Prometheus aggregates across replicas.
//!
//! Every label comes from a closed set, so no client can grow the registry:
//! methods are the standard ones or `OTHER`, routes are the templates of
//! the route table or `unmatched`, statuses are three digits.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::time::Duration;

use actix_web::http::Method;

use crate::profile_reads::GatheredCount;
use crate::state::AdmissionState;

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
    requests: BTreeMap<(&'static str, String, u16), u64>,
    latency: BTreeMap<String, Histogram>,
}

#[derive(Default)]
pub struct Metrics {
    inner: Mutex<Inner>,
}

/// Pool and limiter figures included in the exposition.
pub struct PoolState {
    pub connections: u32,
    pub idle: u32,
    pub max_size: u32,
    /// Rate-limit buckets currently tracked.
    pub rate_limit_buckets: usize,
    /// Database hops running and waiting for their turn, and the waits
    /// that ran out (503).
    pub hops: AdmissionState,
    /// Batches of profile reads by id, and the reads they carried.
    pub profile_reads: GatheredCount,
}

/// The label of a request method: the methods of RFC 9110, or `OTHER`.
pub fn method_label(method: &Method) -> &'static str {
    const KNOWN: [(Method, &str); 9] = [
        (Method::GET, "GET"),
        (Method::HEAD, "HEAD"),
        (Method::POST, "POST"),
        (Method::PUT, "PUT"),
        (Method::PATCH, "PATCH"),
        (Method::DELETE, "DELETE"),
        (Method::OPTIONS, "OPTIONS"),
        (Method::CONNECT, "CONNECT"),
        (Method::TRACE, "TRACE"),
    ];
    KNOWN
        .iter()
        .find(|(known, _)| known == method)
        .map_or("OTHER", |(_, label)| label)
}

/// The route label of an unmatched request.
pub const UNMATCHED: &str = "unmatched";

impl Metrics {
    /// Counts a request; `route` is its template (`None`: unmatched).
    pub fn record(&self, method: &Method, route: Option<&str>, status: u16, elapsed: Duration) {
        let Ok(mut inner) = self.inner.lock() else {
            return;
        };
        let route = route.unwrap_or(UNMATCHED);
        *inner
            .requests
            .entry((method_label(method), route.to_owned(), status))
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
             db_pool_max_connections {}\n\
             # HELP rate_limit_buckets Rate-limit buckets tracked by this instance (bounded).\n# TYPE rate_limit_buckets gauge\n\
             rate_limit_buckets {}\n\
             # HELP db_hops Requests' database hops by state (at most the pool size run at once).\n# TYPE db_hops gauge\n\
             db_hops{{state=\"running\"}} {}\ndb_hops{{state=\"waiting\"}} {}\n\
             # HELP db_queue_timeouts_total Requests refused with 503 after waiting their whole queue timeout.\n# TYPE db_queue_timeouts_total counter\n\
             db_queue_timeouts_total {}\n\
             # HELP db_profile_read_batches_total Batches of profile reads by id, each the reads its worker had waiting (one statement each on PostgreSQL).\n# TYPE db_profile_read_batches_total counter\n\
             db_profile_read_batches_total {}\n\
             # HELP db_profile_reads_total Profile reads by id those batches carried.\n# TYPE db_profile_reads_total counter\n\
             db_profile_reads_total {}\n",
            pool.idle,
            pool.max_size,
            pool.rate_limit_buckets,
            pool.hops.running,
            pool.hops.waiting,
            pool.hops.timed_out,
            pool.profile_reads.batches,
            pool.profile_reads.reads
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pool() -> PoolState {
        PoolState {
            connections: 0,
            idle: 0,
            max_size: 1,
            rate_limit_buckets: 0,
            hops: AdmissionState {
                running: 0,
                waiting: 0,
                timed_out: 0,
            },
            profile_reads: GatheredCount {
                batches: 0,
                reads: 0,
            },
        }
    }

    /// 100 000 distinct invented methods add one series, not 100 000.
    #[test]
    fn invented_methods_share_one_label() {
        let metrics = Metrics::default();
        for i in 0..100_000 {
            let method = Method::from_bytes(format!("X{i}").as_bytes()).expect("token");
            metrics.record(&method, None, 405, Duration::from_millis(1));
        }
        metrics.record(&Method::GET, Some("/v1/me"), 200, Duration::from_millis(1));
        let text = metrics.render(&pool());
        let series = text
            .lines()
            .filter(|l| l.starts_with("http_requests_total{"))
            .collect::<Vec<_>>();
        assert_eq!(
            series,
            [
                "http_requests_total{method=\"GET\",route=\"/v1/me\",status=\"200\"} 1",
                "http_requests_total{method=\"OTHER\",route=\"unmatched\",status=\"405\"} 100000",
            ]
        );
    }
}
