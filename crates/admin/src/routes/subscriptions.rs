//! `/subscriptions`: consumers' subscriptions to products, and their
//! workflow: request → `pending` (or `approved` at once when the product
//! needs no approval) → `approved` | `rejected` (with a reason), and
//! `approved` → `revoked`; anything else is 409.
//!
//! Any member of a tenant may request a subscription for the tenant's
//! consumers to a product they can see. Approvers: platform admins for
//! every product, tenant admins for their own tenant's products.

use std::collections::HashSet;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use sy_store::{Page, ProductFilter, Role, SubState, SubscriptionFilter};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::consumers::{require_admin_of, visible_consumer};
use super::products::visible_product;
use super::{check_limit, empty, filtered_page, page, page_type, tagged};
use crate::auth::{Principal, Scope};
use crate::error::{ApiError, ApiResult, FieldError};
use crate::extract::{IfMatch, JsonBody, MAX_TEXT, QueryParams, Validate, check_len};
use crate::state::AdminState;

/// Where a subscription stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = SubscriptionState)]
pub enum StateName {
    /// Waiting for an approver.
    Pending,
    /// Active.
    Approved,
    /// Refused.
    Rejected,
    /// Withdrawn after approval.
    Revoked,
}

impl From<SubState> for StateName {
    fn from(s: SubState) -> Self {
        match s {
            SubState::Pending => StateName::Pending,
            SubState::Approved => StateName::Approved,
            SubState::Rejected => StateName::Rejected,
            SubState::Revoked => StateName::Revoked,
        }
    }
}

impl From<StateName> for SubState {
    fn from(s: StateName) -> Self {
        match s {
            StateName::Pending => SubState::Pending,
            StateName::Approved => SubState::Approved,
            StateName::Rejected => SubState::Rejected,
            StateName::Revoked => SubState::Revoked,
        }
    }
}

/// A consumer's subscription to a product.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Subscription {
    /// UUID v7.
    pub id: String,
    /// The consumer's tenant.
    pub tenant_id: String,
    /// Subscriber.
    pub consumer_id: String,
    /// Product subscribed to.
    pub product_id: String,
    /// Where it stands.
    pub state: StateName,
    /// Why it was rejected or revoked.
    pub reason: Option<String>,
    /// Actor id of the (last) request.
    pub requested_by: Option<String>,
    /// Actor id of the last decision.
    pub decided_by: Option<String>,
    /// Unix milliseconds of the last decision.
    pub decided_at: Option<i64>,
    /// Bumped by every change; the ETag is `"<version>"`.
    pub version: i64,
    /// Unix milliseconds.
    pub created_at: i64,
    /// Unix milliseconds.
    pub updated_at: i64,
}

impl From<sy_store::Subscription> for Subscription {
    fn from(s: sy_store::Subscription) -> Self {
        Subscription {
            id: s.id,
            tenant_id: s.tenant_id,
            consumer_id: s.consumer_id,
            product_id: s.product_id,
            state: s.state.into(),
            reason: s.reason,
            requested_by: s.requested_by,
            decided_by: s.decided_by,
            decided_at: s.decided_at,
            version: s.version,
            created_at: s.created_at,
            updated_at: s.updated_at,
        }
    }
}

page_type!(
    /// A page of subscriptions.
    SubscriptionPage,
    Subscription
);

/// Body of `POST /subscriptions`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSubscriptionBody {
    /// The subscribing consumer (of the caller's tenant).
    pub consumer_id: String,
    /// The product (one the caller can see).
    pub product_id: String,
}

impl Validate for NewSubscriptionBody {
    fn validate(&self, _errors: &mut Vec<FieldError>) {}
}

/// Body of `reject` and `revoke`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionBody {
    /// Why, shown to the subscriber; at most 4096 characters.
    #[serde(default)]
    #[schema(max_length = 4096)]
    pub reason: Option<String>,
}

impl Validate for DecisionBody {
    fn validate(&self, errors: &mut Vec<FieldError>) {
        if let Some(r) = &self.reason {
            check_len(errors, "reason", r, MAX_TEXT);
        }
    }
}

/// Query of `GET /subscriptions` and `GET /subscriptions/pending`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SubscriptionQuery {
    /// Rows per page, 1 to 500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
    /// The `next` cursor of the previous page.
    pub after: Option<String>,
    /// Only this tenant's (tenant users: always their own).
    pub tenant_id: Option<String>,
    /// Only this consumer's.
    pub consumer_id: Option<String>,
    /// Only to this product.
    pub product_id: Option<String>,
    /// Only in this state (ignored by `/pending`).
    #[param(inline)]
    pub state: Option<StateName>,
}

impl Validate for SubscriptionQuery {
    fn validate(&self, errors: &mut Vec<FieldError>) {
        check_limit(errors, self.limit);
    }
}

/// The routes of this module.
pub fn routes() -> OpenApiRouter<AdminState> {
    OpenApiRouter::new()
        .routes(routes!(list_subscriptions, request_subscription))
        .routes(routes!(list_pending))
        .routes(routes!(get_subscription, delete_subscription))
        .routes(routes!(approve))
        .routes(routes!(reject))
        .routes(routes!(revoke))
}

async fn visible_sub(
    st: &AdminState,
    p: &Principal,
    id: &str,
) -> ApiResult<sy_store::Subscription> {
    let s = st.store.get_subscription(id).await?;
    p.see_tenant(&s.tenant_id, "subscription", id)?;
    Ok(s)
}

/// 403 unless the caller approves subscriptions to `product_id`.
async fn require_approver(st: &AdminState, p: &Principal, product_id: &str) -> ApiResult<()> {
    if p.is_platform() {
        return Ok(());
    }
    let product = st.store.get_product(product_id).await?;
    match (&product.tenant_id, p.role) {
        (Some(t), Role::TenantAdmin) if p.sees_tenant(t) => Ok(()),
        _ => Err(ApiError::forbidden(
            "only this product's owners may decide its subscriptions",
        )),
    }
}

/// Lists subscriptions of the caller's tenant (platform admins: any).
#[utoipa::path(get, path = "/admin/v1/subscriptions", tag = "subscriptions",
    params(SubscriptionQuery),
    responses((status = 200, description = "One page of subscriptions", body = SubscriptionPage)))]
async fn list_subscriptions(
    State(st): State<AdminState>,
    p: Principal,
    QueryParams(q): QueryParams<SubscriptionQuery>,
) -> ApiResult<Json<SubscriptionPage>> {
    let paged = match p.scope(q.tenant_id) {
        Scope::Nothing => empty(),
        scope => {
            let filter = SubscriptionFilter {
                tenant_id: scope.tenant(),
                consumer_id: q.consumer_id,
                product_id: q.product_id,
                state: q.state.map(SubState::from),
            };
            st.store
                .list_subscriptions(&filter, &page(q.limit, q.after))
                .await?
        }
    };
    Ok(Json(SubscriptionPage::from_paged(paged)))
}

/// The pending subscriptions the caller may decide (approvers only).
#[utoipa::path(get, path = "/admin/v1/subscriptions/pending", tag = "subscriptions",
    params(SubscriptionQuery),
    responses((status = 200, description = "One page of pending subscriptions",
        body = SubscriptionPage)))]
async fn list_pending(
    State(st): State<AdminState>,
    p: Principal,
    QueryParams(q): QueryParams<SubscriptionQuery>,
) -> ApiResult<Json<SubscriptionPage>> {
    p.require_admin()?;
    let scope = p.scope(q.tenant_id);
    if scope == Scope::Nothing {
        return Ok(Json(SubscriptionPage::from_paged(empty::<
            sy_store::Subscription,
        >())));
    }
    let filter = SubscriptionFilter {
        tenant_id: scope.tenant(),
        consumer_id: q.consumer_id,
        product_id: q.product_id,
        state: Some(SubState::Pending),
    };
    let page = page(q.limit, q.after);
    let paged = if p.is_platform() {
        st.store.list_subscriptions(&filter, &page).await?
    } else {
        // A tenant admin decides for their tenant's products only.
        let owned = owned_products(&st, p.tenant_id.clone()).await?;
        let fetch = |pg| {
            let (st, filter) = (st.clone(), filter.clone());
            async move { st.store.list_subscriptions(&filter, &pg).await }
        };
        filtered_page(page, fetch, |s| owned.contains(&s.product_id), |s| &s.id).await?
    };
    Ok(Json(SubscriptionPage::from_paged(paged)))
}

/// Ids of every product of `tenant_id`.
async fn owned_products(st: &AdminState, tenant_id: Option<String>) -> ApiResult<HashSet<String>> {
    let filter = ProductFilter {
        tenant_id,
        ..ProductFilter::default()
    };
    let mut ids = HashSet::new();
    let mut after = None;
    loop {
        let got = st
            .store
            .list_products(
                &filter,
                &Page {
                    limit: Page::MAX_LIMIT,
                    after,
                },
            )
            .await?;
        ids.extend(got.items.into_iter().map(|p| p.id));
        match got.next {
            Some(n) => after = Some(n),
            None => return Ok(ids),
        }
    }
}

/// Requests a subscription (approved at once if the product needs no
/// approval). Re-requesting a rejected or revoked one re-opens it.
#[utoipa::path(post, path = "/admin/v1/subscriptions", tag = "subscriptions",
    request_body = NewSubscriptionBody,
    responses((status = 201, description = "Requested (pending or approved)", body = Subscription,
        headers(("ETag" = String, description = "Strong ETag: the version in quotes")))))]
async fn request_subscription(
    State(st): State<AdminState>,
    p: Principal,
    JsonBody(body): JsonBody<NewSubscriptionBody>,
) -> ApiResult<Response> {
    let consumer = visible_consumer(&st, &p, &body.consumer_id).await?;
    let product = visible_product(&st, &p, &body.product_id).await?;
    let s = st
        .store
        .request_subscription(&p.actor(), &consumer.id, &product.id)
        .await?;
    st.changed();
    Ok(tagged(
        StatusCode::CREATED,
        s.version,
        Subscription::from(s),
    ))
}

/// Reads one subscription.
#[utoipa::path(get, path = "/admin/v1/subscriptions/{id}", tag = "subscriptions",
    params(("id" = String, Path, description = "Subscription id")),
    responses((status = 200, description = "The subscription", body = Subscription,
        headers(("ETag" = String, description = "Strong ETag: the version in quotes")))))]
async fn get_subscription(
    State(st): State<AdminState>,
    p: Principal,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let s = visible_sub(&st, &p, &id).await?;
    Ok(tagged(StatusCode::OK, s.version, Subscription::from(s)))
}

/// Deletes a subscription row (admins of its tenant); the audit log keeps
/// its history.
#[utoipa::path(delete, path = "/admin/v1/subscriptions/{id}", tag = "subscriptions",
    params(("id" = String, Path, description = "Subscription id")),
    responses((status = 204, description = "Deleted")))]
async fn delete_subscription(
    State(st): State<AdminState>,
    p: Principal,
    Path(id): Path<String>,
    if_match: IfMatch,
) -> ApiResult<StatusCode> {
    let s = visible_sub(&st, &p, &id).await?;
    require_admin_of(&p, &s.tenant_id)?;
    let expected = if_match.expected(s.version)?;
    st.store
        .delete_subscription(&p.actor(), &id, expected)
        .await?;
    st.changed();
    Ok(StatusCode::NO_CONTENT)
}

/// pending → approved.
#[utoipa::path(post, path = "/admin/v1/subscriptions/{id}/approve", tag = "subscriptions",
    params(("id" = String, Path, description = "Subscription id")),
    responses((status = 200, description = "Approved", body = Subscription,
        headers(("ETag" = String, description = "Strong ETag: the version in quotes")))))]
async fn approve(
    State(st): State<AdminState>,
    p: Principal,
    Path(id): Path<String>,
    if_match: IfMatch,
) -> ApiResult<Response> {
    let s = visible_sub(&st, &p, &id).await?;
    require_approver(&st, &p, &s.product_id).await?;
    let expected = if_match.expected(s.version)?;
    let s = st
        .store
        .approve_subscription(&p.actor(), &id, expected)
        .await?;
    st.changed();
    Ok(tagged(StatusCode::OK, s.version, Subscription::from(s)))
}

/// pending → rejected, with an optional reason.
#[utoipa::path(post, path = "/admin/v1/subscriptions/{id}/reject", tag = "subscriptions",
    params(("id" = String, Path, description = "Subscription id")), request_body = DecisionBody,
    responses((status = 200, description = "Rejected", body = Subscription,
        headers(("ETag" = String, description = "Strong ETag: the version in quotes")))))]
async fn reject(
    State(st): State<AdminState>,
    p: Principal,
    Path(id): Path<String>,
    if_match: IfMatch,
    JsonBody(body): JsonBody<DecisionBody>,
) -> ApiResult<Response> {
    let s = visible_sub(&st, &p, &id).await?;
    require_approver(&st, &p, &s.product_id).await?;
    let expected = if_match.expected(s.version)?;
    let s = st
        .store
        .reject_subscription(&p.actor(), &id, body.reason, expected)
        .await?;
    st.changed();
    Ok(tagged(StatusCode::OK, s.version, Subscription::from(s)))
}

/// approved → revoked, with an optional reason.
#[utoipa::path(post, path = "/admin/v1/subscriptions/{id}/revoke", tag = "subscriptions",
    params(("id" = String, Path, description = "Subscription id")), request_body = DecisionBody,
    responses((status = 200, description = "Revoked", body = Subscription,
        headers(("ETag" = String, description = "Strong ETag: the version in quotes")))))]
async fn revoke(
    State(st): State<AdminState>,
    p: Principal,
    Path(id): Path<String>,
    if_match: IfMatch,
    JsonBody(body): JsonBody<DecisionBody>,
) -> ApiResult<Response> {
    let s = visible_sub(&st, &p, &id).await?;
    require_approver(&st, &p, &s.product_id).await?;
    let expected = if_match.expected(s.version)?;
    let s = st
        .store
        .revoke_subscription(&p.actor(), &id, body.reason, expected)
        .await?;
    st.changed();
    Ok(tagged(StatusCode::OK, s.version, Subscription::from(s)))
}
