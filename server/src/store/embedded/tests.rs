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

#[test]
fn first_open_creates_a_private_key_file() {
    let dir = tempfile::tempdir().unwrap();
    EmbeddedStore::open(dir.path()).unwrap();
    let meta = fs::metadata(dir.path().join("key")).unwrap();
    assert_eq!(meta.len(), 32);
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    // Written through a temporary file, renamed into place: none is left beside it.
    let names: Vec<String> = fs::read_dir(dir.path())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        names.iter().all(|name| !name.ends_with(".tmp")),
        "{names:?}"
    );
}

#[test]
fn refuses_a_key_file_others_can_read() {
    let dir = tempfile::tempdir().unwrap();
    EmbeddedStore::open(dir.path()).unwrap();
    fs::set_permissions(dir.path().join("key"), fs::Permissions::from_mode(0o644)).unwrap();
    let e = EmbeddedStore::open(dir.path()).err().unwrap();
    assert!(e.contains("chmod 600"), "{e}");
}

#[test]
fn refuses_a_data_directory_every_user_can_write_and_keeps_its_data() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data 'x'");
    let rt = runtime();
    write_one_secret(&rt, &data);
    let jobs = data.join("jobs");
    let root = dir.path().display();
    // The path as a shell reads it: `data 'x'` is written 'data '\''x'\'''.
    let shell = format!(r"'{root}/data '\''x'\'''");
    let shell_jobs = format!(r"'{root}/data '\''x'\''/jobs'");
    for (path, mode, expected) in [
        (
            &data,
            0o777,
            format!(
                "the directory {root}/data 'x' can be written by every user (mode 0777), who \
                 could remove or replace the stored secrets and the key; run `chmod o-w -- \
                 {shell}`, or give --data-dir a path that does not exist yet (the server \
                 creates it with mode 0700)"
            ),
        ),
        (
            &jobs,
            0o703,
            format!(
                "(mode 0703), who could remove or replace the stored secrets and the key; run `chmod o-w -- {shell_jobs}`, or give"
            ),
        ),
        // Like /tmp: others cannot remove files there, and chmod is not the way out.
        (
            &data,
            0o1777,
            "(mode 1777), who could put files of their own in it; give --data-dir a path".into(),
        ),
    ] {
        let before = fs::metadata(path).unwrap().permissions();
        fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
        let e = EmbeddedStore::open(&data).err().unwrap();
        assert!(e.contains(&expected), "{e}\n{expected}");
        fs::set_permissions(path, before).unwrap();
    }
    // Readable by others, or writable by the group (as volumes shared in a container are):
    // used, and nothing is lost.
    for mode in [0o755, 0o2770] {
        fs::set_permissions(&data, fs::Permissions::from_mode(mode)).unwrap();
        let store = EmbeddedStore::open(&data).unwrap();
        let read = rt.block_on(store.read(&job("j"))).unwrap();
        assert_eq!(read.secrets().unwrap().len(), 1);
    }
    let file = dir.path().join("file");
    fs::write(&file, b"").unwrap();
    let e = EmbeddedStore::open(&file).err().unwrap();
    assert!(e.contains("is not a directory"), "{e}");
    let link = dir.path().join("link");
    std::os::unix::fs::symlink(dir.path().join("gone"), &link).unwrap();
    let e = EmbeddedStore::open(&link).err().unwrap();
    assert!(
        e.contains("is a symbolic link to a path that cannot be read"),
        "{e}"
    );
}

#[test]
fn refuses_a_data_directory_another_user_owns() {
    // Only root can give a directory away.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("skipped: giving a directory to another user needs root");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    fs::create_dir(&data).unwrap();
    std::os::unix::fs::chown(&data, Some(4321), None).unwrap();
    let e = EmbeddedStore::open(&data).err().unwrap();
    assert!(e.contains("belongs to user 4321"), "{e}");
    let shown = data.display();
    let fix = format!(
        "run `chown 0 -- '{shown}'` to give it to this server's user (0), or give --data-dir a \
         path that does not exist yet"
    );
    assert!(e.contains(&fix), "{e}");
    // A directory root owns is fine: root can read everything anyway.
    std::os::unix::fs::chown(&data, Some(0), None).unwrap();
    EmbeddedStore::open(&data).unwrap();
}

#[test]
fn directories_above_the_data_directory_that_others_can_change_are_warned_of() {
    let dir = tempfile::tempdir().unwrap();
    // The messages name real paths: the temporary directory's own may go through a link.
    let root = fs::canonicalize(dir.path()).unwrap();
    let open = root.join("open");
    let data = open.join("data");
    fs::create_dir(&open).unwrap();
    let rt = runtime();
    write_one_secret(&rt, &data);
    // Given as a link, the data directory is used by its real path, whose parents are checked.
    let link = root.join("link");
    std::os::unix::fs::symlink(&data, &link).unwrap();
    assert_eq!(super::dir::check_parents(&link), Ok((data.clone(), vec![])));
    // Every user may write it, as a Kubernetes emptyDir: used, with a warning that says why.
    fs::set_permissions(&open, fs::Permissions::from_mode(0o777)).unwrap();
    let expected = format!(
        "the directory {0}, above the data directory, can be written by every user (mode \
         0777), any of whom could rename the data directory and put one of their own in its \
         place; run `chmod +t -- '{0}'` unless only this server can reach it (a container's \
         own volume)",
        open.display()
    );
    for path in [&data, &link] {
        assert_eq!(
            super::dir::check_parents(path),
            Ok((data.clone(), vec![expected.clone()]))
        );
    }
    let store = EmbeddedStore::open(&link).unwrap();
    let read = rt.block_on(store.read(&job("j"))).unwrap();
    assert_eq!(read.secrets().unwrap().len(), 1);
    drop(store);
    // Sticky, as /tmp is: others cannot rename what is not theirs.
    fs::set_permissions(&open, fs::Permissions::from_mode(0o1777)).unwrap();
    assert_eq!(super::dir::check_parents(&data), Ok((data.clone(), vec![])));
    // Another user's. Only root can give a directory away.
    if unsafe { libc::geteuid() } == 0 {
        fs::set_permissions(&open, fs::Permissions::from_mode(0o755)).unwrap();
        std::os::unix::fs::chown(&open, Some(4321), None).unwrap();
        let expected = format!(
            "the directory {}, above the data directory, belongs to user 4321, who could \
             rename the data directory and put one of their own in its place; unless user 4321 \
             may see and change the secrets, give --data-dir a path under directories that \
             only root or this server's user (0) own",
            open.display()
        );
        assert_eq!(
            super::dir::check_parents(&link),
            Ok((data.clone(), vec![expected]))
        );
        let store = EmbeddedStore::open(&data).unwrap();
        let read = rt.block_on(store.read(&job("j"))).unwrap();
        assert_eq!(read.secrets().unwrap().len(), 1);
    }
}

#[test]
fn a_listing_decrypts_only_the_files_it_has_not_read_before() {
    use std::sync::atomic::Ordering::Relaxed;
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime();
    // Five versions of job `name`, each by its own author.
    let five_versions = |store: &EmbeddedStore, name: &str| {
        for n in 1..=5u64 {
            let author = WriteMeta {
                author: Some(format!("writer-{n}")),
                restored_from: None,
            };
            let secrets = set(json!({"a": n}));
            rt.block_on(store.write(&job(name), &secrets, None, &author))
                .unwrap();
        }
    };
    let store = EmbeddedStore::open(dir.path()).unwrap();
    five_versions(&store, "j");
    let opened = |store: &EmbeddedStore| store.inner.files_opened.load(Relaxed);
    let listing = |store: &EmbeddedStore, name: &str| {
        let before = opened(store);
        let versions = rt.block_on(store.versions(&job(name))).unwrap();
        (versions, opened(store) - before)
    };
    // Each write read the version it replaced, which is now kept under its version's name,
    // and remembered what it wrote itself: no file is new to the store.
    let (first, decrypted) = listing(&store, "j");
    assert_eq!(decrypted, 0);
    let (again, decrypted) = listing(&store, "j");
    assert_eq!((&again, decrypted), (&first, 0));
    assert_eq!(first.kept.len(), 5);
    assert_eq!(first.kept[4].meta.author.as_deref(), Some("writer-5"));
    drop(store);
    // A store that has read nothing yet decrypts every file and lists the same, authors and
    // times included.
    let store = EmbeddedStore::open(dir.path()).unwrap();
    let (cold, decrypted) = listing(&store, "j");
    assert_eq!((&cold, decrypted), (&first, 5));
    // A file put in place of a kept version is read, not taken for the one it copies: here
    // version 3's file under version 2's name.
    let copy = dir.path().join("copy");
    fs::copy(store.inner.history_path(&job("j"), 3), &copy).unwrap();
    fs::rename(&copy, store.inner.history_path(&job("j"), 2)).unwrap();
    let listed = rt.block_on(store.versions(&job("j")));
    assert!(matches!(listed, Err(StoreError::Corrupt(_))), "{listed:?}");
    // Nor is another job's file, even as the very same file (a hard link), read before.
    five_versions(&store, "k");
    listing(&store, "k");
    let theirs = store.inner.history_path(&job("k"), 4);
    fs::remove_file(&theirs).unwrap();
    fs::hard_link(store.inner.history_path(&job("j"), 4), &theirs).unwrap();
    let listed = rt.block_on(store.versions(&job("k")));
    assert!(matches!(listed, Err(StoreError::Corrupt(_))), "{listed:?}");
}

#[test]
fn listings_during_writes_and_pruning_name_every_version_s_own_writer() {
    // Writers stamp each version with its number; listings run meanwhile, while files are
    // kept, pruned (3 kept) and their inodes reused: a remembered record must never be
    // another file's.
    let dir = tempfile::tempdir().unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let store = std::sync::Arc::new(EmbeddedStore::open_keeping(dir.path(), 3).unwrap());
    let writers: Vec<_> = (0..2)
        .map(|w| {
            let store = store.clone();
            rt.spawn(async move {
                for n in 0..60 {
                    loop {
                        let current = store.read(&job("j")).await.unwrap().version;
                        let meta = WriteMeta {
                            author: Some(format!("version-{}", current + 1)),
                            restored_from: None,
                        };
                        let secrets = set(json!({"writer": w, "n": n}));
                        match store.write(&job("j"), &secrets, Some(current), &meta).await {
                            Ok(_) => break,
                            Err(StoreError::Conflict) => continue,
                            Err(e) => panic!("{e:?}"),
                        }
                    }
                }
            })
        })
        .collect();
    // Listers run until the writers are done, so that their listings meet every write and
    // every pruning.
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let listers: Vec<_> = (0..2)
        .map(|_| {
            let (store, done) = (store.clone(), done.clone());
            rt.spawn(async move {
                let mut listed = 0;
                while !done.load(std::sync::atomic::Ordering::Acquire) {
                    // A version pruned between the listing of names and the read of its
                    // file ends the listing there, as before; what is listed must be right.
                    let versions = store.versions(&job("j")).await.unwrap();
                    for kept in &versions.kept {
                        let author = format!("version-{}", kept.version);
                        assert_eq!(kept.meta.author.as_deref(), Some(author.as_str()));
                    }
                    listed += versions.kept.len();
                    tokio::task::yield_now().await;
                }
                listed
            })
        })
        .collect();
    rt.block_on(async {
        for writer in writers {
            writer.await.unwrap();
        }
        done.store(true, std::sync::atomic::Ordering::Release);
        for lister in listers {
            lister.await.unwrap();
        }
    });
    let versions = rt.block_on(store.versions(&job("j"))).unwrap();
    assert_eq!(versions.current, 120);
    let listed: Vec<_> = versions
        .kept
        .iter()
        .map(|k| (k.version, k.meta.author.clone().unwrap_or_default()))
        .collect();
    assert_eq!(listed, [118, 119, 120].map(|v| (v, format!("version-{v}"))));
}

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
