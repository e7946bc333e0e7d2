//! Node and relationship CRUD as parameterised Cypher, one transaction per call. Labels, types
//! and keys reach the statement only backtick-quoted after the model's name check; values and
//! ids only as parameters. The limits the embedded engine enforces (labels and properties per
//! entity, property values) are checked here too, on the entity as the engine answers it
//! after the change, and the transaction is rolled back when it is over them.

use std::collections::BTreeSet;

use neo4rs::{BoltType, Query, query};

use super::values::{self, engine_id, quoted};
use super::{BoltGraph, Failure, Tx, column, int_column};
use crate::error::{GraphError, Result, node_not_found, relationship_not_found};
use crate::model::{
    Node, NodeUpdate, Properties, Relationship, Value, check_counts, check_name, check_properties,
};

/// The node in column `n`.
fn node_of(row: &neo4rs::Row) -> std::result::Result<Node, Failure> {
    match column(row, "n")? {
        BoltType::Node(n) => Ok(values::node(n)?),
        other => Err(values::unexpected(format!("a node {other:?}")).into()),
    }
}

/// The relationship in column `r`.
fn relationship_of(row: &neo4rs::Row) -> std::result::Result<Relationship, Failure> {
    match column(row, "r")? {
        BoltType::Relation(r) => Ok(values::relationship(r)?),
        other => Err(values::unexpected(format!("a relationship {other:?}")).into()),
    }
}

/// `:`A`:`B`` for a set of labels (checked names).
fn label_list<'a>(labels: impl IntoIterator<Item = &'a String>) -> Result<String> {
    labels
        .into_iter()
        .try_fold(String::new(), |mut out, label| {
            check_name(label, "label")?;
            out.push(':');
            out.push_str(&quoted(label));
            Ok(out)
        })
}

/// The first row's value, or `missing` when there is none.
async fn single<T>(
    tx: &mut Tx,
    statement: Query,
    read: fn(&neo4rs::Row) -> std::result::Result<T, Failure>,
    missing: impl FnOnce() -> GraphError,
) -> std::result::Result<T, Failure> {
    let rows = tx.rows(statement).await?;
    match rows.first() {
        Some(row) => read(row),
        None => Err(missing().into()),
    }
}

/// The node with `id`, as a parameter, or NOT_FOUND.
fn node_id(id: u64) -> std::result::Result<i64, Failure> {
    engine_id(id).ok_or_else(|| node_not_found(id).into())
}

async fn create_node_in(
    tx: &mut Tx,
    (labels, properties): &(BTreeSet<String>, Properties),
) -> std::result::Result<Node, Failure> {
    let text = format!("CREATE (n{} $props) RETURN n", label_list(labels)?);
    let statement = query(&text).param("props", values::properties_param(properties));
    single(tx, statement, node_of, || {
        values::unexpected("CREATE answered no node")
    })
    .await
}

/// The UpdateNode statement. Removed keys are set to null in the one `SET n += $set` rather
/// than named in REMOVE: ArcadeDB ignores a backtick-quoted key there (`REMOVE n.`k``).
fn update_statement(update: &NodeUpdate) -> Result<String> {
    let mut text = String::from("MATCH (n) WHERE id(n) = $id");
    if !update.remove_labels.is_empty() {
        text.push_str(&format!(" REMOVE n{}", label_list(&update.remove_labels)?));
    }
    if !update.set_properties.is_empty() || !update.remove_keys.is_empty() {
        text.push_str(" SET n += $set");
    }
    if !update.add_labels.is_empty() {
        text.push_str(&format!(" SET n{}", label_list(&update.add_labels)?));
    }
    text.push_str(" RETURN n");
    Ok(text)
}

async fn update_node_in(tx: &mut Tx, update: &NodeUpdate) -> std::result::Result<Node, Failure> {
    let null = Value::Null;
    let mut set: Vec<(&String, &Value)> = Vec::new();
    for key in &update.remove_keys {
        check_name(key, "remove_property_keys")?;
        set.push((key, &null));
    }
    set.extend(update.set_properties.iter().map(|(k, v)| (k, v)));
    let statement = query(&update_statement(update)?)
        .param("id", node_id(update.id)?)
        .param("set", values::properties_param(set));
    let node = single(tx, statement, node_of, || node_not_found(update.id)).await?;
    check_counts(node.labels.len(), node.properties.len())?;
    check_properties(&node.properties)?;
    Ok(node)
}

async fn delete_node_in(tx: &mut Tx, id: &u64) -> std::result::Result<u64, Failure> {
    let statement = query(
        "MATCH (n) WHERE id(n) = $id OPTIONAL MATCH (n)-[r]-() \
         WITH n, count(DISTINCT r) AS detached DETACH DELETE n RETURN detached",
    )
    .param("id", node_id(*id)?);
    let detached = single(
        tx,
        statement,
        |row| int_column(row, "detached"),
        || node_not_found(*id),
    )
    .await?;
    Ok(u64::try_from(detached).unwrap_or(0))
}

/// A validated CreateRelationship.
type NewRelationship = (u64, u64, String, Properties);

async fn create_relationship_in(
    tx: &mut Tx,
    (start, end, rel_type, properties): &NewRelationship,
) -> std::result::Result<Relationship, Failure> {
    check_name(rel_type, "type")?;
    let missing = |which: &str, id: u64| {
        Failure::from(GraphError::NotFound(format!(
            "{which} node {id} does not exist"
        )))
    };
    let start_id = engine_id(*start).ok_or_else(|| missing("start", *start))?;
    let end_id = engine_id(*end).ok_or_else(|| missing("end", *end))?;
    let text = format!(
        "MATCH (a) WHERE id(a) = $start MATCH (b) WHERE id(b) = $end \
         CREATE (a)-[r:{} $props]->(b) RETURN r",
        quoted(rel_type)
    );
    let statement = query(&text)
        .param("start", start_id)
        .param("end", end_id)
        .param("props", values::properties_param(properties));
    if let Some(row) = tx.rows(statement).await?.first() {
        return relationship_of(row);
    }
    // No row: name the missing end, as the embedded engine does.
    let exists = query("MATCH (n) WHERE id(n) = $id RETURN id(n) AS id");
    let start_found = !tx.rows(exists.param("id", start_id)).await?.is_empty();
    Err(if start_found {
        missing("end", *end)
    } else {
        missing("start", *start)
    })
}

impl BoltGraph {
    /// Creates a node (labels and properties already checked by the API).
    pub(super) async fn create_node(
        &self,
        labels: BTreeSet<String>,
        properties: Properties,
    ) -> Result<Node> {
        check_counts(labels.len(), properties.len())?;
        check_properties(&properties)?;
        let args = (labels, properties);
        self.write(None, args, |tx, args| Box::pin(create_node_in(tx, args)))
            .await
    }

    /// One node by id.
    pub(super) async fn node(&self, id: u64) -> Result<Node> {
        self.read(None, id, |tx, id| {
            Box::pin(async move {
                let statement =
                    query("MATCH (n) WHERE id(n) = $id RETURN n").param("id", node_id(*id)?);
                single(tx, statement, node_of, || node_not_found(*id)).await
            })
        })
        .await
    }

    /// Changes a node; ArcadeDB answers with a new id when its labels changed.
    pub(super) async fn update_node(&self, update: NodeUpdate) -> Result<Node> {
        self.write(None, update, |tx, update| {
            Box::pin(update_node_in(tx, update))
        })
        .await
    }

    /// Deletes a node with its relationships; returns how many went with it.
    pub(super) async fn delete_node(&self, id: u64) -> Result<u64> {
        self.write(None, id, |tx, id| Box::pin(delete_node_in(tx, id)))
            .await
    }

    /// Creates a relationship; NOT_FOUND names the missing end.
    pub(super) async fn create_relationship(&self, args: NewRelationship) -> Result<Relationship> {
        check_counts(0, args.3.len())?;
        check_properties(&args.3)?;
        self.write(None, args, |tx, args| {
            Box::pin(create_relationship_in(tx, args))
        })
        .await
    }

    /// One relationship by id.
    pub(super) async fn relationship(&self, id: u64) -> Result<Relationship> {
        self.read(None, id, |tx, id| {
            Box::pin(async move {
                let engine_id = engine_id(*id).ok_or_else(|| relationship_not_found(*id))?;
                let statement =
                    query("MATCH ()-[r]->() WHERE id(r) = $id RETURN r").param("id", engine_id);
                single(tx, statement, relationship_of, || {
                    relationship_not_found(*id)
                })
                .await
            })
        })
        .await
    }

    /// Deletes a relationship.
    pub(super) async fn delete_relationship(&self, id: u64) -> Result<()> {
        self.write(None, id, |tx, id| {
            Box::pin(async move {
                let engine_id = engine_id(*id).ok_or_else(|| relationship_not_found(*id))?;
                let statement =
                    query("MATCH ()-[r]->() WHERE id(r) = $id DELETE r RETURN count(*) AS deleted")
                        .param("id", engine_id);
                let deleted = single(
                    tx,
                    statement,
                    |row| int_column(row, "deleted"),
                    || relationship_not_found(*id),
                )
                .await?;
                if deleted == 0 {
                    return Err(relationship_not_found(*id).into());
                }
                Ok(())
            })
        })
        .await
    }
}
