//! The ledger's background task: applies queued settlements and releases
//! (whatever has queued up, in one script call) and renews the leases of
//! the slots this node holds.

use std::sync::{Arc, LazyLock, PoisonError};
use std::time::Duration;

use redis::Script;
use tokio::sync::{mpsc, oneshot};
use tokio::time::MissedTickBehavior;

use super::{Shared, Slot};
use crate::backend::millis;

/// Operations sent in one script call at most.
const BATCH: usize = 512;

static APPLY: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("../lua/apply.lua")));
static RENEW: LazyLock<Script> =
    LazyLock::new(|| super::with_common(include_str!("../lua/renew.lua")));

/// Work queued by the request path.
#[derive(Debug)]
pub(super) enum Op {
    /// Add `delta` to the windowed counter `key` (settlement: actual minus
    /// estimate).
    Adjust { key: String, delta: i64 },
    /// Take a slot off its gauge (release).
    Remove(Slot),
    /// Answer once everything queued before it has been sent.
    Flush(oneshot::Sender<()>),
}

pub(super) async fn run(shared: Arc<Shared>, mut ops: mpsc::Receiver<Op>) {
    let every = (shared.options.lease / 3).max(Duration::from_millis(10));
    let mut renew = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    renew.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut batch = Vec::with_capacity(BATCH);
    loop {
        tokio::select! {
            n = ops.recv_many(&mut batch, BATCH) => {
                if n == 0 {
                    return;
                }
                apply(&shared, &mut batch).await;
            }
            _ = renew.tick() => renew_leases(&shared).await,
        }
    }
}

async fn apply(shared: &Shared, batch: &mut Vec<Op>) {
    let mut flushed = Vec::new();
    let mut call = APPLY.prepare_invoke();
    let mut n = 0usize;
    let mut args: Vec<(&'static str, String, String)> = Vec::with_capacity(batch.len());
    for op in batch.drain(..) {
        match op {
            Op::Adjust { key, delta } => args.push(("a", key, delta.to_string())),
            Op::Remove(slot) => args.push(("r", slot.key, slot.member)),
            Op::Flush(done) => flushed.push(done),
        }
    }
    if !args.is_empty() {
        call.arg(args.len());
        for (op, key, value) in &args {
            call.arg(*op).arg(key).arg(value);
            n += 1;
        }
        // A failure is logged by the backend; the estimates stay counted
        // and the slots expire with their lease.
        let _ = shared.backend.run::<usize>(&call, "quota settle").await;
        tracing::trace!(operations = n, "quota settlements applied");
    }
    for done in flushed {
        let _ = done.send(());
    }
}

async fn renew_leases(shared: &Shared) {
    let slots: Vec<Slot> = shared
        .live
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .values()
        .flatten()
        .cloned()
        .collect();
    for chunk in slots.chunks(BATCH) {
        let mut call = RENEW.prepare_invoke();
        call.arg(shared.options.clock_shift_ms)
            .arg(millis(shared.options.lease).max(1));
        for slot in chunk {
            call.arg(&slot.key).arg(&slot.member);
        }
        if shared
            .backend
            .run::<usize>(&call, "quota lease renewal")
            .await
            .is_err()
        {
            return;
        }
    }
}
