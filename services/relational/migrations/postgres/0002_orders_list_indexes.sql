-- Version 2: indexes for the list filters, and for the default sort (create_time desc, then
-- id asc as the contract says: the mixed directions need an index declared that way).
CREATE INDEX orders_created_idx ON orders (created_at DESC, id);
CREATE INDEX orders_customer_created_idx ON orders (customer, created_at);
CREATE INDEX orders_status_created_idx ON orders (status, created_at);
