//! One module per entity group; this file holds what they share: list
//! pages, ETag responses, and in-memory filtering for lists whose
//! visibility rule the store cannot express as one filter.

pub mod audit;
pub mod consumers;
pub mod keys;
pub mod products;
pub mod resources;
pub mod session;
pub mod subscriptions;
pub mod tenants;
pub mod users;

use std::future::Future;

use axum::Json;
use axum::http::header::ETAG;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use sy_store::{Page, Paged};

use crate::error::{ApiResult, FieldError};
use crate::extract::etag;

/// Declares a list-response type `{ items, next }` for `$item`.
macro_rules! page_type {
    ($(#[$m:meta])* $name:ident, $item:ty) => {
        $(#[$m])*
        #[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
        pub struct $name {
            /// This page's rows, oldest first.
            pub items: Vec<$item>,
            /// Pass as `after` to get the next page; `null` on the last one.
            pub next: Option<String>,
        }

        impl $name {
            /// Converts a store page.
            pub fn from_paged<S>(p: sy_store::Paged<S>) -> Self
            where
                $item: From<S>,
            {
                $name { items: p.items.into_iter().map(<$item>::from).collect(), next: p.next }
            }
        }
    };
}
pub(crate) use page_type;

/// Checks `limit` (1..=500) when given.
pub(crate) fn check_limit(errors: &mut Vec<FieldError>, limit: Option<u32>) {
    if let Some(l) = limit
        && !(1..=Page::MAX_LIMIT).contains(&l)
    {
        errors.push(FieldError {
            field: "limit".into(),
            message: format!("must be between 1 and {}", Page::MAX_LIMIT),
        });
    }
}

/// The store page for `?limit=&after=`.
pub(crate) fn page(limit: Option<u32>, after: Option<String>) -> Page {
    Page {
        limit: limit.unwrap_or(Page::DEFAULT_LIMIT),
        after: after.filter(|a| !a.is_empty()),
    }
}

/// An empty page (a tenant user asked for another tenant's rows).
pub(crate) fn empty<T>() -> Paged<T> {
    Paged {
        items: Vec::new(),
        next: None,
    }
}

/// `body` as JSON with `status` and the strong ETag of `version`.
pub(crate) fn tagged<T: Serialize>(status: StatusCode, version: i64, body: T) -> Response {
    let mut resp = (status, Json(body)).into_response();
    if let Ok(v) = HeaderValue::from_str(&etag(version)) {
        resp.headers_mut().insert(ETAG, v);
    }
    resp
}

/// One page of the rows `fetch` lists that pass `keep`, reading store
/// pages until `page.limit` rows are kept or the rows run out. The cursor
/// is the id of the last row returned, so it stays valid like a store one.
pub(crate) async fn filtered_page<T, F, Fut>(
    page: Page,
    mut fetch: F,
    keep: impl Fn(&T) -> bool,
    id_of: fn(&T) -> &str,
) -> ApiResult<Paged<T>>
where
    F: FnMut(Page) -> Fut,
    Fut: Future<Output = sy_store::Result<Paged<T>>>,
{
    let want = page.limit.clamp(1, Page::MAX_LIMIT) as usize;
    let mut items = Vec::new();
    let mut after = page.after;
    loop {
        let got = fetch(Page {
            limit: Page::MAX_LIMIT,
            after: after.clone(),
        })
        .await?;
        let more = got.next.is_some();
        for row in got.items {
            after = Some(id_of(&row).to_owned());
            if keep(&row) {
                items.push(row);
                if items.len() == want {
                    // Is anything kept left? Cheap answer: there are more
                    // rows; a page may then come back empty, which is fine.
                    let next = items.last().map(|r| id_of(r).to_owned());
                    return Ok(Paged { items, next });
                }
            }
        }
        if !more {
            return Ok(Paged { items, next: None });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn filtered_pages_walk_every_kept_row_once() {
        let rows: Vec<String> = (10..60).map(|i| i.to_string()).collect();
        let fetch = |p: Page| {
            let rows = rows.clone();
            async move {
                let start = p
                    .after
                    .map_or(0, |a| rows.iter().position(|r| *r == a).unwrap() + 1);
                let end = (start + 7).min(rows.len());
                let next = (end < rows.len()).then(|| rows[end - 1].clone());
                Ok(Paged {
                    items: rows[start..end].to_vec(),
                    next,
                })
            }
        };
        let mut seen = Vec::new();
        let mut after = None;
        loop {
            let p = filtered_page(
                page(Some(4), after),
                fetch,
                |r: &String| r.ends_with('3'),
                |r| r,
            )
            .await
            .unwrap();
            seen.extend(p.items);
            match p.next {
                Some(n) => after = Some(n),
                None => break,
            }
        }
        assert_eq!(seen, ["13", "23", "33", "43", "53"]);
    }
}
