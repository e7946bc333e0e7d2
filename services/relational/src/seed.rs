//! Demo rows (`--seed-demo`, used by `chatmesh up`): two dozen orders of the people in the graph
//! demo, so that a chatbot question can join a person to their orders. Ids start at 100001, clear
//! of the benchmark workload's 1–10000; seeding skips ids that exist, so a restart adds nothing
//! and an order a user changed stays as they left it.

use crate::error::Result;
use crate::order::{Order, Status};
use crate::store::RelationalStore;

/// The customers: people of the graph demo.
pub const DEMO_CUSTOMERS: [&str; 8] = [
    "Ada Lovelace",
    "Grace Hopper",
    "Alan Turing",
    "Edsger Dijkstra",
    "Barbara Liskov",
    "Ken Thompson",
    "Margaret Hamilton",
    "Linus Torvalds",
];

/// The first demo id.
pub const FIRST_DEMO_ID: i64 = 100_001;

const PRODUCTS: [(&str, i64); 6] = [
    ("mechanical keyboard", 12_900),
    ("4k monitor", 38_900),
    ("usb-c dock", 15_900),
    ("noise-cancelling headphones", 24_900),
    ("standing desk", 54_900),
    ("laptop stand", 4_900),
];

/// 2025-01-06T09:00:00Z, the first demo order's time, in microseconds.
const START_MICROS: i64 = 1_736_154_000_000_000;
const DAY_MICROS: i64 = 86_400_000_000;

/// The demo orders: 24 of them, three per customer, over every status.
pub(crate) fn demo_orders() -> Vec<Order> {
    (0..24)
        .map(|i| {
            let customer = DEMO_CUSTOMERS[i % DEMO_CUSTOMERS.len()];
            let (product, unit) = PRODUCTS[(i * 5 + i / 8) % PRODUCTS.len()];
            let quantity = (i % 3 + 1) as i32;
            let status = Status::ALL[(i * 7 + i / 6) % Status::ALL.len()];
            let created = START_MICROS + i as i64 * 3 * DAY_MICROS + (i as i64 % 5) * 3_600_000_000;
            Order {
                id: FIRST_DEMO_ID + i as i64,
                customer: customer.to_owned(),
                product: product.to_owned(),
                quantity,
                status,
                total_cents: unit * i64::from(quantity),
                created_at: created,
                updated_at: created,
                version: 1,
            }
        })
        .collect()
}

/// Inserts the demo orders that are missing; returns how many were new.
pub(crate) async fn seed_demo(store: &dyn RelationalStore) -> Result<u64> {
    store.insert_missing(&demo_orders()).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_orders_cover_every_customer_and_status() {
        let orders = demo_orders();
        for customer in DEMO_CUSTOMERS {
            assert!(orders.iter().any(|o| o.customer == customer), "{customer}");
        }
        for status in Status::ALL {
            assert!(orders.iter().any(|o| o.status == status), "{status:?}");
        }
        let mut ids: Vec<i64> = orders.iter().map(|o| o.id).collect();
        ids.dedup();
        assert_eq!(ids.len(), 24);
    }
}
