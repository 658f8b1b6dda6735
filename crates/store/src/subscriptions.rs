//! Subscriptions of consumers to products, and their state machine:
//! `pending → approved | rejected`, `approved → revoked`. A rejected or
//! revoked subscription requested again re-opens the same row, so there is
//! at most one row per (consumer, product).

use sqlx::any::AnyRow;

use crate::db::{Store, Where, col, new_id, now_ms};
use crate::entity::{self, AnyQuery, Entity};
use crate::error::{Result, StoreError};
use crate::model::{Actor, Consumer, Page, Paged, Product, SubState, Subscription};

/// Filters of [`Store::list_subscriptions`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SubscriptionFilter {
    /// Only this tenant's subscriptions.
    pub tenant_id: Option<String>,
    /// Only this consumer's.
    pub consumer_id: Option<String>,
    /// Only to this product.
    pub product_id: Option<String>,
    /// Only in this state.
    pub state: Option<SubState>,
}

impl Entity for Subscription {
    const KIND: &'static str = "subscription";
    const TABLE: &'static str = "subscriptions";
    const SELECT: &'static str = "SELECT id, tenant_id, consumer_id, product_id, state, reason, \
                                  requested_by, decided_by, decided_at, version, created_at, \
                                  updated_at FROM subscriptions";

    entity::entity_fields!();

    fn decode(row: &AnyRow) -> Result<Subscription> {
        Ok(Subscription {
            id: col(row, "id")?,
            tenant_id: col(row, "tenant_id")?,
            consumer_id: col(row, "consumer_id")?,
            product_id: col(row, "product_id")?,
            state: SubState::parse(&col::<String>(row, "state")?)?,
            reason: col(row, "reason")?,
            requested_by: col(row, "requested_by")?,
            decided_by: col(row, "decided_by")?,
            decided_at: col(row, "decided_at")?,
            version: col(row, "version")?,
            created_at: col(row, "created_at")?,
            updated_at: col(row, "updated_at")?,
        })
    }

    fn tenant_id(&self) -> Option<&str> {
        Some(&self.tenant_id)
    }

    /// One row per (consumer, product).
    fn unique(&self) -> (&'static str, &str) {
        ("product_id", &self.product_id)
    }

    fn update_query(&self, prev: i64) -> Result<AnyQuery<'_>> {
        Ok(sqlx::query(
            "UPDATE subscriptions SET state = $1, reason = $2, requested_by = $3, \
             decided_by = $4, decided_at = $5, version = $6, updated_at = $7 \
             WHERE id = $8 AND version = $9",
        )
        .bind(self.state.as_str())
        .bind(self.reason.as_deref())
        .bind(self.requested_by.as_deref())
        .bind(self.decided_by.as_deref())
        .bind(self.decided_at)
        .bind(self.version)
        .bind(self.updated_at)
        .bind(&self.id)
        .bind(prev))
    }
}

impl Store {
    /// Subscribes the consumer to the product: approved at once when the
    /// product needs no approval, else pending. A rejected or revoked
    /// subscription is re-opened; a pending or approved one is a
    /// `Conflict`. A tenant's product is open only to its own consumers.
    pub async fn request_subscription(
        &self,
        actor: &Actor,
        consumer_id: &str,
        product_id: &str,
    ) -> Result<Subscription> {
        let mut tx = self.write().await?;
        let consumer: Consumer = entity::get(&mut *tx.tx, "id", consumer_id).await?;
        let product: Product = entity::get(&mut *tx.tx, "id", product_id).await?;
        if product
            .tenant_id
            .as_ref()
            .is_some_and(|t| *t != consumer.tenant_id)
        {
            return Err(StoreError::Invalid(format!(
                "product {:?} belongs to another tenant",
                product.name
            )));
        }
        let now = now_ms();
        let (state, decided_at) = if product.requires_approval {
            (SubState::Pending, None)
        } else {
            (SubState::Approved, Some(now))
        };
        let existing: Option<Subscription> = entity::fetch(
            &mut *tx.tx,
            "consumer_id = $1 AND product_id = $2",
            &[consumer_id, product_id],
        )
        .await?;
        let sub = match existing {
            Some(before) => {
                if matches!(before.state, SubState::Pending | SubState::Approved) {
                    return Err(StoreError::Conflict {
                        kind: Subscription::KIND,
                        field: "product_id",
                        value: product_id.to_owned(),
                    });
                }
                let after = Subscription {
                    state,
                    reason: None,
                    requested_by: Some(actor.id.clone()),
                    decided_by: None,
                    decided_at,
                    version: before.version + 1,
                    updated_at: now,
                    ..before.clone()
                };
                entity::update(&mut tx, actor, "request", &before, &after).await?;
                after
            }
            None => {
                let sub = Subscription {
                    id: new_id(),
                    tenant_id: consumer.tenant_id,
                    consumer_id: consumer_id.to_owned(),
                    product_id: product_id.to_owned(),
                    state,
                    reason: None,
                    requested_by: Some(actor.id.clone()),
                    decided_by: None,
                    decided_at,
                    version: 1,
                    created_at: now,
                    updated_at: now,
                };
                let insert = sqlx::query(
                    "INSERT INTO subscriptions (id, tenant_id, consumer_id, product_id, state, \
                     reason, requested_by, decided_by, decided_at, version, created_at, \
                     updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
                )
                .bind(&sub.id)
                .bind(&sub.tenant_id)
                .bind(&sub.consumer_id)
                .bind(&sub.product_id)
                .bind(sub.state.as_str())
                .bind(sub.reason.as_deref())
                .bind(sub.requested_by.as_deref())
                .bind(sub.decided_by.as_deref())
                .bind(sub.decided_at)
                .bind(sub.version)
                .bind(sub.created_at)
                .bind(sub.updated_at);
                entity::insert(&mut tx, actor, &sub, insert).await?;
                sub
            }
        };
        tx.commit().await?;
        Ok(sub)
    }

    /// pending → approved.
    pub async fn approve_subscription(
        &self,
        actor: &Actor,
        id: &str,
        expected_version: Option<i64>,
    ) -> Result<Subscription> {
        self.decide(actor, id, SubState::Approved, None, expected_version)
            .await
    }

    /// pending → rejected, with an optional reason.
    pub async fn reject_subscription(
        &self,
        actor: &Actor,
        id: &str,
        reason: Option<String>,
        expected_version: Option<i64>,
    ) -> Result<Subscription> {
        self.decide(actor, id, SubState::Rejected, reason, expected_version)
            .await
    }

    /// approved → revoked, with an optional reason.
    pub async fn revoke_subscription(
        &self,
        actor: &Actor,
        id: &str,
        reason: Option<String>,
        expected_version: Option<i64>,
    ) -> Result<Subscription> {
        self.decide(actor, id, SubState::Revoked, reason, expected_version)
            .await
    }

    async fn decide(
        &self,
        actor: &Actor,
        id: &str,
        to: SubState,
        reason: Option<String>,
        expected_version: Option<i64>,
    ) -> Result<Subscription> {
        let mut tx = self.write().await?;
        let before: Subscription = entity::for_change(&mut tx, id, expected_version).await?;
        let allowed = matches!(
            (before.state, to),
            (SubState::Pending, SubState::Approved)
                | (SubState::Pending, SubState::Rejected)
                | (SubState::Approved, SubState::Revoked)
        );
        if !allowed {
            return Err(StoreError::InvalidTransition {
                from: before.state.to_string(),
                to: to.to_string(),
            });
        }
        let now = now_ms();
        let after = Subscription {
            state: to,
            reason,
            decided_by: Some(actor.id.clone()),
            decided_at: Some(now),
            version: before.version + 1,
            updated_at: now,
            ..before.clone()
        };
        let action = match to {
            SubState::Approved => "approve",
            SubState::Rejected => "reject",
            _ => "revoke",
        };
        entity::update(&mut tx, actor, action, &before, &after).await?;
        tx.commit().await?;
        Ok(after)
    }

    /// The subscription with this id.
    pub async fn get_subscription(&self, id: &str) -> Result<Subscription> {
        entity::get(&self.pool, "id", id).await
    }

    /// Subscriptions in creation order.
    pub async fn list_subscriptions(
        &self,
        filter: &SubscriptionFilter,
        page: &Page,
    ) -> Result<Paged<Subscription>> {
        let mut w = Where::default();
        w.eq_opt("tenant_id", filter.tenant_id.as_deref());
        w.eq_opt("consumer_id", filter.consumer_id.as_deref());
        w.eq_opt("product_id", filter.product_id.as_deref());
        w.eq_opt("state", filter.state.map(|s| s.as_str()));
        self.list_of(w, page).await
    }

    /// Deletes the subscription row (its history stays in the audit log).
    pub async fn delete_subscription(
        &self,
        actor: &Actor,
        id: &str,
        expected_version: Option<i64>,
    ) -> Result<()> {
        self.delete_row::<Subscription>(actor, id, expected_version)
            .await
    }
}
