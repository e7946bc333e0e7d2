//! Every statement the store runs, built with sea-query: values are always bound parameters,
//! identifiers come from [`Orders`], and no SQL text is assembled by hand. The same builders serve
//! both engines; `Engine::build` renders them in the engine's dialect.

use sea_query::{
    Alias, Cond, DeleteStatement, Expr, ExprTrait, Func, InsertStatement, OnConflict, Order as Dir,
    Query, SelectStatement, UpdateStatement,
};

use super::schema::{COLUMNS, Orders, sort_expr};
use crate::order::{NewOrder, Order, Patch};
use crate::query::{CursorValue, Filter, GroupBy, ListQuery, MAX_GROUPS};

/// The WHERE condition of a filter.
pub(crate) fn filter_cond(filter: &Filter) -> Cond {
    let mut cond = Cond::all();
    if let Some(customer) = &filter.customer {
        cond = cond.add(Expr::col(Orders::Customer).eq(customer.as_str()));
    }
    if let Some(product) = &filter.product {
        cond = cond.add(Expr::col(Orders::Product).eq(product.as_str()));
    }
    if !filter.statuses.is_empty() {
        cond =
            cond.add(Expr::col(Orders::Status).is_in(filter.statuses.iter().map(|s| s.as_str())));
    }
    if let Some(from) = filter.created_from {
        cond = cond.add(Expr::col(Orders::CreatedAt).gte(from));
    }
    if let Some(before) = filter.created_before {
        cond = cond.add(Expr::col(Orders::CreatedAt).lt(before));
    }
    cond
}

/// Rows strictly after `cursor` in the sort: `k1 > v1 OR (k1 = v1 AND k2 > v2) OR …`, with `<`
/// for descending keys.
fn after_cond(keys: &[(crate::query::SortKey, bool)], cursor: &[CursorValue]) -> Cond {
    let mut any = Cond::any();
    for i in 0..keys.len().min(cursor.len()) {
        let mut all = Cond::all();
        for ((key, _), value) in keys[..i].iter().zip(cursor) {
            all = all.add(sort_expr(*key).eq(value_expr(value)));
        }
        let (key, descending) = keys[i];
        let value = value_expr(&cursor[i]);
        all = all.add(if descending {
            sort_expr(key).lt(value)
        } else {
            sort_expr(key).gt(value)
        });
        any = any.add(all);
    }
    any
}

fn value_expr(value: &CursorValue) -> Expr {
    match value {
        CursorValue::Int(n) => Expr::val(*n),
        CursorValue::Text(t) => Expr::val(t.as_str()),
    }
}

/// `SELECT <columns> FROM orders WHERE id = ?`.
pub(crate) fn get(id: i64) -> SelectStatement {
    Query::select()
        .columns(COLUMNS)
        .from(Orders::Table)
        .and_where(Expr::col(Orders::Id).eq(id))
        .to_owned()
}

/// `SELECT version FROM orders WHERE id = ?`: tells NOT_FOUND from ABORTED after a write
/// matched no row.
pub(crate) fn version_of(id: i64) -> SelectStatement {
    Query::select()
        .column(Orders::Version)
        .from(Orders::Table)
        .and_where(Expr::col(Orders::Id).eq(id))
        .to_owned()
}

/// Inserts one order at time `now`, returning the stored row.
pub(crate) fn insert(order: &NewOrder, now: i64) -> InsertStatement {
    // Every column but the id, in `COLUMNS` order; the id only when given.
    let mut columns = COLUMNS[1..].to_vec();
    let mut values: Vec<Expr> = vec![
        order.customer.as_str().into(),
        order.product.as_str().into(),
        order.quantity.into(),
        order.status.as_str().into(),
        order.total_cents.into(),
        now.into(),
        now.into(),
        1i64.into(),
    ];
    if let Some(id) = order.id {
        columns.push(Orders::Id);
        values.push(id.into());
    }
    Query::insert()
        .into_table(Orders::Table)
        .columns(columns)
        .values_panic(values)
        .returning(Query::returning().columns(COLUMNS))
        .to_owned()
}

/// Inserts complete rows, skipping ids that exist (the idempotent demo seed).
pub(crate) fn insert_missing(orders: &[Order]) -> InsertStatement {
    let mut insert = Query::insert();
    insert.into_table(Orders::Table).columns(COLUMNS);
    for o in orders {
        insert.values_panic([
            o.id.into(),
            o.customer.as_str().into(),
            o.product.as_str().into(),
            o.quantity.into(),
            o.status.as_str().into(),
            o.total_cents.into(),
            o.created_at.into(),
            o.updated_at.into(),
            o.version.into(),
        ]);
    }
    insert
        .on_conflict(OnConflict::column(Orders::Id).do_nothing().to_owned())
        .to_owned()
}

/// Applies `patch` to order `id` if it is at `expected_version`, bumping the version; returns
/// the row after the update, or nothing when no row matched.
pub(crate) fn update(id: i64, patch: &Patch, expected_version: i64, now: i64) -> UpdateStatement {
    let mut update = Query::update();
    update.table(Orders::Table);
    if let Some(customer) = &patch.customer {
        update.value(Orders::Customer, customer.as_str());
    }
    if let Some(product) = &patch.product {
        update.value(Orders::Product, product.as_str());
    }
    if let Some(quantity) = patch.quantity {
        update.value(Orders::Quantity, quantity);
    }
    if let Some(status) = patch.status {
        update.value(Orders::Status, status.as_str());
    }
    if let Some(total) = patch.total_cents {
        update.value(Orders::TotalCents, total);
    }
    update
        .value(Orders::Version, Expr::col(Orders::Version).add(1))
        .value(Orders::UpdatedAt, now)
        .and_where(Expr::col(Orders::Id).eq(id))
        .and_where(Expr::col(Orders::Version).eq(expected_version))
        .returning(Query::returning().columns(COLUMNS))
        .to_owned()
}

/// Deletes order `id` (only at `expected_version`, when given).
pub(crate) fn delete(id: i64, expected_version: Option<i64>) -> DeleteStatement {
    let mut delete = Query::delete();
    delete
        .from_table(Orders::Table)
        .and_where(Expr::col(Orders::Id).eq(id));
    if let Some(version) = expected_version {
        delete.and_where(Expr::col(Orders::Version).eq(version));
    }
    delete.to_owned()
}

/// `SELECT COUNT(*) FROM orders WHERE <filter>`.
pub(crate) fn count(filter: &Filter) -> SelectStatement {
    Query::select()
        .expr(Expr::col(Orders::Id).count())
        .from(Orders::Table)
        .cond_where(filter_cond(filter))
        .to_owned()
}

/// One page of a listing, plus one row that tells whether more follow.
pub(crate) fn list(query: &ListQuery) -> SelectStatement {
    let mut select = Query::select();
    select
        .columns(COLUMNS)
        .from(Orders::Table)
        .cond_where(filter_cond(&query.filter));
    if let Some(cursor) = &query.after {
        select.cond_where(after_cond(&query.sort.keys, cursor));
    }
    for (key, descending) in &query.sort.keys {
        let dir = if *descending { Dir::Desc } else { Dir::Asc };
        select.order_by_expr(sort_expr(*key), dir);
    }
    select.limit(u64::from(query.limit) + 1).to_owned()
}

/// Up to `limit` orders matching `filter` with id > `after_id`, by id (one export batch).
pub(crate) fn export_batch(filter: &Filter, after_id: i64, limit: u32) -> SelectStatement {
    Query::select()
        .columns(COLUMNS)
        .from(Orders::Table)
        .cond_where(filter_cond(filter))
        .and_where(Expr::col(Orders::Id).gt(after_id))
        .order_by(Orders::Id, Dir::Asc)
        .limit(u64::from(limit))
        .to_owned()
}

/// Count and sums per group, at most one group more than allowed (to detect the excess).
pub(crate) fn aggregate(filter: &Filter, group_by: GroupBy) -> SelectStatement {
    let column = match group_by {
        GroupBy::Status => Orders::Status,
        GroupBy::Customer => Orders::Customer,
        GroupBy::Product => Orders::Product,
    };
    let bigint = || Alias::new("BIGINT");
    Query::select()
        .column(column)
        .expr(Expr::col(Orders::Id).count())
        .expr(Func::cast_as(
            Func::sum(Expr::col(Orders::TotalCents)),
            bigint(),
        ))
        .expr(Func::cast_as(
            Func::sum(Expr::col(Orders::Quantity)),
            bigint(),
        ))
        .from(Orders::Table)
        .cond_where(filter_cond(filter))
        .group_by_col(column)
        .limit(MAX_GROUPS as u64 + 1)
        .to_owned()
}

/// A trivial read of the table: proves a connection works and the schema is there.
pub(crate) fn probe() -> SelectStatement {
    Query::select()
        .expr(Expr::col(Orders::Id))
        .from(Orders::Table)
        .limit(1)
        .to_owned()
}

/// PostgreSQL only: moves the id sequence past the largest id, so that ids given explicitly
/// (CreateOrder with an id, the demo seed) are never handed out again. It never moves the
/// sequence back: `setval(seq, GREATEST(MAX(id), last_value))`.
pub(crate) fn sync_id_sequence() -> SelectStatement {
    let sequence = || Func::cust("pg_get_serial_sequence").arg("orders").arg("id");
    let last_value =
        Func::cust("pg_sequence_last_value").arg(Func::cast_as(sequence(), Alias::new("regclass")));
    let max_id = Query::select()
        .expr(Func::max(Expr::col(Orders::Id)))
        .from(Orders::Table)
        .to_owned();
    Query::select()
        .expr(
            Func::cust("setval")
                .arg(sequence())
                .arg(Func::greatest([Expr::from(max_id), last_value.into()])),
        )
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::Sort;
    use sea_query::{PostgresQueryBuilder, SqliteQueryBuilder};

    #[test]
    fn hostile_text_is_a_parameter_not_sql() {
        let filter = Filter {
            customer: Some("x'; DROP TABLE orders; --".into()),
            ..Filter::default()
        };
        let (sql, values) = count(&filter).build(SqliteQueryBuilder);
        assert!(!sql.contains("DROP"), "{sql}");
        assert_eq!(values.0.len(), 1);
    }

    #[test]
    fn keyset_condition_follows_the_sort() {
        let query = ListQuery {
            filter: Filter::default(),
            sort: Sort::parse("customer, total_cents desc").unwrap(),
            limit: 10,
            after: Some(vec![
                CursorValue::Text("Ada".into()),
                CursorValue::Int(5),
                CursorValue::Int(7),
            ]),
        };
        let sql = list(&query).to_string(PostgresQueryBuilder);
        assert!(
            sql.contains(r#""customer" > 'Ada' OR ("customer" = 'Ada' AND "total_cents" < 5)"#),
            "{sql}"
        );
        assert!(sql.ends_with("LIMIT 11"), "{sql}");
    }

    #[test]
    fn the_sequence_sync_renders() {
        let sql = sync_id_sequence().to_string(PostgresQueryBuilder);
        assert!(
            sql.starts_with("SELECT setval(pg_get_serial_sequence("),
            "{sql}"
        );
    }
}
