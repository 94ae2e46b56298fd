//! Version history, restore and the audit log, on both backends: the embedded store and a real
//! OpenBao. Planted values never appear in any history answer, audit record or log line.

mod support;

use std::path::Path;

use serde_json::{Value, json};
use support::{Bao, Server};

const ALICE: &str = "alice-token-0123456789";
const BOB: &str = "bob-token-0123456789";
const NAMELESS: &str = "nameless-token-0123456789";

/// A tokens file: alice and bob named, one token without a name.
fn tokens_file(dir: &Path) -> String {
    let line = |token: &str, name: Option<&str>| {
        vdk_secrets_server::auth::tokens_file_line(token, &["t".into()], name).unwrap()
    };
    let path = dir.join("tokens");
    let text = [
        line(ALICE, Some("alice")),
        line(BOB, Some("bob")),
        line(NAMELESS, None),
    ]
    .join("\n");
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_string()
}

struct Job {
    url: String,
}

impl Job {
    fn on(server: &Server) -> Job {
        Job {
            url: server.secrets_url("t", "j"),
        }
    }

    async fn call(
        &self,
        method: &str,
        path: &str,
        token: &str,
        headers: &[(&str, &str)],
        body: Option<Value>,
    ) -> (u16, Option<String>, Value) {
        let mut request = reqwest::Client::new()
            .request(method.parse().unwrap(), format!("{}{path}", self.url))
            .bearer_auth(token);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if let Some(body) = body {
            request = request.body(body.to_string());
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let etag = response
            .headers()
            .get("etag")
            .map(|v| v.to_str().unwrap().to_string());
        let body = serde_json::from_slice(&response.bytes().await.unwrap()).unwrap_or(Value::Null);
        (status, etag, body)
    }

    async fn put(&self, token: &str, set: Value) -> String {
        let (status, etag, body) = self.call("PUT", "", token, &[], Some(set)).await;
        assert_eq!(status, 204, "{body}");
        etag.unwrap()
    }

    async fn history(&self, token: &str) -> Value {
        let (status, _, body) = self.call("GET", "/versions", token, &[], None).await;
        assert_eq!(status, 200, "{body}");
        body
    }
}

fn names(entry: &Value, field: &str) -> Vec<String> {
    entry[field]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap().to_string())
        .collect()
}

/// The same story on any backend: three writers, a bad save, its repair by restore, a restore
/// that lost a race, and the errors for versions that do not exist.
async fn history_story(server: &Server, audit: &Path) {
    let job = Job::on(server);
    job.put(
        ALICE,
        json!({"db_password": "planted-one", "api_url": "planted-two"}),
    )
    .await;
    job.put(
        BOB,
        json!({"db_password": "planted-three", "api_url": "planted-two", "token": "planted-four"}),
    )
    .await;
    // The bad save: a secret deleted, a password pasted over.
    let etag = job
        .put(
            NAMELESS,
            json!({"db_password": "planted-wrong", "token": "planted-four"}),
        )
        .await;
    assert_eq!(etag, "\"3\"");

    let history = job.history(ALICE).await;
    assert_eq!(history["current"], json!(3));
    let versions = history["versions"].as_array().unwrap();
    let listed: Vec<u64> = versions
        .iter()
        .map(|v| v["version"].as_u64().unwrap())
        .collect();
    assert_eq!(listed, [3, 2, 1], "newest first: {history}");
    assert_eq!(versions[0]["author"], Value::Null, "a token without a name");
    assert_eq!(versions[1]["author"], json!("bob"));
    assert_eq!(versions[2]["author"], json!("alice"));
    assert_eq!(names(&versions[0], "removed"), ["api_url"]);
    assert_eq!(names(&versions[0], "changed"), ["db_password"]);
    assert!(names(&versions[0], "added").is_empty());
    assert_eq!(names(&versions[1], "added"), ["token"]);
    assert_eq!(names(&versions[1], "changed"), ["db_password"]);
    assert_eq!(names(&versions[2], "added"), ["api_url", "db_password"]);
    assert_eq!(versions[2]["previous"], Value::Null);
    assert_eq!(versions[0]["previous"], json!(2));
    assert!(versions[0]["time"].as_str().unwrap().ends_with('Z'));

    // Reading the set as it was.
    let (status, etag, old) = job.call("GET", "/versions/2", BOB, &[], None).await;
    assert_eq!((status, etag), (200, None));
    assert_eq!(
        old,
        json!({"db_password": "planted-three", "api_url": "planted-two", "token": "planted-four"})
    );

    // A restore that lost a race changes nothing.
    let (status, _, body) = job
        .call(
            "POST",
            "/versions/2/restore",
            ALICE,
            &[("if-match", "\"2\"")],
            None,
        )
        .await;
    assert_eq!(status, 412, "{body}");
    let (status, _, body) = job
        .call("POST", "/versions/2/restore", ALICE, &[], None)
        .await;
    assert_eq!(status, 428, "{body}");
    assert_eq!(job.history(ALICE).await["current"], json!(3));

    // The repair.
    let (status, etag, body) = job
        .call(
            "POST",
            "/versions/2/restore",
            ALICE,
            &[("if-match", "\"3\"")],
            None,
        )
        .await;
    assert_eq!((status, etag.as_deref()), (204, Some("\"4\"")), "{body}");
    let (_, _, now) = job.call("GET", "", BOB, &[], None).await;
    assert_eq!(now, old);
    let history = job.history(BOB).await;
    let newest = &history["versions"][0];
    assert_eq!(newest["version"], json!(4));
    assert_eq!(newest["restoredFrom"], json!(2));
    assert_eq!(newest["author"], json!("alice"));
    assert_eq!(names(newest, "added"), ["api_url"]);
    assert_eq!(names(newest, "changed"), ["db_password"]);

    // Versions that do not exist, and ones that are not numbers.
    for missing in ["/versions/9", "/versions/9/restore"] {
        let method = if missing.ends_with("restore") {
            "POST"
        } else {
            "GET"
        };
        let (status, _, body) = job
            .call(method, missing, ALICE, &[("if-match", "\"4\"")], None)
            .await;
        assert_eq!(status, 404, "{body}");
        assert_eq!(body["versions"], json!([1, 2, 3, 4]), "{body}");
        assert!(body["why"].as_str().unwrap().contains("1 to 4"), "{body}");
    }
    for bad in ["0", "-1", "+2", "02", "x", "1.5", "99999999999999999999"] {
        let (status, _, body) = job
            .call("GET", &format!("/versions/{bad}"), ALICE, &[], None)
            .await;
        assert_eq!(status, 400, "{bad}: {body}");
    }
    assert_eq!(job.history(ALICE).await["current"], json!(4));

    // Another team's token sees nothing of it.
    let other = tokens_other_team(server).await;
    assert_eq!(other, 401);

    // The audit log: one record per successful write, names only.
    let text = std::fs::read_to_string(audit).unwrap();
    let records: Vec<Value> = text
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(records.len(), 4, "{text}");
    assert_eq!(records[0]["who"], json!("alice"));
    assert_eq!(records[0]["team"], json!("t"));
    assert_eq!(records[0]["job"], json!("j"));
    assert_eq!(records[2]["who"], Value::Null);
    assert_eq!(records[2]["removed"], json!(["api_url"]));
    assert_eq!(records[3]["version"], json!(4));
    assert_eq!(records[3]["restoredFrom"], json!(2));
    assert_eq!(records[3]["changed"], json!(["db_password"]));

    // No value and no token anywhere.
    let everything = format!(
        "{text}\n{}\n{}",
        job.history(ALICE).await,
        server.log_text()
    );
    for planted in ["planted-", ALICE, BOB, NAMELESS] {
        assert!(!everything.contains(planted), "{planted} leaked");
    }
}

/// The status a token unknown to the server gets for the history.
async fn tokens_other_team(server: &Server) -> u16 {
    let job = Job::on(server);
    job.call("GET", "/versions", "not-a-known-token", &[], None)
        .await
        .0
}

#[tokio::test]
async fn embedded_history_restore_and_audit() {
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("audit.jsonl");
    let data = dir.path().join("data");
    let server = Server::start(
        &[
            "--tokens-file",
            &tokens_file(dir.path()),
            "--data-dir",
            data.to_str().unwrap(),
            "--audit-log",
            audit.to_str().unwrap(),
        ],
        &[],
    );
    history_story(&server, &audit).await;
    // Old versions are encrypted like the current one.
    for entry in std::fs::read_dir(data.join("jobs")).unwrap() {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        assert!(!String::from_utf8_lossy(&bytes).contains("planted-"));
    }
}

#[tokio::test]
async fn vault_history_restore_and_audit() {
    let bao = Bao::dev();
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("audit.jsonl");
    let server = Server::start(
        &[
            "--tokens-file",
            &tokens_file(dir.path()),
            "--backend",
            "vault",
            "--vault-addr",
            &bao.addr,
            "--audit-log",
            audit.to_str().unwrap(),
        ],
        &[("VAULT_TOKEN", &bao.root_token)],
    );
    history_story(&server, &audit).await;
    // Upstream's record, unchanged: what a Control Service reads and writes.
    let stored = bao.call("GET", "/v1/secret/data/t/j", None);
    let record = stored["data"]["data"].as_object().unwrap();
    let mut fields: Vec<&String> = record.keys().collect();
    fields.sort();
    assert_eq!(fields, ["jobName", "secretsJson"]);
}

#[tokio::test]
async fn a_version_written_by_another_writer_of_the_vault_shows_as_unknown() {
    let bao = Bao::dev();
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(
        &[
            "--tokens-file",
            &tokens_file(dir.path()),
            "--backend",
            "vault",
            "--vault-addr",
            &bao.addr,
        ],
        &[("VAULT_TOKEN", &bao.root_token)],
    );
    let job = Job::on(&server);
    job.put(ALICE, json!({"a": "planted-1"})).await;
    // A Control Service (or `bao kv put`) writes upstream's record directly.
    bao.call(
        "POST",
        "/v1/secret/data/t/j",
        Some(json!({"data": {"jobName": "t/j", "secretsJson": "{\"a\":\"planted-1\",\"b\":2}"}})),
    );
    let history = job.history(BOB).await;
    let newest = &history["versions"][0];
    assert_eq!(newest["version"], json!(2));
    assert_eq!(newest["author"], Value::Null);
    assert_eq!(names(newest, "added"), ["b"]);
    assert_eq!(history["versions"][1]["author"], json!("alice"));
    // And its set is ours to read and restore over.
    let (status, _, _) = job
        .call(
            "POST",
            "/versions/1/restore",
            BOB,
            &[("if-match", "\"2\"")],
            None,
        )
        .await;
    assert_eq!(status, 204);
    let (_, _, now) = job.call("GET", "", BOB, &[], None).await;
    assert_eq!(now, json!({"a": "planted-1"}));
}

#[tokio::test]
async fn only_the_configured_number_of_versions_is_kept() {
    let bao = Bao::dev();
    let dir = tempfile::tempdir().unwrap();
    let tokens = tokens_file(dir.path());
    let data = dir.path().join("data");
    let embedded = Server::start(
        &[
            "--tokens-file",
            &tokens,
            "--data-dir",
            data.to_str().unwrap(),
            "--keep-versions",
            "3",
        ],
        &[],
    );
    let vault = Server::start(
        &[
            "--tokens-file",
            &tokens,
            "--backend",
            "vault",
            "--vault-addr",
            &bao.addr,
            "--vault-max-versions",
            "3",
        ],
        &[("VAULT_TOKEN", &bao.root_token)],
    );
    for server in [&embedded, &vault] {
        let job = Job::on(server);
        for i in 1..=5 {
            job.put(ALICE, json!({ format!("k{i}"): i })).await;
        }
        let history = job.history(ALICE).await;
        let listed: Vec<u64> = history["versions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["version"].as_u64().unwrap())
            .collect();
        assert_eq!(listed, [5, 4, 3], "{history}");
        // The oldest kept version has no predecessor to compare with.
        assert_eq!(history["versions"][2]["previous"], Value::Null);
        let (status, _, body) = job.call("GET", "/versions/1", ALICE, &[], None).await;
        assert_eq!(status, 404);
        assert_eq!(body["versions"], json!([3, 4, 5]));
    }
    let jobs: Vec<_> = std::fs::read_dir(data.join("jobs")).unwrap().collect();
    assert_eq!(jobs.len(), 3, "the current file and two kept versions");
}
