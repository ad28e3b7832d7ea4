//! People and tokens: accounts created through the API, logging in for a session token and using
//! it, login throttling, disabled accounts, and bearer tokens from an OpenID Connect provider
//! with its keys from a file or from a URL.

mod support;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Method, Request, header};
use backroom_server::identity::Identity;
use backroom_server::identity::oidc::{OidcConfig, OidcVerifier};
use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use support::{Reply, TestApp, assert_error};

const ANNA_PASSWORD: &str = "till-drawer-balance-42";
const ISSUER: &str = "https://login.example-retail.test/realms/stores";
const AUDIENCE: &str = "backroom";

/// `POST /auth/token` without credentials, from `peer` when given.
async fn log_in(app: &TestApp, login: &str, password: &str, peer: Option<&str>) -> Reply {
    let mut request = Request::builder()
        .method(Method::POST)
        .uri("/auth/token")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(json!({"login": login, "password": password}).to_string()))
        .expect("request");
    if let Some(peer) = peer {
        let addr: SocketAddr = peer.parse().expect("peer address");
        request.extensions_mut().insert(ConnectInfo(addr));
    }
    app.send(request).await
}

/// Creates Anna, store manager of S042, through the API with the admin key.
async fn create_anna(app: &TestApp) -> Value {
    let body = json!({"login": "anna.berg", "display_name": "Anna Berg", "grants": ["store_manager@S042"],
                      "password": ANNA_PASSWORD});
    app.post_json("/v1/users", &body).await.expect(201).json()
}

async fn people_log_in_and_use_their_session(app: TestApp) {
    let anna = create_anna(&app).await;
    assert_eq!(anna["grants"], json!(["store_manager@S042"]));
    assert!(anna.get("password").is_none() && !anna.to_string().contains(ANNA_PASSWORD));

    let session = log_in(&app, "anna.berg", ANNA_PASSWORD, None).await.expect(200).json();
    let token = session["token"].as_str().expect("token").to_owned();
    assert!(token.starts_with("brs_"), "{token}");
    assert_eq!(session["user"]["login"], "anna.berg");
    assert!(session["expires_at"].is_string());

    // A store manager reads the operation of her store, but not the accounts.
    app.call(Method::GET, "/v1/locations", Some(&token), None).await.expect(200);
    app.call(Method::GET, "/v1/tasks", Some(&token), None).await.expect(200);
    let refused = app.call(Method::GET, "/v1/users", Some(&token), None).await;
    assert_error(&refused, 403, "forbidden", "permission_error", &["anna.berg", "store_manager@S042", "auditor"]);

    let listed = app.get("/v1/users").await.expect(200).json();
    assert_eq!(listed["users"][0]["login"], "anna.berg");
    let audit = app.get("/v1/audit?type=user.created").await.expect(200).json();
    assert_eq!(audit["entries"][0]["actor"], "test", "the admin key's name is the actor");
    assert_eq!(audit["entries"][0]["subject"], "user/anna.berg");

    // Disabling the account refuses its live session at once, and any new login.
    let disabled = app.post_empty("/v1/users/anna.berg/disable").await.expect(200).json();
    assert!(disabled["disabled_at"].is_string());
    let refused = app.call(Method::GET, "/v1/locations", Some(&token), None).await;
    assert_error(&refused, 401, "unauthorized", "authentication_error", &["session"]);
    assert_error(
        &log_in(&app, "anna.berg", ANNA_PASSWORD, None).await,
        401,
        "unauthorized",
        "authentication_error",
        &[],
    );
    let again = app.post_empty("/v1/users/anna.berg/disable").await;
    assert_error(&again, 409, "conflict", "invalid_request", &["already disabled"]);
    assert_error(&app.post_empty("/v1/users/nobody/disable").await, 404, "not_found", "invalid_request", &["nobody"]);
    app.close().await;
}

async fn wrong_credentials_do_not_say_which_was_wrong(app: TestApp) {
    create_anna(&app).await;
    let wrong_password = log_in(&app, "anna.berg", "not-the-password", None).await;
    let body = assert_error(&wrong_password, 401, "unauthorized", "authentication_error", &["login or password"]);
    let unknown_login = log_in(&app, "nobody.here", ANNA_PASSWORD, None).await;
    let other = assert_error(&unknown_login, 401, "unauthorized", "authentication_error", &[]);
    assert_eq!(body["message"], other["message"], "one message for both");
    let forged =
        app.call(Method::GET, "/v1/locations", Some("brs_0123456789abcdef0123456789abcdef0123456789abcdef"), None);
    assert_error(&forged.await, 401, "unauthorized", "authentication_error", &["session"]);
    app.close().await;
}

async fn accounts_are_checked_field_by_field(app: TestApp) {
    let base =
        json!({"login": "bert", "display_name": "Bert", "grants": ["auditor"], "password": "long-enough-password"});
    let mut short = base.clone();
    short["password"] = json!("short");
    let reply = app.post_json("/v1/users", &short).await;
    assert_error(&reply, 422, "validation_failed", "invalid_request", &["password", "at least 12"]);
    let mut bad_grant = base.clone();
    bad_grant["grants"] = json!(["auditor", "boss@S042"]);
    let reply = app.post_json("/v1/users", &bad_grant).await;
    assert_error(&reply, 422, "validation_failed", "invalid_request", &["grants[1]", "boss", "store_manager"]);
    let mut bad_login = base.clone();
    bad_login["login"] = json!("Bert Brown");
    let reply = app.post_json("/v1/users", &bad_login).await;
    assert_error(&reply, 422, "validation_failed", "invalid_request", &["login", "lower-case"]);
    app.post_json("/v1/users", &base).await.expect(201);
    assert_error(&app.post_json("/v1/users", &base).await, 409, "conflict", "invalid_request", &["bert", "taken"]);
    assert_eq!(app.get("/v1/users").await.expect(200).json()["users"].as_array().expect("users").len(), 1);
    app.close().await;
}

on_both_backends!(
    people_log_in_and_use_their_session,
    wrong_credentials_do_not_say_which_was_wrong,
    accounts_are_checked_field_by_field
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sixth_failed_attempt_waits_for_the_window() {
    let app = TestApp::sqlite().await;
    create_anna(&app).await;
    for _ in 0..5 {
        log_in(&app, "anna.berg", "not-the-password", Some("192.0.2.10:50000")).await.expect(401);
    }
    // Even the right password is not heard until the window passes.
    let throttled = log_in(&app, "anna.berg", ANNA_PASSWORD, Some("198.51.100.1:40000")).await;
    assert_error(&throttled, 429, "too_many_attempts", "authentication_error", &["try again"]);
    let wait: u64 = throttled.header(header::RETRY_AFTER).parse().expect("Retry-After in seconds");
    assert!((1..=900).contains(&wait), "{wait}");

    // The address that failed five times is throttled for every login.
    let app2 = TestApp::sqlite().await;
    create_anna(&app2).await;
    for login in ["a1", "a2", "a3", "a4", "a5"] {
        log_in(&app2, login, "guess-guess-guess", Some("203.0.113.9:1234")).await.expect(401);
    }
    let from_there = log_in(&app2, "anna.berg", ANNA_PASSWORD, Some("203.0.113.9:1235")).await;
    assert_error(&from_there, 429, "too_many_attempts", "authentication_error", &[]);
    assert!(!from_there.header(header::RETRY_AFTER).is_empty());
    log_in(&app2, "anna.berg", ANNA_PASSWORD, Some("198.51.100.2:1")).await.expect(200);
    app.close().await;
    app2.close().await;
}

// ----- OpenID Connect ----------------------------------------------------------------------------

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)
}

/// A signing key of the test identity provider.
struct Signer {
    key: EncodingKey,
    alg: Algorithm,
    kid: String,
}

impl Signer {
    fn rsa(file: &str, kid: &str) -> Signer {
        let pem = std::fs::read(fixture(file)).expect("key fixture");
        Signer { key: EncodingKey::from_rsa_pem(&pem).expect("RSA key"), alg: Algorithm::RS256, kid: kid.to_owned() }
    }

    fn ec(file: &str, kid: &str) -> Signer {
        let pem = std::fs::read(fixture(file)).expect("key fixture");
        Signer { key: EncodingKey::from_ec_pem(&pem).expect("EC key"), alg: Algorithm::ES256, kid: kid.to_owned() }
    }

    /// The public key as the provider publishes it.
    fn jwk(&self) -> Jwk {
        let mut jwk = Jwk::from_encoding_key(&self.key, self.alg).expect("public JWK");
        jwk.common.key_id = Some(self.kid.clone());
        jwk
    }

    fn sign(&self, claims: &Value) -> String {
        let mut header = Header::new(self.alg);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, claims, &self.key).expect("sign")
    }
}

fn now() -> u64 {
    jsonwebtoken::get_current_timestamp()
}

/// Claims of a valid token for `sub`, with extra claims merged in.
fn claims(sub: &str, extra: Value) -> Value {
    let mut c = json!({"iss": ISSUER, "aud": AUDIENCE, "sub": sub, "iat": now(), "nbf": now() - 5, "exp": now() + 600});
    for (k, v) in extra.as_object().expect("object") {
        c[k] = v.clone();
    }
    c
}

fn oidc_config(jwks_file: Option<PathBuf>, jwks_url: Option<String>) -> OidcConfig {
    let text = r#"
        issuer = "https://login.example-retail.test/realms/stores"
        audience = "backroom"
        roles_claim = "realm_access.roles"
        location_claim = "store"
        [role_map]
        store-managers = "store_manager"
        auditors = "auditor"
    "#;
    let mut config: OidcConfig = toml::from_str(text).expect("oidc config");
    config.jwks_file = jwks_file;
    config.jwks_url = jwks_url;
    config
}

async fn app_with_oidc(config: OidcConfig) -> TestApp {
    let verifier = OidcVerifier::new(config).await.expect("oidc verifier");
    TestApp::sqlite_with_identity(Identity { oidc: Some(verifier), ..Identity::default() }).await
}

async fn get_as(app: &TestApp, uri: &str, token: &str) -> Reply {
    app.call(Method::GET, uri, Some(token), None).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn provider_tokens_from_a_key_file_are_checked_and_mapped_to_grants() {
    let rsa = Signer::rsa("oidc-test-rsa.pem", "rsa-2026");
    let ec = Signer::ec("oidc-test-ec.pem", "ec-2026");
    let dir = tempfile::tempdir().expect("tempdir");
    let jwks = dir.path().join("jwks.json");
    std::fs::write(&jwks, serde_json::to_string(&JwkSet { keys: vec![rsa.jwk(), ec.jwk()] }).expect("jwks"))
        .expect("write");
    let app = app_with_oidc(oidc_config(Some(jwks), None)).await;

    // Grant strings in `backroom_grants`: an auditor reads the audit record.
    let auditor = rsa.sign(&claims("u-1001", json!({"backroom_grants": ["auditor"]})));
    get_as(&app, "/v1/audit", &auditor).await.expect(200);

    // Provider roles mapped through role_map, scoped by the `store` claim.
    let manager =
        ec.sign(&claims("u-2002", json!({"realm_access": {"roles": ["store-managers", "staff"]}, "store": "S042"})));
    get_as(&app, "/v1/locations", &manager).await.expect(200);
    let refused = get_as(&app, "/v1/audit", &manager).await;
    assert_error(&refused, 403, "forbidden", "permission_error", &["u-2002", "store_manager@S042"]);

    // A token whose claims map to nothing authenticates but may do nothing.
    let nobody = rsa.sign(&claims("u-3003", json!({"realm_access": {"roles": ["staff"]}})));
    assert_error(&get_as(&app, "/v1/locations", &nobody).await, 403, "forbidden", "permission_error", &["no roles"]);

    let refusals = [
        (rsa.sign(&claims("u-1", json!({"iss": "https://evil.example", "backroom_grants": ["admin"]}))), "issuer"),
        (rsa.sign(&claims("u-1", json!({"aud": "another-app", "backroom_grants": ["admin"]}))), "audience"),
        (rsa.sign(&claims("u-1", json!({"exp": now() - 3600, "backroom_grants": ["admin"]}))), "expired"),
        (rsa.sign(&claims("u-1", json!({"nbf": now() + 3600, "backroom_grants": ["admin"]}))), "not valid yet"),
        (
            Signer::rsa("oidc-test-rsa-other.pem", "rsa-2026")
                .sign(&claims("u-1", json!({"backroom_grants": ["admin"]}))),
            "signature",
        ),
        (Signer::rsa("oidc-test-rsa-other.pem", "rsa-unknown").sign(&claims("u-1", json!({}))), "rsa-unknown"),
    ];
    for (token, why) in refusals {
        let reply = get_as(&app, "/v1/locations", &token).await;
        assert_error(&reply, 401, "unauthorized", "authentication_error", &[why]);
    }
    // Only RS256 and ES256: a token signed with a shared secret is refused.
    let mut hs = Header::new(Algorithm::HS256);
    hs.kid = Some("rsa-2026".into());
    let hmac = jsonwebtoken::encode(
        &hs,
        &claims("u-1", json!({"backroom_grants": ["admin"]})),
        &EncodingKey::from_secret(b"guess"),
    )
    .expect("sign");
    assert_error(&get_as(&app, "/v1/locations", &hmac).await, 401, "unauthorized", "authentication_error", &["RS256"]);
    app.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn provider_tokens_are_refused_when_no_provider_is_configured() {
    let app = TestApp::sqlite().await;
    let token = Signer::rsa("oidc-test-rsa.pem", "k").sign(&claims("u-1", json!({"backroom_grants": ["admin"]})));
    assert_error(
        &get_as(&app, "/v1/locations", &token).await,
        401,
        "unauthorized",
        "authentication_error",
        &["[oidc]"],
    );
    app.close().await;
}

/// A provider publishing its keys over HTTP, counting how often they are fetched.
struct Provider {
    url: String,
    keys: Arc<Mutex<Vec<Jwk>>>,
    fetches: Arc<AtomicUsize>,
}

async fn provider(keys: Vec<Jwk>) -> Provider {
    let keys = Arc::new(Mutex::new(keys));
    let fetches = Arc::new(AtomicUsize::new(0));
    let (k, f) = (keys.clone(), fetches.clone());
    let router = axum::Router::new().route(
        "/realms/stores/certs",
        axum::routing::get(move || {
            let (k, f) = (k.clone(), f.clone());
            async move {
                f.fetch_add(1, Ordering::SeqCst);
                let set = JwkSet { keys: k.lock().expect("keys").clone() };
                axum::Json(set)
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, router).await.expect("serve") });
    Provider { url: format!("http://{addr}/realms/stores/certs"), keys, fetches }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn provider_keys_from_a_url_are_fetched_again_for_a_new_key_id_at_most_once_a_minute() {
    let first = Signer::rsa("oidc-test-rsa.pem", "2026-01");
    let rotated = Signer::ec("oidc-test-ec.pem", "2026-02");
    let idp = provider(vec![first.jwk()]).await;
    let app = app_with_oidc(oidc_config(None, Some(idp.url.clone()))).await;
    assert_eq!(idp.fetches.load(Ordering::SeqCst), 1, "the keys are fetched at start");

    let token = first.sign(&claims("u-1", json!({"backroom_grants": ["auditor"]})));
    get_as(&app, "/v1/audit", &token).await.expect(200);
    get_as(&app, "/v1/audit", &token).await.expect(200);
    assert_eq!(idp.fetches.load(Ordering::SeqCst), 1, "known keys are cached");

    // The provider rotates to a new key: its first token makes Backroom fetch the set again.
    idp.keys.lock().expect("keys").push(rotated.jwk());
    let token = rotated.sign(&claims("u-2", json!({"backroom_grants": ["auditor"]})));
    get_as(&app, "/v1/audit", &token).await.expect(200);
    assert_eq!(idp.fetches.load(Ordering::SeqCst), 2);

    // Made-up key ids do not make it fetch again within the minute.
    for kid in ["made-up-1", "made-up-2"] {
        let forged =
            Signer::rsa("oidc-test-rsa-other.pem", kid).sign(&claims("u-3", json!({"backroom_grants": ["admin"]})));
        assert_error(&get_as(&app, "/v1/audit", &forged).await, 401, "unauthorized", "authentication_error", &[kid]);
    }
    assert_eq!(idp.fetches.load(Ordering::SeqCst), 2);
    app.close().await;
}
