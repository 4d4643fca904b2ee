//! The WebSocket API as API Gateway runs it, on one local port: WebSocket clients connect here
//! (`ws://127.0.0.1:3001/?token=...`), each gets a connection id, and the `ws` function's handler
//! receives the same `ApiGatewayWebsocketProxyRequest` events API Gateway sends (`$connect` with
//! the query string, route selection on `$request.body.action`, `$disconnect`). A refused
//! `$connect` refuses the upgrade with its status. The same port answers the Management API
//! (`POST/GET/DELETE /@connections/{id}`, 410 Gone for unknown or closed connections), so the
//! functions' SDK client, pointed here, reaches real sockets. moto's own `@connections` never
//! answers 410 and breaks the SDK on GetConnection, hence this.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use aws_lambda_events::apigw::ApiGatewayWebsocketProxyRequest;
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use shared::AppState;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::Role;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

/// The routes the template declares besides `$connect`, `$disconnect` and `$default`.
pub const ROUTES: &[&str] = &["sendMessage", "typing", "stop_typing", "markRead", "ping"];

const MAX_HEAD: usize = 64 * 1024;
/// API Gateway's frame limit (128 KB) bounds what a push may carry.
const MAX_BODY: usize = 128 * 1024;

struct Connection {
    sender: mpsc::UnboundedSender<Message>,
    connected_at: String,
}

type Registry = Arc<Mutex<HashMap<String, Connection>>>;

/// Serves the WebSocket API and its `@connections` endpoint on `listener` until the task is dropped.
pub fn spawn_websocket(state: AppState, listener: TcpListener) -> JoinHandle<()> {
    let registry: Registry = Arc::default();
    let address = listener
        .local_addr()
        .map(|a| a.to_string())
        .unwrap_or_default();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _peer)) = listener.accept().await else {
                continue;
            };
            let state = state.clone();
            let registry = registry.clone();
            let address = address.clone();
            tokio::spawn(async move {
                if let Err(err) = serve_stream(state, registry, stream, &address).await {
                    tracing::debug!(%err, "websocket emulation: connection ended");
                }
            });
        }
    })
}

struct Head {
    method: String,
    target: String,
    headers: HashMap<String, String>,
    rest: Vec<u8>,
}

async fn read_head(stream: &mut TcpStream) -> std::io::Result<Option<Head>> {
    let mut buffer = Vec::with_capacity(1024);
    let mut chunk = [0u8; 4096];
    let end = loop {
        if let Some(pos) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break pos;
        }
        if buffer.len() > MAX_HEAD {
            return Ok(None);
        }
        let read = stream.read(&mut chunk).await?;
        if read == 0 {
            return Ok(None);
        }
        buffer.extend_from_slice(&chunk[..read]);
    };
    let text = String::from_utf8_lossy(&buffer[..end]).to_string();
    let mut lines = text.split("\r\n");
    let mut request_line = lines.next().unwrap_or_default().split_whitespace();
    let method = request_line.next().unwrap_or_default().to_string();
    let target = request_line.next().unwrap_or("/").to_string();
    let headers = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_string()))
        .collect();
    Ok(Some(Head {
        method,
        target,
        headers,
        rest: buffer[end + 4..].to_vec(),
    }))
}

async fn write_response(
    stream: &mut TcpStream,
    status: u16,
    extra_headers: &[(&str, &str)],
    body: &str,
) -> std::io::Result<()> {
    let reason = match status {
        200 => "OK",
        204 => "No Content",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        410 => "Gone",
        413 => "Payload Too Large",
        _ => "Error",
    };
    let mut response = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (name, value) in extra_headers {
        response.push_str(&format!("{name}: {value}\r\n"));
    }
    response.push_str("\r\n");
    response.push_str(body);
    stream.write_all(response.as_bytes()).await?;
    stream.shutdown().await
}

async fn serve_stream(
    state: AppState,
    registry: Registry,
    mut stream: TcpStream,
    address: &str,
) -> std::io::Result<()> {
    let Some(head) = read_head(&mut stream).await? else {
        return Ok(());
    };
    let is_upgrade = head
        .headers
        .get("upgrade")
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"));
    if is_upgrade {
        return websocket(state, registry, stream, head, address).await;
    }
    let path = head.target.split('?').next().unwrap_or_default();
    match path.strip_prefix("/@connections/") {
        Some(id) if !id.is_empty() => {
            let id = percent_decode(id);
            management(registry, stream, head, &id).await
        }
        _ => write_response(
            &mut stream,
            404,
            &[],
            r#"{"message":"Not found: connect with a WebSocket client or use /@connections/{id}"}"#,
        )
        .await,
    }
}

/// The Management API: what `aws_sdk_apigatewaymanagement` calls.
async fn management(
    registry: Registry,
    mut stream: TcpStream,
    head: Head,
    connection_id: &str,
) -> std::io::Result<()> {
    let length: usize = head
        .headers
        .get("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    if length > MAX_BODY {
        return write_response(&mut stream, 413, &[], r#"{"message":"Payload too large"}"#).await;
    }
    let mut body = head.rest;
    while body.len() < length {
        let mut chunk = vec![0u8; length - body.len()];
        let read = stream.read(&mut chunk).await?;
        if read == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..read]);
    }
    let (status, answer) = {
        let mut connections = registry.lock().unwrap_or_else(|e| e.into_inner());
        match (head.method.as_str(), connections.get(connection_id)) {
            (_, None) => (410, None),
            ("POST", Some(connection)) => {
                let frame = String::from_utf8_lossy(&body).to_string();
                if connection.sender.send(Message::text(frame)).is_ok() {
                    (200, Some(String::new()))
                } else {
                    connections.remove(connection_id);
                    (410, None)
                }
            }
            ("GET", Some(connection)) => (
                200,
                Some(
                    json!({
                        "connectedAt": connection.connected_at,
                        "lastActiveAt": shared::time::now_rfc3339(),
                        "identity": { "sourceIp": "127.0.0.1", "userAgent": "local" },
                    })
                    .to_string(),
                ),
            ),
            ("DELETE", Some(connection)) => {
                let _ = connection.sender.send(Message::Close(None));
                connections.remove(connection_id);
                (204, Some(String::new()))
            }
            _ => (404, Some(r#"{"message":"Unsupported method"}"#.to_string())),
        }
    };
    match answer {
        Some(body) => write_response(&mut stream, status, &[], &body).await,
        None => {
            let body =
                json!({ "message": format!("Connection {connection_id} is gone") }).to_string();
            write_response(
                &mut stream,
                410,
                &[("x-amzn-ErrorType", "GoneException")],
                &body,
            )
            .await
        }
    }
}

fn percent_decode(raw: &str) -> String {
    fn hex(byte: u8) -> Option<u8> {
        (byte as char)
            .to_digit(16)
            .and_then(|d| u8::try_from(d).ok())
    }
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match (
            bytes[i],
            bytes.get(i + 1).copied().and_then(hex),
            bytes.get(i + 2).copied().and_then(hex),
        ) {
            (b'%', Some(high), Some(low)) => {
                out.push(high * 16 + low);
                i += 3;
            }
            (b'+', _, _) => {
                out.push(b' ');
                i += 1;
            }
            (byte, _, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).to_string()
}

fn query_parameters(target: &str) -> (Value, Value) {
    let mut single = serde_json::Map::new();
    let mut multi: serde_json::Map<String, Value> = serde_json::Map::new();
    if let Some((_, query)) = target.split_once('?') {
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            let (name, value) = (percent_decode(name), percent_decode(value));
            single.insert(name.clone(), json!(value));
            match multi.get_mut(&name).and_then(Value::as_array_mut) {
                Some(values) => values.push(json!(value)),
                None => {
                    multi.insert(name, json!([value]));
                }
            }
        }
    }
    if single.is_empty() {
        (Value::Null, Value::Null)
    } else {
        (Value::Object(single), Value::Object(multi))
    }
}

/// The event API Gateway sends for `route_key` on `connection_id`.
fn event(
    route_key: &str,
    connection_id: &str,
    address: &str,
    connected_at: i64,
    extra: Value,
) -> ApiGatewayWebsocketProxyRequest {
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or_default())
        .unwrap_or_default();
    let event_type = match route_key {
        "$connect" => "CONNECT",
        "$disconnect" => "DISCONNECT",
        _ => "MESSAGE",
    };
    let mut value = json!({
        "requestContext": {
            "routeKey": route_key,
            "eventType": event_type,
            "extendedRequestId": ulid::Ulid::new().to_string(),
            "requestTime": shared::time::now_rfc3339(),
            "messageDirection": "IN",
            "stage": "local",
            "connectedAt": connected_at,
            "requestTimeEpoch": now_ms,
            "identity": { "sourceIp": "127.0.0.1" },
            "requestId": ulid::Ulid::new().to_string(),
            "domainName": address,
            "connectionId": connection_id,
            "apiId": "local",
        },
        "isBase64Encoded": false,
    });
    if let (Some(target), Some(extra)) = (value.as_object_mut(), extra.as_object()) {
        for (key, field) in extra {
            if key == "requestContext" {
                if let (Some(context), Some(more)) = (
                    target
                        .get_mut("requestContext")
                        .and_then(Value::as_object_mut),
                    field.as_object(),
                ) {
                    context.extend(more.clone());
                }
            } else {
                target.insert(key.clone(), field.clone());
            }
        }
    }
    serde_json::from_value(value).unwrap_or_default()
}

/// Route selection on `$request.body.action`, as the template declares it.
fn route_key(frame: &str) -> String {
    serde_json::from_str::<Value>(frame)
        .ok()
        .and_then(|v| v.get("action").and_then(Value::as_str).map(str::to_string))
        .filter(|action| ROUTES.contains(&action.as_str()))
        .unwrap_or_else(|| "$default".to_string())
}

fn body_text(response: &aws_lambda_events::apigw::ApiGatewayProxyResponse) -> Option<String> {
    match &response.body {
        Some(aws_lambda_events::encodings::Body::Text(text)) => Some(text.clone()),
        Some(aws_lambda_events::encodings::Body::Binary(bytes)) => {
            Some(String::from_utf8_lossy(bytes).to_string())
        }
        _ => None,
    }
}

async fn websocket(
    state: AppState,
    registry: Registry,
    mut stream: TcpStream,
    head: Head,
    address: &str,
) -> std::io::Result<()> {
    let Some(key) = head.headers.get("sec-websocket-key").cloned() else {
        return write_response(
            &mut stream,
            400,
            &[],
            r#"{"message":"Missing Sec-WebSocket-Key"}"#,
        )
        .await;
    };
    let connection_id = ulid::Ulid::new().to_string();
    let connected_at = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or_default())
        .unwrap_or_default();
    let headers: serde_json::Map<String, Value> = head
        .headers
        .iter()
        .map(|(k, v)| (k.clone(), json!(v)))
        .collect();
    let (query, multi_query) = query_parameters(&head.target);
    let connect = event(
        "$connect",
        &connection_id,
        address,
        connected_at,
        json!({
            "headers": headers,
            "queryStringParameters": query,
            "multiValueQueryStringParameters": multi_query,
        }),
    );
    let answer = shared::calls::as_function("ws", ws::handle(&state, connect)).await;
    if !(200..300).contains(&answer.status_code) {
        let status = u16::try_from(answer.status_code).unwrap_or(500);
        let body = body_text(&answer).unwrap_or_default();
        return write_response(&mut stream, status, &[], &body).await;
    }
    let accept = derive_accept_key(key.as_bytes());
    stream
        .write_all(
            format!(
                "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n"
            )
            .as_bytes(),
        )
        .await?;
    let socket = WebSocketStream::from_raw_socket(stream, Role::Server, None).await;
    let (mut sink, mut source) = socket.split();
    let (sender, mut outgoing) = mpsc::unbounded_channel::<Message>();
    registry.lock().unwrap_or_else(|e| e.into_inner()).insert(
        connection_id.clone(),
        Connection {
            sender: sender.clone(),
            connected_at: shared::time::now_rfc3339(),
        },
    );
    let writer = tokio::spawn(async move {
        while let Some(message) = outgoing.recv().await {
            let closing = matches!(message, Message::Close(_));
            if sink.send(message).await.is_err() || closing {
                break;
            }
        }
        let _ = sink.close().await;
    });

    let mut status = 1000;
    while let Some(incoming) = source.next().await {
        let frame = match incoming {
            Ok(Message::Text(text)) => text.to_string(),
            Ok(Message::Binary(bytes)) => String::from_utf8_lossy(&bytes).to_string(),
            Ok(Message::Close(_)) => break,
            Ok(_) => continue,
            Err(_) => {
                status = 1006;
                break;
            }
        };
        let route = route_key(&frame);
        let message = event(
            &route,
            &connection_id,
            address,
            connected_at,
            json!({
                "body": frame,
                "requestContext": { "messageId": ulid::Ulid::new().to_string() },
            }),
        );
        let answer = shared::calls::as_function("ws", ws::handle(&state, message)).await;
        if let Some(body) = body_text(&answer) {
            if sender.send(Message::text(body)).is_err() {
                break;
            }
        }
    }

    registry
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .remove(&connection_id);
    drop(sender);
    writer.abort();
    let disconnect = event(
        "$disconnect",
        &connection_id,
        address,
        connected_at,
        json!({
            "requestContext": {
                "disconnectStatusCode": status,
                "disconnectReason": "Client closed the connection",
            },
        }),
    );
    shared::calls::as_function("ws", ws::handle(&state, disconnect)).await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_select_on_the_action() {
        assert_eq!(route_key(r#"{"action":"ping"}"#), "ping");
        assert_eq!(route_key(r#"{"action":"nope"}"#), "$default");
        assert_eq!(route_key("not json"), "$default");
    }

    #[test]
    fn query_strings_decode() {
        let (single, multi) = query_parameters("/?token=a%2Eb&x=1&x=2");
        assert_eq!(single["token"], "a.b");
        assert_eq!(multi["x"], json!(["1", "2"]));
        assert_eq!(query_parameters("/").0, Value::Null);
    }
}
