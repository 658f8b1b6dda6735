//! Each algorithm's distribution over many selections.

use super::*;

#[tokio::test(start_paused = true)]
async fn round_robin_rotates_exactly_and_ignores_weights() {
    let mut targets = urls(3);
    targets[0].1 = 10;
    let pool = pool_of(BalanceSpec::RoundRobin, &targets);
    let picks: Vec<usize> = (0..9).map(|_| pick(&pool)).collect();
    assert_eq!(picks, [0, 1, 2, 0, 1, 2, 0, 1, 2]);
    // A retry skips the target already tried.
    let s = pool
        .select(&SelectInput {
            hash_key: None,
            exclude: &[0],
        })
        .unwrap();
    assert_ne!(s.index, 0);
}

#[tokio::test(start_paused = true)]
async fn weighted_gives_exact_proportions_over_a_cycle() {
    let mut targets = urls(3);
    targets[0].1 = 5;
    let pool = pool_of(BalanceSpec::Weighted, &targets);
    let cycle: Vec<usize> = (0..7).map(|_| pick(&pool)).collect();
    assert_eq!(cycle, [0, 0, 1, 0, 2, 0, 0]);
    let mut counts = [0usize; 3];
    for _ in 0..700 {
        counts[pick(&pool)] += 1;
    }
    assert_eq!(counts, [500, 100, 100]);
}

#[tokio::test(start_paused = true)]
async fn weighted_keeps_proportions_when_a_target_is_excluded() {
    let targets = vec![
        ("http://a:1".to_string(), 3),
        ("http://b:1".to_string(), 1),
        ("http://c:1".to_string(), 4),
    ];
    let pool = pool_of(BalanceSpec::Weighted, &targets);
    let mut counts = [0usize; 3];
    for _ in 0..8000 {
        let s = pool
            .select(&SelectInput {
                hash_key: None,
                exclude: &[2],
            })
            .unwrap();
        counts[s.index] += 1;
    }
    assert_eq!(counts[2], 0);
    let ratio = counts[0] as f64 / counts[1] as f64;
    assert!((2.6..3.4).contains(&ratio), "{counts:?}");
}

#[tokio::test(start_paused = true)]
async fn least_connections_follows_held_guards_and_weights() {
    let mut targets = urls(3);
    targets[0].1 = 2;
    let pool = pool_of(BalanceSpec::LeastConnections, &targets);
    // Hold every attempt: in-flight counts settle at 2:1:1.
    let guards: Vec<AttemptGuard> = (0..40)
        .map(|_| pool.select(&SelectInput::default()).unwrap().start())
        .collect();
    let in_flight: Vec<u32> = pool.targets().iter().map(|t| t.in_flight()).collect();
    assert_eq!(in_flight, [20, 10, 10]);
    drop(guards);
    assert!(pool.targets().iter().all(|t| t.in_flight() == 0));

    // One busy target is avoided; the idle ones share the traffic.
    let _busy: Vec<AttemptGuard> = (0..5)
        .map(|_| {
            pool.select(&SelectInput {
                hash_key: None,
                exclude: &[1, 2],
            })
            .unwrap()
            .start()
        })
        .collect();
    let mut counts = [0usize; 3];
    for _ in 0..600 {
        counts[pick(&pool)] += 1;
    }
    assert_eq!(counts[0], 0);
    assert!(
        (240..360).contains(&counts[1]),
        "ties are broken at random: {counts:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn consistent_hash_is_sticky_and_stable_when_a_target_leaves() {
    let five = urls(5);
    let pool = pool_of(BalanceSpec::ConsistentHash, &five);
    let keys: Vec<String> = (0..5000).map(|i| format!("user-{i}")).collect();
    let place = |pool: &Pool, key: &str| {
        let s = pool
            .select(&SelectInput {
                hash_key: Some(key.as_bytes()),
                exclude: &[],
            })
            .unwrap();
        pool.targets()[s.index].url().to_string()
    };
    let before: Vec<String> = keys.iter().map(|k| place(&pool, k)).collect();
    // Same key, same target.
    assert!(keys.iter().zip(&before).all(|(k, t)| place(&pool, k) == *t));
    // Roughly even spread.
    let mut per_target: HashMap<&str, usize> = HashMap::new();
    for t in &before {
        *per_target.entry(t.as_str()).or_default() += 1;
    }
    assert!(
        per_target.values().all(|n| (700..1300).contains(n)),
        "{per_target:?}"
    );

    // Remove target 2: only its keys move.
    let removed = "http://10.0.0.2:8080";
    let four: Vec<(String, u32)> = five.iter().filter(|(u, _)| u != removed).cloned().collect();
    let smaller = pool_of(BalanceSpec::ConsistentHash, &four);
    let mut moved = 0;
    for (k, old) in keys.iter().zip(&before) {
        let new = place(&smaller, k);
        if old == removed {
            moved += 1;
        } else {
            assert_eq!(&new, old, "key {k} moved although its target stayed");
        }
    }
    let share = moved as f64 / keys.len() as f64;
    assert!((0.14..0.26).contains(&share), "moved {share}");

    // An ejected target is walked past the same way, without a rebuild.
    let mut with_breaker = spec(BalanceSpec::ConsistentHash, &[]);
    with_breaker.targets = five
        .iter()
        .map(|(u, w)| TargetSpec {
            url: u.clone(),
            weight: *w,
        })
        .collect();
    with_breaker.health_check.passive = Some(PassiveHealthSpec {
        consecutive_failures: 1,
        ejection_time: DurationSpec::from_secs(10),
        max_ejection_time: DurationSpec::from_secs(10),
    });
    let pool = Pool::from_spec(&with_breaker).unwrap();
    fail_target(&pool, 2, 1);
    for (k, old) in keys.iter().zip(&before) {
        let new = place(&pool, k);
        if old != removed {
            assert_eq!(&new, old);
        } else {
            assert_ne!(new, removed);
        }
    }
    tokio::time::advance(Duration::from_secs(10)).await;
    assert!(
        keys.iter().zip(&before).all(|(k, t)| place(&pool, k) == *t),
        "keys return after ejection"
    );
}

#[tokio::test(start_paused = true)]
async fn consistent_hash_without_key_falls_back_to_weighted() {
    let mut targets = urls(2);
    targets[1].1 = 3;
    let pool = pool_of(BalanceSpec::ConsistentHash, &targets);
    let picks: Vec<usize> = (0..8).map(|_| pick(&pool)).collect();
    assert_eq!(picks.iter().filter(|i| **i == 1).count(), 6, "{picks:?}");
}

#[tokio::test(start_paused = true)]
async fn consistent_hash_weights_shift_the_share() {
    let targets = vec![("http://a:1".to_string(), 1), ("http://b:1".to_string(), 3)];
    let pool = pool_of(BalanceSpec::ConsistentHash, &targets);
    let mut counts = [0usize; 2];
    for i in 0..8000 {
        let key = format!("k{i}");
        counts[pool
            .select(&SelectInput {
                hash_key: Some(key.as_bytes()),
                exclude: &[],
            })
            .unwrap()
            .index] += 1;
    }
    let share = counts[1] as f64 / 8000.0;
    assert!((0.68..0.82).contains(&share), "{counts:?}");
}

#[tokio::test(start_paused = true)]
async fn peak_ewma_prefers_the_fast_targets() {
    let pool = pool_of(BalanceSpec::PeakEwma, &urls(3));
    let latency = |i: usize| if i == 2 { 300 * MS } else { 10 * MS };
    let mut counts = [0usize; 3];
    for _ in 0..2000 {
        let s = pool.select(&SelectInput::default()).unwrap();
        let i = s.index;
        let guard = s.start();
        tokio::time::advance(latency(i)).await;
        guard.finish(ok(latency(i)));
        counts[i] += 1;
    }
    assert!(counts[2] < 2000 / 20, "slow target got {counts:?}");
    assert!(counts[0] > 600 && counts[1] > 600, "{counts:?}");
    assert!(pool.targets()[2].ewma_latency() > pool.targets()[0].ewma_latency());
}

#[tokio::test(start_paused = true)]
async fn peak_ewma_spreads_load_by_in_flight() {
    let pool = pool_of(BalanceSpec::PeakEwma, &urls(2));
    // Equal latency: held attempts alone decide, so they alternate.
    let guards: Vec<AttemptGuard> = (0..20)
        .map(|_| pool.select(&SelectInput::default()).unwrap().start())
        .collect();
    let in_flight: Vec<u32> = pool.targets().iter().map(|t| t.in_flight()).collect();
    assert_eq!(in_flight, [10, 10]);
    drop(guards);
}
