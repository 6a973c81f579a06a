//! The committed contract matches the code.

#[test]
fn committed_openapi_yaml_matches_the_code() {
    let generated = api::openapi_yaml().expect("generate");
    let committed = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/openapi.yaml"))
        .unwrap_or_default();
    assert!(
        generated == committed,
        "openapi.yaml is stale: run `cargo run -- openapi > openapi.yaml` and commit it"
    );
}

#[test]
fn every_operation_declares_security_and_an_id() {
    let doc = api::openapi();
    for (path, item) in &doc.paths.paths {
        for op in [&item.get, &item.post, &item.patch, &item.put, &item.delete]
            .into_iter()
            .flatten()
        {
            assert!(op.operation_id.is_some(), "{path} has no operationId");
            assert!(op.security.is_some(), "{path} declares no security");
        }
    }
}
