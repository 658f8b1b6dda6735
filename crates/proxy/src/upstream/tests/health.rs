//! Attempts, passive health, the circuit breaker and active health checks.

use super::*;

#[tokio::test(start_paused = true)]
async fn dropped_guard_counts_as_cancelled() {
    let mut s = spec(BalanceSpec::RoundRobin, &[("http://a:1", 1)]);
    s.health_check.passive = Some(PassiveHealthSpec {
        consecutive_failures: 1,
        ejection_time: DurationSpec::from_secs(10),
        max_ejection_time: DurationSpec::from_secs(10),
    });
    let pool = Pool::from_spec(&s).unwrap();
    let guard = pool.select(&SelectInput::default()).unwrap().start();
    assert_eq!(pool.targets()[0].in_flight(), 1);
    drop(guard);
    assert_eq!(pool.targets()[0].in_flight(), 0);
    // No failure was recorded: still selectable.
    assert!(pool.select(&SelectInput::default()).is_ok());
    assert!(
        Outcome::Success {
            latency: MS,
            status: 503
        }
        .is_failure()
    );
    assert!(
        !Outcome::Success {
            latency: MS,
            status: 404
        }
        .is_failure()
    );
}

// ---- passive health ----

#[tokio::test(start_paused = true)]
async fn ejection_grows_and_recovers() {
    let pool = passive_pool(2);
    let events = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&events);
    assert!(pool.set_event_listener(Arc::new(move |t: &Target, e| {
        seen.lock().unwrap().push((t.index(), e))
    })));

    // A success in between resets the streak.
    fail_target(&pool, 0, 2);
    let s = pool
        .select(&SelectInput {
            hash_key: None,
            exclude: &[1],
        })
        .unwrap();
    s.start().finish(ok(MS));
    fail_target(&pool, 0, 2);
    assert!(!pool.targets()[0].is_ejected());
    let s = pool
        .select(&SelectInput {
            hash_key: None,
            exclude: &[1],
        })
        .unwrap();
    s.start().finish(ok(MS));

    for secs in [10, 20, 30, 30] {
        fail_target(&pool, 0, 3);
        assert!(pool.targets()[0].is_ejected());
        assert!((0..10).all(|_| pick(&pool) == 1));
        tokio::time::advance(Duration::from_secs(secs) - MS).await;
        assert_eq!(pick(&pool), 1);
        assert_eq!(pick(&pool), 1);
        tokio::time::advance(MS).await;
        assert!(!pool.targets()[0].is_ejected());
        assert!((0..4).any(|_| pick(&pool) == 0), "back after {secs}s");
    }
    let ejections: Vec<TargetEvent> = events.lock().unwrap().iter().map(|(_, e)| *e).collect();
    assert_eq!(
        ejections,
        [10, 20, 30, 30].map(|s| TargetEvent::Ejected {
            duration: Duration::from_secs(s)
        })
    );
}

// ---- circuit breaker ----

fn breaker_pool(n: usize, half_open: u32) -> Pool {
    let targets = urls(n);
    let mut s = spec(BalanceSpec::RoundRobin, &[]);
    s.targets = targets
        .iter()
        .map(|(u, w)| TargetSpec {
            url: u.clone(),
            weight: *w,
        })
        .collect();
    s.circuit_breaker = Some(CircuitBreakerSpec {
        failure_threshold: 3,
        open_for: DurationSpec::from_secs(30),
        half_open_requests: half_open,
    });
    Pool::from_spec(&s).unwrap()
}

#[tokio::test(start_paused = true)]
async fn breaker_closed_open_half_open_closed() {
    let pool = breaker_pool(1, 2);
    let t = Arc::clone(&pool.targets()[0]);
    assert_eq!(t.breaker_state(), BreakerState::Closed);
    for _ in 0..3 {
        run_one(&pool, fail());
    }
    assert_eq!(t.breaker_state(), BreakerState::Open);
    assert_eq!(
        reason(&pool, &SelectInput::default()),
        NoTargetReason::CircuitOpen
    );
    assert_eq!(
        pool.select(&SelectInput::default())
            .unwrap_err()
            .to_string(),
        "circuit open for every target in upstream api"
    );

    tokio::time::advance(Duration::from_secs(30)).await;
    let p1 = pool.select(&SelectInput::default()).unwrap().start();
    let p2 = pool.select(&SelectInput::default()).unwrap().start();
    assert!(p1.is_probe() && p2.is_probe());
    assert_eq!(t.breaker_state(), BreakerState::HalfOpen);
    assert_eq!(
        reason(&pool, &SelectInput::default()),
        NoTargetReason::CircuitOpen
    );
    p1.finish(ok(MS));
    assert_eq!(t.breaker_state(), BreakerState::HalfOpen);
    p2.finish(ok(MS));
    assert_eq!(t.breaker_state(), BreakerState::Closed);
    assert!(
        !pool
            .select(&SelectInput::default())
            .unwrap()
            .start()
            .is_probe()
    );
}

#[tokio::test(start_paused = true)]
async fn breaker_half_open_failure_reopens() {
    let pool = breaker_pool(1, 1);
    let t = Arc::clone(&pool.targets()[0]);
    for _ in 0..3 {
        run_one(
            &pool,
            Outcome::Success {
                latency: MS,
                status: 502,
            },
        );
    }
    assert_eq!(t.breaker_state(), BreakerState::Open);
    tokio::time::advance(Duration::from_secs(30)).await;
    run_one(
        &pool,
        Outcome::Failure {
            kind: FailureKind::Timeout,
        },
    );
    assert_eq!(t.breaker_state(), BreakerState::Open);
    tokio::time::advance(Duration::from_secs(29)).await;
    assert_eq!(
        reason(&pool, &SelectInput::default()),
        NoTargetReason::CircuitOpen
    );
    tokio::time::advance(Duration::from_secs(1)).await;
    // A probe dropped without being sent gives its slot back.
    drop(pool.select(&SelectInput::default()).unwrap());
    let probe = pool.select(&SelectInput::default()).unwrap().start();
    drop(probe);
    run_one(&pool, ok(MS));
    assert_eq!(t.breaker_state(), BreakerState::Closed);
}

#[tokio::test(start_paused = true)]
async fn breaker_open_target_is_skipped_for_the_others() {
    let pool = breaker_pool(2, 1);
    fail_target(&pool, 0, 3);
    assert!((0..10).all(|_| pick(&pool) == 1));
}

#[tokio::test(start_paused = true)]
async fn half_open_slots_are_reserved_atomically() {
    let pool = Arc::new(breaker_pool(1, 3));
    for _ in 0..3 {
        run_one(&pool, fail());
    }
    tokio::time::advance(Duration::from_secs(30)).await;
    let handle = tokio::runtime::Handle::current();
    let threads = 16;
    let barrier = Barrier::new(threads);
    let granted = AtomicUsize::new(0);
    let selections: Vec<Selected> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    let _rt = handle.enter();
                    barrier.wait();
                    let mut mine = Vec::new();
                    for _ in 0..50 {
                        if let Ok(sel) = pool.select(&SelectInput::default()) {
                            granted.fetch_add(1, Ordering::Relaxed);
                            mine.push(sel);
                        }
                    }
                    mine
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap())
            .collect()
    });
    assert_eq!(granted.load(Ordering::Relaxed), 3);
    assert_eq!(selections.len(), 3);
}

// ---- active health ----

/// A probe that answers from a per-target script, then `true` forever.
fn scripted_probe(script: Vec<Vec<bool>>) -> (ProbeFn, Arc<AtomicUsize>) {
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&calls);
    let script: Arc<Mutex<Vec<VecDeque<bool>>>> =
        Arc::new(Mutex::new(script.into_iter().map(VecDeque::from).collect()));
    let probe: ProbeFn = Arc::new(move |target: ProbeTarget| {
        counter.fetch_add(1, Ordering::Relaxed);
        assert_eq!(&*target.path, "/healthz");
        let answer = script
            .lock()
            .unwrap()
            .get_mut(target.index)
            .and_then(|q| q.pop_front())
            .unwrap_or(true);
        Box::pin(async move { answer })
    });
    (probe, calls)
}

fn active_pool(n: usize) -> Arc<Pool> {
    let targets = urls(n);
    let mut s = spec(BalanceSpec::RoundRobin, &[]);
    s.targets = targets
        .iter()
        .map(|(u, w)| TargetSpec {
            url: u.clone(),
            weight: *w,
        })
        .collect();
    s.health_check.active = Some(ActiveHealthSpec {
        path: "/healthz".into(),
        interval: DurationSpec::from_secs(5),
        timeout: DurationSpec::from_secs(1),
        healthy_threshold: 2,
        unhealthy_threshold: 3,
    });
    Arc::new(Pool::from_spec(&s).unwrap())
}

fn health_events(pool: &Pool) -> mpsc::UnboundedReceiver<(usize, bool, tokio::time::Instant)> {
    let (tx, rx) = mpsc::unbounded_channel();
    pool.set_event_listener(Arc::new(move |t: &Target, e| {
        if let TargetEvent::HealthChanged { healthy } = e {
            let _ = tx.send((t.index(), healthy, tokio::time::Instant::now()));
        }
    }));
    rx
}

#[tokio::test(start_paused = true)]
async fn active_checks_mark_unhealthy_then_healthy() {
    let pool = active_pool(2);
    let mut events = health_events(&pool);
    let (probe, _) = scripted_probe(vec![vec![
        false, false, false, false, true, false, true, true,
    ]]);
    let cancel = CancellationToken::new();
    let start = tokio::time::Instant::now();
    let task = pool.spawn_health_checks(probe, cancel.clone()).unwrap();

    // Rounds at 0 s, 5 s, 10 s: the third failure flips it.
    let (index, healthy, at) = events.recv().await.unwrap();
    assert_eq!(
        (index, healthy, at - start),
        (0, false, Duration::from_secs(10))
    );
    assert!(!pool.targets()[0].is_healthy());
    assert!((0..6).all(|_| pick(&pool) == 1));

    // Rounds: 15 s fail, 20 s ok, 25 s fail, 30 s ok, 35 s ok → healthy.
    let (index, healthy, at) = events.recv().await.unwrap();
    assert_eq!(
        (index, healthy, at - start),
        (0, true, Duration::from_secs(35))
    );
    assert!(pool.targets()[0].is_healthy());
    assert!((0..4).any(|_| pick(&pool) == 0));

    cancel.cancel();
    task.await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn hung_probe_times_out_as_failure() {
    let pool = active_pool(1);
    let mut events = health_events(&pool);
    let probe: ProbeFn = Arc::new(|_| Box::pin(std::future::pending::<bool>()));
    let start = tokio::time::Instant::now();
    let _task = pool
        .spawn_health_checks(probe, CancellationToken::new())
        .unwrap();
    let (_, healthy, at) = events.recv().await.unwrap();
    // Probes at 0, 5, 10 s each time out after 1 s.
    assert_eq!((healthy, at - start), (false, Duration::from_secs(11)));
    assert_eq!(
        reason(&pool, &SelectInput::default()),
        NoTargetReason::Unhealthy
    );
    assert_eq!(
        pool.select(&SelectInput::default())
            .unwrap_err()
            .to_string(),
        "no healthy target in upstream api"
    );
}

#[tokio::test(start_paused = true)]
async fn health_task_ends_when_the_pool_is_dropped() {
    let pool = active_pool(1);
    let (probe, calls) = scripted_probe(vec![]);
    let task = pool
        .spawn_health_checks(probe, CancellationToken::new())
        .unwrap();
    tokio::time::sleep(Duration::from_secs(12)).await;
    assert_eq!(calls.load(Ordering::Relaxed), 3);
    drop(pool);
    task.await.unwrap();
    assert_eq!(calls.load(Ordering::Relaxed), 3);
}

#[tokio::test(start_paused = true)]
async fn no_health_task_without_active_checks() {
    let pool = Arc::new(pool_of(BalanceSpec::RoundRobin, &urls(1)));
    let (probe, _) = scripted_probe(vec![]);
    assert!(
        pool.spawn_health_checks(probe, CancellationToken::new())
            .is_none()
    );
}
