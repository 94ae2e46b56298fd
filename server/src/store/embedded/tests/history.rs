//! Listing versions: what is decrypted, and what is listed while writes and pruning go on.

use super::*;

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
