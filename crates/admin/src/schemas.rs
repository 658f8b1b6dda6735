//! OpenAPI schemas of the `sy-config` spec types, taken from their
//! `schemars` JSON Schema (the same one the config file's schema is built
//! from), so the API and the file can never describe a spec differently.
//!
//! schemars writes JSON Schema 2020-12, which OpenAPI 3.1 uses as is; its
//! definitions go under `#/components/schemas/` and are converted to
//! utoipa's schema types. A test checks the conversion loses no keyword.

use std::sync::OnceLock;

use schemars::JsonSchema;
use schemars::generate::{SchemaGenerator, SchemaSettings};
use serde_json::{Map, Value};
use utoipa::openapi::{RefOr, Schema};

/// Every spec definition, keyed by its schema name, as JSON Schema.
fn definitions() -> &'static Map<String, Value> {
    static DEFS: OnceLock<Map<String, Value>> = OnceLock::new();
    DEFS.get_or_init(|| {
        let settings = SchemaSettings::draft2020_12().with(|s| {
            s.definitions_path = "/components/schemas".into();
            s.meta_schema = None;
        });
        let mut generator = SchemaGenerator::new(settings);
        // `subschema_for` registers each type (and everything it uses) as a
        // definition and answers a `$ref` to it.
        let _ = generator.subschema_for::<sy_config::LimitsSpec>();
        let _ = generator.subschema_for::<sy_config::RouteSpec>();
        let _ = generator.subschema_for::<sy_config::UpstreamSpec>();
        let _ = generator.subschema_for::<sy_config::ProviderSpec>();
        let _ = generator.subschema_for::<sy_config::ModelSpec>();
        let mut defs = generator.take_definitions(true);
        for v in defs.values_mut() {
            wrap_ref_siblings(v);
        }
        defs
    })
}

/// Rewrites what utoipa cannot hold into equivalents it can. utoipa's
/// `Ref` keeps only `description` and `summary` beside `$ref`, so
/// `{"$ref": X, "default": D}` becomes `{"allOf": [{"$ref": X}], "default": D}`
/// (the same meaning in JSON Schema 2020-12).
fn wrap_ref_siblings(v: &mut Value) {
    match v {
        Value::Object(m) => {
            for child in m.values_mut() {
                wrap_ref_siblings(child);
            }
            // utoipa has no `const`; a one-value `enum` means the same.
            if let Some(c) = m.remove("const") {
                m.insert("enum".into(), Value::Array(vec![c]));
            }
            let extra = m
                .keys()
                .any(|k| !matches!(k.as_str(), "$ref" | "description" | "summary"));
            if extra && let Some(r) = m.remove("$ref") {
                let mut inner = Map::new();
                inner.insert("$ref".into(), r);
                m.insert("allOf".into(), Value::Array(vec![Value::Object(inner)]));
            }
        }
        Value::Array(a) => a.iter_mut().for_each(wrap_ref_siblings),
        _ => {}
    }
}

/// The JSON Schema definition named `name`, as JSON.
pub fn definition_json(name: &str) -> Option<&'static Value> {
    definitions().get(name)
}

/// A JSON Schema value as utoipa's schema type. Unknown to utoipa → an
/// empty (any) schema; the round-trip test keeps that from happening.
pub fn to_utoipa(value: &Value) -> RefOr<Schema> {
    serde_json::from_value(value.clone())
        .unwrap_or_else(|_| RefOr::T(Schema::Object(utoipa::openapi::schema::Object::new())))
}

/// Every spec definition as utoipa schemas.
pub fn components() -> Vec<(String, RefOr<Schema>)> {
    definitions()
        .iter()
        .map(|(k, v)| (k.clone(), to_utoipa(v)))
        .collect()
}

/// Declares a unit type whose OpenAPI schema is the spec type's.
macro_rules! spec_schema {
    ($(#[$m:meta])* $wrapper:ident => $spec:ty) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy)]
        pub struct $wrapper;

        impl utoipa::PartialSchema for $wrapper {
            fn schema() -> RefOr<Schema> {
                let name = <$spec as JsonSchema>::schema_name();
                definition_json(&name).map(to_utoipa).unwrap_or_else(|| {
                    RefOr::T(Schema::Object(utoipa::openapi::schema::Object::new()))
                })
            }
        }

        impl utoipa::ToSchema for $wrapper {
            fn name() -> std::borrow::Cow<'static, str> {
                <$spec as JsonSchema>::schema_name()
            }

            fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
                schemas.extend(components());
            }
        }
    };
}

spec_schema!(
    /// Schema of `sy_config::LimitsSpec`.
    LimitsSchema => sy_config::LimitsSpec
);
spec_schema!(
    /// Schema of `sy_config::RouteSpec`.
    RouteSchema => sy_config::RouteSpec
);
spec_schema!(
    /// Schema of `sy_config::UpstreamSpec`.
    UpstreamSchema => sy_config::UpstreamSpec
);
spec_schema!(
    /// Schema of `sy_config::ProviderSpec`.
    ProviderSchema => sy_config::ProviderSpec
);
spec_schema!(
    /// Schema of `sy_config::ModelSpec`.
    ModelSchema => sy_config::ModelSpec
);

#[cfg(test)]
mod tests {
    use super::*;

    /// Drops keys whose value is `null`: utoipa omits them on output.
    fn strip(v: &Value) -> Value {
        match v {
            Value::Object(m) => Value::Object(
                m.iter()
                    .filter(|(_, v)| !v.is_null())
                    .map(|(k, v)| (k.clone(), strip(v)))
                    .collect(),
            ),
            Value::Array(a) => Value::Array(a.iter().map(strip).collect()),
            other => other.clone(),
        }
    }

    #[test]
    fn conversion_to_utoipa_loses_nothing() {
        assert!(definitions().len() > 5);
        for (name, json) in definitions() {
            let schema: RefOr<Schema> = serde_json::from_value(json.clone())
                .unwrap_or_else(|e| panic!("{name} does not convert: {e}"));
            let back = serde_json::to_value(&schema).unwrap();
            assert_eq!(strip(&back), strip(json), "{name} changed in conversion");
        }
    }

    #[test]
    fn refs_point_into_components() {
        let text = serde_json::to_string(definitions()).unwrap();
        assert!(!text.contains("#/$defs"));
        assert!(text.contains("#/components/schemas/"));
        for name in [
            "LimitsSpec",
            "RouteSpec",
            "UpstreamSpec",
            "ProviderSpec",
            "ModelSpec",
        ] {
            assert!(definition_json(name).is_some(), "{name}");
        }
    }
}
