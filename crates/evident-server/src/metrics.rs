//! `/metrics`: counters kept in plain atomics, written in the Prometheus text exposition
//! format (version 0.0.4).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::platform::Platform;

/// The content type of the exposition format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// What became of a webhook delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// It reached a configured endpoint.
    Received,
    /// Stored as a new entry.
    Accepted,
    /// Already stored: acknowledged, not stored again.
    Duplicate,
    /// Refused: a bad credential, body, size or media type.
    Rejected,
    /// Authentic and valid, but the store could not take it (503).
    Failed,
}

const OUTCOMES: [Outcome; 5] = [
    Outcome::Received,
    Outcome::Accepted,
    Outcome::Duplicate,
    Outcome::Rejected,
    Outcome::Failed,
];

impl Outcome {
    fn as_str(self) -> &'static str {
        match self {
            Outcome::Received => "received",
            Outcome::Accepted => "accepted",
            Outcome::Duplicate => "duplicate",
            Outcome::Rejected => "rejected",
            Outcome::Failed => "failed",
        }
    }
}

const PLATFORMS: [Platform; 4] = [
    Platform::GitHub,
    Platform::GitLab,
    Platform::ArgoCd,
    Platform::Falco,
];

fn platform_index(p: Platform) -> usize {
    match p {
        Platform::GitHub => 0,
        Platform::GitLab => 1,
        Platform::ArgoCd => 2,
        Platform::Falco => 3,
    }
}

/// Where ingested evidence came from: a webhook platform, or the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Webhook(Platform),
    Api,
}

impl Source {
    fn index(self) -> usize {
        match self {
            Source::Webhook(p) => platform_index(p),
            Source::Api => PLATFORMS.len(),
        }
    }

    fn name(i: usize) -> &'static str {
        PLATFORMS.get(i).map_or("api", |p| p.as_str())
    }
}

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

#[derive(Default)]
struct Histogram {
    /// Non-cumulative counts per bucket; the last one is `+Inf`.
    buckets: [AtomicU64; BUCKETS.len() + 1],
    count: AtomicU64,
    sum_nanos: AtomicU64,
}

impl Histogram {
    fn observe(&self, d: Duration) {
        let secs = d.as_secs_f64();
        let i = BUCKETS
            .iter()
            .position(|&b| secs <= b)
            .unwrap_or(BUCKETS.len());
        self.buckets[i].fetch_add(1, Ordering::Relaxed);
        self.count.fetch_add(1, Ordering::Relaxed);
        let nanos = u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        self.sum_nanos.fetch_add(nanos, Ordering::Relaxed);
    }
}

/// The server's counters.
#[derive(Default)]
pub struct Metrics {
    deliveries: [[AtomicU64; OUTCOMES.len()]; PLATFORMS.len()],
    ingest: [Histogram; PLATFORMS.len() + 1],
    api_auth_failures: AtomicU64,
    /// Requests by (route, method, status). A handful of series: a map behind a mutex held
    /// for one increment.
    requests: Mutex<BTreeMap<(String, String, u16), u64>>,
}

/// Gauges read when scraped.
pub struct Gauges {
    /// Appends waiting for the writer.
    pub queue_depth: usize,
    /// Entries appended since the server started.
    pub appended: u64,
    /// Entries in the log.
    pub log_size: u64,
    /// Whether the writer can append.
    pub writer_up: bool,
    /// Gate decisions in the log, by (environment, decision).
    pub gate_decisions: BTreeMap<(String, String), u64>,
}

/// A label value in the exposition format: backslash, double quote and newline escaped.
fn label_value(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

impl Metrics {
    /// Counts a delivery outcome.
    pub fn delivery(&self, platform: Platform, outcome: Outcome) {
        let o = OUTCOMES.iter().position(|x| *x == outcome).unwrap_or(0);
        self.deliveries[platform_index(platform)][o].fetch_add(1, Ordering::Relaxed);
    }

    /// Records how long an ingest took, up to its durable acknowledgement.
    pub fn ingest(&self, source: Source, took: Duration) {
        self.ingest[source.index()].observe(took);
    }

    /// Counts a refused API credential.
    pub fn api_auth_failure(&self) {
        self.api_auth_failures.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts an answered request.
    pub fn request(&self, route: &str, method: &str, status: u16) {
        let mut map = self
            .requests
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *map.entry((route.to_owned(), method.to_owned(), status))
            .or_insert(0) += 1;
    }

    /// The exposition text.
    pub fn render(&self, gauges: &Gauges) -> String {
        let mut out = String::with_capacity(4096);
        header(
            &mut out,
            "evident_gate_decisions",
            "gauge",
            "Gate decisions recorded in the ledger, by environment and decision (pass, block).",
        );
        for ((environment, decision), n) in &gauges.gate_decisions {
            let _ = writeln!(
                out,
                "evident_gate_decisions{{environment=\"{}\",decision=\"{}\"}} {n}",
                label_value(environment),
                label_value(decision)
            );
        }
        header(
            &mut out,
            "evident_webhook_deliveries_total",
            "counter",
            "Webhook deliveries by platform and outcome (received = reached a configured endpoint).",
        );
        for (p, platform) in PLATFORMS.iter().enumerate() {
            for (o, outcome) in OUTCOMES.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "evident_webhook_deliveries_total{{platform=\"{}\",outcome=\"{}\"}} {}",
                    platform.as_str(),
                    outcome.as_str(),
                    self.deliveries[p][o].load(Ordering::Relaxed)
                );
            }
        }
        header(
            &mut out,
            "evident_ingest_duration_seconds",
            "histogram",
            "Time from a request's arrival to its durable acknowledgement, by source.",
        );
        for (i, h) in self.ingest.iter().enumerate() {
            let source = Source::name(i);
            let mut cumulative = 0u64;
            for (b, bound) in BUCKETS.iter().enumerate() {
                cumulative += h.buckets[b].load(Ordering::Relaxed);
                let _ = writeln!(
                    out,
                    "evident_ingest_duration_seconds_bucket{{source=\"{source}\",le=\"{bound}\"}} {cumulative}"
                );
            }
            cumulative += h.buckets[BUCKETS.len()].load(Ordering::Relaxed);
            let _ = writeln!(
                out,
                "evident_ingest_duration_seconds_bucket{{source=\"{source}\",le=\"+Inf\"}} {cumulative}"
            );
            let sum = h.sum_nanos.load(Ordering::Relaxed) as f64 / 1e9;
            let _ = writeln!(
                out,
                "evident_ingest_duration_seconds_sum{{source=\"{source}\"}} {sum}"
            );
            let _ = writeln!(
                out,
                "evident_ingest_duration_seconds_count{{source=\"{source}\"}} {}",
                h.count.load(Ordering::Relaxed)
            );
        }
        for (name, kind, help, value) in [
            (
                "evident_writer_queue_depth",
                "gauge",
                "Appends waiting for the writer thread.",
                gauges.queue_depth as u64,
            ),
            (
                "evident_writer_up",
                "gauge",
                "1 while the writer holds the store and can append.",
                u64::from(gauges.writer_up),
            ),
            (
                "evident_ledger_appended_entries_total",
                "counter",
                "Entries appended to the ledger by this server.",
                gauges.appended,
            ),
            (
                "evident_ledger_entries",
                "gauge",
                "Entries in the ledger.",
                gauges.log_size,
            ),
            (
                "evident_api_auth_failures_total",
                "counter",
                "API requests refused for a missing, malformed, unknown, revoked or expired token.",
                self.api_auth_failures.load(Ordering::Relaxed),
            ),
        ] {
            header(&mut out, name, kind, help);
            let _ = writeln!(out, "{name} {value}");
        }
        header(
            &mut out,
            "evident_http_requests_total",
            "counter",
            "Answered HTTP requests by route, method and status.",
        );
        let map = self
            .requests
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for ((route, method, status), n) in map.iter() {
            let _ = writeln!(
                out,
                "evident_http_requests_total{{route=\"{}\",method=\"{}\",status=\"{status}\"}} {n}",
                escape(route),
                escape(method)
            );
        }
        out
    }
}

fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

/// A label value: backslash, double quote and newline escaped.
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_histograms_and_gauges() {
        let m = Metrics::default();
        m.delivery(Platform::GitHub, Outcome::Received);
        m.delivery(Platform::GitHub, Outcome::Accepted);
        m.ingest(Source::Webhook(Platform::GitHub), Duration::from_millis(3));
        m.ingest(Source::Api, Duration::from_secs(20));
        m.request("/api/v1/evidence/{seq}", "GET", 200);
        m.request("/api/v1/evidence/{seq}", "GET", 200);
        let text = m.render(&Gauges {
            queue_depth: 2,
            appended: 5,
            gate_decisions: BTreeMap::from([
                (("prod".to_owned(), "pass".to_owned()), 2),
                (("a\"b\\c\nd".to_owned(), "block".to_owned()), 1),
            ]),
            log_size: 9,
            writer_up: true,
        });
        assert!(text.contains(
            "evident_webhook_deliveries_total{platform=\"github\",outcome=\"accepted\"} 1\n"
        ));
        assert!(text.contains(
            "evident_ingest_duration_seconds_bucket{source=\"github\",le=\"0.0025\"} 0\n"
        ));
        assert!(text.contains(
            "evident_ingest_duration_seconds_bucket{source=\"github\",le=\"0.005\"} 1\n"
        ));
        assert!(
            text.contains("evident_ingest_duration_seconds_bucket{source=\"api\",le=\"10\"} 0\n")
        );
        assert!(
            text.contains("evident_ingest_duration_seconds_bucket{source=\"api\",le=\"+Inf\"} 1\n")
        );
        assert!(text.contains("evident_ingest_duration_seconds_count{source=\"github\"} 1\n"));
        assert!(text.contains("evident_writer_queue_depth 2\n"));
        assert!(text.contains("evident_ledger_appended_entries_total 5\n"));
        assert!(
            text.contains("evident_gate_decisions{environment=\"prod\",decision=\"pass\"} 2\n")
        );
        assert!(text.contains(
            "evident_gate_decisions{environment=\"a\\\"b\\\\c\\nd\",decision=\"block\"} 1\n"
        ));
        assert!(text.contains(
            "evident_http_requests_total{route=\"/api/v1/evidence/{seq}\",method=\"GET\",status=\"200\"} 2\n"
        ));
        // Every sample line belongs to a declared metric.
        let declared: Vec<&str> = text
            .lines()
            .filter_map(|l| l.strip_prefix("# TYPE "))
            .filter_map(|l| l.split(' ').next())
            .collect();
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            let name = line.split(['{', ' ']).next().unwrap();
            assert!(
                declared.iter().any(|d| name.starts_with(d)),
                "{line} is not declared"
            );
        }
        assert_eq!(escape("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
