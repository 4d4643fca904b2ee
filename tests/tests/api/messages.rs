//! Every `/api/messages` route over real HTTP: conversations, messages, read state, unsend,
//! unread counts, and who may do what (participants only, blocks, sender/recipient roles).

use api_tests::{spawn_app, TestApp, TestResponse, TestUser};
use aws_sdk_dynamodb::types::AttributeValue;
use reqwest::Method;
use serde_json::{json, Value};
use shared::db::keys;

use crate::social_support::{
    assert_bad_paging_gets_400, assert_bad_tokens_get_401, fetch_bytes, object_exists, Access,
    Route, PNG,
};

pub async fn conversation_between(app: &TestApp, a: &TestUser, b: &TestUser) -> String {
    let response = app
        .post(
            "/api/messages/conversations",
            Some(&a.access_token),
            json!({ "userId": b.id }),
        )
        .await;
    assert!(
        response.status == 200 || response.status == 201,
        "create-or-get: {}",
        response.body
    );
    response.data()["_id"]
        .as_str()
        .unwrap_or_else(|| panic!("no conversation id: {}", response.body))
        .to_string()
}

pub async fn send_text(
    app: &TestApp,
    from: &TestUser,
    to: &TestUser,
    conversation_id: &str,
    content: &str,
) -> TestResponse {
    app.post(
        "/api/messages/messages",
        Some(&from.access_token),
        json!({
            "conversationId": conversation_id,
            "recipientId": to.id,
            "messageType": "text",
            "content": content,
        }),
    )
    .await
}

/// Sends and returns the new message's id.
pub async fn sent(
    app: &TestApp,
    from: &TestUser,
    to: &TestUser,
    conversation_id: &str,
    content: &str,
) -> String {
    let response = send_text(app, from, to, conversation_id, content).await;
    response.expect(201);
    response.data()["_id"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

pub async fn unread(app: &TestApp, user: &TestUser) -> i64 {
    let response = app
        .get("/api/messages/unread-count", Some(&user.access_token))
        .await;
    response.expect(200);
    response.data()["unreadCount"]
        .as_i64()
        .unwrap_or_else(|| panic!("unreadCount: {}", response.body))
}

pub async fn conversations(app: &TestApp, user: &TestUser) -> Value {
    let response = app
        .get("/api/messages/conversations", Some(&user.access_token))
        .await;
    response.expect(200);
    response.data().clone()
}

async fn messages(
    app: &TestApp,
    user: &TestUser,
    conversation_id: &str,
    query: &str,
) -> TestResponse {
    app.get(
        &format!("/api/messages/conversations/{conversation_id}/messages{query}"),
        Some(&user.access_token),
    )
    .await
}

/// Writes a block edge straight into the table (the block routes belong to another function).
pub async fn block(app: &TestApp, blocker: &TestUser, blocked: &TestUser) {
    let key = keys::block(&blocker.id, &blocked.id);
    let result = app
        .state
        .db
        .client
        .put_item()
        .table_name(&app.state.db.table)
        .item(keys::PK, AttributeValue::S(key.pk))
        .item(keys::SK, AttributeValue::S(key.sk))
        .item("createdAt", AttributeValue::S(shared::time::now_rfc3339()))
        .send()
        .await;
    assert!(result.is_ok(), "block: {result:?}");
}

fn ids(list: &Value) -> Vec<String> {
    list.as_array()
        .into_iter()
        .flatten()
        .filter_map(|m| m["_id"].as_str().map(str::to_string))
        .collect()
}

// ---------- conversations ----------

#[tokio::test]
async fn create_or_get_answers_one_conversation_whoever_asks() {
    let app = spawn_app().await;
    let (a, b) = (app.signed_in_user().await, app.signed_in_user().await);

    let created = app
        .post(
            "/api/messages/conversations",
            Some(&a.access_token),
            json!({ "userId": b.id }),
        )
        .await;
    created.expect(201);
    assert_eq!(created.ddb_calls(), 3, "auth + 1 BatchGet + 1 transaction");
    let conversation = created.data();
    let participants = ids(&conversation["participants"]);
    assert_eq!(participants, vec![a.id.clone(), b.id.clone()]);
    assert_eq!(
        conversation["participants"][1]["username"],
        b.username.as_str()
    );
    assert!(conversation["lastMessage"].is_null());
    assert_eq!(conversation["unreadCount"], 0);
    assert!(conversation["lastMessageAt"].is_string());

    let again = app
        .post(
            "/api/messages/conversations",
            Some(&b.access_token),
            json!({ "userId": a.id }),
        )
        .await;
    again.expect(200);
    assert_eq!(again.ddb_calls(), 2, "auth + 1 BatchGet");
    assert_eq!(again.data()["_id"], conversation["_id"]);
    assert_eq!(
        ids(&again.data()["participants"]),
        vec![b.id.clone(), a.id.clone()]
    );
}

#[tokio::test]
async fn create_or_get_rejects_bad_input_and_anonymous_callers() {
    let app = spawn_app().await;
    let a = app.signed_in_user().await;
    let path = "/api/messages/conversations";

    app.post(path, Some(&a.access_token), json!({ "userId": a.id }))
        .await
        .expect(400);
    app.post(path, Some(&a.access_token), json!({}))
        .await
        .expect(400);
    let unknown = app
        .post(
            path,
            Some(&a.access_token),
            json!({ "userId": ulid::Ulid::new().to_string() }),
        )
        .await;
    unknown.expect(404);
    assert_eq!(unknown.message(), "User not found");
    app.post(path, None, json!({ "userId": a.id }))
        .await
        .expect(401);
    app.post(path, Some("not-a-token"), json!({ "userId": a.id }))
        .await
        .expect(401);
    app.get(path, None).await.expect(401);
    app.get("/api/messages/unread-count", None)
        .await
        .expect(401);
    let text = app
        .send(
            app.client
                .post(app.url(path))
                .bearer_auth(&a.access_token)
                .body("userId=x"),
        )
        .await;
    text.expect(415);
}

#[tokio::test]
async fn concurrent_create_or_get_yields_one_conversation() {
    let app = spawn_app().await;
    let (a, b) = (app.signed_in_user().await, app.signed_in_user().await);
    let (first, second, third) = tokio::join!(
        conversation_between(&app, &a, &b),
        conversation_between(&app, &b, &a),
        conversation_between(&app, &a, &b),
    );
    assert_eq!(first, second);
    assert_eq!(first, third);
    for user in [&a, &b] {
        let list = conversations(&app, user).await;
        assert_eq!(ids(&list["conversations"]), vec![first.clone()]);
        assert_eq!(list["conversations"][0]["unreadCount"], 0);
        assert_eq!(list["pagination"]["hasMore"], false);
    }
}

#[tokio::test]
async fn conversations_list_newest_activity_first_with_unread_counts() {
    let app = spawn_app().await;
    let (me, b, c) = (
        app.signed_in_user().await,
        app.signed_in_user().await,
        app.signed_in_user().await,
    );
    let with_b = conversation_between(&app, &me, &b).await;
    let with_c = conversation_between(&app, &me, &c).await;
    sent(&app, &b, &me, &with_b, "from b").await;
    sent(&app, &c, &me, &with_c, "from c 1").await;
    sent(&app, &c, &me, &with_c, "from c 2").await;
    sent(&app, &b, &me, &with_b, "from b again").await;

    let response = app
        .get("/api/messages/conversations", Some(&me.access_token))
        .await;
    response.expect(200);
    assert_eq!(response.ddb_calls(), 3, "auth + 1 Query + 1 BatchGet");
    let list = &response.data()["conversations"];
    assert_eq!(ids(list), vec![with_b.clone(), with_c.clone()]);
    assert_eq!(list[0]["unreadCount"], 2);
    assert_eq!(list[0]["lastMessage"]["content"], "from b again");
    assert_eq!(list[0]["lastMessage"]["senderId"], b.id.as_str());
    assert_eq!(list[0]["lastMessage"]["isRead"], false);
    assert_eq!(list[0]["participants"][1]["username"], b.username.as_str());
    assert_eq!(list[1]["unreadCount"], 2);
    assert_eq!(list[1]["lastMessage"]["content"], "from c 2");
    assert!(response.data()["pagination"]["totalConversations"].is_null());
    assert_eq!(response.data()["pagination"]["hasMore"], false);
    assert_eq!(unread(&app, &me).await, 4);

    // Paging by cursor walks the same order.
    let first = app
        .get(
            "/api/messages/conversations?limit=1",
            Some(&me.access_token),
        )
        .await;
    first.expect(200);
    assert_eq!(ids(&first.data()["conversations"]), vec![with_b]);
    let cursor = first.data()["pagination"]["nextCursor"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let second = app
        .get(
            &format!("/api/messages/conversations?limit=1&cursor={cursor}"),
            Some(&me.access_token),
        )
        .await;
    second.expect(200);
    assert_eq!(ids(&second.data()["conversations"]), vec![with_c]);
}

// ---------- messages ----------

#[tokio::test]
async fn reading_a_conversation_marks_it_read_and_counts_go_down_exactly() {
    let app = spawn_app().await;
    let (a, b) = (app.signed_in_user().await, app.signed_in_user().await);
    let conversation = conversation_between(&app, &a, &b).await;

    let first = send_text(&app, &a, &b, &conversation, "one").await;
    first.expect(201);
    assert_eq!(
        first.ddb_calls(),
        4,
        "auth + 1 transaction (the message budget in it) + 1 Query per side for the pushes \
         (the message notification is the stream's)"
    );
    let message = first.data();
    assert_eq!(message["content"], "one");
    assert_eq!(message["messageType"], "text");
    assert_eq!(message["isRead"], false);
    assert_eq!(message["conversationId"], conversation.as_str());
    assert_eq!(message["recipientId"], b.id.as_str());
    assert_eq!(message["senderId"]["_id"], a.id.as_str());
    assert_eq!(message["senderId"]["username"], a.username.as_str());
    let second = send_text(&app, &a, &b, &conversation, "two").await;
    second.expect(201);
    assert_eq!(
        second.ddb_calls(),
        4,
        "auth + 1 transaction (with the budget) + 2 push Queries"
    );
    sent(&app, &a, &b, &conversation, "three").await;
    assert_eq!(unread(&app, &b).await, 3);
    assert_eq!(unread(&app, &a).await, 0);
    let count = app
        .get("/api/messages/unread-count", Some(&b.access_token))
        .await;
    assert_eq!(count.expect(200).ddb_calls(), 2, "auth + 1 GetItem");

    // The sender reading changes nothing.
    let by_sender = messages(&app, &a, &conversation, "").await;
    by_sender.expect(200);
    assert_eq!(
        by_sender.ddb_calls(),
        4,
        "auth + 1 GetItem (membership first) + 1 Query + 1 BatchGet"
    );
    assert_eq!(unread(&app, &b).await, 3);

    let read = messages(&app, &b, &conversation, "").await;
    read.expect(200);
    assert_eq!(
        read.ddb_calls(),
        6,
        "auth + 1 GetItem + 1 Query + 1 BatchGet + 1 transaction + 1 Query for the receipt push"
    );
    let list = &read.data()["messages"];
    let contents: Vec<&str> = list
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|m| m["content"].as_str())
        .collect();
    assert_eq!(contents, vec!["three", "two", "one"], "newest first");
    assert!(list
        .as_array()
        .into_iter()
        .flatten()
        .all(|m| m["isRead"] == true));
    assert_eq!(read.data()["pagination"]["totalMessages"], 3);
    assert_eq!(unread(&app, &b).await, 0);
    let inbox = conversations(&app, &b).await;
    assert_eq!(inbox["conversations"][0]["unreadCount"], 0);
    assert_eq!(inbox["conversations"][0]["lastMessage"]["isRead"], true);

    // Reading again writes nothing and keeps the count at zero.
    let again = messages(&app, &b, &conversation, "").await;
    again.expect(200);
    assert_eq!(again.ddb_calls(), 4);
    assert_eq!(unread(&app, &b).await, 0);
}

#[tokio::test]
async fn messages_page_by_limit_cursor_and_page() {
    let app = spawn_app().await;
    let (a, b) = (app.signed_in_user().await, app.signed_in_user().await);
    let conversation = conversation_between(&app, &a, &b).await;
    let mut sent_ids = Vec::new();
    for i in 0..5 {
        sent_ids.push(sent(&app, &a, &b, &conversation, &format!("m{i}")).await);
    }
    sent_ids.reverse();

    let first = messages(&app, &a, &conversation, "?limit=2").await;
    first.expect(200);
    assert_eq!(ids(&first.data()["messages"]), sent_ids[..2].to_vec());
    let pagination = &first.data()["pagination"];
    assert_eq!(pagination["hasMore"], true);
    assert_eq!(pagination["totalMessages"], 5);
    let cursor = pagination["nextCursor"].as_str().unwrap_or_default();
    let second = messages(
        &app,
        &a,
        &conversation,
        &format!("?limit=2&cursor={cursor}"),
    )
    .await;
    second.expect(200);
    assert_eq!(ids(&second.data()["messages"]), sent_ids[2..4].to_vec());
    let by_page = messages(&app, &a, &conversation, "?limit=2&page=2").await;
    by_page.expect(200);
    assert_eq!(ids(&by_page.data()["messages"]), sent_ids[2..4].to_vec());
    let last = messages(&app, &a, &conversation, "?limit=2&page=3").await;
    assert_eq!(
        ids(&last.expect(200).data()["messages"]),
        sent_ids[4..].to_vec()
    );
    messages(&app, &a, &conversation, "?limit=abc")
        .await
        .expect(400);
    messages(&app, &a, &conversation, "?cursor=!!")
        .await
        .expect(400);

    // The recipient reads only the newest page: the rest stays unread, exactly.
    messages(&app, &b, &conversation, "?limit=2")
        .await
        .expect(200);
    assert_eq!(unread(&app, &b).await, 3);
    messages(&app, &b, &conversation, "?limit=50")
        .await
        .expect(200);
    assert_eq!(unread(&app, &b).await, 0);
}

#[tokio::test]
async fn mark_read_is_for_the_recipient_and_idempotent() {
    let app = spawn_app().await;
    let (a, b, stranger) = (
        app.signed_in_user().await,
        app.signed_in_user().await,
        app.signed_in_user().await,
    );
    let conversation = conversation_between(&app, &a, &b).await;
    let first = sent(&app, &a, &b, &conversation, "first").await;
    sent(&app, &a, &b, &conversation, "second").await;
    assert_eq!(unread(&app, &b).await, 2);

    let path = format!("/api/messages/messages/{first}/read");
    let read = app
        .request(Method::PUT, &path, Some(&b.access_token), None)
        .await;
    read.expect(200);
    assert_eq!(read.data()["_id"], first.as_str());
    assert_eq!(read.data()["isRead"], true);
    assert_eq!(
        read.ddb_calls(),
        4,
        "auth + 1 Query + 1 transaction + 1 Query (push)"
    );
    assert_eq!(unread(&app, &b).await, 1);

    let again = app
        .request(Method::PUT, &path, Some(&b.access_token), None)
        .await;
    again.expect(200);
    assert_eq!(again.ddb_calls(), 2, "already read: nothing written");
    assert_eq!(unread(&app, &b).await, 1);
    let inbox = conversations(&app, &b).await;
    assert_eq!(inbox["conversations"][0]["unreadCount"], 1);

    app.request(Method::PUT, &path, Some(&a.access_token), None)
        .await
        .expect(403);
    app.request(Method::PUT, &path, Some(&stranger.access_token), None)
        .await
        .expect(404);
    app.request(
        Method::PUT,
        &format!("/api/messages/messages/{}/read", ulid::Ulid::new()),
        Some(&b.access_token),
        None,
    )
    .await
    .expect(404);
    app.request(Method::PUT, &path, None, None)
        .await
        .expect(401);
    assert_eq!(unread(&app, &b).await, 1);
}

#[tokio::test]
async fn the_sender_unsends_and_counts_follow() {
    let app = spawn_app().await;
    let (a, b, stranger) = (
        app.signed_in_user().await,
        app.signed_in_user().await,
        app.signed_in_user().await,
    );
    let conversation = conversation_between(&app, &a, &b).await;
    let older = sent(&app, &a, &b, &conversation, "keep me").await;
    let newer = sent(&app, &a, &b, &conversation, "unsend me").await;
    assert_eq!(unread(&app, &b).await, 2);

    let path = format!("/api/messages/messages/{newer}");
    app.request(Method::DELETE, &path, Some(&b.access_token), None)
        .await
        .expect(403);
    app.request(Method::DELETE, &path, Some(&stranger.access_token), None)
        .await
        .expect(404);
    app.request(Method::DELETE, &path, None, None)
        .await
        .expect(401);

    let unsent = app
        .request(Method::DELETE, &path, Some(&a.access_token), None)
        .await;
    unsent.expect(200);
    assert!(unsent.data().is_null());
    assert_eq!(
        unsent.ddb_calls(),
        5,
        "auth + 1 Query (find) + 1 transaction + 1 Query (newest) + 1 transaction (last message)"
    );
    assert_eq!(unread(&app, &b).await, 1);
    app.request(Method::DELETE, &path, Some(&a.access_token), None)
        .await
        .expect(404);

    let list = messages(&app, &a, &conversation, "").await;
    assert_eq!(
        ids(&list.expect(200).data()["messages"]),
        vec![older.clone()]
    );
    assert_eq!(list.data()["pagination"]["totalMessages"], 1);
    for user in [&a, &b] {
        let inbox = conversations(&app, user).await;
        assert_eq!(
            inbox["conversations"][0]["lastMessage"]["_id"],
            older.as_str()
        );
    }

    // A read message unsent takes nothing off the unread count.
    messages(&app, &b, &conversation, "").await.expect(200);
    assert_eq!(unread(&app, &b).await, 0);
    app.request(
        Method::DELETE,
        &format!("/api/messages/messages/{older}"),
        Some(&a.access_token),
        None,
    )
    .await
    .expect(200);
    assert_eq!(unread(&app, &b).await, 0);
    let inbox = conversations(&app, &b).await;
    assert!(inbox["conversations"][0]["lastMessage"].is_null());
}

#[tokio::test]
async fn non_participants_get_404_on_every_conversation_route() {
    let app = spawn_app().await;
    let (a, b, stranger) = (
        app.signed_in_user().await,
        app.signed_in_user().await,
        app.signed_in_user().await,
    );
    let conversation = conversation_between(&app, &a, &b).await;
    let message = sent(&app, &a, &b, &conversation, "private").await;

    let read = messages(&app, &stranger, &conversation, "").await;
    read.expect(404);
    assert_eq!(read.message(), "Conversation not found");
    let unknown = messages(&app, &a, &ulid::Ulid::new().to_string(), "").await;
    unknown.expect(404);
    // Posting into someone else's conversation, to either participant.
    for recipient in [&a, &b] {
        send_text(&app, &stranger, recipient, &conversation, "hi")
            .await
            .expect(404);
    }
    app.request(
        Method::PUT,
        &format!("/api/messages/messages/{message}/read"),
        Some(&stranger.access_token),
        None,
    )
    .await
    .expect(404);
    app.request(
        Method::DELETE,
        &format!("/api/messages/messages/{message}"),
        Some(&stranger.access_token),
        None,
    )
    .await
    .expect(404);
    assert!(conversations(&app, &stranger).await["conversations"]
        .as_array()
        .is_some_and(Vec::is_empty));
    assert_eq!(
        unread(&app, &b).await,
        1,
        "nothing the stranger did counted"
    );
    messages(&app, &a, &conversation, "").await.expect(200);
}

#[tokio::test]
async fn blocked_users_cannot_message_each_other() {
    let app = spawn_app().await;
    let (a, b, c) = (
        app.signed_in_user().await,
        app.signed_in_user().await,
        app.signed_in_user().await,
    );
    let conversation = conversation_between(&app, &a, &b).await;
    sent(&app, &a, &b, &conversation, "before").await;
    block(&app, &b, &a).await;

    for (from, to) in [(&a, &b), (&b, &a)] {
        let refused = send_text(&app, from, to, &conversation, "after").await;
        refused.expect(403);
        assert_eq!(refused.message(), "You cannot message this user");
    }
    assert_eq!(unread(&app, &b).await, 1);
    assert_eq!(unread(&app, &a).await, 0);
    app.post(
        "/api/messages/conversations",
        Some(&a.access_token),
        json!({ "userId": b.id }),
    )
    .await
    .expect(403);

    // A block before any conversation stops it from being created.
    block(&app, &a, &c).await;
    app.post(
        "/api/messages/conversations",
        Some(&c.access_token),
        json!({ "userId": a.id }),
    )
    .await
    .expect(403);
}

#[tokio::test]
async fn send_validates_its_input() {
    let app = spawn_app().await;
    let (a, b) = (app.signed_in_user().await, app.signed_in_user().await);
    let conversation = conversation_between(&app, &a, &b).await;
    let path = "/api/messages/messages";
    let post = |body: Value| app.post(path, Some(&a.access_token), body);

    let image = post(json!({
        "conversationId": conversation, "recipientId": b.id, "messageType": "image", "mediaKey": "uploads/x"
    }))
    .await;
    image.expect(400);
    assert!(
        image.body["errors"]["mediaKey"].is_string(),
        "{}",
        image.body
    );
    let no_image = post(
        json!({ "conversationId": conversation, "recipientId": b.id, "messageType": "image" }),
    )
    .await;
    no_image.expect(400);
    assert!(no_image.body["errors"]["mediaKey"].is_string());
    post(json!({ "conversationId": conversation, "recipientId": b.id, "messageType": "video", "content": "x" }))
        .await
        .expect(400);
    let empty =
        post(json!({ "conversationId": conversation, "recipientId": b.id, "content": "  " })).await;
    empty.expect(400);
    assert!(empty.body["errors"]["content"].is_string());
    post(json!({ "conversationId": conversation, "content": "no recipient" }))
        .await
        .expect(400);
    post(json!({ "conversationId": conversation, "recipientId": a.id, "content": "me" }))
        .await
        .expect(400);
    post(
        json!({ "conversationId": conversation, "recipientId": b.id, "content": "x".repeat(2001) }),
    )
    .await
    .expect(400);
    app.post(path, None, json!({ "recipientId": b.id, "content": "x" }))
        .await
        .expect(401);
    let huge = app
        .send(
            app.client
                .post(app.url(path))
                .bearer_auth(&a.access_token)
                .header("content-type", "application/json")
                .body(format!(r#"{{"content":"{}"}}"#, "x".repeat(1_100_000))),
        )
        .await;
    huge.expect(413);
    let form = app
        .send(
            app.client
                .post(app.url(path))
                .bearer_auth(&a.access_token)
                .header("content-type", "text/plain")
                .body("hello"),
        )
        .await;
    form.expect(415);
    // The conversation id is optional: it follows from the pair.
    let derived = app
        .post(
            path,
            Some(&a.access_token),
            json!({ "recipientId": b.id, "content": "hi" }),
        )
        .await;
    derived.expect(201);
    assert_eq!(derived.data()["conversationId"], conversation.as_str());
    assert_eq!(unread(&app, &b).await, 1);
}

#[tokio::test]
async fn concurrent_reads_count_each_message_once() {
    let app = spawn_app().await;
    let (a, b) = (app.signed_in_user().await, app.signed_in_user().await);
    let conversation = conversation_between(&app, &a, &b).await;
    let (one, two, three) = tokio::join!(
        sent(&app, &a, &b, &conversation, "one"),
        sent(&app, &a, &b, &conversation, "two"),
        sent(&app, &a, &b, &conversation, "three"),
    );
    assert_eq!(unread(&app, &b).await, 3, "concurrent sends all counted");
    let (app_ref, token) = (&app, &b.access_token);
    let mark = |id: String| async move {
        app_ref
            .request(
                Method::PUT,
                &format!("/api/messages/messages/{id}/read"),
                Some(token),
                None,
            )
            .await
    };
    // Different messages at once: every transaction succeeds, the counters move by one each.
    let (r1, r2, r3) = tokio::join!(mark(one.clone()), mark(two.clone()), mark(three.clone()));
    for response in [&r1, &r2, &r3] {
        response.expect(200);
    }
    assert_eq!(unread(&app, &b).await, 0, "each message counted off once");
    let inbox = conversations(&app, &b).await;
    assert_eq!(inbox["conversations"][0]["unreadCount"], 0);
    // Again, and reading the conversation: nothing is read twice, nothing goes below zero.
    mark(three).await.expect(200);
    messages(&app, &b, &conversation, "").await.expect(200);
    assert_eq!(unread(&app, &b).await, 0, "never below zero");
}

#[tokio::test]
async fn racing_reads_of_the_same_messages_count_each_once() {
    let app = spawn_app().await;
    let (a, b) = (app.signed_in_user().await, app.signed_in_user().await);
    let conversation = conversation_between(&app, &a, &b).await;
    let one = sent(&app, &a, &b, &conversation, "one").await;
    let two = sent(&app, &a, &b, &conversation, "two").await;
    sent(&app, &a, &b, &conversation, "three").await;
    assert_eq!(unread(&app, &b).await, 3);
    let (app_ref, token) = (&app, &b.access_token);
    let mark = |id: String| async move {
        app_ref
            .request(
                Method::PUT,
                &format!("/api/messages/messages/{id}/read"),
                Some(token),
                None,
            )
            .await
    };
    // The same messages marked by several requests at once, and the whole conversation read
    // twice meanwhile: the losers' transactions are cancelled and retried without them.
    let (r1, r2, r3, list1, list2) = tokio::join!(
        mark(one.clone()),
        mark(one.clone()),
        mark(two.clone()),
        messages(&app, &b, &conversation, ""),
        messages(&app, &b, &conversation, ""),
    );
    for response in [&r1, &r2, &r3, &list1, &list2] {
        response.expect(200);
    }
    assert_eq!(
        unread(&app, &b).await,
        0,
        "each message counted off exactly once"
    );
    let inbox = conversations(&app, &b).await;
    assert_eq!(inbox["conversations"][0]["unreadCount"], 0);
}

/// `POST /api/messages/messages` as multipart: the text fields plus an `image` part.
async fn multipart_send(
    app: &TestApp,
    from: &TestUser,
    fields: &[(&str, &str)],
    image: Option<Vec<u8>>,
) -> TestResponse {
    let mut form = reqwest::multipart::Form::new();
    for (name, value) in fields {
        form = form.text(name.to_string(), value.to_string());
    }
    if let Some(bytes) = image {
        let part = reqwest::multipart::Part::bytes(bytes)
            .file_name("photo.png")
            .mime_str("application/octet-stream")
            .unwrap_or_else(|e| panic!("{e}"));
        form = form.part("image", part);
    }
    let request = app
        .client
        .post(app.url("/api/messages/messages"))
        .bearer_auth(&from.access_token)
        .multipart(form);
    app.send(request).await
}

#[tokio::test]
async fn image_messages_arrive_by_multipart_and_by_presigned_upload() {
    let app = spawn_app().await;
    let (a, b) = (app.signed_in_user().await, app.signed_in_user().await);
    let conversation = conversation_between(&app, &a, &b).await;
    let mut b_socket = app.ws(&b).await;
    let fields = [
        ("conversationId", conversation.as_str()),
        ("recipientId", b.id.as_str()),
        ("messageType", "image"),
        ("content", "look"),
    ];

    let sent = multipart_send(&app, &a, &fields, Some(PNG.to_vec())).await;
    sent.expect(201);
    assert_eq!(sent.data()["messageType"], "image");
    assert_eq!(sent.data()["content"], "look");
    let url = sent.data()["mediaUrl"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert_eq!(fetch_bytes(&app, &url).await, PNG);
    let pushed = b_socket
        .expect_event("new_message", std::time::Duration::from_secs(1))
        .await;
    assert_eq!(pushed["data"]["_id"], sent.data()["_id"]);
    assert!(pushed["data"]["mediaUrl"].is_string());
    // Seed 001's `imageUrl`, which live clients read, beside `mediaUrl`, on REST and the frame.
    assert_eq!(sent.data()["imageUrl"], sent.data()["mediaUrl"]);
    assert_eq!(pushed["data"]["imageUrl"], pushed["data"]["mediaUrl"]);

    // The same through a presigned upload: the key is checked by its bytes and claimed once.
    let ticket = crate::uploads::ticket(&app, &a, "message", "image/png", PNG.len()).await;
    crate::uploads::put(&app, &ticket, PNG.to_vec()).await;
    let key = ticket["key"].as_str().unwrap_or_default().to_string();
    let body = json!({
        "conversationId": conversation, "recipientId": b.id, "messageType": "image", "mediaKey": key
    });
    let by_key = app
        .post(
            "/api/messages/messages",
            Some(&a.access_token),
            body.clone(),
        )
        .await;
    by_key.expect(201);
    let url = by_key.data()["mediaUrl"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert_eq!(fetch_bytes(&app, &url).await, PNG);
    app.post("/api/messages/messages", Some(&a.access_token), body)
        .await
        .expect(400);
    // Someone else's upload key is refused.
    let foreign = crate::uploads::ticket(&app, &b, "message", "image/png", PNG.len()).await;
    crate::uploads::put(&app, &foreign, PNG.to_vec()).await;
    app.post(
        "/api/messages/messages",
        Some(&a.access_token),
        json!({
            "conversationId": conversation, "recipientId": b.id, "messageType": "image",
            "mediaKey": foreign["key"]
        }),
    )
    .await
    .expect(403);

    // The recipient reads both images back, newest first.
    let listed = app
        .get(
            &format!("/api/messages/conversations/{conversation}/messages"),
            Some(&b.access_token),
        )
        .await;
    listed.expect(200);
    let messages = listed.data()["messages"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(messages.len(), 2);
    assert!(messages.iter().all(|m| m["mediaUrl"].is_string()));
    assert!(messages.iter().all(|m| m["imageUrl"].is_string()));

    // Unsending an image removes its object.
    let stored = app
        .state
        .db
        .find_message(sent.data()["_id"].as_str().unwrap_or_default())
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .and_then(|m| m.media_key)
        .unwrap_or_else(|| panic!("the image message keeps its media key"));
    assert!(object_exists(&app, &stored).await);
    app.request(
        Method::DELETE,
        &format!(
            "/api/messages/messages/{}",
            sent.data()["_id"].as_str().unwrap_or_default()
        ),
        Some(&a.access_token),
        None,
    )
    .await
    .expect(200);
    assert!(!object_exists(&app, &stored).await);
}

#[tokio::test]
async fn image_messages_refuse_other_types_and_oversized_files() {
    let app = spawn_app().await;
    let (a, b) = (app.signed_in_user().await, app.signed_in_user().await);
    let conversation = conversation_between(&app, &a, &b).await;
    let fields = [
        ("conversationId", conversation.as_str()),
        ("recipientId", b.id.as_str()),
        ("messageType", "image"),
    ];
    multipart_send(&app, &a, &fields, Some(b"just text, named .png".to_vec()))
        .await
        .expect(415);
    let mut big = PNG.to_vec();
    big.resize(10 * 1024 * 1024 + 1, 0);
    multipart_send(&app, &a, &fields, Some(big))
        .await
        .expect(413);
    multipart_send(&app, &a, &fields, None).await.expect(400);
    let text_with_image = [
        ("conversationId", conversation.as_str()),
        ("recipientId", b.id.as_str()),
        ("messageType", "text"),
        ("content", "hi"),
    ];
    multipart_send(&app, &a, &text_with_image, Some(PNG.to_vec()))
        .await
        .expect(400);
    // A blocked sender's image is refused and not left behind.
    block(&app, &b, &a).await;
    multipart_send(&app, &a, &fields, Some(PNG.to_vec()))
        .await
        .expect(403);
    assert_eq!(unread(&app, &b).await, 0);
}

#[tokio::test]
async fn a_first_message_to_a_recipient_starts_the_conversation() {
    let app = spawn_app().await;
    let (a, b, c) = (
        app.signed_in_user().await,
        app.signed_in_user().await,
        app.signed_in_user().await,
    );
    let path = "/api/messages/messages";
    let first = app
        .post(
            path,
            Some(&a.access_token),
            json!({ "recipientId": b.id, "content": "hello there" }),
        )
        .await;
    first.expect(201);
    let conversation = first.data()["conversationId"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    // The same conversation whoever asks for it, with the message in it, unread for b.
    assert_eq!(conversation_between(&app, &b, &a).await, conversation);
    assert_eq!(unread(&app, &b).await, 1);
    let listed = conversations(&app, &b).await;
    assert_eq!(
        listed["conversations"][0]["lastMessage"]["content"], "hello there",
        "{listed}"
    );

    // Naming a conversation that does not exist is still a 404; so is an unknown recipient.
    app.post(
        path,
        Some(&a.access_token),
        json!({ "conversationId": "01JXXXXXXXXXXXXXXXXXXXXXXX", "recipientId": c.id, "content": "x" }),
    )
    .await
    .expect(404);
    app.post(
        path,
        Some(&a.access_token),
        json!({ "recipientId": "01JXXXXXXXXXXXXXXXXXXXXXXX", "content": "x" }),
    )
    .await
    .expect(404);
    // A block stops the first message and creates nothing.
    block(&app, &c, &a).await;
    app.post(
        path,
        Some(&a.access_token),
        json!({ "recipientId": c.id, "content": "x" }),
    )
    .await
    .expect(403);
    let none = conversations(&app, &c).await;
    assert_eq!(none["conversations"].as_array().map(Vec::len), Some(0));
}

pub const ROUTES: &[Route] = &[
    ("GET", "/api/messages/conversations", Access::Token),
    ("POST", "/api/messages/conversations", Access::Token),
    (
        "GET",
        "/api/messages/conversations/{conversation_id}/messages",
        Access::Token,
    ),
    ("POST", "/api/messages/messages", Access::Token),
    (
        "PUT",
        "/api/messages/conversations/{conversation_id}/read",
        Access::Token,
    ),
    (
        "PUT",
        "/api/messages/messages/{message_id}/read",
        Access::Token,
    ),
    (
        "DELETE",
        "/api/messages/messages/{message_id}",
        Access::Token,
    ),
    ("GET", "/api/messages/unread-count", Access::Token),
];

#[tokio::test]
async fn every_route_needs_a_valid_token() {
    let app = spawn_app().await;
    assert_bad_tokens_get_401(&app, ROUTES).await;
}

#[tokio::test]
async fn every_list_refuses_bad_paging() {
    let app = spawn_app().await;
    let (a, b) = (app.signed_in_user().await, app.signed_in_user().await);
    let conversation = conversation_between(&app, &a, &b).await;
    let paths = [
        "/api/messages/conversations".to_string(),
        format!("/api/messages/conversations/{conversation}/messages"),
    ];
    assert_bad_paging_gets_400(&app, Some(&a.access_token), &paths).await;
}
