//! Empty selections, building from a spec, reuse and the retry budget.

use super::*;

#[tokio::test(start_paused = true)]
async fn no_target_reasons() {
    let drained = pool_of(
        BalanceSpec::Weighted,
        &[("http://a:1".into(), 0), ("http://b:1".into(), 0)],
    );
    assert_eq!(
        reason(&drained, &SelectInput::default()),
        NoTargetReason::Drained
    );

    let pool = passive_pool(2);
    assert_eq!(
        reason(
            &pool,
            &SelectInput {
                hash_key: None,
                exclude: &[0, 1]
            }
        ),
        NoTargetReason::AllTried
    );
    fail_target(&pool, 0, 3);
    assert_eq!(
        reason(
            &pool,
            &SelectInput {
                hash_key: None,
                exclude: &[1]
            }
        ),
        NoTargetReason::Unhealthy
    );

    let half_drained = pool_of(
        BalanceSpec::LeastConnections,
        &[("http://a:1".into(), 0), ("http://b:1".into(), 1)],
    );
    assert!((0..5).all(|_| pick(&half_drained) == 1));
    assert_eq!(
        reason(
            &half_drained,
            &SelectInput {
                hash_key: None,
                exclude: &[1]
            }
        ),
        NoTargetReason::AllTried
    );

    for balance in [
        BalanceSpec::RoundRobin,
        BalanceSpec::Weighted,
        BalanceSpec::LeastConnections,
        BalanceSpec::ConsistentHash,
        BalanceSpec::PeakEwma,
    ] {
        let pool = pool_of(balance, &urls(3));
        let s = pool
            .select(&SelectInput {
                hash_key: Some(b"k"),
                exclude: &[0, 2],
            })
            .unwrap();
        assert_eq!(s.index, 1, "{balance:?}");
        assert_eq!(
            reason(
                &pool,
                &SelectInput {
                    hash_key: Some(b"k"),
                    exclude: &[0, 1, 2]
                }
            ),
            NoTargetReason::AllTried
        );
    }
}

// ---- building ----

#[test]
fn from_spec_reports_every_error() {
    let mut s = spec(
        BalanceSpec::ConsistentHash,
        &[
            ("http://a/x", 1),
            ("ftp://b", 1),
            ("http://c", 1),
            ("http://c:80", 1),
        ],
    );
    s.hash_on = None;
    s.circuit_breaker = Some(CircuitBreakerSpec {
        failure_threshold: 0,
        open_for: DurationSpec::from_secs(1),
        half_open_requests: 1,
    });
    s.retries = Some(RetrySpec {
        attempts: 2,
        on_statuses: vec![503],
        on_connect_error: true,
        retry_non_idempotent: false,
        backoff_base: DurationSpec::from_secs(2),
        backoff_max: DurationSpec::from_secs(1),
        budget_ratio: f64::NAN,
        budget_min_per_sec: 1,
    });
    let errors = Pool::from_spec(&s).unwrap_err();
    assert_eq!(errors.len(), 7, "{errors:#?}");
    assert!(errors.iter().all(|e| e.starts_with("upstream `api`: ")));
    for needle in [
        "targets[0].url",
        "targets[1].url",
        "targets[3].url: `http://c:80` is listed twice",
        "hash_on",
        "failure_threshold",
        "budget_ratio",
        "backoff_max",
    ] {
        assert!(
            errors.iter().any(|e| e.contains(needle)),
            "{needle}: {errors:#?}"
        );
    }
    let empty = spec(BalanceSpec::Weighted, &[]);
    assert_eq!(
        Pool::from_spec(&empty).unwrap_err(),
        ["upstream `api`: targets: at least one target is needed"]
    );
}

#[tokio::test(start_paused = true)]
async fn reload_reuses_the_pool_and_its_state_when_the_spec_is_unchanged() {
    let s = spec(BalanceSpec::RoundRobin, &[("http://a:1", 1)]);
    let (pool, fresh) = Pool::reuse_or_build(None, &s).unwrap();
    assert!(fresh);
    let _held = pool.select(&SelectInput::default()).unwrap().start();
    let (again, fresh) = Pool::reuse_or_build(Some(&pool), &s).unwrap();
    assert!(!fresh && Arc::ptr_eq(&pool, &again));
    assert_eq!(again.targets()[0].in_flight(), 1);
    let mut changed = s.clone();
    changed.targets[0].weight = 2;
    let (other, fresh) = Pool::reuse_or_build(Some(&pool), &changed).unwrap();
    assert!(fresh && !Arc::ptr_eq(&pool, &other));
    assert_eq!(other.targets()[0].in_flight(), 0);
}

#[tokio::test(start_paused = true)]
async fn retry_budget_comes_from_the_spec() {
    let mut s = spec(BalanceSpec::RoundRobin, &[("http://a:1", 1)]);
    assert!(Pool::from_spec(&s).unwrap().retry_budget().is_none());
    s.retries = Some(RetrySpec {
        attempts: 2,
        on_statuses: vec![503],
        on_connect_error: true,
        retry_non_idempotent: false,
        backoff_base: DurationSpec::from_millis(25),
        backoff_max: DurationSpec::from_secs(1),
        budget_ratio: 0.5,
        budget_min_per_sec: 0,
    });
    let pool = Pool::from_spec(&s).unwrap();
    let budget = pool.retry_budget().unwrap();
    for _ in 0..10 {
        budget.deposit();
    }
    assert_eq!((0..20).filter(|_| budget.try_withdraw()).count(), 5);
}
