//! The simulator answers as `docs/operator-api.openapi.json` documents: every documented
//! operation is served, each answer's status is documented for it, and the answer carries the
//! documented schema's required fields.

mod common;

use common::Sim;
use serde_json::{json, Value};

fn doc() -> Value {
    let text = include_str!("../../../docs/operator-api.openapi.json");
    serde_json::from_str(text).expect("the contract's OpenAPI document is JSON")
}

/// The schema an answer must follow, `$ref`s resolved one level, `oneOf` as its variants.
fn required_of(doc: &Value, schema: &Value) -> Vec<Vec<String>> {
    let s = match schema["$ref"].as_str() {
        Some(r) => &doc["components"]["schemas"][r.rsplit('/').next().unwrap()],
        None => schema,
    };
    match s["oneOf"].as_array() {
        Some(v) => v.iter().flat_map(|x| required_of(doc, x)).collect(),
        None => vec![s["required"]
            .as_array()
            .map(|r| r.iter().map(|x| x.as_str().unwrap().to_string()).collect())
            .unwrap_or_default()],
    }
}

fn check(doc: &Value, method: &str, path: &str, status: u16, body: &Value) {
    let op = &doc["paths"][path][method];
    assert!(op.is_object(), "{method} {path} is not documented");
    let resp = &op["responses"][status.to_string()];
    assert!(
        resp.is_object(),
        "{method} {path} answered {status}, not documented: {body}"
    );
    let schema = &resp["content"]["application/json"]["schema"];
    let variants = required_of(doc, schema);
    assert!(
        variants
            .iter()
            .any(|req| req.iter().all(|k| body.get(k).is_some())),
        "{method} {path} {status}: {body} lacks the documented fields {variants:?}"
    );
}

fn call(method: &str, url: &str, key: Option<&str>, body: Option<Value>) -> (u16, Value) {
    let mut r = ureq::request(method, url);
    if let Some(k) = key {
        r = r.set("idempotency-key", k);
    }
    let res = match body {
        Some(b) => r.send_json(b),
        None => r.call(),
    };
    match res {
        Ok(resp) => (resp.status(), resp.into_json().unwrap_or(Value::Null)),
        Err(ureq::Error::Status(s, resp)) => (s, resp.into_json().unwrap_or(Value::Null)),
        Err(e) => panic!("{method} {url}: {e}"),
    }
}

#[test]
fn every_documented_operation_answers_as_documented() {
    let d = doc();
    let sim = Sim::start(&[]);
    let u = |p: &str| format!("{}{p}", sim.url);
    let paths: Vec<&String> = d["paths"].as_object().unwrap().keys().collect();
    assert_eq!(paths.len(), 4);

    let (st, b) = call("GET", &u("/v1/wallets/W1"), None, None);
    check(&d, "get", "/v1/wallets/{wallet_id}", st, &b);
    assert_eq!((st, b["locked"].as_bool()), (200, Some(true)));
    let (st, b) = call("GET", &u("/v1/wallets/W-1"), None, None);
    check(&d, "get", "/v1/wallets/{wallet_id}", st, &b);
    assert_eq!(st, 400);

    let body = json!({"case_number": "SIM-1", "branch_code": "T"});
    let unlock = "/v1/wallets/{wallet_id}/unlock";
    for (wallet, key, want) in [
        ("W1", Some("k1"), 200),
        ("W1", Some("k1"), 200), // the same key: the same answer, nothing twice
        ("W1", Some("k2"), 200), // a new key on an unlocked wallet: rejected not-locked
        ("PND1", Some("k3"), 202),
        ("W2", Some("k1"), 409),
        ("W3", None, 400),
    ] {
        let (st, b) = call(
            "POST",
            &u(&format!("/v1/wallets/{wallet}/unlock")),
            key,
            Some(body.clone()),
        );
        check(&d, "post", unlock, st, &b);
        assert_eq!(st, want, "{wallet} {key:?}: {b}");
    }
    let (_, b) = call(
        "POST",
        &u("/v1/wallets/W1/unlock"),
        Some("k2"),
        Some(body.clone()),
    );
    assert_eq!(
        (b["status"].as_str(), b["code"].as_str()),
        (Some("rejected"), Some("not-locked"))
    );
    let (st, b) = call(
        "POST",
        &u("/v1/wallets/W4/unlock"),
        Some("k4"),
        Some(json!({"x": 1})),
    );
    check(&d, "post", unlock, st, &b);
    assert_eq!(st, 400);

    let status = "/v1/unlock-requests/{key}";
    let (st, b) = call("GET", &u("/v1/unlock-requests/k1"), None, None);
    check(&d, "get", status, st, &b);
    assert_eq!(b["status"], "confirmed");
    let (st, b) = call("GET", &u("/v1/unlock-requests/nobody"), None, None);
    check(&d, "get", status, st, &b);
    assert_eq!(st, 404);

    let sms = json!({"message_id": "m1", "to": "13900000001", "lang": "en", "text": "hello"});
    let (st, b) = call("POST", &u("/v1/sms"), Some("m1"), Some(sms.clone()));
    check(&d, "post", "/v1/sms", st, &b);
    assert_eq!((st, b["duplicate"].as_bool()), (202, Some(false)));
    let (st, b) = call("POST", &u("/v1/sms"), Some("m1"), Some(sms));
    assert_eq!((st, b["duplicate"].as_bool()), (202, Some(true)));
    let bad = json!({"message_id": "m2", "to": "call me", "text": "hello"});
    let (st, b) = call("POST", &u("/v1/sms"), Some("m2"), Some(bad));
    check(&d, "post", "/v1/sms", st, &b);
    assert_eq!(st, 400);

    // The document it serves is the repository's.
    let (st, served) = call("GET", &u("/openapi.json"), None, None);
    assert_eq!((st, &served), (200, &d));
    let l = sim.ledger();
    assert_eq!(l, json!({"unlocks": {"W1": 1}, "messages": {"m1": 1}}));
}

#[test]
fn with_a_token_every_operation_refuses_a_request_without_it() {
    let d = doc();
    assert_eq!(
        d["components"]["securitySchemes"]["bankToken"]["scheme"],
        "bearer"
    );
    let sim = Sim::start(&["--token", "bank-secret"]);
    let u = |p: &str| format!("{}{p}", sim.url);
    let (st, b) = call("GET", &u("/v1/wallets/W1"), None, None);
    check(&d, "get", "/v1/wallets/{wallet_id}", st, &b);
    assert_eq!((st, b["code"].as_str()), (401, Some("unauthorized")));
    let body = json!({"case_number": "SIM-1", "branch_code": "T"});
    let (st, b) = call("POST", &u("/v1/wallets/W1/unlock"), Some("k1"), Some(body));
    check(&d, "post", "/v1/wallets/{wallet_id}/unlock", st, &b);
    assert_eq!(st, 401);
    // Nothing was done; with the token it answers.
    assert_eq!(sim.ledger()["unlocks"], json!({}));
    let r = ureq::get(&u("/v1/wallets/W1"))
        .set("authorization", "Bearer bank-secret")
        .call()
        .unwrap();
    assert_eq!(r.status(), 200);
}
