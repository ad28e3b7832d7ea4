//! The `backroom` command line as an operator uses it: keys, ingest of real files (the UCI Online
//! Retail export through its CSV mapping, NDJSON with a bad line), the log, a second server on the
//! same data directory, and ingest into a running server.

mod support;

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Output};

use serde_json::{Value, json};
use support::{ADMIN_KEY, Server, Storage, http_client};

const UCI: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/data/demand/uci-online-retail-I/online_retail_I_2010-12-01_2011-12-09.csv.gz"
);
const SALES_MAPPING: &str =
    concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/mappings/uci-online-retail-sales.toml");

/// Runs `backroom` on a data directory with no other settings from the environment.
fn backroom(dir: &Path, args: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_backroom"));
    command.arg("--data-dir").arg(dir).args(args);
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("BACKROOM_") {
            command.env_remove(name);
        }
    }
    command.output().expect("run backroom")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The first `lines` lines of the UCI export (header included), as a CSV file in `dir`.
fn uci_slice(dir: &Path, lines: usize) -> std::path::PathBuf {
    let mut csv = String::new();
    flate2::read::GzDecoder::new(std::fs::File::open(UCI).expect("UCI data set"))
        .take(8 << 20)
        .read_to_string(&mut csv)
        .expect("gunzip");
    let slice: Vec<&str> = csv.lines().take(lines).collect();
    let path = dir.join("online_retail_slice.csv");
    std::fs::write(&path, slice.join("\n") + "\n").expect("write slice");
    path
}

/// Distinct sales invoices in a UCI slice, counted the plain way: not cancellations, with a
/// positive quantity, and not only bank charges.
fn sales_invoices(csv: &Path) -> usize {
    let mut reader = csv::Reader::from_path(csv).expect("csv");
    let mut invoices = std::collections::BTreeSet::new();
    for row in reader.records() {
        let row = row.expect("row");
        let quantity: f64 = row[3].parse().expect("quantity");
        if !row[0].starts_with('C') && !row[0].starts_with('A') && quantity > 0.0 && &row[1] != "BANK CHARGES" {
            invoices.insert(row[0].to_owned());
        }
    }
    invoices.len()
}

/// Units of one stock code sold in a UCI slice (rows kept by the sales mapping).
fn csv_sold(csv: &Path, code: &str) -> i64 {
    let mut reader = csv::Reader::from_path(csv).expect("csv");
    reader
        .records()
        .map(|r| r.expect("row"))
        .filter(|r| &r[1] == code && !r[0].starts_with('C') && !r[0].starts_with('A'))
        .map(|r| r[3].parse::<i64>().expect("quantity"))
        .filter(|q| *q > 0)
        .sum()
}

#[test]
fn csv_ingest_is_idempotent_and_the_log_shows_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let csv = uci_slice(dir.path(), 4000);
    let expected = sales_invoices(&csv);
    assert!(expected > 100, "the slice holds {expected} invoices");

    let first = backroom(dir.path(), &["ingest", "--mapping", SALES_MAPPING, csv.to_str().expect("path")]);
    assert!(first.status.success(), "{}", text(&first.stderr));
    assert_eq!(text(&first.stdout).trim(), format!("accepted {expected}, duplicates 0, rejected 0"));

    let again = backroom(dir.path(), &["ingest", "--mapping", SALES_MAPPING, csv.to_str().expect("path")]);
    assert!(again.status.success());
    assert_eq!(text(&again.stdout).trim(), format!("accepted 0, duplicates {expected}, rejected 0"));

    let tail = backroom(dir.path(), &["events", "tail", "--after-seq", "0", "--type", "pos.sale"]);
    assert!(tail.status.success(), "{}", text(&tail.stderr));
    let events: Vec<Value> =
        text(&tail.stdout).lines().map(|l| serde_json::from_str(l).expect("NDJSON line")).collect();
    assert_eq!(events.len(), expected);
    assert_eq!(events[0]["id"], "536365");
    assert_eq!(events[0]["data"]["total"]["amount"], "139.12");
    assert_eq!(events[0]["occurred_at"], "2010-12-01T08:26:00Z");
    assert!(events.windows(2).all(|w| w[0]["seq"].as_i64() < w[1]["seq"].as_i64()));

    let item = backroom(dir.path(), &["events", "tail", "--after-seq", "0", "--item", "85123A"]);
    let hearts: Vec<Value> = text(&item.stdout).lines().map(|l| serde_json::from_str(l).expect("line")).collect();
    assert!(!hearts.is_empty());
    assert!(hearts.iter().all(|e| e["subject"]["items"].as_array().expect("items").contains(&json!("85123A"))));
}

#[test]
fn a_file_with_a_bad_event_is_rejected_whole_and_named() {
    let dir = tempfile::tempdir().expect("tempdir");
    let good = |id: &str| {
        json!({"id": id, "type": "receipt.posted", "source": "wms", "occurred_at": "2026-11-23T06:00:00Z",
               "data": {"receipt_number": id, "location": "S01",
                        "lines": [{"line": 1, "item": {"sku": "A"}, "received": {"value": "4"}}]}})
    };
    let mut bad = good("R-3");
    bad["data"]["lines"][0]["received"]["value"] = json!("-4");
    let path = dir.path().join("receipts.ndjson");
    let mut file = std::fs::File::create(&path).expect("create");
    for e in [good("R-1"), good("R-2"), bad] {
        writeln!(file, "{e}").expect("write");
    }
    let other = dir.path().join("more.json");
    std::fs::write(&other, json!([good("R-9")]).to_string()).expect("write");

    let out = backroom(dir.path(), &["ingest", path.to_str().expect("path"), other.to_str().expect("path")]);
    assert_eq!(out.status.code(), Some(2), "a rejected file makes the exit status 2");
    let stderr = text(&out.stderr);
    assert!(stderr.contains("receipts.ndjson line 3 $.data.lines[0].received.value"), "{stderr}");
    assert_eq!(text(&out.stdout).trim(), "accepted 1, duplicates 0, rejected 3");
    let tail = backroom(dir.path(), &["events", "tail", "--after-seq", "0"]);
    let ids: Vec<String> = text(&tail.stdout)
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).expect("line")["id"].as_str().expect("id").to_owned())
        .collect();
    assert_eq!(ids, ["R-9"], "nothing from the rejected file was stored");

    let malformed = dir.path().join("broken.ndjson");
    std::fs::write(&malformed, format!("{}\n{{\"id\": \n", good("R-5"))).expect("write");
    let out = backroom(dir.path(), &["ingest", malformed.to_str().expect("path")]);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("broken.ndjson: malformed JSON on line 2"), "{}", text(&out.stderr));
}

#[test]
fn keys_are_created_listed_and_revoked() {
    let dir = tempfile::tempdir().expect("tempdir");
    let created = backroom(dir.path(), &["keys", "create", "--name", "pos-gateway", "--role", "integration"]);
    assert!(created.status.success(), "{}", text(&created.stderr));
    let secret = text(&created.stdout).trim().to_owned();
    assert!(secret.starts_with("brk_") && secret.len() == 52, "{secret}");
    let listed = backroom(dir.path(), &["keys", "list", "--json"]);
    let keys: Value = serde_json::from_slice(&listed.stdout).expect("JSON");
    assert_eq!(keys[0]["name"], "pos-gateway");
    assert_eq!(keys[0]["roles"], json!(["integration"]));
    assert!(!text(&listed.stdout).contains(&secret[4..]), "secrets are never shown again");
    let revoked = backroom(dir.path(), &["keys", "revoke", "pos-gateway"]);
    assert!(revoked.status.success(), "{}", text(&revoked.stderr));
    let listed = backroom(dir.path(), &["keys", "list", "--json"]);
    let keys: Value = serde_json::from_slice(&listed.stdout).expect("JSON");
    assert!(keys[0]["revoked_at"].is_string());
    let unknown = backroom(dir.path(), &["keys", "revoke", "nobody"]);
    assert!(!unknown.status.success());
    assert!(text(&unknown.stderr).contains("no active key"), "{}", text(&unknown.stderr));
}

/// Runs `backroom` as [`backroom`] does, with `input` on standard input.
fn backroom_with_stdin(dir: &Path, args: &[&str], input: &str) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_backroom"));
    command.arg("--data-dir").arg(dir).args(args);
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("BACKROOM_") {
            command.env_remove(name);
        }
    }
    let mut child = command
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run backroom");
    child.stdin.take().expect("stdin").write_all(input.as_bytes()).expect("write stdin");
    child.wait_with_output().expect("wait for backroom")
}

#[test]
fn people_are_created_listed_and_disabled() {
    let dir = tempfile::tempdir().expect("tempdir");
    let password = "till-drawer-balance-42";
    let args = ["users", "create", "--login", "anna.berg", "--name", "Anna Berg", "--grant", "store_manager@S042"];
    let without_stdin = backroom(dir.path(), &args);
    assert!(!without_stdin.status.success());
    assert!(text(&without_stdin.stderr).contains("--password-stdin"), "{}", text(&without_stdin.stderr));

    let mut with_stdin = args.to_vec();
    with_stdin.extend(["--grant", "auditor", "--password-stdin"]);
    let created = backroom_with_stdin(dir.path(), &with_stdin, &format!("{password}\n"));
    assert!(created.status.success(), "{}", text(&created.stderr));
    assert!(!text(&created.stdout).contains(password) && !text(&created.stderr).contains(password));

    let short = backroom_with_stdin(
        dir.path(),
        &["users", "create", "--login", "bert", "--name", "Bert", "--password-stdin"],
        "short\n",
    );
    assert!(!short.status.success());
    assert!(text(&short.stderr).contains("at least 12"), "{}", text(&short.stderr));
    let bad_grant = backroom_with_stdin(
        dir.path(),
        &["users", "create", "--login", "bert", "--name", "Bert", "--grant", "boss@S042", "--password-stdin"],
        &format!("{password}\n"),
    );
    assert!(!bad_grant.status.success());
    assert!(text(&bad_grant.stderr).contains("store_manager"), "the roles are listed: {}", text(&bad_grant.stderr));

    let listed = backroom(dir.path(), &["users", "list", "--json"]);
    let users: Value = serde_json::from_slice(&listed.stdout).expect("JSON");
    assert_eq!(users.as_array().expect("array").len(), 1);
    assert_eq!(users[0]["login"], "anna.berg");
    assert_eq!(users[0]["grants"], json!(["store_manager@S042", "auditor"]));
    assert!(users[0]["disabled_at"].is_null());
    assert!(!text(&listed.stdout).contains("argon2"), "hashes are never shown");

    let disabled = backroom(dir.path(), &["users", "disable", "anna.berg"]);
    assert!(disabled.status.success(), "{}", text(&disabled.stderr));
    let listed = backroom(dir.path(), &["users", "list", "--json"]);
    let users: Value = serde_json::from_slice(&listed.stdout).expect("JSON");
    assert!(users[0]["disabled_at"].is_string());
    let table = text(&backroom(dir.path(), &["users", "list"]).stdout);
    assert!(table.contains("anna.berg") && table.contains("disabled"), "{table}");

    let audit = backroom(dir.path(), &["audit", "verify"]);
    assert!(audit.status.success(), "{}", text(&audit.stderr));
}

#[test]
fn keys_refuse_unknown_roles_with_the_list_of_roles() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = backroom(dir.path(), &["keys", "create", "--name", "erp", "--role", "superuser"]);
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(err.contains("superuser") && err.contains("integration") && err.contains("auditor"), "{err}");
    let listed = backroom(dir.path(), &["keys", "list", "--json"]);
    assert_eq!(serde_json::from_slice::<Value>(&listed.stdout).expect("JSON"), json!([]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_running_server_owns_its_data_directory_and_takes_remote_ingest() {
    let mut storage = Storage::sqlite();
    let server = Server::start(&mut storage).await;

    let second = backroom(storage.dir(), &["serve", "--listen", "127.0.0.1:0"]);
    assert!(!second.status.success());
    assert!(text(&second.stderr).contains("another backroom process is serving"), "{}", text(&second.stderr));

    let csv = uci_slice(storage.dir(), 1500);
    let expected = sales_invoices(&csv);
    let out = tokio::task::spawn_blocking({
        let (base, dir, csv) = (server.base.clone(), storage.dir().to_owned(), csv.clone());
        move || {
            backroom(
                &dir,
                &[
                    "ingest",
                    "--mapping",
                    SALES_MAPPING,
                    csv.to_str().expect("path"),
                    "--server",
                    &base,
                    "--key",
                    ADMIN_KEY,
                ],
            )
        }
    })
    .await
    .expect("ingest");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout).trim(), format!("accepted {expected}, duplicates 0, rejected 0"));
    let log = server.get_json(&http_client(), "/v1/events?type=pos.sale&limit=10000").await;
    let events = log["events"].as_array().expect("events");
    assert_eq!(events.len(), expected);
    assert!(events.iter().all(|e| e["source"] == "uci-online-retail"));
    let stock = server.get_json(&http_client(), "/v1/stock?location=UK-WEB&item=85123A").await;
    let sold: i64 = csv_sold(&csv, "85123A");
    assert_eq!(stock["positions"][0]["on_hand"], json!((-sold).to_string()), "stock falls by what was sold");
}

/// SIGTERM under load: the server stops taking connections, finishes the requests in flight
/// (their commits included) and exits 0; after a restart every acknowledged event is there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_finishes_in_flight_requests_and_exits_cleanly() {
    let mut storage = Storage::sqlite();
    let mut server = Server::start(&mut storage).await;
    let http = http_client();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut clients = Vec::new();
    for client in 0..8 {
        let (http, base, stop) = (http.clone(), server.base.clone(), stop.clone());
        clients.push(tokio::spawn(async move {
            let mut acknowledged = Vec::new();
            for request in 0.. {
                if stop.load(std::sync::atomic::Ordering::Relaxed) && request > 0 {
                    break;
                }
                let ids: Vec<String> = (0..5).map(|e| format!("t{client}-{request}-{e}")).collect();
                let batch: Vec<Value> = ids
                    .iter()
                    .map(|id| {
                        json!({"id": id, "type": "receipt.posted", "source": "sigterm", "occurred_at": "2026-11-23T06:00:00Z",
                               "data": {"receipt_number": id, "location": "S01",
                                        "lines": [{"line": 1, "item": {"sku": "A"}, "received": {"value": "1"}}]}})
                    })
                    .collect();
                let sent = http
                    .post(format!("{base}/v1/events"))
                    .bearer_auth(ADMIN_KEY)
                    .json(&batch)
                    .send()
                    .await;
                match sent {
                    Ok(r) if r.status().is_success() => acknowledged.extend(ids),
                    _ => break,
                }
            }
            acknowledged
        }));
    }
    tokio::time::sleep(std::time::Duration::from_millis(700)).await;
    let term = Command::new("kill").args(["-TERM", &server.pid().to_string()]).status().expect("kill -TERM");
    assert!(term.success());
    let started = std::time::Instant::now();
    let status = loop {
        if let Some(status) = server.exited() {
            break status;
        }
        assert!(started.elapsed() < std::time::Duration::from_secs(30), "no exit after SIGTERM:\n{}", server.stderr());
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    };
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    assert!(status.success(), "exit after SIGTERM: {status}\n{}", server.stderr());
    let mut acknowledged = Vec::new();
    for c in clients {
        acknowledged.extend(c.await.expect("client"));
    }
    assert!(!acknowledged.is_empty());

    let server = Server::start(&mut storage).await;
    let log = server.get_json(&http, "/v1/events?limit=10000").await;
    let stored: std::collections::BTreeSet<String> =
        log["events"].as_array().expect("events").iter().map(|e| e["id"].as_str().expect("id").to_owned()).collect();
    for id in &acknowledged {
        assert!(stored.contains(id), "acknowledged event {id} is missing after a clean shutdown");
    }
    assert_eq!(stored.len() % 5, 0, "requests are stored whole");
}

#[test]
fn workflow_definitions_are_validated_with_file_line_and_step() {
    let dir = tempfile::tempdir().expect("temp dir");
    let builtin = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../workflows/stockout_replenishment.yaml");
    let ok = backroom(dir.path(), &["workflows", "validate", builtin.to_str().expect("path")]);
    assert!(ok.status.success(), "{}", text(&ok.stderr));
    assert!(text(&ok.stdout).contains("stockout_replenishment v1"), "{}", text(&ok.stdout));

    let bad = dir.path().join("broken.yaml");
    std::fs::write(
        &bad,
        "id: shelf_check\ntitle: Shelf check\ntrigger: { event: inventory.stockout_reported }\nsteps:\n  \
         - { id: look, kind: enrich, projection: stock, location: event.data.location, item: '1', next: fix }\n  \
         - { id: fix, kind: teleport }\n  - { id: spare, kind: end, outcome: done }\n",
    )
    .expect("write");
    let out = backroom(dir.path(), &["workflows", "validate", bad.to_str().expect("path")]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("broken.yaml:6:22: step fix: `teleport` is not a step kind"), "{stderr}");
    assert!(stderr.contains("broken.yaml:7:5: step spare: the step is unreachable"), "{stderr}");
}

const SAMPLES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data");

/// Partner documents are recognised by content: `convert` shows the canonical events without
/// storing them; `ingest` records them (once), writes the 997 the partner expects beside them,
/// and refuses a broken document whole with its place.
#[test]
fn partner_documents_are_converted_and_ingested() {
    let dir = tempfile::tempdir().expect("tempdir");
    // Named without an extension: the content decides.
    let order = dir.path().join("from-partner");
    std::fs::copy(format!("{SAMPLES}/x12/x12/node-x12/850.edi"), &order).expect("copy the 850");
    let invoice = format!("{SAMPLES}/ubl/peppol-bis-billing-3/examples/base-example.xml");

    let converted = backroom(dir.path(), &["convert", invoice.as_str(), "--to", "json"]);
    assert!(converted.status.success(), "{}", text(&converted.stderr));
    let canonical: Value = serde_json::from_slice(&converted.stdout).expect("JSON");
    assert_eq!(canonical["format"], "ubl");
    assert_eq!(canonical["events"][0]["type"], "invoice.received");
    assert_eq!(canonical["events"][0]["data"]["invoice_number"], "Snippet1");
    let tail = backroom(dir.path(), &["events", "tail", "--after-seq", "0"]);
    assert_eq!(text(&tail.stdout).trim(), "", "convert stores nothing");

    let acks = dir.path().join("acks");
    std::fs::create_dir(&acks).expect("acks dir");
    let ingest = |files: &[&str]| {
        backroom(dir.path(), &[&["ingest", "--replies", acks.to_str().expect("path")], files].concat())
    };
    let first = ingest(&[order.to_str().expect("path"), invoice.as_str()]);
    assert!(first.status.success(), "{}", text(&first.stderr));
    assert!(text(&first.stdout).contains("accepted 2, duplicates 0, rejected 0"), "{}", text(&first.stdout));
    let ack = std::fs::read_to_string(acks.join("from-partner.x12_997.1")).expect("the 997 is written");
    assert!(ack.starts_with("ISA*") && ack.contains("AK1*PO*1421") && ack.contains("AK9*A*1*1*1"), "{ack}");
    let again = ingest(&[order.to_str().expect("path"), invoice.as_str()]);
    assert!(text(&again.stdout).contains("accepted 0, duplicates 2, rejected 0"), "{}", text(&again.stdout));

    let broken = dir.path().join("broken.edi");
    let edi = std::fs::read_to_string(&order).expect("850").replacen("SE*33*", "SE*34*", 1);
    std::fs::write(&broken, edi).expect("write");
    let refused = ingest(&[broken.to_str().expect("path")]);
    assert_eq!(refused.status.code(), Some(2));
    let message = text(&refused.stderr);
    assert!(message.contains("segment 35 (SE), element SE01"), "{message}");
}

/// A simulated fortnight, written as NDJSON, is ingested whole (every event valid) and once
/// (ingesting it again changes nothing); the same seed writes the same file; the ground truth
/// names events that are in the file.
#[test]
fn a_simulated_fortnight_is_ingested_whole_and_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let events = dir.path().join("sim.ndjson");
    let truth = dir.path().join("truth.ndjson");
    let path = |p: &Path| p.to_str().expect("path").to_owned();
    let simulate = |out: &Path| {
        backroom(
            dir.path(),
            &[
                "simulate",
                "--seed",
                "7",
                "--stores",
                "4",
                "--items",
                "30",
                "--days",
                "14",
                "--fault-rate",
                "0.05",
                "--out",
                &path(out),
                "--ground-truth",
                &path(&truth),
            ],
        )
    };
    let run = simulate(&events);
    assert!(run.status.success(), "{}", text(&run.stderr));
    let lines = std::fs::read_to_string(&events).expect("events").lines().count();
    assert!(lines > 1000, "{lines} events");

    let again = dir.path().join("again.ndjson");
    assert!(simulate(&again).status.success());
    assert_eq!(std::fs::read(&events).expect("first"), std::fs::read(&again).expect("second"), "same seed");

    let ids: std::collections::HashSet<String> = std::fs::read_to_string(&events)
        .expect("events")
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).expect("line")["id"].as_str().expect("id").to_owned())
        .collect();
    let faults: Vec<Value> = std::fs::read_to_string(&truth)
        .expect("truth")
        .lines()
        .map(|l| serde_json::from_str(l).expect("truth line"))
        .collect();
    assert!(!faults.is_empty());
    assert!(faults.iter().all(|f| ids.contains(f["event_id"].as_str().expect("event_id"))));

    let first = backroom(dir.path(), &["ingest", &path(&events)]);
    assert!(first.status.success(), "{}", text(&first.stderr));
    assert_eq!(text(&first.stdout).trim(), format!("accepted {lines}, duplicates 0, rejected 0"));
    let second = backroom(dir.path(), &["ingest", &path(&events)]);
    assert_eq!(text(&second.stdout).trim(), format!("accepted 0, duplicates {lines}, rejected 0"));
}
