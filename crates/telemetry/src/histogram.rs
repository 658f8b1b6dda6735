//! A histogram whose observations are atomic increments.
//!
//! prometheus-client's own histogram takes a lock per observation; on the
//! request path every request observes one, so this one keeps a fixed bucket
//! array of atomics instead and encodes through the same text format.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use prometheus_client::encoding::{EncodeMetric, MetricEncoder, NoLabelSet};
use prometheus_client::metrics::{MetricType, TypedMetric};

/// Latency buckets in seconds: 100 µs to 60 s, dense below 10 ms where a
/// gateway's own overhead lives.
pub const LATENCY_BUCKETS: [f64; 16] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
    10.0, 60.0,
];

#[derive(Debug)]
struct Inner {
    buckets: [AtomicU64; LATENCY_BUCKETS.len()],
    count: AtomicU64,
    /// Sum in nanoseconds, so it can be an integer atomic.
    sum_nanos: AtomicU64,
}

/// A latency histogram; clones share the same counts.
#[derive(Debug, Clone)]
pub struct AtomicHistogram(Arc<Inner>);

impl Default for AtomicHistogram {
    fn default() -> Self {
        AtomicHistogram(Arc::new(Inner {
            buckets: std::array::from_fn(|_| AtomicU64::new(0)),
            count: AtomicU64::new(0),
            sum_nanos: AtomicU64::new(0),
        }))
    }
}

impl AtomicHistogram {
    /// Record one duration.
    pub fn observe(&self, d: std::time::Duration) {
        let secs = d.as_secs_f64();
        if let Some(i) = LATENCY_BUCKETS.iter().position(|b| secs <= *b) {
            self.0.buckets[i].fetch_add(1, Ordering::Relaxed);
        }
        self.0.count.fetch_add(1, Ordering::Relaxed);
        let nanos = u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        self.0.sum_nanos.fetch_add(nanos, Ordering::Relaxed);
    }

    /// Observations so far.
    pub fn count(&self) -> u64 {
        self.0.count.load(Ordering::Relaxed)
    }
}

impl TypedMetric for AtomicHistogram {
    const TYPE: MetricType = MetricType::Histogram;
}

impl EncodeMetric for AtomicHistogram {
    fn encode(&self, mut encoder: MetricEncoder<'_>) -> Result<(), std::fmt::Error> {
        // Per-bucket counts: the encoder accumulates them, and an upper bound
        // of f64::MAX is how it spells `+Inf`.
        let count = self.count();
        let mut in_buckets = 0;
        let mut buckets: Vec<(f64, u64)> = LATENCY_BUCKETS
            .iter()
            .zip(self.0.buckets.iter())
            .map(|(le, n)| {
                let n = n.load(Ordering::Relaxed);
                in_buckets += n;
                (*le, n)
            })
            .collect();
        buckets.push((f64::MAX, count.saturating_sub(in_buckets)));
        let sum = self.0.sum_nanos.load(Ordering::Relaxed) as f64 / 1e9;
        encoder.encode_histogram::<NoLabelSet>(sum, count, &buckets, None)
    }

    fn metric_type(&self) -> MetricType {
        MetricType::Histogram
    }
}
