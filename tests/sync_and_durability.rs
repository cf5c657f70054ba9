//! Pagination, incremental sync, idempotency across restarts and durability,
//! against a real server over real sockets.

mod common;

use std::collections::HashSet;

use common::{TestServer, all_customers};
use pivotal_tui::api::{IdempotencyKey, ListParams, NewCustomer};
use pivotal_tui::server::Seed;

fn named(name: &str) -> NewCustomer {
    NewCustomer {
        name: name.into(),
        ..NewCustomer::default()
    }
}

#[tokio::test]
async fn pages_of_1000_return_2500_customers_exactly_once_in_order() {
    let server = TestServer::start_with(|c| c.generate = Some(2_500)).await;
    let client = server.client();
    let mut params = ListParams {
        limit: Some(1000),
        ..ListParams::default()
    };
    let mut seen = Vec::new();
    let mut pages = 0;
    loop {
        let page = client.list_customers(&params).await.expect("page");
        pages += 1;
        assert!(page.data.len() <= 1000);
        seen.extend(page.data);
        match page.next_cursor {
            Some(cursor) => params.cursor = Some(cursor),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(seen.len(), 2_500);
    let ids: HashSet<&str> = seen.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids.len(), 2_500, "no customer twice");
    assert!(
        seen.windows(2)
            .all(|w| (w[0].updated_at, &w[0].id) < (w[1].updated_at, &w[1].id)),
        "ascending by (updated_at, id)"
    );
}

#[tokio::test]
async fn updated_since_returns_changes_after_a_point_archives_included() {
    let server = TestServer::start_with(|c| c.generate = Some(300)).await;
    let client = server.client();
    let before = all_customers(&client).await;
    let high_water = before
        .iter()
        .map(|c| c.updated_at)
        .max()
        .expect("customers");

    let created = client
        .create_customer(&named("Fresh Co"), &IdempotencyKey::new())
        .await
        .expect("create");
    let archived = client
        .archive_customer(&before[10].id)
        .await
        .expect("archive");

    let changes = client
        .list_customers(&ListParams {
            updated_since: Some(high_water),
            include_archived: true,
            ..ListParams::default()
        })
        .await
        .expect("changes");
    let ids: Vec<&str> = changes.data.iter().map(|c| c.id.as_str()).collect();
    assert!(ids.contains(&created.id.as_str()));
    assert!(ids.contains(&archived.id.as_str()));
    assert!(
        changes.data.iter().all(|c| c.updated_at >= high_water),
        "inclusive lower bound, nothing older"
    );
    assert!(
        changes.data.len() <= 3,
        "only the changes (and the high-water row itself)"
    );

    let live_changes = client
        .list_customers(&ListParams {
            updated_since: Some(high_water),
            ..ListParams::default()
        })
        .await
        .expect("changes");
    assert!(live_changes.data.iter().all(|c| !c.archived));
}

#[tokio::test]
async fn a_replayed_create_returns_the_same_customer_and_creates_nothing() {
    let server = TestServer::start().await;
    let client = server.client();
    let key = IdempotencyKey::new();
    let first = client
        .create_customer(&named("Acme"), &key)
        .await
        .expect("create");
    let replay = client
        .create_customer(&named("Acme"), &key)
        .await
        .expect("replay");
    assert_eq!(replay, first);
    assert_eq!(all_customers(&client).await.len(), 1);
}

#[tokio::test]
async fn a_restart_keeps_customers_history_counter_and_idempotency_keys() {
    let server = TestServer::start().await;
    let client = server.client();
    let key = IdempotencyKey::new();
    let first = client
        .create_customer(&named("Acme"), &key)
        .await
        .expect("create");
    client.archive_customer(&first.id).await.expect("archive");
    let before = all_customers(&client).await;
    let history_before = client.history(&first.id).await.expect("history");

    let server = server.restart(|_| {}).await;
    let client = server.client();

    assert_eq!(all_customers(&client).await, before, "customers survive");
    assert_eq!(
        client.history(&first.id).await.expect("history"),
        history_before
    );
    let replay = client
        .create_customer(&named("Acme"), &key)
        .await
        .expect("replay");
    assert_eq!(
        replay.id, first.id,
        "the key is remembered across the restart"
    );
    let next = client
        .create_customer(&named("Globex"), &IdempotencyKey::new())
        .await
        .expect("create");
    assert_eq!(
        next.display_id,
        first.display_id + 1,
        "the counter continues"
    );
    assert_eq!(all_customers(&client).await.len(), 2);
}

#[tokio::test]
async fn seeding_imports_verbatim_and_only_into_an_empty_data_dir() {
    let seed = concat!(env!("CARGO_MANIFEST_DIR"), "/assets/demo-customers.json");
    let server = TestServer::start_with(|c| c.seed = Some(Seed::File(seed.into()))).await;
    let client = server.client();
    let seeded = all_customers(&client).await;
    assert!(seeded.len() >= 50);
    assert!(
        seeded
            .iter()
            .any(|c| c.domain.as_deref() == Some("www.acme.com")),
        "odd spellings are kept as imported"
    );
    let history = client.history(&seeded[0].id).await.expect("history");
    assert!(!history.is_empty());

    let server = server.restart(|c| c.generate = Some(100)).await;
    assert_eq!(all_customers(&server.client()).await.len(), seeded.len());
}
