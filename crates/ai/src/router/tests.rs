use std::collections::HashMap;
use std::time::Duration;

use serde_json::json;
use sy_config::{CooldownSpec, RoutingStrategySpec};
use sy_core::Money;

use super::strategy::rank;
use crate::registry::{Model, Registry};

/// A registry of one model `m` with the given deployments (on the mock
/// provider) and extra model settings.
fn model(deployments: serde_json::Value, extra: serde_json::Value) -> Registry {
    let mut spec = json!({"name": "m", "deployments": deployments});
    if let (Some(m), Some(e)) = (spec.as_object_mut(), extra.as_object()) {
        m.extend(e.clone());
    }
    let providers = vec![serde_json::from_value(json!({"name": "p", "kind": "mock"})).unwrap()];
    let models = vec![serde_json::from_value(spec).unwrap()];
    Registry::compile(&providers, &models).unwrap()
}

fn the(registry: &Registry) -> &Model {
    registry.model("m").unwrap()
}

fn first(model: &Model) -> usize {
    rank(model.routing.strategy, &model.deployments, &[])[0]
}

#[test]
fn priority_fallback_prefers_the_lowest_priority_and_weights_among_equals() {
    let r = model(
        json!([
            {"provider": "p", "model": "late", "priority": 5},
            {"provider": "p", "model": "heavy", "priority": 1, "weight": 3},
            {"provider": "p", "model": "light", "priority": 1, "weight": 1},
            {"provider": "p", "model": "off", "priority": 0, "weight": 0}
        ]),
        json!({}),
    );
    let m = the(&r);
    let mut firsts: HashMap<usize, u32> = HashMap::new();
    for _ in 0..2000 {
        let order = rank(m.routing.strategy, &m.deployments, &[]);
        assert_eq!(order[2..], [0, 3], "lower priorities, then weight 0 last");
        *firsts.entry(order[0]).or_default() += 1;
    }
    let heavy = firsts.get(&1).copied().unwrap_or(0);
    assert!((1300..1700).contains(&heavy), "3:1 split, got {firsts:?}");
}

#[test]
fn weighted_is_smooth_round_robin() {
    let r = model(
        json!([
            {"provider": "p", "model": "a", "weight": 2},
            {"provider": "p", "model": "b", "weight": 1}
        ]),
        json!({"strategy": "weighted"}),
    );
    let m = the(&r);
    let picks: Vec<usize> = (0..6).map(|_| first(m)).collect();
    assert_eq!(picks, [0, 1, 0, 0, 1, 0]);
}

#[test]
fn least_busy_picks_the_fewest_in_flight() {
    let r = model(
        json!([{"provider": "p", "model": "a"}, {"provider": "p", "model": "b"}]),
        json!({"strategy": "least_busy"}),
    );
    let m = the(&r);
    let busy = m.deployments[0].state.enter();
    assert_eq!(first(m), 1);
    drop(busy);
    let _other = m.deployments[1].state.enter();
    assert_eq!(first(m), 0);
}

#[test]
fn least_latency_explores_untried_then_takes_the_fastest() {
    let r = model(
        json!([{"provider": "p", "model": "a"}, {"provider": "p", "model": "b"}, {"provider": "p", "model": "c"}]),
        json!({"strategy": "least_latency"}),
    );
    let m = the(&r);
    m.deployments[0]
        .state
        .record_success(Duration::from_millis(300));
    m.deployments[2]
        .state
        .record_success(Duration::from_millis(100));
    assert_eq!(first(m), 1, "untried first");
    m.deployments[1]
        .state
        .record_success(Duration::from_millis(200));
    assert_eq!(rank(m.routing.strategy, &m.deployments, &[]), [2, 1, 0]);
    // The average moves towards new samples.
    for _ in 0..10 {
        m.deployments[2]
            .state
            .record_success(Duration::from_millis(900));
    }
    assert_eq!(first(m), 1);
}

#[test]
fn least_cost_ranks_by_estimated_cost_unpriced_last() {
    let r = model(
        json!([{"provider": "p", "model": "a"}, {"provider": "p", "model": "b"}, {"provider": "p", "model": "c"}]),
        json!({"strategy": "least_cost"}),
    );
    let m = the(&r);
    let costs = [
        Some(Money::from_micros(30)),
        None,
        Some(Money::from_micros(10)),
    ];
    assert_eq!(
        rank(RoutingStrategySpec::LeastCost, &m.deployments, &costs),
        [2, 0, 1]
    );
}

#[tokio::test(start_paused = true)]
async fn rpm_and_tpm_windows_refuse_at_the_limit_and_reset_each_minute() {
    let r = model(json!([{"provider": "p", "model": "a"}]), json!({}));
    let state = &the(&r).deployments[0].state;
    assert!(state.try_request(Some(2)));
    assert!(state.try_request(Some(2)));
    assert!(!state.try_request(Some(2)));
    let window = state.try_tokens(Some(100), 80).unwrap();
    assert!(state.try_tokens(Some(100), 30).is_none());
    // Settling to the actual usage gives back the unused reservation.
    state.settle_tokens(window, 80, 20);
    assert!(state.try_tokens(Some(100), 30).is_some());
    assert_eq!(state.window_use(), (2, 50));
    tokio::time::advance(Duration::from_secs(61)).await;
    assert!(state.try_request(Some(2)));
    assert!(state.try_tokens(Some(100), 100).is_some());
}

#[tokio::test(start_paused = true)]
async fn failures_in_a_row_cool_a_deployment_down() {
    let r = model(json!([{"provider": "p", "model": "a"}]), json!({}));
    let state = &the(&r).deployments[0].state;
    let cooldown = CooldownSpec {
        failures: 2,
        duration: sy_config::DurationSpec::from_secs(10),
    };
    state.record_failure(&cooldown, None);
    assert!(state.cooling_down().is_none());
    state.record_success(Duration::from_millis(5));
    state.record_failure(&cooldown, None);
    assert!(state.cooling_down().is_none(), "a success resets the count");
    state.record_failure(&cooldown, None);
    assert_eq!(state.cooling_down(), Some(Duration::from_secs(10)));
    tokio::time::advance(Duration::from_secs(10)).await;
    assert!(state.cooling_down().is_none());
}

#[tokio::test(start_paused = true)]
async fn a_retry_after_cools_down_for_that_long_at_once() {
    let r = model(json!([{"provider": "p", "model": "a"}]), json!({}));
    let state = &the(&r).deployments[0].state;
    state.record_failure(&CooldownSpec::default(), Some(Duration::from_secs(7)));
    assert_eq!(state.cooling_down(), Some(Duration::from_secs(7)));
    tokio::time::advance(Duration::from_secs(7)).await;
    assert!(state.cooling_down().is_none());
}

#[test]
fn state_survives_a_reload_of_an_unchanged_deployment() {
    let providers: Vec<sy_config::ProviderSpec> =
        vec![serde_json::from_value(json!({"name": "p", "kind": "mock"})).unwrap()];
    let spec = |models: serde_json::Value| -> Vec<sy_config::ModelSpec> {
        serde_json::from_value(models).unwrap()
    };
    let before = Registry::compile(
        &providers,
        &spec(json!([{"name": "m", "deployments": [{"provider": "p", "model": "a"}, {"provider": "p", "model": "b"}]}])),
    )
    .unwrap();
    let held = before.model("m").unwrap().deployments[0].state.enter();
    let after = Registry::compile_next(
        &providers,
        &spec(json!([{"name": "m", "strategy": "least_busy", "deployments": [{"provider": "p", "model": "a", "weight": 4}, {"provider": "p", "model": "c"}]}])),
        Some(&before),
    )
    .unwrap();
    let m = after.model("m").unwrap();
    assert_eq!(m.deployments[0].state.in_flight(), 1, "kept");
    assert_eq!(m.deployments[1].state.in_flight(), 0, "new");
    drop(held);
    assert_eq!(m.deployments[0].state.in_flight(), 0);
}

#[test]
fn backoff_doubles_with_jitter_and_is_capped() {
    let r = model(
        json!([{"provider": "p", "model": "a"}]),
        json!({"retries": {"attempts": 5, "backoff_base": "100ms", "backoff_max": "300ms"}}),
    );
    let routing = &the(&r).routing;
    for _ in 0..50 {
        let first = routing.backoff(1);
        assert!(first >= Duration::from_millis(50) && first <= Duration::from_millis(100));
        let second = routing.backoff(2);
        assert!(second >= Duration::from_millis(100) && second <= Duration::from_millis(200));
        let capped = routing.backoff(6);
        assert!(capped >= Duration::from_millis(150) && capped <= Duration::from_millis(300));
    }
}
