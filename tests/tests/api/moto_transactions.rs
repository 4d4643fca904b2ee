//! The local moto wrapper (`local/scripts/moto_server.py`) rolls a cancelled transaction back
//! from snapshots of the items it touched (not from a copy of the whole table): a cancelled
//! TransactWriteItems leaves no new item behind and no update applied, as DynamoDB does.

use api_tests::{spawn_app, unique_name};
use aws_sdk_dynamodb::types::{
    AttributeValue, ConditionCheck, Delete, Put, TransactWriteItem, Update,
};

fn s(value: &str) -> AttributeValue {
    AttributeValue::S(value.to_string())
}

#[tokio::test]
async fn a_cancelled_transaction_changes_nothing() {
    let app = spawn_app().await;
    let db = &app.state.db;
    let pk = format!("TEST#{}", unique_name("txn"));
    let put = |sk: &str, n: &str| {
        db.client
            .put_item()
            .table_name(&db.table)
            .item("PK", s(&pk))
            .item("SK", s(sk))
            .item("n", AttributeValue::N(n.into()))
            .send()
    };
    put("existing", "1")
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    put("deleted", "1")
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));

    let key = |sk: &str| {
        [("PK".to_string(), s(&pk)), ("SK".to_string(), s(sk))]
            .into_iter()
            .collect::<std::collections::HashMap<_, _>>()
    };
    let build = |r: Result<TransactWriteItem, ()>| r.unwrap_or_else(|_| panic!("building"));
    let put_new = Put::builder()
        .table_name(&db.table)
        .item("PK", s(&pk))
        .item("SK", s("new"))
        .build()
        .map(|p| TransactWriteItem::builder().put(p).build())
        .map_err(|_| ());
    let update = Update::builder()
        .table_name(&db.table)
        .set_key(Some(key("existing")))
        .update_expression("SET n = :two")
        .expression_attribute_values(":two", AttributeValue::N("2".into()))
        .build()
        .map(|u| TransactWriteItem::builder().update(u).build())
        .map_err(|_| ());
    let delete = Delete::builder()
        .table_name(&db.table)
        .set_key(Some(key("deleted")))
        .build()
        .map(|d| TransactWriteItem::builder().delete(d).build())
        .map_err(|_| ());
    // Last, so the three writes above have been applied by moto when it fails.
    let failing = ConditionCheck::builder()
        .table_name(&db.table)
        .set_key(Some(key("missing")))
        .condition_expression("attribute_exists(PK)")
        .build()
        .map(|c| TransactWriteItem::builder().condition_check(c).build())
        .map_err(|_| ());
    let cancelled = db
        .client
        .transact_write_items()
        .transact_items(build(put_new))
        .transact_items(build(update))
        .transact_items(build(delete))
        .transact_items(build(failing))
        .send()
        .await;
    assert!(
        cancelled.is_err(),
        "the condition check fails the transaction"
    );

    let get = |sk: &'static str| {
        db.client
            .get_item()
            .table_name(&db.table)
            .set_key(Some(key(sk)))
            .consistent_read(true)
            .send()
    };
    let new = get("new").await.unwrap_or_else(|e| panic!("{e:?}"));
    assert!(new.item.is_none(), "the put was rolled back");
    let existing = get("existing").await.unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(
        existing.item.and_then(|i| i.get("n").cloned()),
        Some(AttributeValue::N("1".into())),
        "the update was rolled back"
    );
    let deleted = get("deleted").await.unwrap_or_else(|e| panic!("{e:?}"));
    assert!(deleted.item.is_some(), "the delete was rolled back");
}
