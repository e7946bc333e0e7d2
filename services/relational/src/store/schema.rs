//! The `orders` table as sea-query sees it, and how its rows decode. The table itself is made by
//! the versioned migrations in `migrations/{sqlite,postgres}/`; this module only names it.

use sea_query::{Expr, ExprTrait, Iden};
use sqlx::{ColumnIndex, Decode, FromRow, Row, Type};

use crate::order::{Order, Status};
use crate::query::{Group, SortKey};

/// Table and column names.
#[derive(Debug, Clone, Copy, Iden)]
pub(crate) enum Orders {
    Table,
    Id,
    Customer,
    Product,
    Quantity,
    Status,
    TotalCents,
    CreatedAt,
    UpdatedAt,
    Version,
}

/// Every column, in the order [`Order`] decodes them.
pub(crate) const COLUMNS: [Orders; 9] = [
    Orders::Id,
    Orders::Customer,
    Orders::Product,
    Orders::Quantity,
    Orders::Status,
    Orders::TotalCents,
    Orders::CreatedAt,
    Orders::UpdatedAt,
    Orders::Version,
];

/// The expression a sort key compares: the column, or for status its contract number.
pub(crate) fn sort_expr(key: SortKey) -> Expr {
    match key {
        SortKey::Id => Expr::col(Orders::Id),
        SortKey::Customer => Expr::col(Orders::Customer),
        SortKey::Product => Expr::col(Orders::Product),
        SortKey::Quantity => Expr::col(Orders::Quantity),
        SortKey::Status => status_number(),
        SortKey::TotalCents => Expr::col(Orders::TotalCents),
        SortKey::CreateTime => Expr::col(Orders::CreatedAt),
        SortKey::UpdateTime => Expr::col(Orders::UpdatedAt),
    }
}

/// `CASE status WHEN 'pending' THEN 1 … END`: statuses sort by contract number, not by name.
fn status_number() -> Expr {
    let mut case = sea_query::CaseStatement::new();
    for status in Status::ALL {
        case = case.case(
            Expr::col(Orders::Status).eq(status.as_str()),
            Expr::val(status as i64),
        );
    }
    case.finally(Expr::val(0i64)).into()
}

fn decode_status(text: &str) -> Result<Status, sqlx::Error> {
    Status::from_db(text).ok_or_else(|| sqlx::Error::ColumnDecode {
        index: "status".into(),
        source: format!("unknown status '{text}' in the database").into(),
    })
}

impl<'r, R> FromRow<'r, R> for Order
where
    R: Row,
    usize: ColumnIndex<R>,
    i64: Decode<'r, R::Database> + Type<R::Database>,
    i32: Decode<'r, R::Database> + Type<R::Database>,
    String: Decode<'r, R::Database> + Type<R::Database>,
{
    fn from_row(row: &'r R) -> Result<Self, sqlx::Error> {
        Ok(Order {
            id: row.try_get(0)?,
            customer: row.try_get(1)?,
            product: row.try_get(2)?,
            quantity: row.try_get(3)?,
            status: decode_status(&row.try_get::<String, _>(4)?)?,
            total_cents: row.try_get(5)?,
            created_at: row.try_get(6)?,
            updated_at: row.try_get(7)?,
            version: row.try_get(8)?,
        })
    }
}

impl<'r, R> FromRow<'r, R> for Group
where
    R: Row,
    usize: ColumnIndex<R>,
    i64: Decode<'r, R::Database> + Type<R::Database>,
    String: Decode<'r, R::Database> + Type<R::Database>,
{
    fn from_row(row: &'r R) -> Result<Self, sqlx::Error> {
        Ok(Group {
            key: row.try_get(0)?,
            count: row.try_get(1)?,
            total_cents: row.try_get(2)?,
            quantity: row.try_get(3)?,
        })
    }
}
