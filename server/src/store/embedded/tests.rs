use super::*;
use crate::store::WriteMeta;
use serde_json::json;
use std::os::unix::fs::PermissionsExt;
use vdk_secrets::SecretValue;

fn job(name: &str) -> JobRef {
    JobRef::new("team", name).unwrap()
}

fn set(value: serde_json::Value) -> Secrets {
    serde_json::from_value(value).unwrap()
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
}

/// Opens the store in `data`, writes `{"a": 1}` as job `j`, and closes it again.
fn write_one_secret(rt: &tokio::runtime::Runtime, data: &Path) {
    let store = EmbeddedStore::open(data).unwrap();
    rt.block_on(store.write(
        &job("j"),
        &set(json!({"a": 1})),
        None,
        &WriteMeta::default(),
    ))
    .unwrap();
}

mod data_dir;
mod history;

#[test]
fn writes_are_versioned_and_survive_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime();
    let store = EmbeddedStore::open(dir.path()).unwrap();
    rt.block_on(async {
        let empty = store.read(&job("j")).await.unwrap();
        assert_eq!((empty.version, empty.secrets().unwrap().len()), (0, 0));
        assert_eq!(
            store
                .write(
                    &job("j"),
                    &set(json!({"a": 1})),
                    Some(0),
                    &WriteMeta::default()
                )
                .await,
            Ok(1)
        );
        assert_eq!(
            store
                .write(
                    &job("j"),
                    &set(json!({"a": 2})),
                    None,
                    &WriteMeta::default()
                )
                .await,
            Ok(2)
        );
    });
    drop(store);
    let store = EmbeddedStore::open(dir.path()).unwrap();
    let stored = rt.block_on(store.read(&job("j"))).unwrap();
    assert_eq!(stored.version, 2);
    assert_eq!(
        stored.secrets().unwrap().get("a").cloned(),
        Some(SecretValue::new(json!(2)))
    );
}

#[test]
fn stale_expected_version_is_a_conflict_and_keeps_the_set() {
    let dir = tempfile::tempdir().unwrap();
    let store = EmbeddedStore::open(dir.path()).unwrap();
    runtime().block_on(async {
        store
            .write(
                &job("j"),
                &set(json!({"a": 1})),
                None,
                &WriteMeta::default(),
            )
            .await
            .unwrap();
        let e = store
            .write(&job("j"), &set(json!({})), Some(0), &WriteMeta::default())
            .await;
        assert_eq!(e, Err(StoreError::Conflict));
        assert_eq!(
            store
                .read(&job("j"))
                .await
                .unwrap()
                .secrets()
                .unwrap()
                .len(),
            1
        );
    });
}

#[test]
fn files_hold_no_plaintext() {
    let dir = tempfile::tempdir().unwrap();
    let store = EmbeddedStore::open(dir.path()).unwrap();
    runtime()
        .block_on(store.write(
            &job("j"),
            &set(json!({"pw": "plain-hunter2"})),
            None,
            &WriteMeta::default(),
        ))
        .unwrap();
    for entry in fs::read_dir(dir.path().join("jobs")).unwrap() {
        let bytes = fs::read(entry.unwrap().path()).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        assert!(!text.contains("plain-hunter2") && !text.contains("pw"));
    }
}

#[test]
fn leftover_temporary_files_are_removed_and_do_not_matter() {
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime();
    write_one_secret(&rt, dir.path());
    // What a writer killed halfway leaves: a partial temporary file.
    let id = Inner::file_id(&job("j"));
    let partial = dir
        .path()
        .join("jobs")
        .join(format!(".{id}.0011223344556677.tmp"));
    fs::write(&partial, b"VDKS\x01half").unwrap();
    // And in the data directory, a key check (or a first key) whose writing was cut short.
    let partial_check = dir.path().join(".key-check.0011223344556677.tmp");
    fs::write(&partial_check, b"half").unwrap();
    let store = EmbeddedStore::open(dir.path()).unwrap();
    assert!(!partial.exists());
    assert!(!partial_check.exists());
    let stored = rt.block_on(store.read(&job("j"))).unwrap();
    assert_eq!((stored.version, stored.secrets().unwrap().len()), (1, 1));
}

#[test]
fn a_file_moved_to_another_job_or_altered_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime();
    let store = EmbeddedStore::open(dir.path()).unwrap();
    rt.block_on(async {
        store
            .write(
                &job("a"),
                &set(json!({"k": 1})),
                None,
                &WriteMeta::default(),
            )
            .await
            .unwrap();
        store
            .write(
                &job("b"),
                &set(json!({"k": 2})),
                None,
                &WriteMeta::default(),
            )
            .await
            .unwrap();
    });
    let jobs = dir.path().join("jobs");
    let path = |name: &str| jobs.join(format!("{}.vdks", Inner::file_id(&job(name))));
    fs::copy(path("a"), path("b")).unwrap();
    let e = rt.block_on(store.read(&job("b"))).unwrap_err();
    assert!(
        matches!(e, StoreError::Corrupt(ref why) if why.contains("decrypt")),
        "{e:?}"
    );

    let mut bytes = fs::read(path("a")).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    fs::write(path("a"), bytes).unwrap();
    assert!(matches!(
        rt.block_on(store.read(&job("a"))),
        Err(StoreError::Corrupt(_))
    ));
    // A corrupt file is never overwritten blindly: the write is refused too.
    assert!(
        rt.block_on(store.write(&job("a"), &Secrets::new(), None, &WriteMeta::default()))
            .is_err()
    );

    // The format byte: a later format is a newer server's file, any other a damaged one.
    for (format, says) in [(2u8, "newer version"), (0, "damaged header")] {
        let mut bytes = fs::read(path("b")).unwrap();
        bytes[4] = format;
        fs::write(path("b"), bytes).unwrap();
        let e = rt.block_on(store.read(&job("b"))).unwrap_err();
        assert!(
            matches!(e, StoreError::Corrupt(ref why) if why.contains(says)),
            "format {format}: {e:?}"
        );
    }
}

#[test]
fn a_missing_key_is_not_replaced_while_jobs_exist() {
    let dir = tempfile::tempdir().unwrap();
    let store = EmbeddedStore::open(dir.path()).unwrap();
    runtime()
        .block_on(store.write(
            &job("j"),
            &set(json!({"a": 1})),
            None,
            &WriteMeta::default(),
        ))
        .unwrap();
    drop(store);
    fs::remove_file(dir.path().join("key")).unwrap();
    let e = EmbeddedStore::open(dir.path()).err().unwrap();
    assert!(
        e.contains("missing") && e.contains("restore the key file"),
        "{e}"
    );
    assert!(e.contains("1 encrypted job"), "{e}");
    // Nothing was made in its place.
    assert!(!dir.path().join("key").exists());
}

#[test]
fn another_key_is_refused_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let store = EmbeddedStore::open(dir.path()).unwrap();
    runtime()
        .block_on(store.write(
            &job("j"),
            &set(json!({"a": 1})),
            None,
            &WriteMeta::default(),
        ))
        .unwrap();
    drop(store);
    let key = dir.path().join("key");
    fs::write(&key, [7u8; 32]).unwrap();
    let e = EmbeddedStore::open(dir.path()).err().unwrap();
    assert!(
        e.contains("is not the key this data was sealed with"),
        "{e}"
    );
    assert!(e.contains("key-check"), "{e}");
}

#[test]
fn a_store_without_key_check_is_checked_against_its_jobs() {
    let dir = tempfile::tempdir().unwrap();
    let store = EmbeddedStore::open(dir.path()).unwrap();
    runtime()
        .block_on(store.write(
            &job("j"),
            &set(json!({"a": 1})),
            None,
            &WriteMeta::default(),
        ))
        .unwrap();
    drop(store);
    // As a store made before the key-check file existed.
    fs::remove_file(dir.path().join("key-check")).unwrap();
    EmbeddedStore::open(dir.path()).unwrap();
    assert!(
        dir.path().join("key-check").exists(),
        "written for next time"
    );

    fs::remove_file(dir.path().join("key-check")).unwrap();
    fs::write(dir.path().join("key"), [7u8; 32]).unwrap();
    let e = EmbeddedStore::open(dir.path()).err().unwrap();
    assert!(e.contains("does not open any of the 1 job(s)"), "{e}");
    assert!(!dir.path().join("key-check").exists());
}

#[test]
fn a_second_store_on_one_directory_is_refused_until_the_first_closes() {
    let dir = tempfile::tempdir().unwrap();
    let first = EmbeddedStore::open(dir.path()).unwrap();
    let e = EmbeddedStore::open(dir.path()).err().unwrap();
    assert!(e.contains("is in use by process"), "{e}");
    assert!(e.contains(&std::process::id().to_string()), "{e}");
    drop(first);
    EmbeddedStore::open(dir.path()).unwrap();
}

#[test]
fn health_fails_when_the_key_check_no_longer_opens() {
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime();
    let store = EmbeddedStore::open(dir.path()).unwrap();
    rt.block_on(store.health()).unwrap();
    fs::write(dir.path().join("key-check"), b"not sealed with this key").unwrap();
    let e = rt.block_on(store.health()).unwrap_err();
    assert!(
        matches!(e, StoreError::Unavailable(ref why) if why.contains("key-check")),
        "{e:?}"
    );
    fs::remove_dir_all(dir.path().join("jobs")).unwrap();
    assert!(rt.block_on(store.health()).is_err());
}

#[test]
fn a_write_whose_caller_stops_waiting_still_holds_off_the_next_one() {
    // A caller that stops waiting (a client that disconnects) does not stop a write already
    // handed to a storage thread. The next write must wait for it: if both passed the version
    // check, both would write version 1 and one set would be lost.
    let dir = tempfile::tempdir().unwrap();
    let store = EmbeddedStore::open(dir.path()).unwrap();
    runtime().block_on(async {
        for n in 0..20 {
            let job = job(&format!("j{n}"));
            let (secrets, meta) = (set(json!({"a": 1})), WriteMeta::default());
            let mut first = store.write(&job, &secrets, Some(0), &meta);
            // One poll hands the write to a storage thread; then the caller gives up.
            let _ =
                std::future::poll_fn(|cx| std::task::Poll::Ready(first.as_mut().poll(cx))).await;
            drop(first);
            let second = store
                .write(&job, &set(json!({"a": 2})), Some(0), &WriteMeta::default())
                .await;
            assert_eq!(second, Err(StoreError::Conflict), "job {job}");
            let stored = store.read(&job).await.unwrap();
            assert_eq!(stored.version, 1);
            assert_eq!(
                stored.secrets().unwrap().get("a").cloned(),
                Some(SecretValue::new(json!(1)))
            );
        }
    });
}

#[test]
fn a_refused_key_counts_jobs_not_their_kept_versions() {
    let dir = tempfile::tempdir().unwrap();
    let store = EmbeddedStore::open(dir.path()).unwrap();
    runtime().block_on(async {
        for (name, value) in [("j", 1), ("j", 2), ("j", 3), ("k", 1)] {
            store
                .write(
                    &job(name),
                    &set(json!({ "a": value })),
                    None,
                    &WriteMeta::default(),
                )
                .await
                .unwrap();
        }
    });
    drop(store);
    // Four files: j's current version and its two kept ones, and k's.
    assert_eq!(fs::read_dir(dir.path().join("jobs")).unwrap().count(), 4);

    fs::remove_file(dir.path().join("key")).unwrap();
    let e = EmbeddedStore::open(dir.path()).err().unwrap();
    assert!(e.contains("holds 2 encrypted job(s)"), "{e}");

    // Another key, in a store without the key-check file: checked against the jobs.
    fs::write(dir.path().join("key"), [7u8; 32]).unwrap();
    fs::set_permissions(dir.path().join("key"), fs::Permissions::from_mode(0o600)).unwrap();
    fs::remove_file(dir.path().join("key-check")).unwrap();
    let e = EmbeddedStore::open(dir.path()).err().unwrap();
    assert!(e.contains("does not open any of the 2 job(s)"), "{e}");
}

#[test]
fn versions_kept_under_a_larger_setting_go_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime();
    let write = |store: &EmbeddedStore, value: u64| {
        rt.block_on(store.write(
            &job("j"),
            &set(json!({ "a": value })),
            None,
            &WriteMeta::default(),
        ))
        .unwrap()
    };
    let files = || fs::read_dir(dir.path().join("jobs")).unwrap().count();
    let store = EmbeddedStore::open_keeping(dir.path(), 10).unwrap();
    for value in 1..=5 {
        write(&store, value);
    }
    assert_eq!(files(), 5, "the current version and four kept ones");
    drop(store);

    for (keep, files_after) in [(3, 3), (1, 1)] {
        let store = EmbeddedStore::open_keeping(dir.path(), keep).unwrap();
        // Gone at start, before any write: a job never written again keeps none of them.
        assert_eq!(files(), files_after, "keeping {keep}, at start");
        let before = rt.block_on(store.versions(&job("j"))).unwrap();
        assert_eq!(before.kept.len() as u64, keep, "keeping {keep}, at start");
        let version = write(&store, 0);
        assert_eq!(files(), files_after, "keeping {keep}");
        let versions = rt.block_on(store.versions(&job("j"))).unwrap();
        assert_eq!(versions.kept.len() as u64, keep);
        assert!(
            rt.block_on(store.read_version(&job("j"), version - keep))
                .unwrap()
                .is_none(),
            "a version no longer kept cannot be read, keeping {keep}"
        );
    }
}
