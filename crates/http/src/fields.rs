//! Fields the gateway sets on an answer, wherever the answer keeps them.
//!
//! An answer holds its fields in its header map, or, when it is passed on
//! as bytes, partly as [`RawHeaders`] lines beside that map (see
//! [`crate::raw_head`]). Code that only *adds* fields (a request id, rate
//! limits, token counts) need not care which: [`SetField`] sets a field on
//! a map, on lines, or on a response or its parts, which pick their lines
//! when they carry them. Only code that reads or removes fields must merge
//! the lines into the map first ([`crate::materialize`]).

use http::header::{HeaderMap, HeaderName, HeaderValue};

use crate::RawHeaders;

/// Somewhere a response's fields go. Setting replaces every field of the
/// same name, as [`HeaderMap::insert`] does.
pub trait SetField {
    /// Set `name` to the concatenation of `parts`. A value a field cannot
    /// carry (a control character) is skipped: `false`.
    fn set_field(&mut self, name: &HeaderName, parts: &[&[u8]]) -> bool;

    /// Set `name` to the decimal `n`.
    fn set_number(&mut self, name: &HeaderName, n: u64) -> bool {
        let mut digits = itoa::Buffer::new();
        self.set_field(name, &[digits.format(n).as_bytes()])
    }
}

impl SetField for HeaderMap {
    fn set_field(&mut self, name: &HeaderName, parts: &[&[u8]]) -> bool {
        let value = match parts {
            [one] => HeaderValue::from_bytes(one),
            _ => HeaderValue::from_bytes(&parts.concat()),
        };
        match value {
            Ok(value) => {
                self.insert(name.clone(), value);
                true
            }
            Err(_) => false,
        }
    }
}

impl SetField for RawHeaders {
    fn set_field(&mut self, name: &HeaderName, parts: &[&[u8]]) -> bool {
        self.set(name, parts)
    }

    fn set_number(&mut self, name: &HeaderName, n: u64) -> bool {
        RawHeaders::set_number(self, name, n);
        true
    }
}

/// The response's lines when it carries them, else its map. (A field set
/// in the map would also win over the lines; setting it in the lines keeps
/// an answer passed on as bytes free of a map.) A field of the same name
/// already in the map goes, or it would hide the line.
impl<B> SetField for http::Response<B> {
    fn set_field(&mut self, name: &HeaderName, parts: &[&[u8]]) -> bool {
        if self.extensions().get::<RawHeaders>().is_none() {
            return self.headers_mut().set_field(name, parts);
        }
        if !self.headers().is_empty() {
            self.headers_mut().remove(name);
        }
        self.extensions_mut()
            .get_mut::<RawHeaders>()
            .is_some_and(|lines| lines.set(name, parts))
    }
}

/// As for [`http::Response`].
impl SetField for http::response::Parts {
    fn set_field(&mut self, name: &HeaderName, parts: &[&[u8]]) -> bool {
        match self.extensions.get_mut::<RawHeaders>() {
            Some(lines) => {
                if !self.headers.is_empty() {
                    self.headers.remove(name);
                }
                lines.set(name, parts)
            }
            None => self.headers.set_field(name, parts),
        }
    }
}

/// Run `f` with where `res`'s fields go, looking for its lines once rather
/// than once per field: the lines themselves when the map holds nothing
/// that could hide them, else the response (which removes a same-named
/// map field as it sets each line).
pub fn with_fields<B, R>(res: &mut http::Response<B>, f: impl FnOnce(&mut dyn SetField) -> R) -> R {
    if res.headers().is_empty()
        && let Some(lines) = res.extensions_mut().get_mut::<RawHeaders>()
    {
        return f(lines);
    }
    f(res)
}

/// Whether the answer carries a field `name`, in its map or its lines.
pub fn has_field(parts: &http::response::Parts, name: &HeaderName) -> bool {
    has_any_field(parts, std::slice::from_ref(name))
}

/// Whether the answer carries any of `names`, in its map or its lines
/// (its lines looked up once for all of them).
pub fn has_any_field(parts: &http::response::Parts, names: &[HeaderName]) -> bool {
    if !parts.headers.is_empty() && names.iter().any(|n| parts.headers.contains_key(n)) {
        return true;
    }
    parts
        .extensions
        .get::<RawHeaders>()
        .is_some_and(|lines| names.iter().any(|n| lines.contains(n.as_str().as_bytes())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::materialize;

    const LIMIT: HeaderName = HeaderName::from_static("x-limit");

    fn fields(parts: &mut http::response::Parts) -> Vec<(String, String)> {
        materialize(parts);
        parts
            .headers
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_str().unwrap().to_owned()))
            .collect()
    }

    #[test]
    fn a_response_with_lines_gets_lines_and_one_without_gets_its_map() {
        let mut with = http::Response::new(());
        with.extensions_mut().insert(RawHeaders::with_capacity(64));
        assert!(with.set_number(&LIMIT, 7));
        assert!(with.set_field(&LIMIT, &[b"4", b"2"]), "replaces");
        assert!(with.headers().is_empty(), "nothing went to the map");
        let (mut parts, ()) = with.into_parts();
        assert!(has_field(&parts, &LIMIT));
        assert_eq!(fields(&mut parts), [("x-limit".into(), "42".into())]);

        let mut without = http::Response::new(());
        assert!(without.set_number(&LIMIT, 7));
        assert!(without.set_field(&LIMIT, &[b"4", b"2"]));
        let (mut parts, ()) = without.into_parts();
        assert!(has_field(&parts, &LIMIT));
        assert_eq!(fields(&mut parts), [("x-limit".into(), "42".into())]);
        assert!(!has_field(&parts, &http::header::ETAG));
    }

    #[test]
    fn parts_pick_the_same_way_and_bad_values_are_refused() {
        let mut lines = http::Response::new(()).into_parts().0;
        lines.extensions.insert(RawHeaders::with_capacity(64));
        let mut map = http::Response::new(()).into_parts().0;
        for parts in [&mut lines, &mut map] {
            assert!(!parts.set_field(&LIMIT, &[b"a\r\nb"]));
            assert!(!has_field(parts, &LIMIT));
            assert!(parts.set_number(&LIMIT, 1));
            assert!(has_field(parts, &LIMIT));
        }
        assert!(lines.headers.is_empty());
        assert_eq!(fields(&mut lines), fields(&mut map));
    }

    #[test]
    fn a_field_in_the_map_does_not_hide_one_set_on_the_lines() {
        let mut res = http::Response::new(());
        res.extensions_mut().insert(RawHeaders::with_capacity(64));
        res.headers_mut()
            .insert(LIMIT, HeaderValue::from_static("old"));
        assert!(res.set_number(&LIMIT, 42));
        let (mut parts, ()) = res.into_parts();
        assert_eq!(fields(&mut parts), [("x-limit".into(), "42".into())]);

        let mut parts = http::Response::new(()).into_parts().0;
        parts.extensions.insert(RawHeaders::with_capacity(64));
        parts.headers.insert(LIMIT, HeaderValue::from_static("old"));
        assert!(parts.set_number(&LIMIT, 43));
        assert_eq!(fields(&mut parts), [("x-limit".into(), "43".into())]);
    }

    #[test]
    fn with_fields_sets_on_the_lines_or_through_the_response() {
        let mut res = http::Response::new(());
        res.extensions_mut().insert(RawHeaders::with_capacity(64));
        assert!(with_fields(&mut res, |f| f.set_number(&LIMIT, 1)));
        assert!(res.headers().is_empty());
        res.headers_mut()
            .insert(LIMIT, HeaderValue::from_static("old"));
        assert!(with_fields(&mut res, |f| f.set_number(&LIMIT, 2)));
        let (mut parts, ()) = res.into_parts();
        assert_eq!(fields(&mut parts), [("x-limit".into(), "2".into())]);
    }

    #[test]
    fn any_of_several_names_is_found_in_the_map_or_the_lines() {
        const OTHER: HeaderName = HeaderName::from_static("x-other");
        let names = [LIMIT, OTHER];
        let mut parts = http::Response::new(()).into_parts().0;
        assert!(!has_any_field(&parts, &names));
        parts.extensions.insert(RawHeaders::with_capacity(64));
        assert!(parts.set_number(&http::header::ETAG, 1));
        assert!(
            !has_any_field(&parts, &names),
            "another name is not one of them"
        );
        assert!(parts.set_number(&OTHER, 2));
        assert!(
            has_any_field(&parts, &names),
            "the second name, in the lines"
        );
        let mut map = http::Response::new(()).into_parts().0;
        map.headers.insert(OTHER, HeaderValue::from_static("3"));
        assert!(has_any_field(&map, &names), "the second name, in the map");
        assert!(!has_any_field(&map, &names[..1]));
    }

    #[test]
    fn a_number_set_on_lines_replaces_the_line_of_its_name() {
        let mut raw = RawHeaders::with_capacity(8);
        assert!(raw.push(&LIMIT, &[b"old"]));
        assert!(raw.push(&http::header::ETAG, &[b"e"]));
        assert!(SetField::set_number(&mut raw, &LIMIT, 42));
        raw.set_number(&http::header::DATE, 0);
        let lines: Vec<_> = raw.iter().map(|(n, v)| (n.to_vec(), v.to_vec())).collect();
        assert_eq!(
            lines,
            [
                (b"etag".to_vec(), b"e".to_vec()),
                (b"x-limit".to_vec(), b"42".to_vec()),
                (b"date".to_vec(), b"0".to_vec())
            ]
        );
        assert!(raw.contains(b"date"));
    }

    #[test]
    fn lines_know_their_names() {
        let mut raw = RawHeaders::with_capacity(64);
        assert!(raw.push(&LIMIT, &[b"1"]));
        assert!(raw.contains(b"x-limit"));
        assert!(!raw.contains(b"x-limits"));
        assert!(!raw.contains(b"date"));
    }
}
