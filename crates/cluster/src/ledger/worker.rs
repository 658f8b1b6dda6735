//! The ledger's background task: applies queued settlements and releases
//! (whatever has queued up, in one script call) and renews the leases of
//! the slots this node holds.
//!
//! A batch Redis did not confirm is kept and sent again, in order, until it
//! is confirmed or too old to matter, so an outage delays accounting instead
//! of losing it. Each batch carries a number; the script records the highest
//! number it applied for this node and skips any batch at or below it. So a
//! batch whose reply was lost with its connection (applied, but not known to
//! be) is not applied twice when it is sent again. That rule is sound
//! because one task sends this node's batches one at a time, oldest first.

use std::collections::VecDeque;
use std::sync::atomic::Ordering;
use std::sync::{Arc, LazyLock, PoisonError};
use std::time::Duration;

use redis::Script;
use tokio::sync::{mpsc, oneshot};
use tokio::time::{Instant, MissedTickBehavior};

use super::{Shared, Slot};
use crate::backend::millis;

/// Operations sent in one script call at most.
const BATCH: usize = 512;

/// How long after a failed send the backlog is tried again. New batches
/// join the backlog meanwhile instead of each waiting out a timeout, so
/// the queue from the request path keeps draining during an outage.
const RETRY: Duration = Duration::from_secs(1);

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
    /// Answer once everything queued before it has been sent, or tried once
    /// more if Redis has not confirmed it yet.
    Flush(oneshot::Sender<()>),
}

/// One script call's worth of operations: (op code, key, value).
type Args = Vec<(&'static str, String, String)>;

/// A batch not yet confirmed by Redis.
struct Unsent {
    seq: u64,
    args: Args,
    since: Instant,
}

/// Batches waiting for Redis, oldest first.
struct Backlog {
    batches: VecDeque<Unsent>,
    /// Operations in `batches`.
    ops: usize,
    /// The number of the next batch (the first is 1; Redis starts at 0).
    next_seq: u64,
    /// No send before this instant after a failure (`None`: send at once).
    retry_at: Option<Instant>,
}

pub(super) async fn run(shared: Arc<Shared>, mut ops: mpsc::Receiver<Op>) {
    let every = (shared.options.lease / 3).max(Duration::from_millis(10));
    let mut renew = tokio::time::interval_at(Instant::now() + every, every);
    renew.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut received = Vec::with_capacity(BATCH);
    let mut backlog = Backlog {
        batches: VecDeque::new(),
        ops: 0,
        next_seq: 1,
        retry_at: None,
    };
    loop {
        let retry_at = backlog.retry_at;
        tokio::select! {
            n = ops.recv_many(&mut received, BATCH) => {
                if n == 0 {
                    backlog.give_up(&shared);
                    return;
                }
                let flushed = backlog.take(&shared, &mut received);
                backlog.send(&shared, !flushed.is_empty()).await;
                for done in flushed {
                    let _ = done.send(());
                }
            }
            _ = renew.tick() => renew_leases(&shared).await,
            () = sleep_until(retry_at), if retry_at.is_some() => {
                backlog.retry_at = None;
                backlog.send(&shared, false).await;
            }
        }
    }
}

async fn sleep_until(at: Option<Instant>) {
    if let Some(at) = at {
        tokio::time::sleep_until(at).await;
    }
}

impl Backlog {
    /// Moves the received operations into a new batch at the back; returns
    /// the flush requests among them.
    fn take(&mut self, shared: &Shared, received: &mut Vec<Op>) -> Vec<oneshot::Sender<()>> {
        let mut flushed = Vec::new();
        let mut args = Vec::with_capacity(received.len());
        for op in received.drain(..) {
            match op {
                Op::Adjust { key, delta } => args.push(("a", key, delta.to_string())),
                Op::Remove(slot) => args.push(("r", slot.key, slot.member)),
                Op::Flush(done) => flushed.push(done),
            }
        }
        if !args.is_empty() {
            self.ops += args.len();
            self.batches.push_back(Unsent {
                seq: self.next_seq,
                args,
                since: Instant::now(),
            });
            self.next_seq += 1;
        }
        self.trim(shared);
        flushed
    }

    /// Drops what can no longer be kept: batches older than the window
    /// grace (their counters may be gone), and the oldest batches past the
    /// queue bound. Each drop is logged: those estimates stay counted, and
    /// those slots expire with their lease.
    fn trim(&mut self, shared: &Shared) {
        let horizon = shared.options.window_grace;
        let bound = shared.options.queue.max(BATCH);
        let mut dropped = 0;
        while let Some(front) = self.batches.front() {
            if front.since.elapsed() <= horizon && self.ops <= bound {
                break;
            }
            dropped += front.args.len();
            self.ops -= front.args.len();
            self.batches.pop_front();
        }
        if dropped > 0 {
            shared.backend.warn_throttled(
                &shared.dropped,
                "quota settlements Redis did not confirm in time were dropped \
                 (estimates stay counted; slots expire with their lease)",
            );
            tracing::debug!(operations = dropped, "quota settlements dropped");
        }
        shared.unsent.store(self.ops, Ordering::Relaxed);
    }

    /// Sends the batches, oldest first, until one fails; that one and the
    /// rest wait for the retry. Outside a flush (`now`), nothing is sent
    /// while a retry is pending or Redis is paused.
    async fn send(&mut self, shared: &Shared, now: bool) {
        if !now && (self.retry_at.is_some() || shared.backend.paused()) {
            self.retry_at.get_or_insert_with(|| Instant::now() + RETRY);
            return;
        }
        while let Some(front) = self.batches.front() {
            if apply(shared, front).await.is_err() {
                self.retry_at = Some(Instant::now() + RETRY);
                break;
            }
            self.ops -= front.args.len();
            self.batches.pop_front();
            self.retry_at = None;
        }
        self.trim(shared);
    }

    /// The task is ending (the ledger is gone): say what was never sent.
    fn give_up(&mut self, shared: &Shared) {
        if self.ops > 0 {
            tracing::error!(
                operations = self.ops,
                "quota settlements and releases Redis never confirmed were lost at shutdown \
                 (estimates stay counted; slots expire with their lease)"
            );
        }
        self.batches.clear();
        self.ops = 0;
        shared.unsent.store(0, Ordering::Relaxed);
    }
}

/// One batch in one script call.
async fn apply(shared: &Shared, batch: &Unsent) -> Result<(), crate::ClusterError> {
    let mut call = APPLY.prepare_invoke();
    call.arg(shared.sent_key())
        .arg(batch.seq)
        // The mark must outlive every resend of a batch: those stop at the
        // window grace.
        .arg(millis(shared.options.window_grace).saturating_mul(2).max(1))
        .arg(batch.args.len());
    for (op, key, value) in &batch.args {
        call.arg(*op).arg(key).arg(value);
    }
    let applied = shared.backend.run::<i64>(&call, "quota settle").await?;
    tracing::trace!(
        operations = batch.args.len(),
        seq = batch.seq,
        duplicate = applied < 0,
        "quota settlements applied"
    );
    Ok(())
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
