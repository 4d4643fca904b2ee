//! The WebSocket API with real WebSocket clients against the local emulation: connect auth,
//! delivery to every connection, typing, read receipts, stale connections meeting 410, and
//! sockets closed when their tokens are revoked.

use std::time::Duration;

use api_tests::{spawn_app, TestApp};
use reqwest::Method;
use serde_json::json;
use tokio_tungstenite::tungstenite;

use crate::messages::{conversation_between, sent, unread};

/// Delivery bound, counted from the moment the message is stored and acknowledged (the REST
/// response, or the socket's answer frame): pushes happen before either is sent.
const WITHIN: Duration = Duration::from_secs(1);
/// For an action whose own processing is included (a socket frame in, on a machine that runs the
/// whole suite in parallel), and that has no acknowledgement to start the clock from.
const PROCESSING: Duration = Duration::from_secs(5);
const QUIET: Duration = Duration::from_millis(300);
/// What comes from the table's stream (the poller, then the fanout handler) may take longer.
const STREAMED: Duration = Duration::from_secs(10);

async fn connection_record_exists(app: &TestApp, connection_id: &str) -> bool {
    let out = app
        .state
        .db
        .client
        .get_item()
        .table_name(&app.state.db.table)
        .set_key(Some(shared::db::keys::connection(connection_id).to_item()))
        .consistent_read(true)
        .send()
        .await
        .unwrap_or_else(|e| panic!("get connection: {e:?}"));
    out.item.is_some()
}

fn refused_status(result: Result<api_tests::WsClient, tungstenite::Error>) -> u16 {
    match result {
        Err(tungstenite::Error::Http(response)) => response.status().as_u16(),
        Err(other) => panic!("expected an HTTP refusal, got {other}"),
        Ok(_) => panic!("the connection was accepted"),
    }
}

#[tokio::test]
async fn connect_is_refused_without_or_with_a_bad_token() {
    let app = spawn_app().await;
    assert_eq!(refused_status(app.ws_connect(None).await), 401);
    assert_eq!(refused_status(app.ws_connect(Some("garbage")).await), 401);
    let user = app.signed_in_user().await;
    // A revoked token is refused too.
    let revoke = app
        .post(
            "/api/auth/invalidate-all-jwt-tokens",
            Some(&user.access_token),
            json!({}),
        )
        .await;
    revoke.expect(200);
    assert_eq!(
        refused_status(app.ws_connect(Some(&user.access_token)).await),
        401
    );
    let fresh = app.signed_in_user().await;
    let mut socket = app.ws(&fresh).await;
    socket.send_json(json!({ "action": "ping" })).await;
    assert_eq!(
        socket.expect_event("pong", PROCESSING).await,
        json!({ "event": "pong" })
    );
}

#[tokio::test]
async fn messages_reach_every_connection_over_rest_and_over_the_socket() {
    let app = spawn_app().await;
    let (a, b) = (app.signed_in_user().await, app.signed_in_user().await);
    let conversation = conversation_between(&app, &a, &b).await;
    let mut a_phone = app.ws(&a).await;
    let mut b_phone = app.ws(&b).await;
    let mut b_laptop = app.ws(&b).await;

    // Over REST: both of b's devices, and a's own socket (another device of the sender).
    let id = sent(&app, &a, &b, &conversation, "over rest").await;
    for socket in [&mut b_phone, &mut b_laptop, &mut a_phone] {
        let frame = socket.expect_event("new_message", WITHIN).await;
        assert_eq!(frame["data"]["_id"], id.as_str());
        assert_eq!(frame["data"]["content"], "over rest");
        assert_eq!(frame["data"]["senderId"]["_id"], a.id.as_str());
        assert_eq!(frame["data"]["conversationId"], conversation.as_str());
    }
    // The `message` notification follows from the table's stream, to b's devices only.
    for socket in [&mut b_phone, &mut b_laptop] {
        let frame = socket.expect_event("notification", STREAMED).await;
        assert_eq!(frame["data"]["type"], "message");
        assert_eq!(frame["data"]["conversationId"], conversation.as_str());
    }

    // Over the socket: the route answers the sender's socket; a and b's other device get pushes.
    b_phone
        .send_json(json!({
            "action": "sendMessage",
            "conversationId": conversation,
            "recipientId": a.id,
            "content": "over the socket",
        }))
        .await;
    let answer = b_phone.expect_event("new_message", PROCESSING).await;
    let socket_id = answer["data"]["_id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert_eq!(answer["data"]["content"], "over the socket");
    for socket in [&mut a_phone, &mut b_laptop] {
        let frame = socket.expect_event("new_message", WITHIN).await;
        assert_eq!(frame["data"]["_id"], socket_id.as_str());
        assert_eq!(frame["data"]["senderId"]["_id"], b.id.as_str());
    }
    b_phone.expect_silence(QUIET).await;

    // Stored before pushed: both are there over REST, and counted.
    assert_eq!(unread(&app, &a).await, 1);
    assert_eq!(unread(&app, &b).await, 1);

    // Errors come back as error frames on the caller's socket.
    b_phone
        .send_json(json!({ "action": "sendMessage", "recipientId": a.id, "content": "" }))
        .await;
    let error = b_phone.expect_event("error", PROCESSING).await;
    assert_eq!(error["data"]["message"], "content is required");
    b_phone.send_json(json!({ "action": "dance" })).await;
    b_phone.expect_event("error", PROCESSING).await;
    b_phone.send_json(json!("not an object")).await;
    b_phone.expect_event("error", PROCESSING).await;
}

#[tokio::test]
async fn typing_and_stop_typing_reach_the_other_side() {
    let app = spawn_app().await;
    let (a, b, stranger) = (
        app.signed_in_user().await,
        app.signed_in_user().await,
        app.signed_in_user().await,
    );
    let conversation = conversation_between(&app, &a, &b).await;
    let mut a_socket = app.ws(&a).await;
    let mut b_phone = app.ws(&b).await;
    let mut b_laptop = app.ws(&b).await;

    a_socket
        .send_json(
            json!({ "action": "typing", "conversationId": conversation, "recipientId": b.id }),
        )
        .await;
    for socket in [&mut b_phone, &mut b_laptop] {
        let frame = socket.expect_event("user_typing", PROCESSING).await;
        assert_eq!(
            frame["data"],
            json!({ "conversationId": conversation, "userId": a.id })
        );
    }
    a_socket
        .send_json(
            json!({ "action": "stop_typing", "conversationId": conversation, "recipientId": b.id }),
        )
        .await;
    for socket in [&mut b_phone, &mut b_laptop] {
        let frame = socket.expect_event("user_stop_typing", PROCESSING).await;
        assert_eq!(frame["data"]["userId"], a.id.as_str());
    }
    a_socket.expect_silence(QUIET).await;

    // A stranger cannot type into the conversation.
    let mut stranger_socket = app.ws(&stranger).await;
    stranger_socket
        .send_json(
            json!({ "action": "typing", "conversationId": conversation, "recipientId": b.id }),
        )
        .await;
    let error = stranger_socket.expect_event("error", PROCESSING).await;
    assert_eq!(error["data"]["message"], "Conversation not found");
    b_phone.expect_silence(QUIET).await;
}

#[tokio::test]
async fn read_receipts_flow_back_and_unread_counts_follow() {
    let app = spawn_app().await;
    let (a, b) = (app.signed_in_user().await, app.signed_in_user().await);
    let conversation = conversation_between(&app, &a, &b).await;
    let mut a_socket = app.ws(&a).await;
    let mut b_socket = app.ws(&b).await;

    let first = sent(&app, &a, &b, &conversation, "one").await;
    let second = sent(&app, &a, &b, &conversation, "two").await;
    b_socket.expect_event("new_message", WITHIN).await;
    b_socket.expect_event("new_message", WITHIN).await;
    a_socket.expect_event("new_message", WITHIN).await;
    a_socket.expect_event("new_message", WITHIN).await;
    assert_eq!(unread(&app, &b).await, 2);

    // markRead over the socket: an answer to the reader, a receipt to the sender.
    b_socket
        .send_json(json!({ "action": "markRead", "messageId": first }))
        .await;
    let answer = b_socket.expect_event("message_read", PROCESSING).await;
    assert_eq!(answer["data"]["_id"], first.as_str());
    let receipt = a_socket.expect_event("message_read", WITHIN).await;
    assert_eq!(receipt["data"]["messageIds"], json!([first]));
    assert_eq!(receipt["data"]["readBy"], b.id.as_str());
    assert_eq!(receipt["data"]["conversationId"], conversation.as_str());
    assert_eq!(unread(&app, &b).await, 1);

    // Marking it again is a no-op: no second receipt, no second decrement.
    b_socket
        .send_json(json!({ "action": "markRead", "messageId": first }))
        .await;
    b_socket.expect_event("message_read", PROCESSING).await;
    a_socket.expect_silence(QUIET).await;
    assert_eq!(unread(&app, &b).await, 1);

    // The sender cannot mark their own message.
    a_socket
        .send_json(json!({ "action": "markRead", "messageId": second }))
        .await;
    let refused = a_socket.expect_event("error", PROCESSING).await;
    assert_eq!(
        refused["data"]["message"],
        "Only the recipient can mark a message as read"
    );

    // Reading the conversation over REST sends a receipt for what it marked.
    let read = app
        .get(
            &format!("/api/messages/conversations/{conversation}/messages"),
            Some(&b.access_token),
        )
        .await;
    read.expect(200);
    let receipt = a_socket.expect_event("message_read", WITHIN).await;
    assert_eq!(receipt["data"]["messageIds"], json!([second]));
    assert_eq!(unread(&app, &b).await, 0);

    // And over REST's PUT, the same receipt.
    let third = sent(&app, &a, &b, &conversation, "three").await;
    assert_eq!(unread(&app, &b).await, 1);
    app.request(
        Method::PUT,
        &format!("/api/messages/messages/{third}/read"),
        Some(&b.access_token),
        None,
    )
    .await
    .expect(200);
    let receipt = a_socket.expect_event("message_read", WITHIN).await;
    assert_eq!(receipt["data"]["messageIds"], json!([third]));
    assert_eq!(unread(&app, &b).await, 0);
}

#[tokio::test]
async fn closed_connections_are_cleaned_up() {
    let app = spawn_app().await;
    let (a, b) = (app.signed_in_user().await, app.signed_in_user().await);
    let conversation = conversation_between(&app, &a, &b).await;

    // A record whose socket is long gone (its $disconnect never arrived): the push meets 410.
    let stale = format!("stale-{}", ulid::Ulid::new());
    app.state
        .db
        .put_connection(&stale, &b.id, 0, shared::time::now_epoch() + 900)
        .await
        .unwrap_or_else(|e| panic!("put connection: {e}"));
    let mut b_live = app.ws(&b).await;
    assert!(connection_record_exists(&app, &stale).await);
    sent(&app, &a, &b, &conversation, "hello").await;
    b_live.expect_event("new_message", WITHIN).await;
    assert!(
        !connection_record_exists(&app, &stale).await,
        "the push that met 410 deleted the stale connection"
    );
    let live = app
        .state
        .db
        .user_connections(&b.id)
        .await
        .unwrap_or_else(|e| panic!("connections: {e}"));
    assert_eq!(live.len(), 1, "only the live socket is left");

    // A socket that closes normally is removed by $disconnect.
    let connection_id = live[0].clone();
    b_live.close().await;
    let mut gone = false;
    for _ in 0..40 {
        if !connection_record_exists(&app, &connection_id).await {
            gone = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert!(gone, "$disconnect removed the connection");

    // The emulated Management API answers 410 for it now, as API Gateway does.
    let response = app
        .client
        .post(format!(
            "http://{}/@connections/{connection_id}",
            app.ws_address
        ))
        .body("{}")
        .send()
        .await
        .unwrap_or_else(|e| panic!("@connections: {e}"));
    assert_eq!(response.status().as_u16(), 410);
}

#[tokio::test]
async fn expired_connections_are_not_pushed_to() {
    let app = spawn_app().await;
    let user = app.signed_in_user().await;
    let expired = format!("expired-{}", ulid::Ulid::new());
    app.state
        .db
        .put_connection(&expired, &user.id, 0, shared::time::now_epoch() + 900)
        .await
        .unwrap_or_else(|e| panic!("put connection: {e}"));
    let key = shared::db::keys::connection(&expired);
    app.state
        .db
        .client
        .update_item()
        .table_name(&app.state.db.table)
        .set_key(Some(key.to_item()))
        .update_expression("SET #ttl = :past")
        .expression_attribute_names("#ttl", shared::db::keys::TTL)
        .expression_attribute_values(
            ":past",
            aws_sdk_dynamodb::types::AttributeValue::N((shared::time::now_epoch() - 1).to_string()),
        )
        .send()
        .await
        .unwrap_or_else(|e| panic!("expire: {e:?}"));
    // moto never deletes TTL items: the read filters them.
    assert!(connection_record_exists(&app, &expired).await);
    let live = app
        .state
        .db
        .user_connections(&user.id)
        .await
        .unwrap_or_else(|e| panic!("connections: {e}"));
    assert!(live.is_empty(), "expired connection listed: {live:?}");
    assert_eq!(
        app.state.db.connection_user(&expired).await.ok().flatten(),
        None
    );
}

#[tokio::test]
async fn revoking_tokens_closes_every_open_socket() {
    let app = spawn_app().await;
    let (a, b) = (app.signed_in_user().await, app.signed_in_user().await);
    let mut phone = app.ws(&a).await;
    let mut laptop = app.ws(&a).await;
    let mut other = app.ws(&b).await;
    app.post(
        "/api/auth/invalidate-all-jwt-tokens",
        Some(&a.access_token),
        json!({}),
    )
    .await
    .expect(200);
    phone.expect_closed(WITHIN).await;
    laptop.expect_closed(WITHIN).await;
    let left = app
        .state
        .db
        .user_connections(&a.id)
        .await
        .unwrap_or_else(|e| panic!("connections: {e}"));
    assert!(
        left.is_empty(),
        "records of closed sockets remain: {left:?}"
    );
    // Someone else's socket is untouched.
    other.send_json(json!({ "action": "ping" })).await;
    other.expect_event("pong", PROCESSING).await;

    // A password change closes the sockets opened with the old tokens too.
    let mut before = app.ws(&b).await;
    app.post(
        "/api/auth/change-password",
        Some(&b.access_token),
        json!({
            "currentPassword": api_tests::PASSWORD,
            "newPassword": "An0ther-secret!",
            "confirmPassword": "An0ther-secret!"
        }),
    )
    .await
    .expect(200);
    before.expect_closed(WITHIN).await;
    other.expect_closed(WITHIN).await;
}
