//! What a read asks for: a [`Filter`] (every set criterion must hold), a [`Sort`] parsed from the
//! contract's `order_by` text, and the cursor values that continue a keyset-paginated listing.

use crate::error::{Error, Result};
use crate::order::{Order, Status};

/// Which orders a read selects. Times are microseconds since the Unix epoch.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    /// Exactly this customer.
    pub customer: Option<String>,
    /// Exactly this product.
    pub product: Option<String>,
    /// Any of these statuses (sorted, without duplicates); empty means any status.
    pub statuses: Vec<Status>,
    /// `created_at >= this`.
    pub created_from: Option<i64>,
    /// `created_at < this`.
    pub created_before: Option<i64>,
}

/// A column `ListOrders` can sort by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKey {
    /// `id`.
    Id,
    /// `customer`.
    Customer,
    /// `product`.
    Product,
    /// `quantity`.
    Quantity,
    /// `status`, by contract enum number.
    Status,
    /// `total_cents`.
    TotalCents,
    /// `create_time` (`created_at`).
    CreateTime,
    /// `update_time` (`updated_at`).
    UpdateTime,
}

impl SortKey {
    const NAMES: [(&'static str, SortKey); 8] = [
        ("id", SortKey::Id),
        ("customer", SortKey::Customer),
        ("product", SortKey::Product),
        ("quantity", SortKey::Quantity),
        ("status", SortKey::Status),
        ("total_cents", SortKey::TotalCents),
        ("create_time", SortKey::CreateTime),
        ("update_time", SortKey::UpdateTime),
    ];

    /// The key's name in `order_by`.
    pub fn name(self) -> &'static str {
        Self::NAMES
            .iter()
            .find(|(_, k)| *k == self)
            .map(|(n, _)| *n)
            .unwrap_or("id")
    }

    /// This key's value in `order`, as a cursor stores it.
    pub fn value_of(self, order: &Order) -> CursorValue {
        match self {
            SortKey::Id => CursorValue::Int(order.id),
            SortKey::Customer => CursorValue::Text(order.customer.clone()),
            SortKey::Product => CursorValue::Text(order.product.clone()),
            SortKey::Quantity => CursorValue::Int(i64::from(order.quantity)),
            SortKey::Status => CursorValue::Int(order.status as i64),
            SortKey::TotalCents => CursorValue::Int(order.total_cents),
            SortKey::CreateTime => CursorValue::Int(order.created_at),
            SortKey::UpdateTime => CursorValue::Int(order.updated_at),
        }
    }

    /// Whether the key's values are text (else integers).
    pub fn is_text(self) -> bool {
        matches!(self, SortKey::Customer | SortKey::Product)
    }
}

/// One value of a keyset cursor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CursorValue {
    /// An integer column (status as its enum number).
    Int(i64),
    /// A text column.
    Text(String),
}

/// The sort of a listing: keys with directions, always ending with `id` so that it is total.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sort {
    /// `(key, descending)` pairs, in priority order.
    pub keys: Vec<(SortKey, bool)>,
}

impl Sort {
    /// Parses the contract's `order_by`: comma-separated `key [asc|desc]`, case-insensitive,
    /// each key at most once; empty means `create_time desc`; `id asc` is appended unless `id`
    /// is already a key.
    pub fn parse(text: &str) -> Result<Self> {
        let fail = |reason: String| Error::invalid("order_by", reason);
        let mut keys: Vec<(SortKey, bool)> = Vec::new();
        if text.trim().is_empty() {
            keys.push((SortKey::CreateTime, true));
        } else {
            for part in text.split(',') {
                let words: Vec<&str> = part.split_whitespace().collect();
                let (name, descending) = match words.as_slice() {
                    [name] => (*name, false),
                    [name, dir] if dir.eq_ignore_ascii_case("asc") => (*name, false),
                    [name, dir] if dir.eq_ignore_ascii_case("desc") => (*name, true),
                    [] => return Err(fail("has an empty key".into())),
                    _ => {
                        return Err(fail(format!("'{}' is not \"key [asc|desc]\"", part.trim())));
                    }
                };
                let key = SortKey::NAMES
                    .iter()
                    .find(|(n, _)| n.eq_ignore_ascii_case(name))
                    .map(|(_, k)| *k)
                    .ok_or_else(|| {
                        fail(format!(
                            "unknown key '{name}'; use id, customer, product, quantity, status, \
                             total_cents, create_time or update_time"
                        ))
                    })?;
                if keys.iter().any(|(k, _)| *k == key) {
                    return Err(fail(format!("key '{}' appears twice", key.name())));
                }
                keys.push((key, descending));
            }
        }
        if !keys.iter().any(|(k, _)| *k == SortKey::Id) {
            keys.push((SortKey::Id, false));
        }
        Ok(Self { keys })
    }

    /// The cursor values of `order` under this sort.
    pub fn cursor_of(&self, order: &Order) -> Vec<CursorValue> {
        self.keys.iter().map(|(k, _)| k.value_of(order)).collect()
    }
}

/// A validated `ListOrders` request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListQuery {
    /// Which orders.
    pub filter: Filter,
    /// In which order.
    pub sort: Sort,
    /// At most this many per page (1..=cap).
    pub limit: u32,
    /// Continue after the order with these sort-key values (from a page token).
    pub after: Option<Vec<CursorValue>>,
}

/// One page of a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Page {
    /// The orders on this page.
    pub orders: Vec<Order>,
    /// Whether more orders follow.
    pub more: bool,
    /// Orders matching the filter over all pages.
    pub total: i64,
}

/// The column an aggregate groups by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupBy {
    /// `status`; keys are contract names such as `ORDER_STATUS_PAID`.
    Status,
    /// `customer`.
    Customer,
    /// `product`.
    Product,
}

/// One group of an aggregate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Group {
    /// The grouped column's value (the stored status name for [`GroupBy::Status`]).
    pub key: String,
    /// Orders in the group.
    pub count: i64,
    /// Sum of `total_cents`.
    pub total_cents: i64,
    /// Sum of `quantity`.
    pub quantity: i64,
}

/// The most groups an aggregate returns (the contract's RESOURCE_EXHAUSTED limit).
pub(crate) const MAX_GROUPS: usize = 10_000;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_order_by_is_newest_first_then_id() {
        let sort = Sort::parse("  ").unwrap();
        assert_eq!(
            sort.keys,
            vec![(SortKey::CreateTime, true), (SortKey::Id, false)]
        );
    }

    #[test]
    fn keys_and_directions_are_case_insensitive() {
        let sort = Sort::parse("Customer, total_cents DESC,id desc").unwrap();
        assert_eq!(
            sort.keys,
            vec![
                (SortKey::Customer, false),
                (SortKey::TotalCents, true),
                (SortKey::Id, true)
            ]
        );
    }

    #[test]
    fn bad_order_by_names_the_field() {
        for bad in [
            "price",
            "id,id",
            "customer sideways",
            "customer,",
            "a b c",
            "; DROP TABLE orders",
        ] {
            let err = Sort::parse(bad).unwrap_err();
            assert!(err.to_string().starts_with("order_by: "), "{bad}: {err}");
        }
    }
}
