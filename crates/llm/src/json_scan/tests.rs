use proptest::prelude::*;
use serde::de::IgnoredAny;
use serde_json::Value;

use super::*;

/// What the scan must say: `serde_json` skips the text without error, the
/// text is UTF-8 (RFC 8259 §8.1), and the value is an object.
fn reference(text: &[u8]) -> bool {
    serde_json::from_slice::<IgnoredAny>(text).is_ok()
        && std::str::from_utf8(text).is_ok()
        && text
            .iter()
            .find(|c| !matches!(c, b' ' | b'\n' | b'\t' | b'\r'))
            .is_some_and(|&c| c == b'{')
}

fn accepted(text: &[u8]) -> bool {
    object_members(text, |_| Ok(())).is_ok()
}

fn members(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    object_members(text.as_bytes(), |m| {
        out.push((text[m.key].to_owned(), text[m.value].to_owned()));
        Ok(())
    })
    .unwrap();
    out
}

#[test]
fn members_are_found_at_the_top_level_only() {
    assert_eq!(
        members(r#" { "a" : [1, {"b": 2}] ,"c":"x\"}" , "d\u0065":{} }  "#),
        [
            ("a".to_owned(), r#"[1, {"b": 2}]"#.to_owned()),
            ("c".to_owned(), r#""x\"}""#.to_owned()),
            (r"d\u0065".to_owned(), "{}".to_owned()),
        ]
    );
    assert_eq!(members("{}"), []);
    assert_eq!(
        members(r#"{"n":-0.5e+3,"t":true,"f":false,"z":null,"e":[]}"#)
            .into_iter()
            .map(|(_, v)| v)
            .collect::<Vec<_>>(),
        ["-0.5e+3", "true", "false", "null", "[]"]
    );
}

#[test]
fn a_member_refused_by_the_caller_stops_the_scan() {
    let mut seen = 0;
    let refused = object_members(br#"{"a":1,"b":2,"c":3}"#, |m| {
        seen += 1;
        if m.key.len() == 1 && seen == 2 {
            return Err(ScanError {
                what: "no b",
                at: m.value.start,
            });
        }
        Ok(())
    });
    assert_eq!(seen, 2);
    assert_eq!(refused.unwrap_err().what, "no b");
}

#[test]
fn edge_cases_agree_with_serde_json() {
    let cases: &[&[u8]] = &[
        b"{}",
        b" {} ",
        b"{",
        b"}",
        b"[]",
        b"{} {}",
        b"{\"a\":}",
        b"{\"a\" 1}",
        b"{\"a\":1,}",
        b"{,\"a\":1}",
        b"{\"a\":[1,]}",
        b"{\"a\":[,1]}",
        b"{\"a\":[1 2]}",
        b"{\"a\":{\"b\"}}",
        b"{\"a\":{1:2}}",
        b"{\"a\":01}",
        b"{\"a\":-}",
        b"{\"a\":-0}",
        b"{\"a\":1.}",
        b"{\"a\":.5}",
        b"{\"a\":1e}",
        b"{\"a\":1e+}",
        b"{\"a\":1E-07}",
        b"{\"a\":+1}",
        b"{\"a\":0x1}",
        b"{\"a\":tru}",
        b"{\"a\":truex}",
        b"{\"a\":nul}",
        b"{\"a\":\"\\u12G4\"}",
        b"{\"a\":\"\\u00e9\\ud800\"}",
        b"{\"a\":\"\\x\"}",
        b"{\"a\":\"tab\there\"}",
        b"{\"a\":\"\x7f\"}",
        b"{\"a\":\"\xc3\xa9\"}",
        b"{\"a\":\"\xc3\"}",
        b"{\"a\":\"\xff\"}",
        b"{\"a\":\"unterminated}",
        b"{\"a\":[[[[]]]]}",
        b"{\"a\":[[[[]]]}",
        b"{\"a\":[[[[]]]]]}",
        b"{\"a\":[{]}]}",
        b"{\"a\":1}\n\t\r ",
        b"{\"a\":1}\x0b",
    ];
    for case in cases {
        assert_eq!(
            accepted(case),
            reference(case),
            "{:?}",
            String::from_utf8_lossy(case)
        );
    }
}

#[test]
fn nesting_is_bounded_and_the_bound_is_reached() {
    let nested = |depth: usize| format!("{{\"a\":{}1{}}}", "[".repeat(depth), "]".repeat(depth));
    assert!(accepted(nested(MAX_DEPTH).as_bytes()));
    assert!(!accepted(nested(MAX_DEPTH + 1).as_bytes()));
    // Levels past the first 64 keep their kind.
    let mixed = format!(
        "{{\"a\":{}{}1{}}}",
        "[".repeat(70),
        "{\"k\":",
        "}".to_owned() + &"]".repeat(70)
    );
    assert!(accepted(mixed.as_bytes()), "{mixed}");
    let crossed = mixed.replacen('}', "]", 1);
    assert!(!accepted(crossed.as_bytes()));
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        // Exact in binary and in short decimal, so they read back equal.
        any::<i32>().prop_map(|i| Value::from(f64::from(i) / 64.0)),
        "[a-z\"\\\\/\u{0}-\u{1f}é€😀 ]{0,8}".prop_map(Value::String),
    ];
    leaf.prop_recursive(5, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map("[a-z\"\\\\é]{0,4}", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn json_object() -> impl Strategy<Value = Value> {
    prop::collection::btree_map("[a-z\"é]{0,4}", json_value(), 0..6)
        .prop_map(|m| Value::Object(m.into_iter().collect()))
}

/// Bytes that change the meaning of JSON text, and some that break UTF-8.
const INTERESTING: &[u8] = b"{}[],:\"\\ \t\n0123456789-+.eEtrufalsn/bu\x00\x1f\x7f\x80\xc3\xa9\xff";

#[derive(Debug, Clone)]
enum Edit {
    Delete(usize),
    Insert(usize, u8),
    Replace(usize, u8),
}

fn edit() -> impl Strategy<Value = Edit> {
    let byte = prop_oneof![prop::sample::select(INTERESTING), any::<u8>()];
    prop_oneof![
        any::<usize>().prop_map(Edit::Delete),
        (any::<usize>(), byte.clone()).prop_map(|(at, b)| Edit::Insert(at, b)),
        (any::<usize>(), byte).prop_map(|(at, b)| Edit::Replace(at, b)),
    ]
}

fn apply(text: &mut Vec<u8>, edit: &Edit) {
    let len = text.len();
    match *edit {
        Edit::Delete(at) if len > 0 => {
            text.remove(at % len);
        }
        Edit::Insert(at, b) => text.insert(at % (len + 1), b),
        Edit::Replace(at, b) if len > 0 => text[at % len] = b,
        _ => {}
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    /// Well-formed documents, compact and pretty: accepted, with the
    /// members serde_json finds, in order.
    #[test]
    fn documents_are_accepted_with_their_members(doc in json_object(), pretty in any::<bool>()) {
        let text = if pretty {
            serde_json::to_string_pretty(&doc).unwrap()
        } else {
            serde_json::to_string(&doc).unwrap()
        };
        let mut found = Vec::new();
        object_members(text.as_bytes(), |m| {
            let key: String = serde_json::from_str(&text[m.key.start - 1..m.key.end + 1]).unwrap();
            let value: Value = serde_json::from_str(&text[m.value]).unwrap();
            found.push((key, value));
            Ok(())
        }).unwrap();
        let expected: Vec<(String, Value)> = doc.as_object().unwrap().clone().into_iter().collect();
        prop_assert_eq!(found, expected);
    }

    /// Documents with a few bytes deleted, inserted or replaced: accepted
    /// exactly when serde_json (and UTF-8) accept them.
    #[test]
    fn mutated_documents_agree_with_serde_json(
        doc in prop_oneof![3 => json_object(), 1 => json_value()],
        pretty in any::<bool>(),
        edits in prop::collection::vec(edit(), 1..4),
    ) {
        let mut text = if pretty {
            serde_json::to_vec_pretty(&doc).unwrap()
        } else {
            serde_json::to_vec(&doc).unwrap()
        };
        for e in &edits {
            apply(&mut text, e);
        }
        prop_assert_eq!(accepted(&text), reference(&text), "{:?}", String::from_utf8_lossy(&text));
    }
}

#[test]
fn unsigned_integers_are_read_as_serde_reads_a_u64() {
    for text in [
        "0",
        "7",
        "1795554934",
        "18446744073709551615",
        "18446744073709551616",
        "-1",
        "01",
        "1.0",
        "1e3",
        "",
        " 1",
        "x",
    ] {
        assert_eq!(
            unsigned(text.as_bytes()),
            serde_json::from_str::<u64>(text)
                .ok()
                .filter(|_| !text.starts_with(' ')),
            "{text:?}"
        );
    }
}
