//! The whole stack as an operator runs it: `backroom serve` with the shipped returns workflow and
//! the reference connector profile pointed at a reference ERP; a simulated return too large to
//! refund automatically; the store manager deciding it with `backroom tasks`; the refund in the
//! ERP.

mod support;

use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use backroom_sim::refsys::{Faults, RefSystem, System};
use backroom_sim::simulator::{Retailer, SimConfig, scenarios};
use rust_decimal::Decimal;
use serde_json::Value;
use support::{ServeOptions, Server, Storage, http_client};

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");

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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_return_is_decided_with_backroom_tasks_and_refunded_in_the_erp() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut storage = Storage::sqlite();
    let dir = storage.dir().to_owned();
    let retailer = Retailer::generate(&SimConfig::default());
    let erp_db = dir.join("erp.db");
    let erp = RefSystem::start(
        System::Erp,
        erp_db.to_str().expect("path"),
        "127.0.0.1:0".parse().expect("addr"),
        Faults::default(),
    )
    .await
    .expect("the ERP starts");
    let http = http_client();
    let loaded = http.put(format!("{}/admin/master", erp.url())).json(&retailer.master_data()).send().await;
    assert!(loaded.expect("master").status().is_success());

    // The shipped workflow and connector profile, the profile pointed at this ERP.
    let workflows = dir.join("workflows");
    std::fs::create_dir_all(&workflows).expect("dir");
    std::fs::copy(format!("{ROOT}/workflows/return_refund.yaml"), workflows.join("return_refund.yaml")).expect("copy");
    let profile = std::fs::read_to_string(format!("{ROOT}/connectors/reference.toml")).expect("profile");
    let connectors = dir.join("connectors.toml");
    std::fs::write(&connectors, profile.replace("http://127.0.0.1:9100/api", &format!("{}/api", erp.url())))
        .expect("write");

    let created =
        backroom(&dir, &["keys", "create", "--name", "manager-s001", "--role", "store_manager", "--scope", "S001"]);
    assert!(created.status.success(), "{}", text(&created.stderr));
    let manager = text(&created.stdout).trim().to_owned();
    let created = backroom(&dir, &["keys", "create", "--name", "ops-admin", "--role", "admin"]);
    assert!(created.status.success(), "{}", text(&created.stderr));
    let admin = text(&created.stdout).trim().to_owned();

    let options = ServeOptions::new().flag("--workflows", &workflows).flag("--connectors", &connectors);
    let server = Server::start_with(&mut storage, &options).await;
    let put = http
        .put(format!("{}/v1/locations", server.base))
        .bearer_auth(&admin)
        .json(&retailer.locations_document())
        .send()
        .await
        .expect("locations");
    assert!(put.status().is_success(), "{}", put.text().await.unwrap_or_default());

    // A return worth more than the automatic limit of 50 at the original price.
    let item = retailer.items[0].clone();
    let quantity = (Decimal::from(60) / item.price).ceil();
    let scenario = scenarios::sale_and_return(&retailer, "S001", "C-2002", quantity, quantity, 3).expect("scenario");
    let ndjson = dir.join("return.ndjson");
    let lines: Vec<String> = scenario.events.iter().map(Value::to_string).collect();
    std::fs::write(&ndjson, lines.join("\n") + "\n").expect("write");
    let sent = backroom(&dir, &["ingest", ndjson.to_str().expect("path"), "--server", &server.base, "--key", &admin]);
    assert!(sent.status.success(), "{}", text(&sent.stderr));

    // The store manager finds the task in the inbox and approves it from the command line.
    let mut task_id = None;
    for _ in 0..200 {
        let listed = backroom(&dir, &["tasks", "list", "--json", "--server", &server.base, "--key", &manager]);
        assert!(listed.status.success(), "{}", text(&listed.stderr));
        let page: Value = serde_json::from_slice(&listed.stdout).expect("JSON");
        if let Some(t) = page["tasks"].as_array().and_then(|t| t.first()) {
            assert_eq!(t["role"], "store_manager");
            assert!(t["title"].as_str().is_some_and(|s| s.starts_with("Refund ")), "{t}");
            task_id = t["id"].as_str().map(str::to_owned);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let task_id = task_id.expect("the refund task reached the store manager's inbox");
    let shown = backroom(&dir, &["tasks", "show", &task_id, "--server", &server.base, "--key", &manager]);
    assert!(text(&shown.stdout).contains("\"approve\""), "{}", text(&shown.stdout));
    let decided = backroom(
        &dir,
        &[
            "tasks",
            "decide",
            &task_id,
            "approve",
            "--comment",
            "receipt seen",
            "--server",
            &server.base,
            "--key",
            &manager,
        ],
    );
    assert!(decided.status.success(), "{}", text(&decided.stderr));
    assert!(text(&decided.stdout).contains("decided by manager-s001"), "{}", text(&decided.stdout));

    let return_id = scenario.document("return").expect("return number").to_owned();
    let mut refund = Value::Null;
    for _ in 0..200 {
        let r = http.get(format!("{}/api/refunds?return_id={return_id}", erp.url())).send().await.expect("ERP");
        let body: Value = r.json().await.unwrap_or_default();
        if body["refunds"].as_array().is_some_and(|a| !a.is_empty()) {
            refund = body["refunds"][0].clone();
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(refund["amount"], (item.price * quantity).round_dp(2).to_string(), "refund at the original price");
    drop(server);
    erp.stop().await;
}

/// `backroom demo` as a newcomer runs it: it prints the API, the reference systems and a key per
/// role, plays the simulated days, and the built-in workflows complete against the reference
/// systems with nothing dead-lettered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_runs_a_small_retailer_end_to_end() {
    use std::io::{BufRead, BufReader};
    let storage = Storage::sqlite();
    let dir = storage.dir().to_owned();
    let (api, refsys) = (support::free_port(), 20_000 + support::free_port() % 20_000);
    let mut command = Command::new(env!("CARGO_BIN_EXE_backroom"));
    command.arg("--data-dir").arg(&dir).args([
        "demo",
        "--listen",
        &format!("127.0.0.1:{api}"),
        "--refsys-port",
        &refsys.to_string(),
        "--days",
        "8",
        "--speed",
        "1000000",
    ]);
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("BACKROOM_") {
            command.env_remove(name);
        }
    }
    command.stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped());
    let mut child = command.spawn().expect("spawn the demo");
    let stdout = BufReader::new(child.stdout.take().expect("stdout"));
    let mut admin = None;
    let mut printed = Vec::new();
    for line in stdout.lines() {
        let line = line.expect("line");
        if let Some(rest) = line.trim().strip_prefix("key admin") {
            admin = Some(rest.trim().to_owned());
        }
        let done = line.starts_with("Ctrl-C");
        printed.push(line);
        if done {
            break;
        }
    }
    let all = printed.join("\n");
    assert!(all.contains(&format!("http://127.0.0.1:{api}")) && all.contains("Reference ERP"), "{all}");
    let admin = admin.unwrap_or_else(|| panic!("no admin key printed:\n{all}"));
    let stderr = BufReader::new(child.stderr.take().expect("stderr"));
    let mut log = Vec::new();
    for line in stderr.lines() {
        let line = line.expect("line");
        let over = line.contains("the simulated period is over");
        log.push(line);
        if over {
            break;
        }
    }

    let refused: Vec<&String> = log.iter().filter(|l| l.contains("the ERP refused")).collect();
    assert!(refused.is_empty(), "the reference ERP took every order and receipt: {refused:?}");
    let http = http_client();
    let base = format!("http://127.0.0.1:{api}");
    let mut outcomes = std::collections::BTreeMap::<String, usize>::new();
    for _ in 0..200 {
        let page: Value = http
            .get(format!("{base}/v1/instances?limit=1000"))
            .bearer_auth(&admin)
            .send()
            .await
            .expect("instances")
            .json()
            .await
            .expect("JSON");
        outcomes.clear();
        for i in page["instances"].as_array().expect("instances") {
            let name = format!("{}:{}", i["workflow"].as_str().unwrap_or(""), i["outcome"].as_str().unwrap_or("open"));
            *outcomes.entry(name).or_default() += 1;
        }
        if outcomes.contains_key("invoice_three_way_match:released") && outcomes.contains_key("return_refund:refunded")
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(outcomes.contains_key("invoice_three_way_match:released"), "{outcomes:?}\n{}", log.join("\n"));
    assert!(outcomes.contains_key("return_refund:refunded"), "{outcomes:?}");
    let dead: Value = http
        .get(format!("{base}/v1/dead-letters"))
        .bearer_auth(&admin)
        .send()
        .await
        .expect("dead letters")
        .json()
        .await
        .expect("JSON");
    assert_eq!(dead["dead_letters"], serde_json::json!([]), "nothing dead-lettered");
    child.kill().expect("stop the demo");
    child.wait().expect("reap");
}
