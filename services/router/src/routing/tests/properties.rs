//! Property tests: any request gets a decision or an INVALID_ARGUMENT naming a field, never a
//! panic; an order id anywhere in a sentence still routes to that order.

use chatmesh_proto::router::{Decision, RouteHints};
use proptest::prelude::*;

use super::classifier;
use crate::routing::{BackendCall, RouteError};

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn any_query_gets_a_decision_or_a_field_error(
        query in ".{0,300}",
        target in proptest::option::of(-1i32..5),
        order_id in proptest::option::of(any::<i64>()),
        k in proptest::option::of(-5i32..1100),
        person in proptest::option::of("[A-Za-z ]{0,20}"),
        customer in proptest::option::of("[a-z0-9-]{0,10}"),
    ) {
        let hints = RouteHints {
            target,
            order_id,
            k,
            person_name: person,
            customer,
            ..RouteHints::default()
        };
        match classifier().decide(&query, Some(&hints), "") {
            Ok(plan) => {
                let e = &plan.explanation;
                prop_assert!(e.confidence > 0.0 && e.confidence <= 1.0);
                prop_assert!(e.decision != Decision::Unspecified as i32);
                prop_assert_eq!(e.rule.is_empty(), e.decision != Decision::Rule as i32);
                if let BackendCall::VectorSearch(r) = &plan.call {
                    prop_assert!(!r.collection.is_empty());
                    prop_assert!((1..=1000).contains(&r.k));
                }
                if let BackendCall::GetOrder(r) = &plan.call {
                    prop_assert!(r.id >= 1);
                }
            }
            Err(RouteError::InvalidField { field, reason }) => {
                prop_assert!(!field.is_empty() && !reason.is_empty());
            }
        }
    }

    #[test]
    fn text_around_an_order_id_still_routes_to_it(
        before in "[a-z ]{0,30}",
        id in 1i64..=999_999_999_999,
        after in "[a-z ?]{0,30}",
    ) {
        let query = format!("{before} order {id} {after}");
        let plan = classifier().decide(&query, None, "").unwrap();
        prop_assert_eq!(plan.call, BackendCall::GetOrder(chatmesh_proto::relational::GetOrderRequest { id }));
    }
}
