//! Saved usage counters: upserted, loaded while their window is open,
//! dropped once it has ended.

use sy_store::{Store, UsageRow};

store_tests!(usage_counters_round_trip);

fn row(measure: &str, end: i64, used: i64) -> UsageRow {
    UsageRow {
        scope: "tenant".into(),
        entity: "acme".into(),
        measure: measure.into(),
        window_start: 1_000,
        window_end: end,
        used,
    }
}

async fn usage_counters_round_trip(store: Store) {
    let far = i64::MAX / 2;
    store
        .save_usage(&[
            row("spend_per_day", far, 250),
            row("spend_per_month", far, 900),
        ])
        .await
        .unwrap();
    // Saving again replaces, not adds.
    store
        .save_usage(&[row("spend_per_day", far, 300)])
        .await
        .unwrap();
    let mut loaded = store.load_usage(2_000).await.unwrap();
    loaded.sort_by(|a, b| a.measure.cmp(&b.measure));
    assert_eq!(
        loaded,
        vec![
            row("spend_per_day", far, 300),
            row("spend_per_month", far, 900)
        ]
    );
    // A window that has ended is neither loaded nor kept.
    store
        .save_usage(&[row("tokens_per_day", 1_500, 10)])
        .await
        .unwrap();
    assert_eq!(store.load_usage(2_000).await.unwrap().len(), 2);
    assert!(store.load_usage(far).await.unwrap().is_empty());
    // Not an administrative change: the change feed stays quiet.
    assert_eq!(store.head().await.unwrap(), 0);
}
