//! Pool-level tests, by topic; shared builders and helpers live here.
//! Time-dependent tests run on paused time.

mod balance;
mod health;
mod pool;

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier, Mutex};
use std::time::Duration;

use sy_config::{
    ActiveHealthSpec, BalanceSpec, CircuitBreakerSpec, DurationSpec, HashOnSpec, HealthCheckSpec,
    PassiveHealthSpec, RetrySpec, TargetSpec, TimeoutsSpec, UpstreamSpec,
};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::*;

const MS: Duration = Duration::from_millis(1);

fn spec(balance: BalanceSpec, targets: &[(&str, u32)]) -> UpstreamSpec {
    UpstreamSpec {
        name: "api".into(),
        targets: targets
            .iter()
            .map(|(url, weight)| TargetSpec {
                url: (*url).into(),
                weight: *weight,
            })
            .collect(),
        balance,
        hash_on: (balance == BalanceSpec::ConsistentHash).then_some(HashOnSpec::ClientIp),
        health_check: HealthCheckSpec::default(),
        circuit_breaker: None,
        timeouts: TimeoutsSpec::default(),
        retries: None,
        http2: false,
        tls: None,
        max_idle_per_target: 8,
    }
}

fn urls(n: usize) -> Vec<(String, u32)> {
    (0..n)
        .map(|i| (format!("http://10.0.0.{i}:8080"), 1))
        .collect()
}

fn pool_of(balance: BalanceSpec, targets: &[(String, u32)]) -> Pool {
    let refs: Vec<(&str, u32)> = targets.iter().map(|(u, w)| (u.as_str(), *w)).collect();
    Pool::from_spec(&spec(balance, &refs)).unwrap()
}

fn pick(pool: &Pool) -> usize {
    pool.select(&SelectInput::default()).unwrap().index
}

fn reason(pool: &Pool, input: &SelectInput<'_>) -> NoTargetReason {
    pool.select(input).unwrap_err().reason
}

fn ok(latency: Duration) -> Outcome {
    Outcome::Success {
        latency,
        status: 200,
    }
}

fn fail() -> Outcome {
    Outcome::Failure {
        kind: FailureKind::Connect,
    }
}

/// Select, start and finish one attempt on whatever the pool picks.
fn run_one(pool: &Pool, outcome: Outcome) -> usize {
    let selected = pool.select(&SelectInput::default()).unwrap();
    let index = selected.index;
    selected.start().finish(outcome);
    index
}

/// Fail `n` attempts on target `index` (excluding every other target).
fn fail_target(pool: &Pool, index: usize, n: usize) {
    let others: Vec<usize> = (0..pool.targets().len()).filter(|i| *i != index).collect();
    for _ in 0..n {
        let s = pool
            .select(&SelectInput {
                hash_key: None,
                exclude: &others,
            })
            .unwrap();
        assert_eq!(s.index, index);
        s.start().finish(fail());
    }
}

/// Round robin over `n` targets ejected after 3 failures for 10 s, doubling up to 30 s.
fn passive_pool(n: usize) -> Pool {
    let targets = urls(n);
    let mut s = spec(BalanceSpec::RoundRobin, &[]);
    s.targets = targets
        .iter()
        .map(|(u, w)| TargetSpec {
            url: u.clone(),
            weight: *w,
        })
        .collect();
    s.health_check.passive = Some(PassiveHealthSpec {
        consecutive_failures: 3,
        ejection_time: DurationSpec::from_secs(10),
        max_ejection_time: DurationSpec::from_secs(30),
    });
    Pool::from_spec(&s).unwrap()
}
