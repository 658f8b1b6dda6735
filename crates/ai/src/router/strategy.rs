//! The order in which a model's deployments are tried, per strategy.
//!
//! Each strategy ranks every deployment; the attempt loop walks the
//! ranking, skipping deployments in cool-down or at their limits, so the
//! runners-up are the failover order. Deployments with weight 0 come last
//! whatever the strategy: they take traffic only when the rest cannot.

use std::sync::atomic::Ordering;

use sy_config::RoutingStrategySpec;
use sy_core::Money;

use crate::registry::Deployment;

/// Indices into `deployments`, best first. `costs` (one per deployment,
/// `None` = unpriced) is read by `least_cost` only.
pub(crate) fn rank(
    strategy: RoutingStrategySpec,
    deployments: &[Deployment],
    costs: &[Option<Money>],
) -> Vec<usize> {
    let (active, idle): (Vec<usize>, Vec<usize>) =
        (0..deployments.len()).partition(|&i| deployments.get(i).is_some_and(|d| d.weight > 0));
    let mut order = match strategy {
        RoutingStrategySpec::PriorityFallback => priority_fallback(deployments, active),
        RoutingStrategySpec::Weighted => weighted(deployments, active),
        RoutingStrategySpec::LeastLatency => {
            let mut order = active;
            // Untried first (exploration), then the fastest; ties keep
            // config order.
            order.sort_by_key(|&i| {
                deployments
                    .get(i)
                    .and_then(|d| d.state.ttft())
                    .map_or((0, 0), |t| (1, t.as_micros()))
            });
            order
        }
        RoutingStrategySpec::LeastCost => {
            let mut order = active;
            order.sort_by_key(|&i| match costs.get(i).copied().flatten() {
                Some(cost) => (0, cost),
                None => (1, Money::default()),
            });
            order
        }
        RoutingStrategySpec::LeastBusy => {
            let mut order = active;
            order.sort_by_key(|&i| deployments.get(i).map_or(u64::MAX, |d| d.state.in_flight()));
            order
        }
    };
    order.extend(idle);
    order
}

/// Lowest priority number first; weighted random order among equals.
fn priority_fallback(deployments: &[Deployment], mut active: Vec<usize>) -> Vec<usize> {
    active.sort_by_key(|&i| deployments.get(i).map_or(i32::MAX, |d| d.priority));
    let mut order = Vec::with_capacity(active.len());
    let mut start = 0;
    while start < active.len() {
        let priority = active
            .get(start)
            .and_then(|&i| deployments.get(i))
            .map(|d| d.priority);
        let end = active
            .iter()
            .skip(start)
            .position(|&i| deployments.get(i).map(|d| d.priority) != priority)
            .map_or(active.len(), |n| start + n);
        order.extend(weighted_shuffle(
            deployments,
            active.get(start..end).unwrap_or_default(),
        ));
        start = end;
    }
    order
}

/// Smooth weighted round robin for the first choice (every candidate
/// gains its weight, the leader gives back the total), then weighted
/// random order for the failover.
fn weighted(deployments: &[Deployment], active: Vec<usize>) -> Vec<usize> {
    let total: i64 = active
        .iter()
        .filter_map(|&i| deployments.get(i))
        .map(|d| i64::from(d.weight))
        .sum();
    let mut best: Option<(usize, i64)> = None;
    for &i in &active {
        let Some(d) = deployments.get(i) else {
            continue;
        };
        let weight = i64::from(d.weight);
        let current = d.state.swrr.fetch_add(weight, Ordering::Relaxed) + weight;
        if best.is_none_or(|(_, b)| current > b) {
            best = Some((i, current));
        }
    }
    let Some((first, _)) = best else {
        return active;
    };
    if let Some(d) = deployments.get(first) {
        d.state.swrr.fetch_sub(total, Ordering::Relaxed);
    }
    let rest: Vec<usize> = active.into_iter().filter(|&i| i != first).collect();
    let mut order = vec![first];
    order.extend(weighted_shuffle(deployments, &rest));
    order
}

/// `items` in random order, each next one drawn with probability
/// proportional to its weight.
fn weighted_shuffle(deployments: &[Deployment], items: &[usize]) -> Vec<usize> {
    let mut left: Vec<(usize, u64)> = items
        .iter()
        .map(|&i| (i, deployments.get(i).map_or(0, |d| u64::from(d.weight))))
        .collect();
    let mut out = Vec::with_capacity(left.len());
    while !left.is_empty() {
        let total: u64 = left.iter().map(|(_, w)| w).sum();
        let pick = if total == 0 {
            0
        } else {
            let mut ticket = fastrand::u64(0..total);
            left.iter()
                .position(|&(_, w)| {
                    if ticket < w {
                        true
                    } else {
                        ticket -= w;
                        false
                    }
                })
                .unwrap_or(0)
        };
        out.push(left.remove(pick).0);
    }
    out
}
