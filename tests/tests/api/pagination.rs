//! Cursor pagination: every item exactly once, in a stable order, even while items are added.

use crate::common::{TestApp, both, expect_json};
use reqwest::StatusCode;
use std::collections::HashSet;

both!(every_item_exactly_once_while_inserting);

async fn every_item_exactly_once_while_inserting(app: TestApp) {
    let mut originals = HashSet::new();
    for i in 0..23 {
        originals.insert(
            app.create_organisation(&format!("Employer {i:02}")).await["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut added = 0;
    for page_number in 0.. {
        assert!(page_number < 100, "pagination does not end");
        let path = match &cursor {
            Some(c) => format!("/api/v1/organisations?limit=5&cursor={c}"),
            None => "/api/v1/organisations?limit=5".to_owned(),
        };
        let page = expect_json(app.get(&path, None).await, StatusCode::OK).await;
        let items = page["items"].as_array().unwrap();
        assert!(items.len() <= 5);
        seen.extend(items.iter().map(|o| o["id"].as_str().unwrap().to_owned()));
        // Others keep adding organisations while we page.
        if page_number < 3 {
            app.create_organisation(&format!("Late {page_number}")).await;
            added += 1;
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    let unique: HashSet<_> = seen.iter().cloned().collect();
    assert_eq!(unique.len(), seen.len(), "an item came twice");
    assert!(originals.is_subset(&unique), "an item was skipped");
    assert_eq!(
        seen.len(),
        originals.len() + added,
        "items added during paging come once, at the end"
    );
    let mut sorted = seen.clone();
    sorted.sort();
    assert_eq!(sorted, seen, "the order is the id (creation) order");
}
