//! The `ws` function binary, under the fake Lambda Runtime API, answers the JSON events API
//! Gateway's WebSocket API sends: `$connect` (with `?token=`), a route, `$default`, `$disconnect`.

use api_tests::lambda::FakeRuntime;
use api_tests::spawn_app;
use serde_json::Value;

fn fixture(name: &str, token: &str, connection_id: &str) -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let text = text
        .replace("__TOKEN__", token)
        .replace("__CONNECTION__", connection_id);
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

async fn start_ws() -> FakeRuntime {
    FakeRuntime::function("ws").await
}

fn body(answer: &Value) -> Value {
    serde_json::from_str(answer["body"].as_str().unwrap_or_default()).unwrap_or_default()
}

#[tokio::test]
async fn ws_function_answers_websocket_api_events() {
    let app = spawn_app().await;
    let user = app.signed_in_user().await;
    let runtime = start_ws().await;
    let connection_id = format!("fixture{}=", ulid::Ulid::new());

    let refused = runtime
        .invoke(fixture("ws-connect.json", "not-a-token", &connection_id))
        .await
        .unwrap_or_default();
    assert_eq!(refused["statusCode"], 401, "{refused}");
    assert_eq!(body(&refused)["event"], "error");
    assert_eq!(
        app.state
            .db
            .connection_user(&connection_id)
            .await
            .ok()
            .flatten(),
        None
    );

    let connected = runtime
        .invoke(fixture(
            "ws-connect.json",
            &user.access_token,
            &connection_id,
        ))
        .await
        .unwrap_or_default();
    assert_eq!(connected["statusCode"], 200, "{connected}");
    assert_eq!(
        app.state
            .db
            .connection_user(&connection_id)
            .await
            .ok()
            .flatten(),
        Some(user.id.clone()),
        "$connect stored the connection for the token's user"
    );

    let pong = runtime
        .invoke(fixture("ws-message-ping.json", "", &connection_id))
        .await
        .unwrap_or_default();
    assert_eq!(pong["statusCode"], 200, "{pong}");
    assert_eq!(body(&pong), serde_json::json!({ "event": "pong" }));

    let unknown = runtime
        .invoke(fixture("ws-message-default.json", "", &connection_id))
        .await
        .unwrap_or_default();
    assert_eq!(body(&unknown)["event"], "error", "{unknown}");
    assert!(body(&unknown)["data"]["message"].is_string());

    let disconnected = runtime
        .invoke(fixture("ws-disconnect.json", "", &connection_id))
        .await
        .unwrap_or_default();
    assert_eq!(disconnected["statusCode"], 200, "{disconnected}");
    assert_eq!(
        app.state
            .db
            .connection_user(&connection_id)
            .await
            .ok()
            .flatten(),
        None,
        "$disconnect removed the connection"
    );
}

#[test]
fn the_template_routes_what_the_local_emulation_routes() {
    let path = local::bootstrap::template_path();
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("template.yaml: {e}"));
    let template: serde_yaml::Value =
        serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("template.yaml: {e}"));
    let resources = template["Resources"]
        .as_mapping()
        .cloned()
        .unwrap_or_default();
    let api = &resources[&serde_yaml::Value::from("WebSocketApi")];
    assert_eq!(api["Properties"]["ProtocolType"], "WEBSOCKET");
    assert_eq!(
        api["Properties"]["RouteSelectionExpression"],
        "$request.body.action"
    );
    let mut route_keys: Vec<String> = resources
        .values()
        .filter(|r| r["Type"] == "AWS::ApiGatewayV2::Route")
        .filter_map(|r| r["Properties"]["RouteKey"].as_str().map(str::to_string))
        .collect();
    route_keys.sort();
    let mut expected: Vec<String> = local::websocket::ROUTES
        .iter()
        .map(|r| r.to_string())
        .chain(["$connect", "$disconnect", "$default"].map(String::from))
        .collect();
    expected.sort();
    assert_eq!(route_keys, expected);
}
