//! Deterministic sample values for a JSON Schema: the mock's tool-call
//! arguments and structured (`json_schema`) outputs.
//!
//! Rules: `const` wins, then the first `enum` value, then by `type` (the
//! first non-null one when it is a list): string → `"mock"`, integer and
//! number → `1`, boolean → `true`, array → one sample item, object → every
//! property in schema order, null → `null`; a schema without a type is
//! treated as a string. Depth is capped so recursive schemas terminate.

use serde_json::{Map, Value};

const MAX_DEPTH: usize = 8;

/// A sample value for `schema`.
pub(crate) fn sample(schema: &Value) -> Value {
    sample_at(schema, 0)
}

fn sample_at(schema: &Value, depth: usize) -> Value {
    let Some(obj) = schema.as_object() else {
        return Value::String("mock".into());
    };
    if let Some(value) = obj.get("const") {
        return value.clone();
    }
    if let Some(first) = obj
        .get("enum")
        .and_then(Value::as_array)
        .and_then(|v| v.first())
    {
        return first.clone();
    }
    let kind = match obj.get("type") {
        Some(Value::String(t)) => t.as_str(),
        Some(Value::Array(types)) => types
            .iter()
            .filter_map(Value::as_str)
            .find(|t| *t != "null")
            .unwrap_or("null"),
        _ if obj.contains_key("properties") => "object",
        _ => "string",
    };
    match kind {
        "integer" | "number" => Value::from(1),
        "boolean" => Value::Bool(true),
        "null" => Value::Null,
        "array" if depth < MAX_DEPTH => {
            let item = obj
                .get("items")
                .map_or(Value::String("mock".into()), |s| sample_at(s, depth + 1));
            Value::Array(vec![item])
        }
        "object" if depth < MAX_DEPTH => {
            let mut out = Map::new();
            if let Some(props) = obj.get("properties").and_then(Value::as_object) {
                for (name, prop) in props {
                    out.insert(name.clone(), sample_at(prop, depth + 1));
                }
            }
            Value::Object(out)
        }
        "array" => Value::Array(vec![]),
        "object" => Value::Object(Map::new()),
        _ => Value::String("mock".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn samples_follow_the_schema() {
        let schema = json!({
            "type": "object",
            "properties": {
                "city": {"type": "string"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
                "days": {"type": "integer"},
                "tags": {"type": "array", "items": {"type": "string"}},
                "exact": {"type": ["null", "boolean"]},
                "fixed": {"const": 3}
            }
        });
        assert_eq!(
            sample(&schema),
            json!({"city": "mock", "unit": "celsius", "days": 1, "tags": ["mock"], "exact": true, "fixed": 3})
        );
    }

    #[test]
    fn recursion_stops() {
        let schema = json!({"type": "array", "items": {"type": "array", "items": {"type": "array", "items": {
            "type": "array", "items": {"type": "array", "items": {"type": "array", "items": {
            "type": "array", "items": {"type": "array", "items": {"type": "array", "items": {"type": "string"}}}}}}}}}});
        let text = sample(&schema).to_string();
        assert_eq!(text, "[[[[[[[[[]]]]]]]]]");
    }
}
