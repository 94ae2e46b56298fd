//! The data directory and the key file: who may change or read them, and the directories
//! above the data directory.

use super::*;

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
    assert_eq!(check_parents(&link), Ok((data.clone(), vec![])));
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
            check_parents(path),
            Ok((data.clone(), vec![expected.clone()]))
        );
    }
    let store = EmbeddedStore::open(&link).unwrap();
    let read = rt.block_on(store.read(&job("j"))).unwrap();
    assert_eq!(read.secrets().unwrap().len(), 1);
    drop(store);
    // Sticky, as /tmp is: others cannot rename what is not theirs.
    fs::set_permissions(&open, fs::Permissions::from_mode(0o1777)).unwrap();
    assert_eq!(check_parents(&data), Ok((data.clone(), vec![])));
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
        assert_eq!(check_parents(&link), Ok((data.clone(), vec![expected])));
        let store = EmbeddedStore::open(&data).unwrap();
        let read = rt.block_on(store.read(&job("j"))).unwrap();
        assert_eq!(read.secrets().unwrap().len(), 1);
    }
}
