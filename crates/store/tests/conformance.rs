//! The store conformance suite: every test runs on SQLite, and on PostgreSQL whenever
//! `BACKROOM_TEST_DATABASE_URL` is set.

mod support;

use std::collections::BTreeMap;

use backroom_model::{EventEnvelope, NewEvent};
use backroom_store::{EventQuery, SalesQuery, StockQuery, Store};
use rust_decimal::Decimal;
use serde_json::json;
use support::{TestStore, event};

fn count(id: &str, location: &str, sku: &str, counted: &str) -> NewEvent {
    event(json!({"id": id, "type": "inventory.counted", "source": "handheld", "occurred_at": "2010-12-05T18:00:00Z",
        "data": {"count_number": id, "location": location, "scope": "cycle",
                 "lines": [{"item": {"sku": sku}, "counted": {"value": counted}}]}}))
}

fn receipt(id: &str, location: &str, sku: &str, received: &str) -> NewEvent {
    event(json!({"id": id, "type": "receipt.posted", "source": "wms", "occurred_at": "2010-12-01T06:00:00Z",
        "data": {"receipt_number": id, "location": location, "po_number": "PO-1",
                 "lines": [{"line": 1, "item": {"sku": sku}, "received": {"value": received}}]}}))
}

fn transfer(id: &str, kind: &str, sku: &str, quantity: &str) -> NewEvent {
    event(json!({"id": format!("{id}-{kind}"), "type": format!("transfer.{kind}"), "source": "erp",
        "occurred_at": "2010-12-03T12:00:00Z",
        "data": {"transfer_number": id, "from": "United-Kingdom", "to": "France",
                 "lines": [{"line": 1, "item": {"sku": sku}, "quantity": {"value": quantity}}]}}))
}

async fn all_events(store: &Store) -> Vec<backroom_model::EventEnvelope> {
    let mut out = Vec::new();
    loop {
        let after = out.last().map_or(0, |e: &backroom_model::EventEnvelope| e.seq);
        let page =
            store.events(&EventQuery { after_seq: after, limit: 1000, ..Default::default() }).await.expect("read");
        if page.is_empty() {
            return out;
        }
        out.extend(page);
    }
}

conformance!(duplicates_return_the_original_seq_and_change_nothing, |t: TestStore| async move {
    let s = &t.store;
    let a = receipt("R1", "S1", "X", "5");
    let b = receipt("R2", "S1", "X", "7");
    let first = s.append(vec![a.clone(), b.clone()]).await.unwrap();
    assert_eq!(first.iter().map(|o| o.duplicate).collect::<Vec<_>>(), [false, false]);
    let again = s.append(vec![b.clone(), receipt("R3", "S1", "X", "1"), a.clone(), a.clone()]).await.unwrap();
    assert_eq!(again[0].seq, first[1].seq);
    assert!(again[0].duplicate && !again[1].duplicate && again[2].duplicate && again[3].duplicate);
    assert_eq!(again[2].seq, first[0].seq);
    // The same id from another source is another event.
    let mut other = a.clone();
    other.source = "another-wms".into();
    assert!(!s.append(vec![other]).await.unwrap()[0].duplicate);
    assert_eq!(all_events(s).await.len(), 4);
    let stock = s.stock(&StockQuery { location: Some("S1".into()), ..Default::default() }).await.unwrap();
    assert_eq!(stock[0].on_hand, Decimal::from(18), "5 + 7 + 1 + 5 from the other source");
});

conformance!(seq_is_strictly_increasing_under_concurrent_appends, |t: TestStore| async move {
    let s = t.store.clone();
    let mut tasks = Vec::new();
    for client in 0..16 {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            let mut seqs = Vec::new();
            for i in 0..25 {
                let batch = (0..(i % 3 + 1)).map(|j| receipt(&format!("c{client}-{i}-{j}"), "S1", "X", "1")).collect();
                seqs.extend(s.append(batch).await.unwrap().into_iter().map(|o| o.seq));
            }
            seqs
        }));
    }
    let mut acknowledged = Vec::new();
    for task in tasks {
        let seqs = task.await.unwrap();
        assert!(seqs.windows(2).all(|w| w[0] < w[1]), "one client's events keep their order");
        acknowledged.extend(seqs);
    }
    let log = all_events(&s).await;
    assert_eq!(log.len(), acknowledged.len());
    assert!(log.windows(2).all(|w| w[0].seq < w[1].seq));
    acknowledged.sort();
    assert_eq!(acknowledged, log.iter().map(|e| e.seq).collect::<Vec<_>>());
    assert_eq!(s.last_seq().await.unwrap(), *acknowledged.last().unwrap());
    let stock = s.stock(&StockQuery::default()).await.unwrap();
    assert_eq!(stock[0].on_hand, Decimal::from(acknowledged.len() as i64));
});

conformance!(queries_filter_by_type_location_item_and_time, |t: TestStore| async move {
    let s = &t.store;
    let rows = support::uci_rows(8000);
    s.append(support::uci_till_events(&rows)).await.unwrap();
    s.append(vec![transfer("T1", "shipped", "85123A", "3")]).await.unwrap();
    let page = |q: EventQuery| async move { s.events(&EventQuery { limit: 10_000, ..q }).await.unwrap() };
    let returns = page(EventQuery { event_type: Some("pos.return".into()), ..Default::default() }).await;
    let expected_returns: std::collections::BTreeSet<_> =
        rows.iter().filter(|r| r.invoice.starts_with('C')).map(|r| r.invoice.clone()).collect();
    assert_eq!(returns.len(), expected_returns.len());
    assert!(returns.iter().all(|e| e.event_type == "pos.return" && e.id.starts_with('C')));
    let france = page(EventQuery { location: Some("France".into()), ..Default::default() }).await;
    assert!(france.iter().any(|e| e.event_type == "transfer.shipped"), "a transfer names its destination");
    assert!(france.iter().all(|e| e.subject.locations.iter().any(|l| l.as_str() == "France")));
    let scoped = page(EventQuery { within: Some(vec!["France".into(), "EIRE".into()]), ..Default::default() }).await;
    let named = |e: &EventEnvelope, l: &str| e.subject.locations.iter().any(|x| x.as_str() == l);
    assert!(scoped.iter().any(|e| named(e, "EIRE")) && scoped.iter().any(|e| named(e, "France")));
    assert!(scoped.iter().all(|e| named(e, "France") || named(e, "EIRE")), "a scope shows only its locations");
    assert!(page(EventQuery { within: Some(vec![]), ..Default::default() }).await.is_empty(), "an empty scope");
    let stock_in = |within: Vec<String>| async move {
        s.stock(&StockQuery { limit: 100_000, within: Some(within), ..Default::default() }).await.unwrap()
    };
    let french = stock_in(vec!["France".into()]).await;
    assert!(!french.is_empty() && french.iter().all(|p| p.location == "France"));
    let sales = s
        .daily_sales(&SalesQuery { limit: 100_000, within: Some(vec!["EIRE".into()]), ..Default::default() })
        .await
        .unwrap();
    assert!(!sales.is_empty() && sales.iter().all(|d| d.location == "EIRE"));
    let lantern = page(EventQuery { item: Some("71053".into()), ..Default::default() }).await;
    let expected: std::collections::BTreeSet<_> = rows
        .iter()
        .filter(|r| r.stock_code == "71053" && (r.invoice.starts_with('C') || r.quantity > Decimal::ZERO))
        .map(|r| r.invoice.clone())
        .collect();
    assert_eq!(lantern.iter().map(|e| e.id.clone()).collect::<std::collections::BTreeSet<_>>(), expected);
    let since = "2010-12-02T00:00:00Z".parse().unwrap();
    let until = "2010-12-03T00:00:00Z".parse().unwrap();
    let day2 = page(EventQuery { since: Some(since), until: Some(until), ..Default::default() }).await;
    assert!(!day2.is_empty());
    assert!(day2.iter().all(|e| e.occurred_at >= since && e.occurred_at < until));
    let paged = s.events(&EventQuery { after_seq: day2[0].seq, limit: 5, ..Default::default() }).await.unwrap();
    assert_eq!(paged.len(), 5);
    assert_eq!(paged[0].seq, day2[0].seq + 1);
    // By document number: the till transactions with either number, and nothing else.
    let numbers = vec![rows[0].invoice.clone(), rows[rows.len() - 1].invoice.clone(), "NO-SUCH-DOC".to_owned()];
    let by_document = page(EventQuery { documents: numbers.clone(), ..Default::default() }).await;
    assert!(!by_document.is_empty());
    assert!(by_document.iter().all(|e| e.subject.documents.iter().any(|d| numbers.contains(d))));
    let all = page(EventQuery::default()).await;
    let expected = all.iter().filter(|e| e.subject.documents.iter().any(|d| numbers.contains(d))).count();
    assert_eq!(by_document.len(), expected);
});

/// Stock and daily sales computed the plain way, to compare the projections with.
/// Sold, returned, revenue, refunded, transactions.
type SalesRow = (Decimal, Decimal, Decimal, Decimal, i64);

#[derive(Default)]
struct Reference {
    stock: BTreeMap<(String, String), (Decimal, Decimal)>,
    sales: BTreeMap<(String, String, String), SalesRow>,
}

impl Reference {
    fn apply(&mut self, e: &NewEvent) {
        let d = e.data();
        let ty = e.event_type.as_str();
        // A transaction counts once per item, however many of its lines carry the item.
        let mut counted = std::collections::BTreeSet::new();
        let dec = |v: &serde_json::Value| v.as_str().unwrap().parse::<Decimal>().unwrap();
        for line in d["lines"].as_array().unwrap() {
            let sku = line["item"]["sku"].as_str().unwrap().to_owned();
            match ty {
                "pos.sale" | "pos.return" => {
                    let loc = d["location"].as_str().unwrap().to_owned();
                    let q = dec(&line["quantity"]["value"]);
                    let net = dec(&line["net_amount"]["amount"]);
                    let day = d["business_day"].as_str().unwrap().to_owned();
                    let row = self.sales.entry((loc.clone(), sku.clone(), day)).or_default();
                    let pos = self.stock.entry((loc, sku.clone())).or_default();
                    if ty == "pos.sale" {
                        pos.0 -= q;
                        row.0 += q;
                        row.2 += net;
                        if counted.insert(sku.clone()) {
                            row.4 += 1;
                        }
                    } else {
                        pos.0 += q;
                        row.1 += q;
                        row.3 += net;
                    }
                }
                "inventory.counted" => {
                    self.stock.entry((d["location"].as_str().unwrap().into(), sku)).or_default().0 =
                        dec(&line["counted"]["value"]);
                }
                "receipt.posted" => {
                    self.stock.entry((d["location"].as_str().unwrap().into(), sku)).or_default().0 +=
                        dec(&line["received"]["value"]);
                }
                "transfer.shipped" => {
                    let q = dec(&line["quantity"]["value"]);
                    self.stock.entry((d["from"].as_str().unwrap().into(), sku.clone())).or_default().0 -= q;
                    self.stock.entry((d["to"].as_str().unwrap().into(), sku)).or_default().1 += q;
                }
                "transfer.received" => {
                    let q = dec(&line["quantity"]["value"]);
                    let pos = self.stock.entry((d["to"].as_str().unwrap().into(), sku)).or_default();
                    pos.0 += q;
                    pos.1 -= q;
                }
                other => panic!("no reference for {other}"),
            }
        }
    }
}

async fn assert_projections(s: &Store, reference: &Reference) {
    let stock = s.stock(&StockQuery { limit: 100_000, ..Default::default() }).await.unwrap();
    let got: BTreeMap<_, _> =
        stock.iter().map(|p| ((p.location.clone(), p.item.clone()), (p.on_hand, p.in_transit))).collect();
    assert_eq!(got.len(), reference.stock.len());
    for (k, v) in &reference.stock {
        assert_eq!(got.get(k), Some(v), "stock of {k:?}");
    }
    let sales = s.daily_sales(&SalesQuery { limit: 100_000, ..Default::default() }).await.unwrap();
    assert_eq!(sales.len(), reference.sales.len());
    for r in &sales {
        let k = (r.location.clone(), r.item.clone(), r.business_day.to_string());
        let (sold, returned, revenue, refunded, tx) = reference.sales[&k];
        assert_eq!((r.sold, r.returned, r.revenue, r.refunded), (sold, returned, revenue, refunded), "sales of {k:?}");
        assert_eq!(r.transactions, tx, "transactions of {k:?}");
        assert_eq!(r.currency, "GBP");
    }
}

conformance!(projections_follow_a_mixed_stream_and_survive_restart, |mut t: TestStore| async move {
    let rows = support::uci_rows(6000);
    let till = support::uci_till_events(&rows);
    let mut stream = vec![
        receipt("R-UK-1", "United-Kingdom", "85123A", "500"),
        receipt("R-UK-2", "United-Kingdom", "22423", "120.5"),
        transfer("T-1", "shipped", "85123A", "40"),
    ];
    let (first, rest) = till.split_at(till.len() / 2);
    stream.extend_from_slice(first);
    stream.push(transfer("T-1", "received", "85123A", "38"));
    stream.push(count("CC-1", "United-Kingdom", "22423", "97"));
    stream.push(count("CC-2", "France", "21731", "12"));
    stream.extend_from_slice(rest);

    let mut reference = Reference::default();
    stream.iter().for_each(|e| reference.apply(e));
    // Varying batch sizes, with some batches sent twice (a client retrying after a timeout).
    let mut i = 0;
    let mut size = 1;
    while i < stream.len() {
        let end = (i + size).min(stream.len());
        let batch = stream[i..end].to_vec();
        t.store.append(batch.clone()).await.unwrap();
        if size % 4 == 0 {
            assert!(t.store.append(batch).await.unwrap().iter().all(|o| o.duplicate));
        }
        i = end;
        size = size % 97 + 3;
    }
    assert_projections(&t.store, &reference).await;

    let uk = t
        .store
        .stock(&StockQuery {
            location: Some("United-Kingdom".into()),
            item: Some("22423".into()),
            limit: 0,
            within: None,
        })
        .await
        .unwrap();
    assert!(uk[0].last_counted_at.is_some());
    let france = t
        .store
        .stock(&StockQuery { location: Some("France".into()), item: Some("85123A".into()), limit: 0, within: None })
        .await
        .unwrap();
    assert_eq!((france[0].on_hand, france[0].in_transit), (Decimal::from(38), Decimal::from(2)));

    let before = all_events(&t.store).await;
    t.reopen().await;
    assert_eq!(all_events(&t.store).await, before);
    assert_projections(&t.store, &reference).await;
    // Appending after the restart continues the sequence.
    let next = t.store.append(vec![receipt("R-after", "France", "X", "1")]).await.unwrap();
    assert_eq!(next[0].seq, before.last().unwrap().seq + 1);
});

conformance!(daily_sales_filter_by_day_range, |t: TestStore| async move {
    let rows = support::uci_rows(8000);
    t.store.append(support::uci_till_events(&rows)).await.unwrap();
    let from = "2010-12-02".parse().unwrap();
    let to = "2010-12-03".parse().unwrap();
    let q = SalesQuery {
        location: Some("United-Kingdom".into()),
        from: Some(from),
        to: Some(to),
        limit: 100_000,
        ..Default::default()
    };
    let sales = t.store.daily_sales(&q).await.unwrap();
    assert!(!sales.is_empty());
    assert!(sales.iter().all(|r| r.business_day >= from && r.business_day <= to && r.location == "United-Kingdom"));
    let expected: Decimal = rows
        .iter()
        .filter(|r| r.country == "United-Kingdom" && !r.invoice.starts_with('C') && r.quantity > Decimal::ZERO)
        .filter(|r| r.date.starts_with("2010-12-02") || r.date.starts_with("2010-12-03"))
        .map(|r| r.quantity * r.unit_price)
        .sum();
    assert_eq!(sales.iter().map(|r| r.revenue).sum::<Decimal>(), expected);
});

conformance!(keys_are_hashed_listed_and_revoked, |t: TestStore| async move {
    use backroom_store::NewApiKey;
    let s = &t.store;
    assert_eq!(s.key_count().await.unwrap(), 0);
    let new = NewApiKey { name: "pos-gateway".into(), roles: vec!["integration".into()], scopes: vec!["S042".into()] };
    let (key, secret) = s.create_key(&new, "test").await.unwrap();
    let (_, other) = s.create_key(&NewApiKey { name: "ops".into(), ..new.clone() }, "test").await.unwrap();
    assert_eq!(s.authenticate(&secret).await.unwrap().unwrap().id, key.id);
    assert!(s.authenticate("brk_wrong").await.unwrap().is_none());
    let listed = s.list_keys().await.unwrap();
    assert_eq!(listed.len(), 2);
    assert!(listed.iter().all(|k| !format!("{k:?}").contains(&secret[4..])), "secrets are never stored");
    assert_eq!(listed.iter().find(|k| k.id == key.id).unwrap().scopes, ["S042"]);
    let revoked = s.revoke_key("pos-gateway", "test").await.unwrap();
    assert!(revoked.revoked_at.is_some());
    assert!(s.authenticate(&secret).await.unwrap().is_none());
    assert!(s.authenticate(&other).await.unwrap().is_some());
    assert!(s.revoke_key("pos-gateway", "test").await.is_err(), "already revoked");
    let imported = s
        .import_key(&NewApiKey { name: "bootstrap".into(), ..new }, "chosen-by-the-operator-0123456789", "test")
        .await
        .unwrap();
    assert_eq!(s.authenticate("chosen-by-the-operator-0123456789").await.unwrap().unwrap().id, imported.id);
});

conformance!(users_log_in_with_sessions_that_end_when_disabled, |t: TestStore| async move {
    use backroom_model::Grant;
    use backroom_store::{AuditQuery, NewUser, StoreError};
    let s = &t.store;
    let ttl = chrono::Duration::minutes(30);
    let new = NewUser {
        login: "anna.berg".into(),
        display_name: "Anna Berg".into(),
        grants: vec!["store_manager@S042".parse::<Grant>().unwrap(), "auditor".parse().unwrap()],
        password: "till-drawer-balance-42".into(),
    };
    let anna = s.create_user(&new, "admin-key").await.unwrap();
    assert_eq!(anna.grants, new.grants);
    assert!(anna.disabled_at.is_none());

    let taken = s.create_user(&NewUser { display_name: "Other Anna".into(), ..new.clone() }, "admin-key").await;
    assert!(matches!(&taken, Err(StoreError::Conflict(m)) if m.contains("anna.berg")), "{taken:?}");
    let short = s.create_user(&NewUser { login: "bob".into(), password: "too-short".into(), ..new.clone() }, "a").await;
    assert!(matches!(&short, Err(StoreError::Invalid(m)) if m.contains("at least 12")), "{short:?}");
    assert!(s.user("bob").await.unwrap().is_none(), "a refused account is not stored");

    assert!(s.login("anna.berg", "wrong-password-123", ttl).await.unwrap().is_none());
    assert!(s.login("nobody", "till-drawer-balance-42", ttl).await.unwrap().is_none());
    let (who, token) = s.login("anna.berg", "till-drawer-balance-42", ttl).await.unwrap().expect("logged in");
    assert_eq!(who.id, anna.id);
    assert!(token.secret.starts_with("brs_") && token.secret.len() == 52);
    assert!(token.expires_at > chrono::Utc::now() + chrono::Duration::minutes(29));
    assert_eq!(s.session(&token.secret).await.unwrap().expect("live session").login, "anna.berg");
    assert!(s.session("brs_000000000000000000000000000000000000000000000000").await.unwrap().is_none());

    let (_, expired) = s.login("anna.berg", "till-drawer-balance-42", chrono::Duration::zero()).await.unwrap().unwrap();
    assert!(s.session(&expired.secret).await.unwrap().is_none(), "an expired session is refused");

    s.set_password("anna.berg", "new-secret-for-anna", "admin-key").await.unwrap();
    assert!(s.session(&token.secret).await.unwrap().is_none(), "a password change ends sessions");
    assert!(s.login("anna.berg", "till-drawer-balance-42", ttl).await.unwrap().is_none());
    let (_, token) = s.login("anna.berg", "new-secret-for-anna", ttl).await.unwrap().expect("new password works");

    let disabled = s.disable_user("anna.berg", "admin-key").await.unwrap();
    assert!(disabled.disabled_at.is_some());
    assert!(s.session(&token.secret).await.unwrap().is_none(), "disabling ends sessions");
    assert!(s.login("anna.berg", "new-secret-for-anna", ttl).await.unwrap().is_none());
    assert!(matches!(s.disable_user("anna.berg", "admin-key").await, Err(StoreError::Conflict(_))));
    assert!(matches!(s.disable_user("nobody", "admin-key").await, Err(StoreError::NotFound(_))));

    let listed = s.list_users().await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].disabled_at, disabled.disabled_at);
    assert_eq!(serde_json::to_value(&listed[0]).unwrap()["grants"], json!(["store_manager@S042", "auditor"]));

    let audit = s.audit(&AuditQuery { subject: Some("user/anna.berg".into()), ..AuditQuery::default() }).await.unwrap();
    let kinds: Vec<&str> = audit.iter().map(|r| r.entry.kind.as_str()).collect();
    assert_eq!(kinds, ["user.created", "user.password_changed", "user.disabled"]);
    assert!(audit.iter().all(|r| r.entry.actor == "admin-key"));
    let text = serde_json::to_string(&audit).unwrap();
    for secret in ["till-drawer-balance-42", "new-secret-for-anna", "argon2", &token.secret[4..]] {
        assert!(!text.contains(secret), "the audit record never holds {secret:?}");
    }
    assert!(s.verify_audit(None).await.unwrap().broken.is_none());
});
