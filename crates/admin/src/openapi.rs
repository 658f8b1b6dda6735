//! The OpenAPI 3.1 document, generated from the handlers' `#[utoipa::path]`
//! attributes as the router is built (utoipa-axum registers a handler in
//! the router and the document in one call, so they cannot drift), then
//! completed here with what every operation shares: the bearer security
//! scheme, the `If-Match` header on mutations, and the error responses.

use utoipa::openapi::link::LinkBuilder;
use utoipa::openapi::path::{Operation, Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{
    ContentBuilder, HttpMethod, OpenApi, Ref, RefOr, Required, Response, ResponseBuilder,
};

use serde_json::Value;

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
    add_links(&mut doc);
    doc
}

/// `doc` as the JSON served at `GET /openapi.json`. utoipa 5 writes a
/// link's `operationId`, `operationRef` and `requestBody` in snake case;
/// they are renamed to the OpenAPI names here.
pub fn to_json(doc: &OpenApi) -> Value {
    let mut v = serde_json::to_value(doc).unwrap_or_default();
    if let Some(paths) = v.get_mut("paths").and_then(Value::as_object_mut) {
        let responses = paths
            .values_mut()
            .filter_map(Value::as_object_mut)
            .flat_map(|item| item.values_mut())
            .filter_map(|op| op.get_mut("responses").and_then(Value::as_object_mut))
            .flat_map(|r| r.values_mut());
        for response in responses {
            let links = response.get_mut("links").and_then(Value::as_object_mut);
            for link in links.into_iter().flat_map(|l| l.values_mut()) {
                let Some(link) = link.as_object_mut() else {
                    continue;
                };
                for (from, to) in [
                    ("operation_id", "operationId"),
                    ("operation_ref", "operationRef"),
                    ("request_body", "requestBody"),
                ] {
                    if let Some(x) = link.remove(from) {
                        link.insert(to.into(), x);
                    }
                }
            }
        }
    }
    v
}

/// Links from each `201 Created` of `POST /x` to the operations on
/// `/x/{id}` (or `/x/{name}`) and below it, passing the created entity's
/// `id` (or `name`) from the answer: clients and test generators can
/// follow a creation to what it made.
fn add_links(doc: &mut OpenApi) {
    let mut found: Vec<(String, String, String, String)> = Vec::new();
    for (collection, _) in doc.paths.paths.iter().filter(|(_, i)| i.post.is_some()) {
        for (path, item) in doc.paths.paths.iter() {
            let Some(rest) = path.strip_prefix(collection.as_str()) else {
                continue;
            };
            let Some(param) = rest
                .strip_prefix("/{")
                .and_then(|r| r.split_once('}'))
                .map(|(p, _)| p)
            else {
                continue;
            };
            if rest[param.len() + 3..].contains('{') {
                continue;
            }
            let ops = [&item.get, &item.post, &item.put, &item.patch, &item.delete];
            for op in ops.into_iter().flatten() {
                if let Some(id) = &op.operation_id {
                    found.push((
                        collection.clone(),
                        id.clone(),
                        param.to_owned(),
                        path.clone(),
                    ));
                }
            }
        }
    }
    let schemas = doc
        .components
        .as_ref()
        .and_then(|c| serde_json::to_value(&c.schemas).ok())
        .unwrap_or_default();
    for (collection, operation_id, param, path) in found {
        let Some(RefOr::T(created)) = doc
            .paths
            .paths
            .get_mut(&collection)
            .and_then(|i| i.post.as_mut())
            .and_then(|op| op.responses.responses.get_mut("201"))
        else {
            continue;
        };
        let body = created
            .content
            .get("application/json")
            .and_then(|c| serde_json::to_value(&c.schema).ok())
            .unwrap_or_default();
        let Some(pointer) = field_pointer(&schemas, &body, &param) else {
            continue;
        };
        let link = LinkBuilder::new()
            .operation_id(operation_id.as_str())
            .parameter(param.as_str(), format!("$response.body#{pointer}"))
            .description(format!("`{param}` of the created entity, for {path}"))
            .build();
        created.links.insert(operation_id, RefOr::T(link));
    }
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

/// The JSON pointer of property `name` in an object of `schema`: at the
/// top (`/id`) or in a property that is itself an object (`/key/id`).
fn field_pointer(schemas: &Value, schema: &Value, name: &str) -> Option<String> {
    let props = properties(schemas, schema)?;
    if props.contains_key(name) {
        return Some(format!("/{name}"));
    }
    props.iter().find_map(|(field, inner)| {
        properties(schemas, inner)
            .filter(|p| p.contains_key(name))
            .map(|_| format!("/{field}/{name}"))
    })
}

/// The `properties` of `schema`, following a `$ref` into `schemas`.
fn properties<'a>(
    schemas: &'a Value,
    schema: &'a Value,
) -> Option<&'a serde_json::Map<String, Value>> {
    let schema = match schema.get("$ref").and_then(Value::as_str) {
        Some(r) => schemas.get(r.strip_prefix("#/components/schemas/")?)?,
        None => schema,
    };
    schema.get("properties")?.as_object()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creations_link_to_their_entity() {
        let doc = to_json(&crate::openapi());
        let links = &doc["paths"]["/admin/v1/keys"]["post"]["responses"]["201"]["links"];
        assert_eq!(links["get_key"]["operationId"], "get_key", "{links}");
        assert_eq!(
            links["get_key"]["parameters"]["id"],
            "$response.body#/key/id"
        );
        let links = &doc["paths"]["/admin/v1/tenants"]["post"]["responses"]["201"]["links"];
        assert_eq!(
            links["delete_tenant"]["parameters"]["id"],
            "$response.body#/id"
        );
        let links = &doc["paths"]["/admin/v1/routes"]["post"]["responses"]["201"]["links"];
        assert_eq!(
            links["put_route"]["parameters"]["name"],
            "$response.body#/name"
        );
    }
}
