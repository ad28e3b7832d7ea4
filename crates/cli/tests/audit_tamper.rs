//! The audit chain under tampering, as an auditor would test it: key changes made through the
//! CLI leave audit entries; then rows are edited, deleted, inserted, reordered and cut off
//! directly in the database, and `backroom audit verify` must name the entry each time (and
//! report the chain intact again once the row is put back). On SQLite, and on PostgreSQL when
//! `BACKROOM_TEST_DATABASE_URL` is set.

mod support;

use std::process::{Command, Output};

use sqlx::{Connection, Executor};
use support::Storage;

/// Runs `backroom` on the storage, with no other settings from the environment.
fn backroom(storage: &Storage, args: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_backroom"));
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("BACKROOM_") {
            command.env_remove(name);
        }
    }
    command.arg("--data-dir").arg(storage.dir());
    if let Some((url, schema)) = storage.postgres_target() {
        command.env("BACKROOM_DATABASE_URL", url).env("BACKROOM_DATABASE_SCHEMA", schema);
    }
    command.env("USER", "auditor-test");
    command.args(args).output().expect("run backroom")
}

/// `audit verify`: (exit code, printed line).
fn verify(storage: &Storage, head: Option<&str>) -> (i32, String) {
    let mut args = vec!["audit", "verify"];
    if let Some(h) = head {
        args.extend(["--head", h]);
    }
    let out = backroom(storage, &args);
    let text = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    assert!(out.status.code().is_some(), "verify was killed: {}", String::from_utf8_lossy(&out.stderr));
    (out.status.code().unwrap_or(-1), format!("{text}{}", String::from_utf8_lossy(&out.stderr)))
}

/// Runs SQL against the storage's database.
async fn sql(storage: &Storage, statements: &str) {
    match storage.postgres_target() {
        None => {
            let url = format!("sqlite://{}", storage.dir().join("backroom.db").display());
            let mut c = sqlx::SqliteConnection::connect(&url).await.expect("open the SQLite database");
            c.execute(sqlx::raw_sql(sqlx::AssertSqlSafe(statements.to_owned()))).await.expect("tamper");
        }
        Some((url, schema)) => {
            use sqlx::ConnectOptions;
            let options: sqlx::postgres::PgConnectOptions = url.parse().expect("BACKROOM_TEST_DATABASE_URL");
            let mut c = options.options([("search_path", schema)]).connect().await.expect("connect");
            c.execute(sqlx::raw_sql(sqlx::AssertSqlSafe(statements.to_owned()))).await.expect("tamper");
        }
    }
}

async fn tampering_is_detected_and_named(storage: Storage) {
    let what = storage.describe();
    for i in 1..=5 {
        let out = backroom(&storage, &["keys", "create", "--name", &format!("till-{i}"), "--role", "store_manager"]);
        assert!(out.status.success(), "{what}: keys create: {}", String::from_utf8_lossy(&out.stderr));
    }
    let out = backroom(&storage, &["keys", "revoke", "till-2"]);
    assert!(out.status.success(), "{what}: keys revoke: {}", String::from_utf8_lossy(&out.stderr));

    let (code, line) = verify(&storage, None);
    assert_eq!(code, 0, "{what}: {line}");
    assert!(line.contains("intact: 6 entries"), "{what}: {line}");
    let head = line.rsplit("head ").next().expect("a head").trim().to_owned();

    let export = backroom(&storage, &["audit", "export", "--type", "key.revoked"]);
    let exported = String::from_utf8_lossy(&export.stdout).into_owned();
    assert_eq!(exported.lines().count(), 1, "{what}: {exported}");
    assert!(exported.contains("\"actor\":\"cli:auditor-test\"") && exported.contains("till-2"), "{what}: {exported}");

    // Edited: a reason added to entry 3.
    sql(&storage, "UPDATE audit_log SET reason = 'approved by phone' WHERE seq = 3").await;
    let (code, line) = verify(&storage, None);
    assert_eq!(code, 3, "{what}: {line}");
    assert!(line.contains("entry 3 was edited"), "{what}: {line}");
    sql(&storage, "UPDATE audit_log SET reason = NULL WHERE seq = 3").await;
    assert_eq!(verify(&storage, None).0, 0, "{what}: restored");

    // Deleted: entry 4 removed (and put back).
    sql(
        &storage,
        "CREATE TABLE audit_saved AS SELECT * FROM audit_log WHERE seq = 4; DELETE FROM audit_log WHERE seq = 4",
    )
    .await;
    let (code, line) = verify(&storage, None);
    assert_eq!(code, 3, "{what}: {line}");
    assert!(line.contains("entry 4 is missing"), "{what}: {line}");
    sql(&storage, "INSERT INTO audit_log SELECT * FROM audit_saved; DROP TABLE audit_saved").await;
    assert_eq!(verify(&storage, None).0, 0, "{what}: restored");

    // Reordered: entries 2 and 5 swap places.
    sql(&storage, "UPDATE audit_log SET seq = 0 WHERE seq = 2; UPDATE audit_log SET seq = 2 WHERE seq = 5; UPDATE audit_log SET seq = 5 WHERE seq = 0").await;
    let (code, line) = verify(&storage, None);
    assert_eq!(code, 3, "{what}: {line}");
    assert!(line.contains("entry 2 "), "{what}: {line}");
    sql(&storage, "UPDATE audit_log SET seq = 0 WHERE seq = 2; UPDATE audit_log SET seq = 2 WHERE seq = 5; UPDATE audit_log SET seq = 5 WHERE seq = 0").await;
    assert_eq!(verify(&storage, None).0, 0, "{what}: restored");

    // Inserted: a forged entry slipped in after entry 3, the later ones renumbered; it copies
    // entry 3's link and hash, as a forger without the chain's history would.
    sql(
        &storage,
        "UPDATE audit_log SET seq = seq + 100 WHERE seq > 3; UPDATE audit_log SET seq = seq - 99 WHERE seq > 100; \
         INSERT INTO audit_log (seq, at, actor, kind, subject, prev_hash, hash) \
         SELECT 4, at, 'someone', 'key.created', 'key/forged', prev_hash, hash FROM audit_log WHERE seq = 3",
    )
    .await;
    let (code, line) = verify(&storage, None);
    assert_eq!(code, 3, "{what}: {line}");
    assert!(line.contains("entry 4 "), "{what}: {line}");
    sql(&storage, "DELETE FROM audit_log WHERE seq = 4; UPDATE audit_log SET seq = seq + 100 WHERE seq > 4; UPDATE audit_log SET seq = seq - 101 WHERE seq > 100").await;
    assert_eq!(verify(&storage, None).0, 0, "{what}: restored");

    // Cut off: the last entry removed. The chain alone still links; the head kept from the
    // first verification shows the loss.
    sql(&storage, "DELETE FROM audit_log WHERE seq = 6").await;
    assert_eq!(verify(&storage, None).0, 0, "{what}: a shorter chain still links");
    let (code, line) = verify(&storage, Some(&head));
    assert_eq!(code, 3, "{what}: {line}");
    assert!(line.contains("ends after entry 5"), "{what}: {line}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_tampering_is_detected_and_named() {
    tampering_is_detected_and_named(Storage::sqlite()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_tampering_is_detected_and_named() {
    if let Some(storage) = Storage::postgres("audit_tamper") {
        tampering_is_detected_and_named(storage).await;
    }
}
