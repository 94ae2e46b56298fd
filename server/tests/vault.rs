//! The server on its Vault backend, against a real OpenBao: token and AppRole login, the
//! upstream record layout, check-and-set, and Vault failing underneath the server.

mod support;

use std::os::unix::fs::PermissionsExt;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use support::{Bao, Server, http_json};
use vdk_secrets::{ErrorKind, Secrets};

const TOKEN_ENV: &str = "VAULT_TOKEN";

fn server_on(bao: &Bao, extra: &[&str]) -> Server {
    let mut args = vec!["--dev", "--backend", "vault", "--vault-addr", &bao.addr];
    args.extend_from_slice(extra);
    Server::start(&args, &[(TOKEN_ENV, &bao.root_token)])
}

#[tokio::test]
async fn stores_upstreams_record_layout_in_kv_v2() {
    let bao = Bao::dev();
    let server = server_on(&bao, &[]);
    let c = server.client("team-a", "job-1", None);
    c.set("password", "s3cret".into()).await.unwrap();
    c.set("conf", json!({"port": 5432}).into()).await.unwrap();

    let raw = bao.call("GET", "/v1/secret/data/team-a/job-1", None);
    let record = &raw["data"]["data"];
    assert_eq!(record["jobName"], "team-a/job-1");
    let stored: Value = serde_json::from_str(record["secretsJson"].as_str().unwrap()).unwrap();
    assert_eq!(
        stored,
        json!({"password": "s3cret", "conf": {"port": 5432}})
    );
    assert_eq!(raw["data"]["metadata"]["version"], 2);
    let etag = c.read_versioned().await.unwrap().etag.unwrap();
    assert_eq!(etag.as_str(), "\"2\"", "the ETag is the KV v2 version");
}

#[tokio::test]
async fn reads_what_a_control_service_wrote_to_the_shared_vault() {
    let bao = Bao::dev();
    let record =
        json!({"data": {"jobName": "team/job", "secretsJson": "{\"from\":\"control-service\"}"}});
    bao.call("POST", "/v1/secret/data/team/job", Some(record));
    let server = server_on(&bao, &[]);
    let all = server.client("team", "job", None).read_all().await.unwrap();
    assert_eq!(all.get("from").unwrap().expose(), &json!("control-service"));
}

#[tokio::test]
async fn stale_if_match_is_412_through_check_and_set() {
    let bao = Bao::dev();
    let server = server_on(&bao, &[]);
    let c = server.client("t", "j", None);
    c.set("a", "1".into()).await.unwrap();
    let old = c.read_versioned().await.unwrap().etag.unwrap();
    c.set("b", "2".into()).await.unwrap();
    let e = c.replace_if_match(&Secrets::new(), &old).await.unwrap_err();
    assert_eq!((e.kind(), e.status()), (ErrorKind::Conflict, Some(412)));
    assert_eq!(c.read_all().await.unwrap().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_concurrent_per_key_writers_keep_all_keys() {
    let bao = Bao::dev();
    let server = server_on(&bao, &[]);
    let writers: Vec<_> = (0..20)
        .map(|i| {
            let c = Arc::new(server.client("t", "j", None));
            tokio::spawn(async move { c.set(&format!("key{i}"), json!(i).into()).await })
        })
        .collect();
    for w in writers {
        w.await.unwrap().unwrap();
    }
    assert_eq!(
        server
            .client("t", "j", None)
            .read_all()
            .await
            .unwrap()
            .len(),
        20
    );
}

#[tokio::test]
async fn over_the_limit_is_413_and_vault_keeps_the_old_set() {
    let bao = Bao::dev();
    let server = server_on(&bao, &["--max-set-bytes", "100"]);
    let c = server
        .client("t", "j", None)
        .with_limits(vdk_secrets::Limits {
            max_set_bytes: 1 << 20,
        });
    c.set("small", "x".into()).await.unwrap();
    let e = c.set("big", "y".repeat(200).into()).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::TooLarge);
    let raw = bao.call("GET", "/v1/secret/data/t/j", None);
    assert_eq!(raw["data"]["metadata"]["version"], 1);
}

#[tokio::test]
async fn approle_login_and_relogin_before_the_token_expires() {
    let bao = Bao::dev();
    bao.call(
        "POST",
        "/v1/sys/auth/approle",
        Some(json!({"type": "approle"})),
    );
    bao.call(
        "PUT",
        "/v1/sys/policies/acl/vdk-secrets",
        Some(json!({"policy": "path \"secret/data/*\" { capabilities = [\"create\", \"read\", \"update\"] }"})),
    );
    bao.call(
        "POST",
        "/v1/auth/approle/role/vdk",
        Some(json!({"token_policies": ["vdk-secrets"], "token_ttl": "3s", "token_max_ttl": "3s"})),
    );
    let role_id = bao.call("GET", "/v1/auth/approle/role/vdk/role-id", None)["data"]["role_id"]
        .as_str()
        .unwrap()
        .to_string();
    let secret_id =
        bao.call("POST", "/v1/auth/approle/role/vdk/secret-id", None)["data"]["secret_id"]
            .as_str()
            .unwrap()
            .to_string();
    let dir = tempfile::tempdir().unwrap();
    let (role_file, secret_file) = (dir.path().join("role-id"), dir.path().join("secret-id"));
    std::fs::write(&role_file, format!("{role_id}\n")).unwrap();
    std::fs::write(&secret_file, &secret_id).unwrap();
    // A secret id others can read is refused at start, like a private key.
    std::fs::set_permissions(&secret_file, std::fs::Permissions::from_mode(0o600)).unwrap();

    let server = Server::start(
        &[
            "--dev",
            "--backend",
            "vault",
            "--vault-addr",
            &bao.addr,
            "--vault-role-id-file",
            role_file.to_str().unwrap(),
            "--vault-secret-id-file",
            secret_file.to_str().unwrap(),
        ],
        &[],
    );
    let c = server.client("t", "j", None);
    c.set("first", "1".into()).await.unwrap();
    // Past two thirds of the 3 s lifetime, and then past the lifetime itself.
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    c.set("second", "2".into()).await.unwrap();
    tokio::time::sleep(Duration::from_millis(3_500)).await;
    assert_eq!(c.read_all().await.unwrap().len(), 2);
    let logins = server
        .log_text()
        .matches("logged in to Vault with AppRole")
        .count();
    assert!(
        logins >= 2,
        "expected a fresh login before expiry, saw {logins}"
    );
    assert!(!server.log_text().contains(&secret_id));
}

#[tokio::test]
async fn sealed_vault_is_503_with_an_error_body_and_health_says_so() {
    let bao = Bao::dev();
    let server = server_on(&bao, &[]);
    let c = server.client("t", "j", None);
    c.set("a", "1".into()).await.unwrap();
    bao.call("PUT", "/v1/sys/seal", None);
    let e = c.read_all().await.unwrap_err();
    assert_eq!((e.kind(), e.status()), (ErrorKind::Unavailable, Some(503)));
    assert!(e.to_string().to_lowercase().contains("sealed"), "{e}");
    let e = c.set("b", "2".into()).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unavailable);
    let (status, health) = http_json("GET", &format!("{}/health", server.url), "", None);
    assert_eq!((status, &health["reachable"]), (503, &json!(false)));
}

#[tokio::test]
async fn vault_stopped_mid_test_is_503_and_everything_is_intact_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let mut bao = Bao::persistent(dir.path());
    let server = server_on(&bao, &[]);
    let c = server.client("t", "j", None);
    for i in 0..5 {
        c.set(&format!("k{i}"), json!(i).into()).await.unwrap();
    }

    bao.stop();
    let e = c.read_all().await.unwrap_err();
    assert_eq!((e.kind(), e.status()), (ErrorKind::Unavailable, Some(503)));
    assert!(e.to_string().contains("unreachable"), "{e}");
    let e = c.set("lost", "x".into()).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unavailable);

    bao.start_again();
    let all = c.read_all().await.unwrap();
    assert_eq!(
        all.names().collect::<Vec<_>>(),
        ["k0", "k1", "k2", "k3", "k4"]
    );
    c.set("after", "ok".into()).await.unwrap();
}

#[tokio::test]
async fn the_log_holds_no_secret_value_or_vault_token() {
    let bao = Bao::dev();
    let server = server_on(&bao, &[]);
    let c = server.client("t", "j", None);
    c.set("pw", "vault-value-not-for-logs".into())
        .await
        .unwrap();
    c.read_all().await.unwrap();
    let log = server.log_text();
    assert!(log.contains("status=200"));
    assert!(!log.contains("vault-value-not-for-logs"));
    assert!(!log.contains(&bao.root_token));
}
