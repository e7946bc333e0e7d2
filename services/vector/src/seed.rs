//! Demo data for `--seed-demo` (used by `chatmesh up`): FAQ and documentation snippets about
//! the demo organisation that the graph and relational demos also describe (people such as
//! Ada Lovelace and Grace Hopper; the Platform, Search and Payments teams and their services),
//! embedded with the built-in embedder. Seeding creates the `docs` collection once; a store
//! that already has it is left alone.

use crate::embed;
use crate::error::{Result, VectorError};
use crate::model::{CollectionSpec, Metric, Object, PayloadValue};
use crate::vectors::Vectors;

/// Name of the demo collection.
pub(crate) const DEMO_COLLECTION: &str = "docs";

const DOCS: &[(&str, &str, &str, &str)] = &[
    (
        "doc-001",
        "onboarding",
        "Platform",
        "How do I get access to the production cluster? Ask the Platform team: Alan Turing approves cluster access requests.",
    ),
    (
        "doc-002",
        "onboarding",
        "Platform",
        "New engineers get a laptop, an SSO account and a buddy on their first day. Grace Hopper runs the onboarding week.",
    ),
    (
        "doc-003",
        "deploy",
        "Platform",
        "How do I deploy a service? Merge to main; the pipeline builds the image, runs the tests and rolls it out with a canary.",
    ),
    (
        "doc-004",
        "deploy",
        "Platform",
        "How do I roll back a deployment? Run the rollback job in the pipeline or redeploy the previous image tag.",
    ),
    (
        "doc-005",
        "oncall",
        "Platform",
        "Who is on call? The on-call rotation changes every Monday; Margaret Hamilton owns the rotation and the paging rules.",
    ),
    (
        "doc-006",
        "oncall",
        "Platform",
        "How do I page the on-call engineer? Use the incident channel command; pages go to the primary, then the secondary after ten minutes.",
    ),
    (
        "doc-007",
        "auth",
        "Platform",
        "How do I reset my password? Use the self-service portal; the auth-service sends a reset link to your work email.",
    ),
    (
        "doc-008",
        "auth",
        "Platform",
        "How do I enable two-factor authentication? Open your SSO profile, choose security keys or an authenticator app.",
    ),
    (
        "doc-009",
        "auth",
        "Platform",
        "The auth-service issues tokens for every internal API. Ken Thompson maintains it for the Platform team.",
    ),
    (
        "doc-010",
        "gateway",
        "Platform",
        "The gateway routes public traffic to internal services and enforces rate limits per API key.",
    ),
    (
        "doc-011",
        "search",
        "Search",
        "How do I reindex the product catalogue? Trigger the indexer job; a full reindex takes about twenty minutes.",
    ),
    (
        "doc-012",
        "search",
        "Search",
        "The search-api answers product queries with typo tolerance and synonyms. Barbara Liskov leads the Search team.",
    ),
    (
        "doc-013",
        "search",
        "Search",
        "How do I add a synonym to search? Edit the synonyms file in the search repository and redeploy the search-api.",
    ),
    (
        "doc-014",
        "search",
        "Search",
        "Search relevance is tuned weekly; Linus Torvalds reviews the ranking experiments.",
    ),
    (
        "doc-015",
        "payments",
        "Payments",
        "How do I refund an order? Open the order in the back office and choose refund; billing reverses the charge within a day.",
    ),
    (
        "doc-016",
        "payments",
        "Payments",
        "Why was my payment declined? The card issuer declined it; ask the customer to retry or use another card.",
    ),
    (
        "doc-017",
        "payments",
        "Payments",
        "The checkout service takes the basket, reserves stock and asks billing to charge the card. Edsger Dijkstra leads Payments.",
    ),
    (
        "doc-018",
        "payments",
        "Payments",
        "How do I change the billing address on an invoice? Update it on the customer record, then regenerate the invoice.",
    ),
    (
        "doc-019",
        "orders",
        "Payments",
        "How do I check the status of an order? Ask the assistant for the order id; statuses are pending, paid, shipped, delivered, cancelled and refunded.",
    ),
    (
        "doc-020",
        "orders",
        "Payments",
        "How do I cancel an order? Orders can be cancelled until they ship; after that, start a return instead.",
    ),
    (
        "doc-021",
        "orders",
        "Payments",
        "When does an order ship? Paid orders ship within two working days; the status changes to shipped with a tracking link.",
    ),
    (
        "doc-022",
        "people",
        "Platform",
        "Who manages whom? Ada Lovelace is the CTO; Grace Hopper reports to her and manages the team leads.",
    ),
    (
        "doc-023",
        "people",
        "Platform",
        "How do I find the owner of a service? Ask the assistant who owns the service; the service catalogue records an owning team.",
    ),
    (
        "doc-024",
        "process",
        "Platform",
        "How do I request time off? Submit it in the HR tool; your manager approves it.",
    ),
    (
        "doc-025",
        "process",
        "Platform",
        "How do I report a security issue? Email the security alias or page the on-call engineer for anything urgent.",
    ),
    (
        "doc-026",
        "incident",
        "Platform",
        "What happens during an incident? The incident commander coordinates, the scribe keeps the timeline, and a review follows within a week.",
    ),
    (
        "doc-027",
        "incident",
        "Platform",
        "How do I write a post-incident review? Use the template: summary, impact, timeline, causes, and follow-up actions with owners.",
    ),
    (
        "doc-028",
        "data",
        "Search",
        "How do I get access to analytics data? Request a read-only role; the Search team owns the event pipeline.",
    ),
    (
        "doc-029",
        "data",
        "Payments",
        "How long are invoices kept? Invoices and payment records are kept for ten years for accounting.",
    ),
    (
        "doc-030",
        "api",
        "Platform",
        "How do I create an API key? Generate it in the developer portal; keys are scoped to one team and can be rotated.",
    ),
];

fn text(value: &str) -> PayloadValue {
    PayloadValue::Text(value.to_owned())
}

/// Creates and fills the demo collection unless it exists.
pub(crate) async fn demo(vectors: &Vectors) -> Result<()> {
    // The server's default embedder: its static model when one is loaded, else hashing-v1.
    let mut spec = CollectionSpec::new(DEMO_COLLECTION, embed::DEFAULT_DIMENSION, Metric::Cosine);
    spec.embedder = String::new();
    match vectors.create_collection(spec).await {
        Ok(_) => {}
        Err(VectorError::AlreadyExists(_)) => return Ok(()),
        Err(e) => return Err(e),
    }
    let objects = DOCS
        .iter()
        .map(|(id, topic, team, body)| Object {
            id: (*id).to_owned(),
            vector: Vec::new(),
            payload: [
                ("topic".to_owned(), text(topic)),
                ("team".to_owned(), text(team)),
            ]
            .into(),
            text: Some((*body).to_owned()),
        })
        .collect();
    vectors.upsert(DEMO_COLLECTION, objects).await?;
    tracing::info!(
        documents = DOCS.len(),
        "seeded the demo collection '{DEMO_COLLECTION}'"
    );
    Ok(())
}
