//! Requests to validated values and values to responses, for the RPCs whose shape is the
//! router's own: which page of `ListBackends` a request asks for, and the page it gets.
//! (`Route` hands its hints to the classifier as they are, and its results are the backends'
//! own messages, passed through; `ListTools`/`CallTool` belong to the tool registry.)

use std::ops::Range;
use std::sync::Arc;

use chatmesh_proto::router::{ListBackendsRequest, ListBackendsResponse};

use crate::pool::Pool;

const BACKENDS_DEFAULT_PAGE: usize = 10;
const BACKENDS_MAX_PAGE: usize = 100;
const BACKENDS_TOKEN_PREFIX: &str = "backends:";

/// A paging request that cannot be served.
#[derive(Debug, thiserror::Error)]
pub(crate) enum PageError {
    /// Negative page size.
    #[error("page_size must not be negative, got {0}")]
    NegativeSize(i32),
    /// A token this service did not issue.
    #[error("page_token {0:?} is not one this service issued")]
    BadToken(String),
}

/// The pools a `ListBackends` request asks for, out of `count`.
pub(crate) fn backends_page(
    request: &ListBackendsRequest,
    count: usize,
) -> Result<Range<usize>, PageError> {
    let size = match request.page_size {
        n if n < 0 => return Err(PageError::NegativeSize(n)),
        0 => BACKENDS_DEFAULT_PAGE,
        n => (n as usize).min(BACKENDS_MAX_PAGE),
    };
    let start = if request.page_token.is_empty() {
        0
    } else {
        request
            .page_token
            .strip_prefix(BACKENDS_TOKEN_PREFIX)
            .and_then(|n| n.parse::<usize>().ok())
            .filter(|n| *n > 0 && *n < count)
            .ok_or_else(|| PageError::BadToken(request.page_token.clone()))?
    };
    Ok(start..(start + size).min(count))
}

/// One page of backends, with the token of the next page when there is one.
pub(crate) fn backends_response(pools: &[Arc<Pool>], page: Range<usize>) -> ListBackendsResponse {
    let end = page.end;
    ListBackendsResponse {
        backends: pools[page].iter().map(|p| p.snapshot()).collect(),
        next_page_token: if end < pools.len() {
            format!("{BACKENDS_TOKEN_PREFIX}{end}")
        } else {
            String::new()
        },
    }
}
