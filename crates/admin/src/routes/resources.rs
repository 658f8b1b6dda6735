//! `/routes`, `/upstreams`, `/providers`, `/models`: configuration objects
//! kept as their spec JSON, addressed by name. The body of a write is the
//! spec itself (`RouteSpec`, `UpstreamSpec`, `ProviderSpec`, `ModelSpec`),
//! checked by deserializing it into that type, so a wrong field is a 422
//! naming its path. Platform admins write; everyone reads.
//!
//! Provider credentials: a literal `api_key` is taken out of the spec and
//! stored encrypted by the store; answers show `"api_key": "<redacted>"`.
//! On `PUT`, `"<redacted>"` keeps the stored credential, a `${VAR}`
//! reference or no `api_key` removes it. AWS credentials (`aws.*`) must be
//! `${VAR}` references: the store keeps one secret per provider.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sy_store::{NewResource, ResourceFilter, ResourceKind, ResourcePatch, StoreError};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{check_limit, filtered_page, page, tagged};
use crate::auth::Principal;
use crate::error::{ApiError, ApiResult, FieldError};
use crate::extract::{IfMatch, JsonBody, MAX_NAME, QueryParams, Validate, check_len};
use crate::schemas::{ModelSchema, ProviderSchema, RouteSchema, UpstreamSchema};
use crate::state::AdminState;
use crate::strict::Strict;

/// What answers show instead of a stored credential.
pub const REDACTED: &str = "<redacted>";

impl Validate for Value {
    fn validate(&self, _errors: &mut Vec<FieldError>) {}
}

/// Query of the resource lists.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ResourceQuery {
    /// Rows per page, 1 to 500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
    /// The `next` cursor of the previous page.
    pub after: Option<String>,
    /// Only names starting with this.
    pub name: Option<String>,
}

impl Validate for ResourceQuery {
    fn validate(&self, errors: &mut Vec<FieldError>) {
        check_limit(errors, self.limit);
    }
}

fn is_reference(s: &str) -> bool {
    s.starts_with("${") && s.ends_with('}')
}

/// Checks `spec` against `S` (422 with the field's path) and its name.
fn check_spec<S: DeserializeOwned>(spec: &Value, path_name: Option<&str>) -> ApiResult<String> {
    serde_path_to_error::deserialize::<_, S>(Strict(spec)).map_err(|e| {
        let path = e.path().to_string();
        let path = if path == "." { String::new() } else { path };
        ApiError::field(path, e.into_inner().to_string())
    })?;
    let name = spec
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let mut errors = Vec::new();
    check_len(&mut errors, "name", &name, MAX_NAME);
    if name.is_empty() {
        errors.push(FieldError {
            field: "name".into(),
            message: "must not be empty".into(),
        });
    }
    if let Some(p) = path_name.filter(|p| *p != name) {
        errors.push(FieldError {
            field: "name".into(),
            message: format!("must equal the name in the path, {p:?} (renaming is not supported)"),
        });
    }
    if errors.is_empty() {
        Ok(name)
    } else {
        Err(ApiError::validation(errors))
    }
}

/// What a write does to a provider's stored credential.
#[derive(Debug)]
enum Credential {
    /// Leave it as it is.
    Keep,
    /// Store this (or remove it with `None`).
    Set(Option<String>),
}

/// Takes a literal credential out of a provider spec.
fn take_credential(kind: ResourceKind, spec: &mut Value, creating: bool) -> ApiResult<Credential> {
    if kind != ResourceKind::Provider {
        return Ok(Credential::Keep);
    }
    if let Some(aws) = spec.get("aws").and_then(Value::as_object) {
        for field in ["access_key_id", "secret_access_key", "session_token"] {
            if aws
                .get(field)
                .and_then(Value::as_str)
                .is_some_and(|s| !is_reference(s))
            {
                return Err(ApiError::field(
                    format!("aws.{field}"),
                    "AWS credentials must be ${VAR} references; put a bearer key in api_key",
                ));
            }
        }
    }
    let Some(obj) = spec.as_object_mut() else {
        return Ok(Credential::Keep);
    };
    match obj.get("api_key").cloned() {
        Some(Value::String(s)) if s == REDACTED => {
            obj.remove("api_key");
            if creating {
                return Err(ApiError::field(
                    "api_key",
                    "send the credential, not \"<redacted>\"",
                ));
            }
            Ok(Credential::Keep)
        }
        Some(Value::String(s)) if !is_reference(&s) => {
            obj.remove("api_key");
            Ok(Credential::Set(Some(s)))
        }
        _ if creating => Ok(Credential::Set(None)),
        _ => Ok(Credential::Set(None)),
    }
}

/// A store error as answered, where a literal credential cannot be kept
/// because the gateway has no secret key: that is the `api_key` value
/// this gateway refuses (422, like literal AWS keys), not a server fault.
fn credential_error(e: StoreError) -> ApiError {
    match &e {
        StoreError::Crypto(msg) if msg.starts_with("no secret key configured") => ApiError::field(
            "api_key",
            "this gateway has no secret key to encrypt credentials with \
             (SWITCHYARD_SECRET_KEY): send a ${VAR} reference instead",
        ),
        _ => e.into(),
    }
}

/// The spec as answered: credentials redacted.
fn redacted(r: &sy_store::Resource) -> Value {
    let mut spec = r.spec.clone();
    if let Some(obj) = spec.as_object_mut() {
        let literal = obj
            .get("api_key")
            .and_then(Value::as_str)
            .is_some_and(|s| !is_reference(s));
        if r.has_secret || literal {
            obj.insert("api_key".into(), Value::String(REDACTED.into()));
        }
        if let Some(aws) = obj.get_mut("aws").and_then(Value::as_object_mut) {
            for field in ["secret_access_key", "session_token"] {
                if aws
                    .get(field)
                    .and_then(Value::as_str)
                    .is_some_and(|s| !is_reference(s))
                {
                    aws.insert(field.into(), Value::String(REDACTED.into()));
                }
            }
        }
    }
    spec
}

/// Whether a non-platform caller may see `r`: platform-wide ones and their
/// own tenant's.
fn can_see(p: &Principal, r: &sy_store::Resource) -> bool {
    r.tenant_id.as_ref().is_none_or(|t| p.sees_tenant(t))
}

async fn visible(
    st: &AdminState,
    p: &Principal,
    kind: ResourceKind,
    name: &str,
) -> ApiResult<sy_store::Resource> {
    let r = st.store.resource_by_name(kind, name).await?;
    if can_see(p, &r) {
        Ok(r)
    } else {
        Err(ApiError::not_found(kind.as_str(), name))
    }
}

async fn list_impl(
    st: &AdminState,
    p: &Principal,
    kind: ResourceKind,
    q: ResourceQuery,
) -> ApiResult<sy_store::Paged<sy_store::Resource>> {
    let filter = ResourceFilter {
        kind: Some(kind),
        tenant_id: None,
        name_prefix: q.name,
    };
    let page = page(q.limit, q.after);
    if p.is_platform() {
        return Ok(st.store.list_resources(&filter, &page).await?);
    }
    let fetch = |pg| {
        let (st, filter) = (st.clone(), filter.clone());
        async move { st.store.list_resources(&filter, &pg).await }
    };
    filtered_page(page, fetch, |r| can_see(p, r), |r| &r.id).await
}

async fn create_impl<S: DeserializeOwned>(
    st: &AdminState,
    p: &Principal,
    kind: ResourceKind,
    mut spec: Value,
) -> ApiResult<sy_store::Resource> {
    p.require_platform()?;
    let name = check_spec::<S>(&spec, None)?;
    st.check_resource(kind, &name, Some(&spec)).await?;
    let secret = match take_credential(kind, &mut spec, true)? {
        Credential::Set(s) => s,
        Credential::Keep => None,
    };
    let new = NewResource {
        kind,
        name,
        tenant_id: None,
        spec,
        secret,
    };
    let r = st
        .store
        .create_resource(&p.actor(), new)
        .await
        .map_err(credential_error)?;
    st.changed();
    Ok(r)
}

async fn replace_impl<S: DeserializeOwned>(
    st: &AdminState,
    p: &Principal,
    kind: ResourceKind,
    name: &str,
    if_match: IfMatch,
    mut spec: Value,
) -> ApiResult<sy_store::Resource> {
    let current = visible(st, p, kind, name).await?;
    p.require_platform()?;
    check_spec::<S>(&spec, Some(name))?;
    st.check_resource(kind, name, Some(&spec)).await?;
    let secret = match take_credential(kind, &mut spec, false)? {
        Credential::Keep => None,
        Credential::Set(s) if kind == ResourceKind::Provider => Some(s),
        Credential::Set(_) => None,
    };
    let expected = if_match.expected(current.version)?;
    let patch = ResourcePatch {
        spec: Some(spec),
        secret,
    };
    let r = st
        .store
        .update_resource(&p.actor(), &current.id, patch, expected)
        .await
        .map_err(credential_error)?;
    st.changed();
    Ok(r)
}

async fn delete_impl(
    st: &AdminState,
    p: &Principal,
    kind: ResourceKind,
    name: &str,
    if_match: IfMatch,
) -> ApiResult<StatusCode> {
    let current = visible(st, p, kind, name).await?;
    p.require_platform()?;
    let expected = if_match.expected(current.version)?;
    st.check_resource(kind, name, None).await?;
    st.store
        .delete_resource(&p.actor(), &current.id, expected)
        .await?;
    st.changed();
    Ok(StatusCode::NO_CONTENT)
}

/// Declares one resource kind: its answer type, page type and handlers.
macro_rules! resource_kind {
    (
        kind: $kind:expr, spec: $spec:ty, schema: $schema:ty, tag: $tag:tt,
        item: $item:ident, page: $page:ident, what: $what:tt,
        collection: $coll:tt, single: $single:tt,
        handlers: [$list:ident, $create:ident, $get:ident, $put:ident, $delete:ident]
    ) => {
        #[doc = concat!("A stored ", $what, ".")]
        #[derive(Debug, Clone, Serialize, ToSchema)]
        pub struct $item {
            /// UUID v7.
            pub id: String,
            /// Unique name (equals `spec.name`).
            pub name: String,
            /// Owning tenant; `null` = platform-wide.
            pub tenant_id: Option<String>,
            /// The spec, credentials shown as `"<redacted>"`.
            #[schema(value_type = $schema)]
            pub spec: Value,
            /// A credential is stored (encrypted).
            pub has_secret: bool,
            /// Declared in the configuration file: read-only through the API.
            pub file_managed: bool,
            /// Bumped by every update; the ETag is `"<version>"`.
            pub version: i64,
            /// Unix milliseconds.
            pub created_at: i64,
            /// Unix milliseconds.
            pub updated_at: i64,
        }

        impl From<sy_store::Resource> for $item {
            fn from(r: sy_store::Resource) -> Self {
                $item {
                    spec: redacted(&r),
                    id: r.id,
                    name: r.name,
                    tenant_id: r.tenant_id,
                    has_secret: r.has_secret,
                    file_managed: r.file_managed,
                    version: r.version,
                    created_at: r.created_at,
                    updated_at: r.updated_at,
                }
            }
        }

        super::page_type!(
            #[doc = concat!("A page of ", $what, "s.")]
            $page,
            $item
        );

        #[doc = concat!("Lists ", $what, "s.")]
        #[utoipa::path(get, path = $coll, tag = $tag, params(ResourceQuery),
            responses((status = 200, description = "One page", body = $page)))]
        async fn $list(
            State(st): State<AdminState>,
            p: Principal,
            QueryParams(q): QueryParams<ResourceQuery>,
        ) -> ApiResult<Json<$page>> {
            Ok(Json($page::from_paged(list_impl(&st, &p, $kind, q).await?)))
        }

        #[doc = concat!("Creates a ", $what, " (platform admins).")]
        #[utoipa::path(post, path = $coll, tag = $tag, request_body = $schema,
            responses((status = 201, description = "Created", body = $item,
                headers(("ETag" = String, description = "Strong ETag: the version in quotes")))))]
        async fn $create(
            State(st): State<AdminState>,
            p: Principal,
            JsonBody(spec): JsonBody<Value>,
        ) -> ApiResult<Response> {
            let r = create_impl::<$spec>(&st, &p, $kind, spec).await?;
            Ok(tagged(StatusCode::CREATED, r.version, $item::from(r)))
        }

        #[doc = concat!("Reads one ", $what, ".")]
        #[utoipa::path(get, path = $single, tag = $tag,
            params(("name" = String, Path, description = "Name")),
            responses((status = 200, description = "Found", body = $item,
                headers(("ETag" = String, description = "Strong ETag: the version in quotes")))))]
        async fn $get(
            State(st): State<AdminState>,
            p: Principal,
            Path(name): Path<String>,
        ) -> ApiResult<Response> {
            let r = visible(&st, &p, $kind, &name).await?;
            Ok(tagged(StatusCode::OK, r.version, $item::from(r)))
        }

        #[doc = concat!("Replaces a ", $what, "'s spec (platform admins; no upsert).")]
        #[utoipa::path(put, path = $single, tag = $tag,
            params(("name" = String, Path, description = "Name")), request_body = $schema,
            responses((status = 200, description = "Replaced", body = $item,
                headers(("ETag" = String, description = "Strong ETag: the version in quotes")))))]
        async fn $put(
            State(st): State<AdminState>,
            p: Principal,
            Path(name): Path<String>,
            if_match: IfMatch,
            JsonBody(spec): JsonBody<Value>,
        ) -> ApiResult<Response> {
            let r = replace_impl::<$spec>(&st, &p, $kind, &name, if_match, spec).await?;
            Ok(tagged(StatusCode::OK, r.version, $item::from(r)))
        }

        #[doc = concat!("Deletes a ", $what, " (platform admins).")]
        #[utoipa::path(delete, path = $single, tag = $tag,
            params(("name" = String, Path, description = "Name")),
            responses((status = 204, description = "Deleted")))]
        async fn $delete(
            State(st): State<AdminState>,
            p: Principal,
            Path(name): Path<String>,
            if_match: IfMatch,
        ) -> ApiResult<StatusCode> {
            delete_impl(&st, &p, $kind, &name, if_match).await
        }
    };
}

resource_kind!(
    kind: ResourceKind::Route, spec: sy_config::RouteSpec, schema: RouteSchema, tag: "resources",
    item: RouteResource, page: RoutePage, what: "route",
    collection: "/admin/v1/routes", single: "/admin/v1/routes/{name}",
    handlers: [list_routes, create_route, get_route, put_route, delete_route]
);
resource_kind!(
    kind: ResourceKind::Upstream, spec: sy_config::UpstreamSpec, schema: UpstreamSchema,
    tag: "resources", item: UpstreamResource, page: UpstreamPage, what: "upstream",
    collection: "/admin/v1/upstreams", single: "/admin/v1/upstreams/{name}",
    handlers: [list_upstreams, create_upstream, get_upstream, put_upstream, delete_upstream]
);
resource_kind!(
    kind: ResourceKind::Provider, spec: sy_config::ProviderSpec, schema: ProviderSchema,
    tag: "resources", item: ProviderResource, page: ProviderPage, what: "provider",
    collection: "/admin/v1/providers", single: "/admin/v1/providers/{name}",
    handlers: [list_providers, create_provider, get_provider, put_provider, delete_provider]
);
resource_kind!(
    kind: ResourceKind::Model, spec: sy_config::ModelSpec, schema: ModelSchema, tag: "resources",
    item: ModelResource, page: ModelPage, what: "model",
    collection: "/admin/v1/models", single: "/admin/v1/models/{name}",
    handlers: [list_models, create_model, get_model, put_model, delete_model]
);

/// The routes of this module.
pub fn routes() -> OpenApiRouter<AdminState> {
    OpenApiRouter::new()
        .routes(routes!(list_routes, create_route))
        .routes(routes!(get_route, put_route, delete_route))
        .routes(routes!(list_upstreams, create_upstream))
        .routes(routes!(get_upstream, put_upstream, delete_upstream))
        .routes(routes!(list_providers, create_provider))
        .routes(routes!(get_provider, put_provider, delete_provider))
        .routes(routes!(list_models, create_model))
        .routes(routes!(get_model, put_model, delete_model))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn literal_credentials_leave_the_spec() {
        let mut spec = json!({"name": "p", "kind": "openai", "api_key": "sk-live"});
        let c = take_credential(ResourceKind::Provider, &mut spec, true).unwrap();
        assert!(matches!(c, Credential::Set(Some(ref s)) if s == "sk-live"));
        assert!(spec.get("api_key").is_none());
        let mut spec = json!({"name": "p", "kind": "openai", "api_key": "${KEY}"});
        assert!(matches!(
            take_credential(ResourceKind::Provider, &mut spec, true).unwrap(),
            Credential::Set(None)
        ));
        assert_eq!(spec["api_key"], "${KEY}");
        let mut spec = json!({"name": "p", "kind": "openai", "api_key": REDACTED});
        assert!(matches!(
            take_credential(ResourceKind::Provider, &mut spec, false).unwrap(),
            Credential::Keep
        ));
        let mut spec = json!({"name": "p", "kind": "bedrock",
            "aws": {"access_key_id": "AKIA", "secret_access_key": "s"}});
        let e = take_credential(ResourceKind::Provider, &mut spec, true).unwrap_err();
        assert_eq!(e.detail.fields.unwrap()[0].field, "aws.access_key_id");
    }

    #[test]
    fn spec_errors_name_the_path() {
        let e = check_spec::<sy_config::ProviderSpec>(&json!({"name": "p", "kind": "nope"}), None)
            .unwrap_err();
        assert_eq!(e.status, 422);
        assert_eq!(e.detail.fields.unwrap()[0].field, "kind");
        let e = check_spec::<sy_config::ProviderSpec>(
            &json!({"name": "p", "kind": "openai", "colour": 1}),
            None,
        )
        .unwrap_err();
        assert!(e.detail.message.contains("unknown field"), "{e:?}");
        let e = check_spec::<sy_config::ProviderSpec>(
            &json!({"name": "p", "kind": "openai"}),
            Some("q"),
        )
        .unwrap_err();
        assert_eq!(e.detail.fields.unwrap()[0].field, "name");
    }
}
