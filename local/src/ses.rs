//! The local mail inbox: every message the local stack sent, in LocalStack's shape.
//!
//! `GET /_aws/ses?email=<address>` lists the messages sent by or to that address (all without
//! it); `GET /_aws/ses?id=<MessageId>` one message; `DELETE /_aws/ses` clears the inbox
//! (`?id=` one message). Served by the local stack only: no Lambda has this route.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};
use shared::mail::{Outbox, SentMail};

#[derive(Deserialize)]
struct Filter {
    email: Option<String>,
    id: Option<String>,
}

pub fn router(outbox: Outbox) -> Router {
    Router::new()
        .route("/_aws/ses", get(list).delete(clear))
        .with_state(outbox)
}

async fn list(State(outbox): State<Outbox>, Query(filter): Query<Filter>) -> Json<Value> {
    let messages: Vec<Value> = outbox
        .list(filter.email.as_deref())
        .iter()
        .filter(|m| filter.id.as_deref().is_none_or(|id| m.id == id))
        .map(message)
        .collect();
    Json(json!({ "messages": messages }))
}

async fn clear(State(outbox): State<Outbox>, Query(filter): Query<Filter>) -> StatusCode {
    outbox.clear(filter.id.as_deref());
    StatusCode::NO_CONTENT
}

fn message(mail: &SentMail) -> Value {
    json!({
        "Id": mail.id,
        "Region": std::env::var("AWS_REGION").unwrap_or_else(|_| "us-east-1".into()),
        "Timestamp": mail.timestamp,
        "Source": mail.source,
        "Destination": { "ToAddresses": mail.to },
        "Subject": mail.subject,
        "Body": { "text_part": mail.text, "html_part": mail.html },
    })
}
