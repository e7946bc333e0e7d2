//! The static text-embedding model through the service, over gRPC: collections record the
//! model's fingerprinted name, a paraphrase with no word in common with its document finds it,
//! hashing-v1 stays available next to the model, a server with another embedder refuses
//! near_text on the model's collection naming both, and ReembedCollection moves a collection to
//! the embedder this server has.
//!
//! Needs the model files (`scripts/fetch-model.sh` prints their folder): run with
//! `CHATMESH_TEST_MODEL_DIR=$(bash scripts/fetch-model.sh) cargo test -p chatmesh-vector --test
//! embedding -- --include-ignored`. CI does.

mod common;

use chatmesh_proto::vector as pb;
use common::*;
use tonic::Code;

fn model_dir() -> String {
    std::env::var("CHATMESH_TEST_MODEL_DIR")
        .expect("CHATMESH_TEST_MODEL_DIR: the folder scripts/fetch-model.sh prints")
}

const DOCS: [(&str, &str); 4] = [
    (
        "password",
        "How do I reset my password? Use the self-service portal; it mails a reset link.",
    ),
    (
        "invoice",
        "Where do I download an invoice? Billing keeps every invoice under Account, Invoices.",
    ),
    (
        "laptop",
        "How do I order a new laptop? Ask IT through the hardware request form.",
    ),
    (
        "holiday",
        "How do I request time off? Submit it in the HR tool; your manager approves it.",
    ),
];

fn with_text(id: &str, text: &str) -> pb::VectorObject {
    pb::VectorObject {
        text: Some(text.into()),
        ..object(id, Vec::new(), &[])
    }
}

fn near_text(collection: &str, text: &str) -> pb::SearchRequest {
    pb::SearchRequest {
        collection: collection.into(),
        query: Some(pb::search_request::Query::NearText(text.into())),
        k: 1,
        ..Default::default()
    }
}

async fn fill(svc: &mut Service, collection: &str, embedder: &str) -> pb::Collection {
    let created = svc
        .client
        .create_collection(pb::CreateCollectionRequest {
            embedder: embedder.into(),
            ..create(collection, 256, pb::Distance::Cosine)
        })
        .await
        .unwrap()
        .into_inner()
        .collection
        .unwrap();
    let objects = DOCS.iter().map(|(id, text)| with_text(id, text)).collect();
    svc.client
        .upsert_objects(pb::UpsertObjectsRequest {
            collection: collection.into(),
            objects,
        })
        .await
        .unwrap();
    created
}

async fn top(svc: &mut Service, collection: &str, text: &str) -> Result<String, tonic::Status> {
    let found = svc.client.search(near_text(collection, text)).await?;
    Ok(ids(&found.into_inner()).remove(0))
}

#[tokio::test]
#[ignore = "needs the model files: CHATMESH_TEST_MODEL_DIR=$(bash scripts/fetch-model.sh)"]
async fn the_model_finds_paraphrases_and_collections_remember_their_embedder() {
    let data = tempfile::tempdir().unwrap();
    let static_arg = format!("static:{}", model_dir());
    let mut svc = Service::start(data.path(), &["--embedder", &static_arg]).await;
    let model = fill(&mut svc, "semantic", "").await;
    assert!(
        model.embedder.starts_with("wordllama-l2-256@") && model.embedder.len() == 29,
        "the default is the model, fingerprinted: {}",
        model.embedder
    );
    // No word in common with "How do I reset my password?".
    assert_eq!(
        top(&mut svc, "semantic", "I forgot my login secret")
            .await
            .unwrap(),
        "password"
    );
    assert_eq!(
        top(&mut svc, "semantic", "vacation days approval")
            .await
            .unwrap(),
        "holiday"
    );
    // hashing-v1 stays available on the same server, and the short model name resolves.
    let lexical = fill(&mut svc, "lexical", "hashing-v1").await;
    assert_eq!(lexical.embedder, "hashing-v1");
    assert_eq!(
        top(&mut svc, "lexical", "reset password").await.unwrap(),
        "password"
    );
    let short = fill(&mut svc, "short", "wordllama-l2-256").await;
    assert_eq!(short.embedder, model.embedder);
    // The model produces 256 dimensions only.
    let err = svc
        .client
        .create_collection(pb::CreateCollectionRequest {
            embedder: "wordllama-l2-256".into(),
            ..create("narrow", 64, pb::Distance::Cosine)
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument, "{err:?}");
    assert!(err.message().contains("produces 256 dimensions"), "{err:?}");
    svc.stop().await;

    // The same data on a server without the model: near_text is refused, naming both.
    let mut svc = Service::start(data.path(), &["--embedder", "hashing-v1"]).await;
    let err = top(&mut svc, "semantic", "I forgot my login secret")
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition, "{err:?}");
    assert!(
        err.message().contains(&model.embedder) && err.message().contains("hashing-v1"),
        "{err:?}"
    );
    // Searching by vector still works; re-embedding moves the collection over.
    let moved = svc
        .client
        .reembed_collection(pb::ReembedCollectionRequest {
            collection: "semantic".into(),
            embedder: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(moved.reembedded_count, DOCS.len() as i64);
    assert_eq!(moved.collection.unwrap().embedder, "hashing-v1");
    assert_eq!(
        top(&mut svc, "semantic", "reset password").await.unwrap(),
        "password"
    );
    svc.stop().await;

    // ...and the move survived a restart (a server with the model has hashing-v1 too).
    let mut svc = Service::start(data.path(), &["--embedder", &static_arg]).await;
    let info = svc
        .client
        .get_collection(pb::GetCollectionRequest {
            name: "semantic".into(),
        })
        .await
        .unwrap()
        .into_inner()
        .collection
        .unwrap();
    assert_eq!(info.embedder, "hashing-v1");
    assert_eq!(
        top(&mut svc, "semantic", "reset password").await.unwrap(),
        "password"
    );
    svc.stop().await;
}

#[tokio::test]
#[ignore = "needs the model files: CHATMESH_TEST_MODEL_DIR=$(bash scripts/fetch-model.sh)"]
async fn changed_model_files_are_another_embedder() {
    let data = tempfile::tempdir().unwrap();
    let mut svc = Service::start(
        data.path(),
        &["--embedder", &format!("static:{}", model_dir())],
    )
    .await;
    let before = fill(&mut svc, "docs", "").await.embedder;
    svc.stop().await;

    // A copy of the model whose tokenizer file differs by one byte.
    let copy = tempfile::tempdir().unwrap();
    let dir = copy.path().join("wordllama-l2-256");
    std::fs::create_dir(&dir).unwrap();
    for file in ["model.safetensors", "tokenizer.json"] {
        std::fs::copy(
            std::path::Path::new(&model_dir()).join(file),
            dir.join(file),
        )
        .unwrap();
    }
    let mut tokenizer = std::fs::read(dir.join("tokenizer.json")).unwrap();
    tokenizer.push(b'\n');
    std::fs::write(dir.join("tokenizer.json"), tokenizer).unwrap();

    let arg = format!("static:{}", dir.display());
    let mut svc = Service::start(data.path(), &["--embedder", &arg]).await;
    let err = top(&mut svc, "docs", "reset password").await.unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition, "{err:?}");
    assert!(err.message().contains(&before), "{err:?}");
    // An object without text cannot be re-embedded: the collection stays as it was.
    svc.client
        .upsert_objects(pb::UpsertObjectsRequest {
            collection: "docs".into(),
            objects: vec![object("raw", vec![0.5; 256], &[])],
        })
        .await
        .unwrap();
    let err = svc
        .client
        .reembed_collection(pb::ReembedCollectionRequest {
            collection: "docs".into(),
            embedder: String::new(),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition, "{err:?}");
    assert!(err.message().contains("'raw'"), "{err:?}");
    let info = svc
        .client
        .get_collection(pb::GetCollectionRequest {
            name: "docs".into(),
        })
        .await
        .unwrap()
        .into_inner()
        .collection
        .unwrap();
    assert_eq!(info.embedder, before);
    svc.stop().await;
}

#[tokio::test]
async fn a_missing_model_is_a_start_up_error_naming_the_file() {
    let data = tempfile::tempdir().unwrap();
    let empty = tempfile::tempdir().unwrap();
    let config: chatmesh_vector::Config = chatmesh_runtime::cli::parse_config(
        &chatmesh_vector::INFO,
        [
            "chatmesh-vector",
            "--data-dir",
            &data.path().display().to_string(),
            "--embedder",
            &format!("static:{}", empty.path().display()),
        ],
    )
    .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let err = chatmesh_vector::serve_on(config, listener, Default::default())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("tokenizer.json"), "{err}");
}
