//! The native client's version history against the real reference server (the
//! `vdk-secrets-server` binary, embedded store, dev mode, on 127.0.0.1), and against servers
//! that keep no history.
//!
//! The server binary is the one built next to this test (`cargo test --workspace` builds it;
//! alone, run `cargo build -p vdk-secrets-server` first), or `$VDK_SECRETS_SERVER_BIN`.

#[allow(dead_code)]
mod support;

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};
use vdk_secrets::native::NativeTransport;
use vdk_secrets::{
    ETag, Endpoint, ErrorKind, JobRef, RetryPolicy, SecretValue, Secrets, SecretsClient,
};

/// A running `vdk-secrets-server serve`, killed by its PID when dropped, with its data
/// directory removed.
struct RealServer {
    child: Child,
    url: String,
    data_dir: PathBuf,
}

impl RealServer {
    fn start(args: &[&str]) -> RealServer {
        let bin = std::env::var_os("VDK_SECRETS_SERVER_BIN")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                // This test runs from target/<profile>/deps/; the server is in target/<profile>/.
                let exe = std::env::current_exe().unwrap();
                exe.parent()
                    .unwrap()
                    .parent()
                    .unwrap()
                    .join("vdk-secrets-server")
            });
        assert!(
            bin.is_file(),
            "no server binary at {}: run `cargo build -p vdk-secrets-server` first, or set \
             VDK_SECRETS_SERVER_BIN",
            bin.display()
        );
        let stamp = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let data_dir = std::env::temp_dir().join(format!(
            "vdk-secrets-history-{}-{stamp}",
            std::process::id()
        ));
        let mut child = Command::new(&bin)
            .args(["serve", "--listen", "127.0.0.1:0", "--dev", "--data-dir"])
            .arg(&data_dir)
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("the server binary runs");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let url = line
            .trim()
            .strip_prefix("vdk-secrets-server listening on ")
            .unwrap_or_else(|| panic!("the server did not start: {line:?}"))
            .to_string();
        RealServer {
            child,
            url,
            data_dir,
        }
    }
}

impl Drop for RealServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.data_dir);
    }
}

fn client(url: &str, job: &str) -> SecretsClient<NativeTransport> {
    let endpoint = Endpoint::new(url, JobRef::new("team", job).unwrap(), None).unwrap();
    let fast = RetryPolicy {
        initial_backoff: Duration::from_millis(10),
        ..RetryPolicy::default()
    };
    SecretsClient::new(NativeTransport::new().unwrap(), endpoint).with_retry(fast)
}

fn set(value: Value) -> Secrets {
    Secrets::from_json_document(&value.to_string()).unwrap()
}

fn as_json(secrets: &Secrets) -> Value {
    serde_json::to_value(secrets).unwrap()
}

#[tokio::test]
async fn history_read_and_restore_against_the_reference_server() {
    let server = RealServer::start(&[]);
    let c = client(&server.url, "job");

    let empty = c.versions().await.unwrap_or_else(|e| {
        panic!("{e} (a server binary built before its history endpoints? rebuild it)")
    });
    assert_eq!((empty.current, empty.versions.len()), (0, 0));

    c.replace_all(&set(json!({"a": 1, "b": "x"})))
        .await
        .unwrap();
    c.set("b", "y".into()).await.unwrap();
    c.delete(&["a"]).await.unwrap();

    let history = c.versions().await.unwrap();
    assert_eq!(history.current, 3);
    let listed: Vec<u64> = history.versions.iter().map(|v| v.version).collect();
    assert_eq!(listed, [3, 2, 1], "newest first");
    let [third, second, first] = &history.versions[..] else {
        unreachable!()
    };
    assert_eq!(
        third.author.as_deref(),
        Some("dev"),
        "dev mode writes as dev"
    );
    assert_eq!((third.previous, third.restored_from), (Some(2), None));
    assert_eq!(third.removed, ["a"]);
    assert!(third.added.is_empty() && third.changed.is_empty());
    assert_eq!(second.changed, ["b"]);
    assert_eq!(first.previous, None);
    assert_eq!(first.added, ["a", "b"]);
    assert!(first.time.ends_with('Z'), "{}", first.time);

    let old = c.read_version(1).await.unwrap();
    assert_eq!(as_json(&old), json!({"a": 1, "b": "x"}));

    // A restore from a version that is no longer current changes nothing.
    let e = c.restore_version(1, &ETag::new("\"2\"")).await.unwrap_err();
    assert_eq!((e.kind(), e.status()), (ErrorKind::Conflict, Some(412)));
    assert_eq!(c.versions().await.unwrap().current, 3);

    let read = c.read_versioned().await.unwrap();
    let etag = c
        .restore_version(1, read.etag.as_ref().unwrap())
        .await
        .unwrap();
    assert_eq!(etag, ETag::new("\"4\""));
    assert_eq!(
        as_json(&c.read_all().await.unwrap()),
        json!({"a": 1, "b": "x"})
    );
    let newest = &c.versions().await.unwrap().versions[0];
    assert_eq!((newest.version, newest.restored_from), (4, Some(1)));
    assert_eq!(newest.added, ["a"]);
    assert_eq!(newest.changed, ["b"]);

    for e in [
        c.read_version(99).await.unwrap_err(),
        c.restore_version(99, &etag).await.unwrap_err(),
    ] {
        assert_eq!((e.kind(), e.status()), (ErrorKind::NotFound, Some(404)));
        assert!(e.report().why.contains("can be read are 1-4"), "{e}");
    }
    assert_eq!(c.versions().await.unwrap().current, 4);
}

#[tokio::test]
async fn pruned_versions_are_gone_from_the_list_and_cannot_be_read() {
    let server = RealServer::start(&["--keep-versions", "3"]);
    let c = client(&server.url, "pruned");
    for n in 1..=5 {
        c.set(&format!("k{n}"), SecretValue::new(json!(n)))
            .await
            .unwrap();
    }
    let history = c.versions().await.unwrap();
    assert_eq!(history.current, 5);
    let listed: Vec<u64> = history.versions.iter().map(|v| v.version).collect();
    assert_eq!(listed, [5, 4, 3]);
    let oldest = &history.versions[2];
    assert_eq!(oldest.previous, None, "version 2 is no longer kept");
    assert_eq!(oldest.added, ["k1", "k2", "k3"]);

    let e = c.read_version(1).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound);
    assert!(e.report().why.contains("can be read are 3-5"), "{e}");
    let kept = c.read_version(3).await.unwrap();
    assert_eq!(as_json(&kept), json!({"k1": 1, "k2": 2, "k3": 3}));
}

#[tokio::test]
async fn a_server_without_history_is_not_supported() {
    // A server that knows only the set, as the upstream Control Service: 404 elsewhere.
    let upstream = support::TestServer::start(support::Knobs::default()).await;
    // The reference server without storage: 501 for everything about secrets.
    let none = RealServer::start(&["--backend", "none"]);
    for url in [upstream.url(), none.url.clone()] {
        let c = client(&url, "job");
        for e in [
            c.versions().await.unwrap_err(),
            c.read_version(1).await.unwrap_err(),
            c.restore_version(1, &ETag::new("\"1\"")).await.unwrap_err(),
        ] {
            assert_eq!(e.kind(), ErrorKind::NotSupported, "{url}: {e}");
            assert!(e.to_string().contains("keeps no version history"), "{e}");
        }
    }
}
