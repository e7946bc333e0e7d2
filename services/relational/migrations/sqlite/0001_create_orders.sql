-- Version 1: the orders table. Times are microseconds since the Unix epoch, UTC.
-- STRICT makes SQLite refuse values of the wrong type instead of converting them.
CREATE TABLE orders (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    customer    TEXT    NOT NULL,
    product     TEXT    NOT NULL,
    quantity    INTEGER NOT NULL,
    status      TEXT    NOT NULL,
    total_cents INTEGER NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    version     INTEGER NOT NULL DEFAULT 1,
    CONSTRAINT orders_customer_length CHECK (length(customer) BETWEEN 1 AND 256),
    CONSTRAINT orders_product_length CHECK (length(product) BETWEEN 1 AND 256),
    CONSTRAINT orders_quantity_positive CHECK (quantity > 0),
    CONSTRAINT orders_status_known
        CHECK (status IN ('pending', 'paid', 'shipped', 'delivered', 'cancelled', 'refunded')),
    CONSTRAINT orders_total_not_negative CHECK (total_cents >= 0),
    CONSTRAINT orders_version_positive CHECK (version >= 1)
) STRICT;
