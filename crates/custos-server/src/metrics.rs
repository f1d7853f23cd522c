//! Counters exposed on `/metrics` in the Prometheus text format. Labels are route
//! templates and status codes: never ids or values.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Debug, Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(String, String, u16), u64>>,
    /// Request durations in microseconds: sum and count per route.
    durations: Mutex<BTreeMap<String, (u64, u64)>>,
    rate_limited: AtomicU64,
}

impl Metrics {
    pub fn observe(&self, method: &str, route: &str, status: u16, micros: u64) {
        if let Ok(mut m) = self.requests.lock() {
            *m.entry((method.to_owned(), route.to_owned(), status))
                .or_default() += 1;
        }
        if let Ok(mut d) = self.durations.lock() {
            let e = d.entry(route.to_owned()).or_default();
            e.0 += micros;
            e.1 += 1;
        }
    }

    pub fn rate_limited(&self) {
        self.rate_limited.fetch_add(1, Ordering::Relaxed);
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        out.push_str("# HELP custos_http_requests_total HTTP requests by method, route and status.\n# TYPE custos_http_requests_total counter\n");
        if let Ok(m) = self.requests.lock() {
            for ((method, route, status), n) in m.iter() {
                let _ = writeln!(
                    out,
                    "custos_http_requests_total{{method=\"{method}\",route=\"{route}\",status=\"{status}\"}} {n}"
                );
            }
        }
        out.push_str("# HELP custos_http_request_duration_seconds Time spent per route.\n# TYPE custos_http_request_duration_seconds summary\n");
        if let Ok(d) = self.durations.lock() {
            for (route, (sum, count)) in d.iter() {
                let _ = writeln!(
                    out,
                    "custos_http_request_duration_seconds_sum{{route=\"{route}\"}} {}",
                    *sum as f64 / 1e6
                );
                let _ = writeln!(
                    out,
                    "custos_http_request_duration_seconds_count{{route=\"{route}\"}} {count}"
                );
            }
        }
        let _ = writeln!(
            out,
            "# HELP custos_rate_limited_total Requests refused by the rate limiter.\n# TYPE custos_rate_limited_total counter\ncustos_rate_limited_total {}",
            self.rate_limited.load(Ordering::Relaxed)
        );
        out
    }
}
