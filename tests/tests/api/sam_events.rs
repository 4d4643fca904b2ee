//! The event files of `events/` (`sam local invoke <Fn> -e events/<fn>.json`): one per function
//! of template.yaml, each answered by that function's binary under the fake Lambda Runtime API
//! (what `sam local invoke` would do in Docker) with the API's envelope (fanout, the stream's
//! function, with its batch item failures).

use std::path::Path;

use api_tests::lambda::FakeRuntime;
use api_tests::spawn_app;
use serde_json::Value;

fn root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

/// `(function crate, logical id)` of every function in template.yaml.
fn template_functions() -> Vec<(String, String)> {
    let text = std::fs::read_to_string(root().join("template.yaml"))
        .unwrap_or_else(|e| panic!("template.yaml: {e}"));
    let template: serde_yaml::Value =
        serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("template.yaml: {e}"));
    template["Resources"]
        .as_mapping()
        .into_iter()
        .flatten()
        .filter(|(_, r)| r["Type"] == "AWS::Serverless::Function")
        .filter_map(|(id, r)| {
            let uri = r["Properties"]["CodeUri"].as_str()?;
            Some((
                uri.trim_start_matches("functions/").to_string(),
                id.as_str()?.to_string(),
            ))
        })
        .collect()
}

async fn answer(function: &str, event: Value) -> Value {
    FakeRuntime::function(function)
        .await
        .invoke(event)
        .await
        .unwrap_or_else(|| panic!("{function} gave no answer"))
}

#[tokio::test]
async fn every_function_answers_its_committed_event() {
    let _resources = spawn_app().await; // the table exists
    let functions = template_functions();
    assert!(functions.len() >= 13, "functions: {functions:?}");
    for (function, logical_id) in functions {
        let path = root().join("events").join(format!("{function}.json"));
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
            panic!("{logical_id} has no event file events/{function}.json: {e}")
        });
        let event: Value =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let answer = answer(&function, event).await;
        if function == "fanout" {
            // A stream batch (a like of a post that does not exist): nothing to notify, no
            // record failed.
            assert_eq!(
                answer,
                serde_json::json!({ "batchItemFailures": [] }),
                "{function}"
            );
            continue;
        }
        let status = answer["statusCode"].as_u64().unwrap_or_default();
        let body: Value =
            serde_json::from_str(answer["body"].as_str().unwrap_or_default()).unwrap_or_default();
        match function.as_str() {
            "docs" => {
                assert_eq!(status, 200, "{answer}");
                assert_eq!(body["openapi"], "3.0.3", "{function}");
            }
            "health" => {
                assert_eq!(status, 200, "{answer}");
                assert_eq!(body["data"]["status"], "OK");
            }
            // $connect without ?token= is refused.
            "ws" => assert_eq!(status, 401, "{answer}"),
            _ => {
                assert!((200..500).contains(&status), "{function}: {answer}");
                assert_eq!(body["success"], status < 400, "{function}: {answer}");
                assert!(body["message"].is_string(), "{function}: {answer}");
            }
        }
    }
}
