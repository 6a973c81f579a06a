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

/// A generated SDK names its types after the document's schemas, so each
/// name has to say what it is on its own. A one-word name is allowed only
/// for the product's own nouns below; anything else (`Kind`, `Status`,
/// `Role`, `Session`, …) needs the word that owns it (`PartnershipKind`).
#[test]
fn schema_names_say_what_they_are() {
    const NOUNS: &[&str] = &[
        "Agreement",
        "Artisan",
        "Beneficiary",
        "Bio",
        "Campaign",
        "Cause",
        "Collection",
        "Collective",
        "Commitment",
        "Exchange",
        "Expense",
        "Goal",
        "Health",
        "Maker",
        "Me",
        "Money",
        "Notification",
        "Organization",
        "Partnership",
        "Payment",
        "Payouts",
        "Problem",
        "Program",
        "Rating",
        "Recipient",
        "Refund",
        "Region",
        "Review",
        "Sale",
        "Settlement",
        "Signature",
        "Sku",
        "Slug",
        "Statement",
        "Story",
        "Tradition",
        "Workshop",
    ];
    let doc = api::openapi();
    let schemas = &doc.components.as_ref().expect("components").schemas;
    let vague: Vec<&String> = schemas
        .keys()
        .filter(|name| name.chars().filter(char::is_ascii_uppercase).count() < 2)
        .filter(|name| !NOUNS.contains(&name.as_str()))
        .collect();
    assert!(
        vague.is_empty(),
        "schema names that need their owner: {vague:?}"
    );
    for noun in NOUNS {
        assert!(schemas.contains_key(*noun), "{noun} is no longer a schema");
    }
}

/// Every event type of the one event enum is documented as an OpenAPI 3.1
/// webhook whose body names a schema for its `data`, and the endpoint
/// schema's `events` enum is the same list.
#[test]
fn every_event_type_is_a_documented_webhook() {
    let doc = api::openapi();
    let webhooks = doc.webhooks.as_ref().expect("webhooks");
    let json = serde_json::to_value(&doc).expect("json");
    for event in domain::webhook::EventType::ALL {
        let item = webhooks
            .paths
            .get(event.as_str())
            .unwrap_or_else(|| panic!("{event} missing"));
        let post = serde_json::to_value(item.post.as_ref().expect("post")).expect("json");
        let data = &post["requestBody"]["content"]["application/json"]["schema"]["properties"]
            ["data"]["$ref"];
        let name = data
            .as_str()
            .and_then(|r| r.rsplit('/').next())
            .unwrap_or_default();
        assert!(
            json["components"]["schemas"].get(name).is_some(),
            "{event}: data schema {name}"
        );
    }
    let listed: Vec<String> = json["components"]["schemas"]["WebhookEventType"]["enum"]
        .as_array()
        .expect("enum")
        .iter()
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect();
    let all: Vec<&str> = domain::webhook::EventType::ALL
        .iter()
        .map(|e| e.as_str())
        .collect();
    assert_eq!(listed, all);
}

/// Checks an event's outbox payload (the `data` its webhook delivers)
/// member for member against the schema its webhook documents: no
/// undocumented member, every required one present, each of a documented
/// type and format. Called where each event type's own test makes one.
pub(crate) fn assert_documented_payload(row: &persistence::outbox::OutboxRow) {
    use serde_json::Value;
    let doc = serde_json::to_value(api::openapi()).expect("json");
    let event = row.event_type.as_str();
    let reference = doc["webhooks"][event]["post"]["requestBody"]["content"]["application/json"]
        ["schema"]["properties"]["data"]["$ref"]
        .as_str()
        .unwrap_or_else(|| panic!("{event}: no documented data schema"));
    let schema = &doc["components"]["schemas"][reference.rsplit('/').next().unwrap_or_default()];
    let properties = schema["properties"].as_object().expect("properties");
    let payload: Value = serde_json::from_str(&row.payload).expect("JSON payload");
    let members = payload.as_object().expect("an object");
    for (name, value) in members {
        let documented = properties
            .get(name)
            .unwrap_or_else(|| panic!("{event}: `{name}` is not documented"));
        assert!(
            has_documented_type(documented, value),
            "{event}: `{name}` = {value} does not match {documented}"
        );
    }
    for required in schema["required"].as_array().into_iter().flatten() {
        let name = required.as_str().unwrap_or_default();
        assert!(
            members.contains_key(name),
            "{event}: required `{name}` missing"
        );
    }
}

fn has_documented_type(schema: &serde_json::Value, value: &serde_json::Value) -> bool {
    use serde_json::Value;
    let types: Vec<&str> = match &schema["type"] {
        Value::String(one) => vec![one.as_str()],
        Value::Array(many) => many.iter().filter_map(Value::as_str).collect(),
        _ => return false,
    };
    let of_type = types.iter().any(|t| match *t {
        "string" => value.is_string(),
        "integer" => value.is_i64() || value.is_u64(),
        "number" => value.is_number(),
        "boolean" => value.is_boolean(),
        "object" => value.is_object(),
        "array" => value.is_array(),
        "null" => value.is_null(),
        _ => false,
    });
    let text = value.as_str().unwrap_or_default();
    let of_format = !value.is_string()
        || match schema["format"].as_str() {
            Some("uuid") => uuid::Uuid::parse_str(text).is_ok(),
            Some("date") => chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").is_ok(),
            Some("date-time") => chrono::DateTime::parse_from_rfc3339(text).is_ok(),
            _ => true,
        };
    of_type && of_format
}

/// Every request body refuses members it does not know (400), so a typo
/// or a server-owned field never passes silently: each object schema a body
/// can take says `additionalProperties: false`.
#[test]
fn every_request_body_denies_unknown_fields() {
    use serde_json::Value;
    let doc = serde_json::to_value(api::openapi()).expect("json");
    let resolve = |schema: &Value| -> Value {
        match schema["$ref"].as_str() {
            Some(r) => {
                let name = r.rsplit('/').next().unwrap_or_default();
                doc["components"]["schemas"][name].clone()
            }
            None => schema.clone(),
        }
    };
    let mut checked = 0;
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("item") {
            let Some(schema) = op
                .pointer("/requestBody/content/application~1json/schema")
                .map(&resolve)
            else {
                continue;
            };
            let alternatives = schema["oneOf"]
                .as_array()
                .map(|all| all.iter().map(&resolve).collect())
                .unwrap_or_else(|| vec![schema.clone()]);
            for alternative in alternatives {
                if alternative["type"] == "object" || alternative["properties"].is_object() {
                    assert_eq!(
                        alternative["additionalProperties"],
                        Value::Bool(false),
                        "{method} {path}: the body accepts unknown members"
                    );
                    checked += 1;
                }
            }
        }
    }
    assert!(
        checked >= 30,
        "only {checked} bodies: did the walk find them?"
    );
}

/// Every operation that declares a security scheme refuses a request with
/// no credentials and one with a forged token, with a 401 problem.
#[actix_web::test]
async fn every_secured_operation_refuses_missing_and_invalid_credentials() {
    use actix_web::http::Method;
    let app = crate::support::TestApp::spawn().await;
    let doc = api::openapi();
    let mut checked = 0;
    for (path, item) in &doc.paths.paths {
        let concrete = path
            .split('/')
            .map(|s| {
                if s.starts_with('{') {
                    "01900000-0000-7000-8000-000000000000"
                } else {
                    s
                }
            })
            .collect::<Vec<_>>()
            .join("/");
        let ops = [
            (Method::GET, &item.get),
            (Method::POST, &item.post),
            (Method::PATCH, &item.patch),
            (Method::DELETE, &item.delete),
        ];
        for (method, op) in ops {
            let Some(op) = op else { continue };
            let public = op.security.as_ref().is_some_and(|s| {
                serde_json::to_value(s).is_ok_and(|v| v == serde_json::json!([{}]))
            });
            if public {
                continue;
            }
            for credential in [None, Some("Bearer not.a.token")] {
                let mut req = app
                    .req(method.clone(), &concrete)
                    .header("If-Match", "\"1\"");
                if let Some(value) = credential {
                    req = req.header("Authorization", value);
                }
                if matches!(method, Method::POST | Method::PATCH) {
                    req = req.json(serde_json::json!({}));
                }
                let res = req.send().await;
                assert_eq!(
                    res.status, 401,
                    "{method} {path} with {credential:?}: {}",
                    res.text
                );
                res.assert_problem(401, "unauthenticated");
                assert!(res.header("www-authenticate").is_some(), "{method} {path}");
                checked += 1;
            }
        }
    }
    assert!(
        checked >= 60,
        "only {checked} checks: did the walk find the operations?"
    );
}
