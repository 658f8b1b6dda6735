//! The OpenAPI 3.1 document, generated from the handlers' `#[utoipa::path]`
//! attributes as the router is built (utoipa-axum registers a handler in
//! the router and the document in one call, so they cannot drift), then
//! completed here with what every operation shares: the bearer security
//! scheme, the `If-Match` header on mutations, and the error responses.

use utoipa::openapi::path::{Operation, Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{
    ContentBuilder, HttpMethod, OpenApi, Ref, RefOr, Required, Response, ResponseBuilder,
};

use crate::error::ErrorBody;

/// Base document: info, tags, and the shared components.
#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "Switchyard admin API",
        description = "Manage tenants, users, consumers, keys, products, subscriptions, routes, \
                       upstreams, providers and models.\n\n\
                       Authentication: `Authorization: Bearer <token>` with a session token \
                       from `POST /admin/v1/login` or the bootstrap token.\n\n\
                       Concurrency: single-entity responses carry a strong `ETag: \"<version>\"`. \
                       Send it back as `If-Match` on PATCH, PUT, DELETE and state actions; a \
                       stale one answers 412 with `current_version`. Without `If-Match` the \
                       last write wins.\n\n\
                       Isolation: another tenant's entities answer 404, exactly like missing \
                       ones; lists are narrowed to the caller's tenant.",
        license(name = "Apache-2.0")
    ),
    components(schemas(ErrorBody)),
    tags(
        (name = "session", description = "Login, logout, who am I"),
        (name = "tenants"), (name = "users"), (name = "consumers"), (name = "keys"),
        (name = "products"), (name = "subscriptions"), (name = "audit"),
        (name = "resources", description = "Routes, upstreams, providers and models, as their spec JSON"),
        (name = "meta", description = "This document")
    )
)]
pub struct ApiDoc;

/// Paths reachable without a token.
pub const PUBLIC_PATHS: [&str; 2] = ["/admin/v1/openapi.json", "/admin/v1/login"];

/// Adds the shared parts to a document built by the router.
pub fn complete(mut doc: OpenApi) -> OpenApi {
    let components = doc.components.get_or_insert_with(Default::default);
    components.security_schemes.insert(
        "bearer".into(),
        SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
    );
    for (path, item) in doc.paths.paths.iter_mut() {
        let public = PUBLIC_PATHS.contains(&path.as_str());
        let ops = [
            (HttpMethod::Get, &mut item.get),
            (HttpMethod::Post, &mut item.post),
            (HttpMethod::Put, &mut item.put),
            (HttpMethod::Patch, &mut item.patch),
            (HttpMethod::Delete, &mut item.delete),
        ];
        for (method, op) in ops {
            if let Some(op) = op.as_mut() {
                complete_operation(path, method, op, public);
            }
        }
    }
    doc
}

fn complete_operation(path: &str, method: HttpMethod, op: &mut Operation, public: bool) {
    let has_body = op.request_body.is_some();
    let mutation = matches!(
        method,
        HttpMethod::Put | HttpMethod::Patch | HttpMethod::Delete
    ) || (method == HttpMethod::Post && path.contains('{'));
    let mut errors: Vec<(&str, &str)> = Vec::new();
    if public {
        op.security = Some(vec![SecurityRequirement::default()]);
    } else {
        op.security = Some(vec![SecurityRequirement::new(
            "bearer",
            Vec::<String>::new(),
        )]);
        errors.push(("401", "Missing, unknown or expired token"));
        errors.push(("403", "The caller's role may not do this"));
        errors.push(("404", "No such entity, or it belongs to another tenant"));
        errors.push(("422", "A query parameter or body field is invalid"));
    }
    if has_body {
        errors.push(("400", "Malformed JSON"));
        errors.push(("413", "Body larger than 1 MiB"));
        errors.push(("415", "Body is not application/json"));
        errors.push(("422", "A body field is invalid"));
    }
    if !public && (has_body || mutation) && method != HttpMethod::Get {
        errors.push((
            "409",
            "Conflicts with existing data, an invalid state transition, or a \
                            file-managed entity",
        ));
    }
    if public && path.ends_with("/login") {
        errors.push(("401", "Unknown user, wrong password or disabled user"));
    }
    if mutation {
        errors.push(("412", "If-Match does not match the current version"));
        let params = op.parameters.get_or_insert_with(Vec::new);
        if !params
            .iter()
            .any(|p| p.name.eq_ignore_ascii_case("if-match"))
        {
            params.push(if_match());
        }
    }
    for (status, description) in errors {
        if !op.responses.responses.contains_key(status) {
            op.responses
                .responses
                .insert(status.to_owned(), error_response(description));
        }
    }
}

fn if_match() -> Parameter {
    ParameterBuilder::new()
        .name("If-Match")
        .parameter_in(ParameterIn::Header)
        .required(Required::False)
        .description(Some(
            "ETag(s) from an earlier response, e.g. `\"3\"`; `*` or no header: any version",
        ))
        .schema(Some(utoipa::openapi::schema::Object::with_type(
            utoipa::openapi::schema::Type::String,
        )))
        .build()
}

fn error_response(description: &str) -> RefOr<Response> {
    RefOr::T(
        ResponseBuilder::new()
            .description(description)
            .content(
                "application/json",
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name("ErrorBody")))
                    .build(),
            )
            .build(),
    )
}
