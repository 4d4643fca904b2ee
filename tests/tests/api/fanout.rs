//! The table's stream and the fanout handler: a replayed record changes nothing twice (one
//! notification, an exact counter, a replayed unlike never removing what a later like stored),
//! a poison record is reported in `batchItemFailures`, dead-lettered by the local poller and does
//! not hold up the records behind it.

use std::time::{Duration, Instant};

use api_tests::{TestApp, TestUser};
use reqwest::Method;
use serde_json::{json, Value};

use crate::notifications::{listed_becomes, unread_becomes, unread_notifications};
use crate::posts_support::*;
use crate::social_support::*;

/// A post-like stream record as Lambda delivers it; `user_id` as given (a poison one is not a
/// string).
fn like_record(name: &str, sequence: u64, post_id: &str, user_id: Value) -> Value {
    let user = user_id
        .get("S")
        .and_then(Value::as_str)
        .unwrap_or("poison")
        .to_string();
    let image = json!({
        "PK": { "S": format!("POST#{post_id}") },
        "SK": { "S": format!("LIKE#{user}") },
        "postId": { "S": post_id },
        "userId": user_id,
        "createdAt": { "S": "2026-12-01T10:00:00.000Z" },
    });
    api_tests::stream_record(name, sequence, image)
}

fn like_of(name: &str, sequence: u64, post_id: &str, fan: &TestUser) -> Value {
    like_record(name, sequence, post_id, json!({ "S": fan.id }))
}

/// One invocation of the fanout handler with `batch` (the JSON Lambda sends): the sequence
/// number of the record it reported failed, if any.
async fn invoke(app: &TestApp, batch: &[Value]) -> Option<String> {
    local::streams::invoke(&app.state, batch)
        .await
        .unwrap_or_else(|e| panic!("invoking fanout: {e}"))
}

#[tokio::test]
async fn a_replayed_batch_stores_one_notification_and_an_exact_counter() {
    let (app, _slot) = posts_app().await;
    let author = fixture_user(&app).await;
    let fan = fixture_user(&app).await;
    let post = create_post(&app, &author, "replayed").await;

    // The same INSERT twice in one batch, then the batch again.
    let liked = like_of("INSERT", 100, &post, &fan);
    assert_eq!(invoke(&app, &[liked.clone(), liked.clone()]).await, None);
    assert_eq!(invoke(&app, std::slice::from_ref(&liked)).await, None);
    let listed = listed_becomes(&app, &author, "", 1).await;
    assert_eq!(unread_notifications(&app, &author).await, 1, "counted once");
    let id = listed.data()["notifications"][0]["_id"]
        .as_str()
        .unwrap_or_default()
        .to_string();

    // Read, then the record again: still read, nothing counted.
    app.request(
        Method::PUT,
        &format!("/api/notifications/{id}/read"),
        Some(&author.access_token),
        Some(json!({})),
    )
    .await
    .expect(200);
    assert_eq!(invoke(&app, &[liked]).await, None);
    assert_eq!(unread_notifications(&app, &author).await, 0);
    let listed = listed_becomes(&app, &author, "", 1).await;
    assert_eq!(listed.data()["notifications"][0]["isRead"], true);

    // Unlike then like again, replayed after both applied: the replayed unlike must not take
    // back what the later like stored, nor the like count twice.
    let unliked = like_of("REMOVE", 101, &post, &fan);
    let again = like_of("INSERT", 102, &post, &fan);
    assert_eq!(invoke(&app, &[unliked.clone(), again.clone()]).await, None);
    assert_eq!(unread_notifications(&app, &author).await, 1);
    assert_eq!(invoke(&app, &[unliked.clone(), again.clone()]).await, None);
    assert_eq!(invoke(&app, &[unliked]).await, None);
    assert_eq!(unread_notifications(&app, &author).await, 1);
    let listed = listed_becomes(&app, &author, "", 1).await;
    assert_eq!(listed.data()["notifications"][0]["isRead"], false);
}

#[tokio::test]
async fn a_poison_record_is_reported_and_dead_lettered_without_blocking_the_shard() {
    let (app, _slot) = posts_app().await;
    let author = fixture_user(&app).await;
    let fan = fixture_user(&app).await;
    let post = create_post(&app, &author, "poisoned").await;

    // Directly: the handler reports the poison record and leaves the rest for the retry.
    let poison = like_record("INSERT", 200, &post, json!({ "N": "5" }));
    let good = like_of("INSERT", 201, &post, &fan);
    assert_eq!(
        invoke(&app, &[poison.clone(), good.clone()])
            .await
            .as_deref(),
        Some("200")
    );
    assert_eq!(unread_notifications(&app, &author).await, 0);
    assert_eq!(invoke(&app, &[good]).await, None);
    assert_eq!(unread_notifications(&app, &author).await, 1);

    // Through the table's stream: a malformed like item, then a real like behind it.
    let other = create_post(&app, &author, "behind the poison").await;
    let poison_key = format!("LIKE#poison-{}", ulid::Ulid::new());
    app.state
        .db
        .client
        .put_item()
        .table_name(&app.state.db.table)
        .item(
            "PK",
            aws_sdk_dynamodb::types::AttributeValue::S(format!("POST#{other}")),
        )
        .item(
            "SK",
            aws_sdk_dynamodb::types::AttributeValue::S(poison_key.clone()),
        )
        .item(
            "postId",
            aws_sdk_dynamodb::types::AttributeValue::S(other.clone()),
        )
        .item(
            "userId",
            aws_sdk_dynamodb::types::AttributeValue::N("5".into()),
        )
        .send()
        .await
        .unwrap_or_else(|e| panic!("writing the poison item: {e:?}"));
    let mut socket = app.ws(&author).await;
    like(&app, &fan, &other).await.expect(200);
    let frame = socket
        .expect_event("notification", Duration::from_secs(10))
        .await;
    assert_eq!(frame["data"]["postId"], other.as_str(), "{frame}");
    unread_becomes(&app, &author, 2).await;

    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let dead = app
            .streams
            .as_ref()
            .map(|s| s.dead_letters())
            .unwrap_or_default();
        if let Some(letter) = dead
            .iter()
            .find(|d| d.record["dynamodb"]["Keys"]["SK"]["S"] == poison_key.as_str())
        {
            assert_eq!(letter.attempts, local::streams::MAX_ATTEMPTS);
            assert_eq!(letter.record["eventName"], "INSERT");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the poison record was not dead-lettered: {dead:?}"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

#[tokio::test]
async fn a_caption_edit_notifies_only_the_newly_mentioned() {
    let (app, _slot) = posts_app().await;
    let author = fixture_user(&app).await;
    let first = fixture_user(&app).await;
    let second = fixture_user(&app).await;
    let mut first_socket = app.ws(&first).await;
    let mut second_socket = app.ws(&second).await;
    let post = create_post(&app, &author, &format!("hi @{}", first.username)).await;
    let frame = first_socket
        .expect_event("notification", Duration::from_secs(5))
        .await;
    assert_eq!(frame["data"]["type"], "mention");
    assert_eq!(frame["data"]["postId"], post.as_str());

    let edited = app
        .request(
            Method::PATCH,
            &format!("/api/posts/{post}"),
            Some(&author.access_token),
            Some(json!({ "caption": format!("hi @{} and @{}", first.username, second.username) })),
        )
        .await;
    edited.expect(200);
    let frame = second_socket
        .expect_event("notification", Duration::from_secs(5))
        .await;
    assert_eq!(frame["data"]["type"], "mention");
    assert_eq!(frame["data"]["actor"]["_id"], author.id.as_str());
    // The same record would have told `first` by now: nothing came, nothing more is stored.
    first_socket
        .expect_silence(Duration::from_millis(300))
        .await;
    listed_becomes(&app, &first, "?type=mention", 1).await;
    unread_becomes(&app, &first, 1).await;
    unread_becomes(&app, &second, 1).await;
}

/// The stream record of a direct message's INSERT, as Lambda delivers it.
fn message_record(conversation: &str, from: &TestUser, to: &TestUser, content: &str) -> Value {
    let id = ulid::Ulid::new().to_string();
    let keys = json!({
        "PK": { "S": format!("CONV#{conversation}") },
        "SK": { "S": format!("MSG#{id}") },
    });
    let mut image = json!({
        "id": { "S": id },
        "conversationId": { "S": conversation },
        "senderId": { "S": from.id },
        "recipientId": { "S": to.id },
        "messageType": { "S": "text" },
        "content": { "S": content },
        "isRead": { "BOOL": false },
        "createdAt": { "S": "2026-12-01T10:00:00.000Z" },
    });
    image["PK"] = keys["PK"].clone();
    image["SK"] = keys["SK"].clone();
    api_tests::stream_record("INSERT", 300, image)
}

#[tokio::test]
async fn a_message_notifies_from_the_stream_once_and_live() {
    let (app, _slot) = posts_app().await;
    let (a, b) = (fixture_user(&app).await, fixture_user(&app).await);
    let conversation = crate::messages::conversation_between(&app, &a, &b).await;
    let mut socket = app.ws(&b).await;
    let sent = crate::messages::send_text(&app, &a, &b, &conversation, "from the stream").await;
    sent.expect(201);
    assert_eq!(
        sent.ddb_calls(),
        4,
        "auth + the transaction (budget in it) + the two new_message push Queries"
    );
    // `new_message` from the request, then the `notification` from the stream.
    let frame = socket
        .expect_event("new_message", Duration::from_secs(5))
        .await;
    assert_eq!(frame["data"]["content"], "from the stream");
    let frame = socket
        .expect_event("notification", Duration::from_secs(10))
        .await;
    assert_eq!(frame["data"]["type"], "message", "{frame}");
    assert_eq!(frame["data"]["conversationId"], conversation.as_str());
    assert_eq!(frame["data"]["preview"], "from the stream");
    assert_eq!(frame["data"]["actor"]["_id"], a.id.as_str());
    let listed = listed_becomes(&app, &b, "?type=message", 1).await;
    assert_eq!(listed.data()["notifications"][0]["isRead"], false);
    unread_becomes(&app, &b, 1).await;
    // The sender hears nothing of their own message.
    assert_eq!(unread_notifications(&app, &a).await, 0);

    // One record replayed, in one batch and again: still one notification, counted once.
    let record = message_record(&conversation, &a, &b, "replayed");
    assert_eq!(invoke(&app, &[record.clone(), record.clone()]).await, None);
    assert_eq!(invoke(&app, &[record]).await, None);
    let listed = listed_becomes(&app, &b, "?type=message", 1).await;
    assert_eq!(listed.data()["notifications"][0]["preview"], "replayed");
    assert_eq!(unread_notifications(&app, &b).await, 1);

    // Blocked: the record of a message sent just before the block notifies nobody new.
    app.request(
        Method::PUT,
        &format!(
            "/api/notifications/{}/read",
            listed.data()["notifications"][0]["_id"]
                .as_str()
                .unwrap_or_default()
        ),
        Some(&b.access_token),
        Some(json!({})),
    )
    .await
    .expect(200);
    app.post(
        &format!("/api/users/{}/block", a.id),
        Some(&b.access_token),
        json!({}),
    )
    .await
    .expect(200);
    let late = message_record(&conversation, &a, &b, "before the block");
    assert_eq!(invoke(&app, &[late]).await, None);
    assert_eq!(unread_notifications(&app, &b).await, 0);
}

#[tokio::test]
async fn recent_images_follow_image_posts_in_and_out() {
    let (app, _slot) = posts_app().await;
    let star = fixture_user(&app).await;
    let fan = fixture_user(&app).await;
    let me = fixture_user(&app).await;
    follow(&app, &fan, &star.id).await.expect(200);
    let first = create_post(&app, &star, "one").await;
    create_post(&app, &star, "two").await;
    suggestions_once_images(&app, &me, &star.id, 2).await;
    delete(
        &app,
        &format!("/api/posts/{first}"),
        Some(&star.access_token),
    )
    .await
    .expect(200);
    let (response, _) = suggestions_once_images(&app, &me, &star.id, 1).await;
    assert!(response.ddb_calls() <= 9, "{}", response.ddb_calls());
}
