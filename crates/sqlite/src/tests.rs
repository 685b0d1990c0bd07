use super::*;

fn open(dir: &tempfile::TempDir) -> Database {
    let db = Database::open(&dir.path().join("t.db"), &Options::default()).unwrap();
    db.write_blocking(|c| {
        c.execute_batch("CREATE TABLE IF NOT EXISTS kv (k TEXT PRIMARY KEY, v INTEGER NOT NULL)")
            .map_err(DbError::from)
    })
    .unwrap();
    db
}

fn open_with_readers(dir: &tempfile::TempDir, readers: usize) -> Database {
    let options = Options {
        readers,
        ..Options::default()
    };
    Database::open(&dir.path().join("t.db"), &options).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writes_share_commits_and_are_all_readable() {
    let dir = tempfile::tempdir().unwrap();
    let (db, _dir) = tokio::task::spawn_blocking(move || (open(&dir), dir))
        .await
        .unwrap();
    let before = db.stats();
    let mut tasks = Vec::new();
    for i in 0..200 {
        let db = db.clone();
        tasks.push(tokio::spawn(async move {
            db.write(move |c| {
                c.execute("INSERT INTO kv VALUES (?1, ?2)", (format!("k{i}"), i))
                    .map_err(DbError::from)
            })
            .await
        }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap().unwrap(), 1);
    }
    let after = db.stats();
    assert_eq!(after.writes - before.writes, 200);
    assert!(
        after.commits - before.commits < 200,
        "no grouping: {after:?}"
    );
    let n: i64 = db
        .read(|c| {
            c.query_row("SELECT count(*) FROM kv", [], |r| r.get(0))
                .map_err(DbError::from)
        })
        .await
        .unwrap();
    assert_eq!(n, 200);
}

#[derive(Debug)]
enum AppError {
    Rejected,
    Db,
}
impl From<DbError> for AppError {
    fn from(_: DbError) -> Self {
        Self::Db
    }
}

#[test]
fn a_failing_write_is_rolled_back_alone() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(&dir);
    let bad = db.clone();
    let failing = std::thread::spawn(move || {
        bad.write_blocking(|c| {
            c.execute("INSERT INTO kv VALUES ('bad', 1)", [])
                .map_err(DbError::from)?;
            Err::<(), _>(AppError::Rejected)
        })
    });
    db.write_blocking(|c| {
        c.execute("INSERT INTO kv VALUES ('good', 2)", [])
            .map_err(DbError::from)
    })
    .unwrap();
    assert!(matches!(failing.join().unwrap(), Err(AppError::Rejected)));
    let keys: Vec<String> = db
        .read_blocking(|c| {
            let mut st = c.prepare("SELECT k FROM kv ORDER BY k")?;
            let rows = st.query_map([], |r| r.get(0))?;
            rows.collect::<Result<Vec<String>, _>>()
                .map_err(DbError::from)
        })
        .unwrap();
    assert_eq!(keys, vec!["good".to_string()]);
}

#[test]
fn a_panicking_write_is_reported_and_the_writer_survives() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(&dir);
    let out: Result<(), DbError> = db.write_blocking(|c| {
        c.execute("INSERT INTO kv VALUES ('p', 1)", [])?;
        panic!("boom")
    });
    assert!(matches!(out, Err(DbError::JobPanicked)));
    let n: i64 = db
        .write_blocking(|c| {
            c.execute("INSERT INTO kv VALUES ('after', 1)", [])?;
            c.query_row("SELECT count(*) FROM kv", [], |r| r.get(0))
                .map_err(DbError::from)
        })
        .unwrap();
    assert_eq!(n, 1);
}

#[test]
fn data_survives_reopen() {
    let dir = tempfile::tempdir().unwrap();
    {
        let db = open(&dir);
        db.write_blocking(|c| {
            c.execute("INSERT INTO kv VALUES ('x', 7)", [])
                .map_err(DbError::from)
        })
        .unwrap();
    }
    let db = open(&dir);
    let v: i64 = db
        .read_blocking(|c| {
            c.query_row("SELECT v FROM kv WHERE k='x'", [], |r| r.get(0))
                .map_err(DbError::from)
        })
        .unwrap();
    assert_eq!(v, 7);
}

#[test]
fn a_corrupt_file_is_a_clear_open_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.db");
    std::fs::write(
        &path,
        b"this is not a sqlite database, not at all, no no no",
    )
    .unwrap();
    let err = Database::open(&path, &Options::default()).unwrap_err();
    assert!(matches!(err, DbError::Open { .. }), "{err:?}");
    assert!(err.to_string().contains("bad.db"));
}

#[test]
fn durability_parses() {
    assert_eq!(Durability::parse("FULL"), Some(Durability::Full));
    assert_eq!(Durability::parse("normal"), Some(Durability::Normal));
    assert_eq!(Durability::parse("off"), Some(Durability::Off));
    assert_eq!(Durability::parse("fast"), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_run_on_the_fixed_reader_threads_only() {
    let dir = tempfile::tempdir().unwrap();
    let db = open_with_readers(&dir, 2);
    let mut tasks = Vec::new();
    for _ in 0..64 {
        let db = db.clone();
        tasks.push(tokio::spawn(async move {
            db.read(|c| {
                // Long enough that the reads overlap and would need more threads.
                std::thread::sleep(std::time::Duration::from_millis(2));
                c.query_row("SELECT 1", [], |r| r.get::<_, i64>(0))
                    .map_err(DbError::from)?;
                Ok::<_, DbError>(std::thread::current().name().map(str::to_owned))
            })
            .await
        }));
    }
    let mut names = std::collections::BTreeSet::new();
    for t in tasks {
        names.insert(t.await.unwrap().unwrap());
    }
    let expected: std::collections::BTreeSet<_> = ["sqlite-reader-0", "sqlite-reader-1"]
        .into_iter()
        .map(|n| Some(n.to_owned()))
        .collect();
    assert_eq!(names, expected);
}

#[test]
fn a_panicking_read_is_reported_and_the_readers_keep_serving() {
    let dir = tempfile::tempdir().unwrap();
    let db = open_with_readers(&dir, 1);
    let out: Result<(), DbError> = db.read_blocking(|_| panic!("boom"));
    assert!(matches!(out, Err(DbError::JobPanicked)), "{out:?}");
    let one: i64 = db
        .read_blocking(|c| {
            c.query_row("SELECT 1", [], |r| r.get(0))
                .map_err(DbError::from)
        })
        .unwrap();
    assert_eq!(one, 1);
}
