//! Tests of `rewrite_path` and `check_rewrite`.

use sy_config::{PathMatchSpec, RewriteSpec};

use super::tests::{build, q, r};
use super::*;

fn rw(strip: Option<&str>, path: Option<&str>) -> RewriteSpec {
    RewriteSpec {
        strip_prefix: strip.map(Into::into),
        path: path.map(Into::into),
        host: None,
    }
}

#[test]
fn strip_prefix_keeps_a_leading_slash() {
    let none = Params::default();
    let cases = [
        ("/api", "/api/users", "/users"),
        ("/api/", "/api/users/1", "/users/1"),
        ("/api", "/api", "/"),
        ("/api", "/api/", "/"),
        ("/api", "/apix/users", "/apix/users"),
        ("/api", "/other", "/other"),
        ("/", "/a/b", "/a/b"),
        ("/a/b", "/a/b/c%20d", "/c%20d"),
    ];
    for (prefix, path, want) in cases {
        assert_eq!(
            rewrite_path(&rw(Some(prefix), None), path, &none).unwrap(),
            want,
            "{prefix} on {path}"
        );
    }
    assert_eq!(
        rewrite_path(&rw(None, None), "/same", &none).unwrap(),
        "/same"
    );
}

#[test]
fn path_template_substitutes_captures() {
    let router = build(vec![r("t").template("/users/{id}/files/{*rest}")]);
    let req = q("GET - /users/4%202/files/a/b.txt");
    let m = router.find(&req.req()).unwrap();
    let cases: &[(&str, Result<&str, RewriteError>)] = &[
        ("/v2/users/{id}", Ok("/v2/users/4%202")),
        ("/store/{rest}", Ok("/store/a/b.txt")),
        ("/store/{*rest}?", Ok("/store/a/b.txt?")),
        ("/{id}-{id}", Ok("/4%202-4%202")),
        ("/x/{nope}", Err(RewriteError::MissingParam("nope".into()))),
        (
            "/x/{id",
            Err(RewriteError::BadTemplate("`/x/{id`: unclosed `{`".into())),
        ),
        (
            "/x/id}",
            Err(RewriteError::BadTemplate("`/x/id}`: unbalanced `}`".into())),
        ),
        (
            "/x/{}",
            Err(RewriteError::BadTemplate(
                "`/x/{}`: bad capture name ``".into(),
            )),
        ),
        (
            "x/{id}",
            Err(RewriteError::BadTemplate(
                "`x/{id}` must start with `/`".into(),
            )),
        ),
    ];
    for (template, want) in cases {
        let got = rewrite_path(&rw(None, Some(template)), &req.path, &m.params);
        assert_eq!(
            got.as_deref().map_err(Clone::clone),
            want.clone(),
            "{template}"
        );
    }
    // `path` wins over `strip_prefix`.
    assert_eq!(
        rewrite_path(&rw(Some("/users"), Some("/{id}")), &req.path, &m.params).unwrap(),
        "/4%202"
    );
}

#[test]
fn check_rewrite_validates_against_the_template() {
    let tpl = PathMatchSpec::Template("/u/{id}/{*rest}".into());
    assert!(check_rewrite(&rw(None, Some("/v/{id}/{rest}")), Some(&tpl)).is_ok());
    assert!(check_rewrite(&rw(Some("/u"), None), Some(&tpl)).is_ok());
    assert!(check_rewrite(&rw(None, None), None).is_ok());
    let bad = [
        (rw(None, Some("/v/{other}")), Some(&tpl)),
        (rw(None, Some("/v/{id}")), None),
        (rw(None, Some("v")), Some(&tpl)),
        (rw(Some("/u"), Some("/v")), Some(&tpl)),
        (rw(Some("u"), None), None),
    ];
    for (spec, path) in bad {
        assert!(check_rewrite(&spec, path).is_err(), "{spec:?}");
    }
}
