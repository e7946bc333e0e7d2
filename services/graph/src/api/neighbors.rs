//! ListNeighbors paging. The store returns the whole walk (it is bounded by depth and limit);
//! this module cuts it into pages after the cursor in the request's `page_token` and writes
//! the token of the next page, in the runtime's one token format
//! ([`chatmesh_runtime::page_token`]): checksummed, and bound to a fingerprint of the request's
//! other fields (walk and page size), so a token used with another request is refused.
//!
//! The cursor is the last listed (depth, node id) and how many were listed before it; pages
//! follow the walk's order (depth, then node id), so a page starts after the cursor.

use chatmesh_runtime::page_token::{self, Fields, Reader};

use crate::error::{Result, invalid};
use crate::model::{Direction, Neighbor, NeighborQuery, Neighbors};

/// The page a ListNeighbors request asks for.
#[derive(Debug, Clone)]
pub(crate) struct Paging {
    /// Most neighbors on the page (default and cap applied).
    pub(crate) page_size: usize,
    /// Empty for the first page.
    pub(crate) page_token: String,
}

/// One page of a listing.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Page {
    /// The neighbors on it.
    pub(crate) neighbors: Vec<Neighbor>,
    /// The next page's token; empty on the last page.
    pub(crate) next_page_token: String,
    /// Whether the listing's limit cut it (said on the last page).
    pub(crate) limit_reached: bool,
}

/// Where a page starts: after this (depth, node id), with `listed` neighbors before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Cursor {
    depth: u32,
    node_id: u64,
    listed: u64,
}

/// How to page one request's listing: where its page starts and what its tokens are bound to.
#[derive(Debug, Clone)]
pub(crate) struct Pager {
    after: Option<Cursor>,
    page_size: usize,
    fingerprint: u64,
}

/// The pager of a request; INVALID_ARGUMENT when its token is not one this service issued for
/// this request.
pub(crate) fn pager(query: &NeighborQuery, paging: Paging) -> Result<Pager> {
    let fingerprint = fingerprint(query, paging.page_size);
    let after = if paging.page_token.is_empty() {
        None
    } else {
        let read = |r: &mut Reader<'_>| {
            Some(Cursor {
                depth: u32::try_from(r.u64()?).ok()?,
                node_id: r.u64()?,
                listed: r.u64()?,
            })
        };
        let cursor = page_token::decode(&paging.page_token, fingerprint, read)
            .map_err(|e| invalid(e.to_string()))?;
        Some(cursor)
    };
    Ok(Pager {
        after,
        page_size: paging.page_size,
        fingerprint,
    })
}

impl Pager {
    /// The page of `found` after the cursor, and the token of the next one.
    pub(crate) fn page(&self, found: Neighbors) -> Page {
        let after = self.after.map(|c| (c.depth, c.node_id));
        let listed_before = self.after.map_or(0, |c| c.listed);
        let mut rest = found
            .list
            .into_iter()
            .filter(|n| after.is_none_or(|key| (n.depth, n.node.id) > key));
        let neighbors: Vec<Neighbor> = rest.by_ref().take(self.page_size).collect();
        let more = rest.next().is_some();
        let next_page_token = match neighbors.last() {
            Some(last) if more => {
                let cursor = Fields::new()
                    .u64(u64::from(last.depth))
                    .u64(last.node.id)
                    .u64(listed_before + neighbors.len() as u64);
                page_token::encode(self.fingerprint, &cursor)
            }
            _ => String::new(),
        };
        Page {
            neighbors,
            next_page_token,
            limit_reached: found.limit_reached && !more,
        }
    }
}

/// What a token is valid for: the walk and the page size.
fn fingerprint(query: &NeighborQuery, page_size: usize) -> u64 {
    let direction = match query.direction {
        Direction::Outgoing => 1,
        Direction::Incoming => 2,
        Direction::Both => 3,
    };
    let mut fields = Fields::new()
        .u64(query.node_id)
        .u64(direction)
        .u64(query.types.len() as u64);
    for rel_type in &query.types {
        fields = fields.str(rel_type);
    }
    fields
        .u64(u64::from(query.min_depth))
        .u64(u64::from(query.max_depth))
        .u64(query.limit.map_or(0, |l| l as u64 + 1))
        .u64(page_size as u64)
        .fingerprint()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Node, Relationship};

    fn query(node_id: u64) -> NeighborQuery {
        NeighborQuery {
            node_id,
            direction: Direction::Outgoing,
            types: vec!["MANAGES".into()],
            min_depth: 1,
            max_depth: 2,
            limit: None,
            deadline: None,
        }
    }

    fn found(ids: &[(u32, u64)]) -> Neighbors {
        let list = ids
            .iter()
            .map(|&(depth, id)| Neighbor {
                node: Node {
                    id,
                    labels: Default::default(),
                    properties: Default::default(),
                }
                .into(),
                depth,
                relationship: Relationship {
                    id,
                    rel_type: "MANAGES".into(),
                    start: 1,
                    end: id,
                    properties: Default::default(),
                },
            })
            .collect();
        Neighbors {
            list,
            limit_reached: false,
        }
    }

    #[test]
    fn cursor_round_trip_and_rejection() {
        let paging = |token: &str| Paging {
            page_size: 2,
            page_token: token.into(),
        };
        let all = found(&[(1, 2), (1, 5), (2, 3), (2, 9), (2, 11)]);
        let first = pager(&query(1), paging("")).unwrap().page(all.clone());
        let ids = |p: &Page| p.neighbors.iter().map(|n| n.node.id).collect::<Vec<_>>();
        assert_eq!(ids(&first), [2, 5]);
        let next = pager(&query(1), paging(&first.next_page_token)).unwrap();
        assert_eq!(
            next.after,
            Some(Cursor {
                depth: 1,
                node_id: 5,
                listed: 2
            })
        );
        let second = next.page(all.clone());
        assert_eq!(ids(&second), [3, 9]);
        let last = pager(&query(1), paging(&second.next_page_token))
            .unwrap()
            .page(all);
        assert_eq!((ids(&last), last.next_page_token.as_str()), (vec![11], ""));
        // A token only fits the request it came from; garbage and old formats are refused.
        assert!(pager(&query(2), paging(&first.next_page_token)).is_err());
        assert!(pager(&query(1), paging("garbage")).is_err());
        assert!(pager(&query(1), paging("n1.1.2")).is_err());
    }
}
