//! The `orders` row and the rules every write must satisfy before it reaches the database:
//! customer and product are 1–256 characters, not only whitespace and without NUL (PostgreSQL
//! cannot store NUL in text, so both engines refuse it); quantity > 0; total_cents >= 0; status is
//! one of the six [`Status`] values. The schema repeats these rules as CHECK constraints.

use std::time::{SystemTime, UNIX_EPOCH};

use crate::error::{Error, Result};

/// Longest customer or product, in characters.
pub(crate) const MAX_TEXT_CHARS: usize = 256;

/// Where an order is in its life. The numbers are the contract's `OrderStatus` values; the
/// names are what the `status` column stores.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Status {
    /// Placed, not yet paid.
    Pending = 1,
    /// Payment received.
    Paid = 2,
    /// Handed to the carrier.
    Shipped = 3,
    /// Received by the customer.
    Delivered = 4,
    /// Cancelled before fulfilment.
    Cancelled = 5,
    /// Payment returned to the customer.
    Refunded = 6,
}

impl Status {
    /// Every status, in contract (enum number) order.
    pub const ALL: [Status; 6] = [
        Status::Pending,
        Status::Paid,
        Status::Shipped,
        Status::Delivered,
        Status::Cancelled,
        Status::Refunded,
    ];

    /// The value stored in the `status` column.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Paid => "paid",
            Status::Shipped => "shipped",
            Status::Delivered => "delivered",
            Status::Cancelled => "cancelled",
            Status::Refunded => "refunded",
        }
    }

    /// The status a `status` column value names.
    pub fn from_db(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// The status with this contract number (1–6).
    pub fn from_number(number: i32) -> Option<Self> {
        Self::ALL.into_iter().find(|s| *s as i32 == number)
    }
}

/// One row of the `orders` table. Times are microseconds since the Unix epoch, UTC.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Order {
    /// Primary key (>= 1).
    pub id: i64,
    /// Who ordered.
    pub customer: String,
    /// What was ordered.
    pub product: String,
    /// Units ordered (> 0).
    pub quantity: i32,
    /// Current status.
    pub status: Status,
    /// Total in cents (>= 0).
    pub total_cents: i64,
    /// When it was created.
    pub created_at: i64,
    /// When it last changed.
    pub updated_at: i64,
    /// Optimistic-concurrency version: 1 after creation, +1 per update.
    pub version: i64,
}

/// A validated order to insert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOrder {
    /// The id to use; `None` lets the database assign the next one.
    pub id: Option<i64>,
    /// Who ordered.
    pub customer: String,
    /// What was ordered.
    pub product: String,
    /// Units ordered.
    pub quantity: i32,
    /// Initial status.
    pub status: Status,
    /// Total in cents.
    pub total_cents: i64,
}

/// The new values of an update; `None` leaves a column as it is. At least one is set.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Patch {
    /// New customer.
    pub customer: Option<String>,
    /// New product.
    pub product: Option<String>,
    /// New quantity.
    pub quantity: Option<i32>,
    /// New status.
    pub status: Option<Status>,
    /// New total in cents.
    pub total_cents: Option<i64>,
}

/// Checks a customer or product value.
pub fn check_text(field: &str, value: &str) -> Result<()> {
    let chars = value.chars().count();
    if chars == 0 {
        return Err(Error::invalid(field, "is required"));
    }
    if chars > MAX_TEXT_CHARS {
        return Err(Error::invalid(
            field,
            format!("is {chars} characters long; the limit is {MAX_TEXT_CHARS}"),
        ));
    }
    if value.trim().is_empty() {
        return Err(Error::invalid(field, "must not be only whitespace"));
    }
    if value.contains('\0') {
        return Err(Error::invalid(field, "must not contain NUL characters"));
    }
    Ok(())
}

/// Checks a quantity (> 0).
pub(crate) fn check_quantity(field: &str, quantity: i32) -> Result<()> {
    if quantity <= 0 {
        return Err(Error::invalid(
            field,
            format!("must be > 0, got {quantity}"),
        ));
    }
    Ok(())
}

/// Checks a total (>= 0).
pub(crate) fn check_total(field: &str, total_cents: i64) -> Result<()> {
    if total_cents < 0 {
        return Err(Error::invalid(
            field,
            format!("must be >= 0, got {total_cents}"),
        ));
    }
    Ok(())
}

/// The largest id a client may choose, 2^53 - 1: ids above it would let one request decide
/// that every later order's id is past what SQLite can allocate (its rowids end at 2^63 - 1, so
/// an order with that id made every later CreateOrder fail), and JSON clients lose precision
/// above it. Assigned ids continue after the largest one, so at 2^53 - 1 there are still 2^63 -
/// 2^53 left.
pub(crate) const MAX_CLIENT_ID: i64 = (1 << 53) - 1;

/// Checks an id a client chose for a new order (1 to [`MAX_CLIENT_ID`]).
pub(crate) fn check_new_id(field: &str, value: i64) -> Result<()> {
    if !(1..=MAX_CLIENT_ID).contains(&value) {
        return Err(Error::invalid(
            field,
            format!("must be 1 to {MAX_CLIENT_ID}, got {value}"),
        ));
    }
    Ok(())
}

/// Checks an id or a version (>= 1).
pub(crate) fn check_positive(field: &str, value: i64) -> Result<()> {
    if value < 1 {
        return Err(Error::invalid(field, format!("must be >= 1, got {value}")));
    }
    Ok(())
}

/// The current time in microseconds since the Unix epoch.
pub(crate) fn now_micros() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_round_trip_through_names_and_numbers() {
        for status in Status::ALL {
            assert_eq!(Status::from_db(status.as_str()), Some(status));
            assert_eq!(Status::from_number(status as i32), Some(status));
        }
        assert_eq!(Status::from_number(0), None);
        assert_eq!(Status::from_number(7), None);
        assert_eq!(Status::from_db("PAID"), None);
    }

    #[test]
    fn text_rules_name_the_field() {
        assert!(check_text("customer", "Ada Lovelace").is_ok());
        assert!(check_text("customer", &"é".repeat(256)).is_ok());
        for bad in ["", "   ", "a\0b", &"x".repeat(257)] {
            let err = check_text("order.customer", bad).unwrap_err();
            assert!(err.to_string().starts_with("order.customer: "), "{err}");
        }
    }

    #[test]
    fn numbers_are_checked() {
        assert!(check_quantity("quantity", 1).is_ok());
        assert!(check_quantity("quantity", 0).is_err());
        assert!(check_total("total_cents", 0).is_ok());
        assert!(check_total("total_cents", -1).is_err());
        assert!(check_positive("id", 0).is_err());
        assert!(check_new_id("id", MAX_CLIENT_ID).is_ok());
        assert!(check_new_id("id", MAX_CLIENT_ID + 1).is_err());
        assert!(check_new_id("id", i64::MAX).is_err() && check_new_id("id", 0).is_err());
    }
}
