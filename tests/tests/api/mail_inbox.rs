//! The local mail inbox: `GET /_aws/ses?email=` lists what the stack sent in LocalStack's shape,
//! `DELETE /_aws/ses` clears it. Nothing reads moto's state dump (`/moto-api/` + `data.json`):
//! it serialises every service's whole state and stalls moto on a used table.

use std::path::{Path, PathBuf};

use api_tests::{spawn_app, unique_name, PASSWORD};
use serde_json::Value;

async fn inbox(app: &api_tests::TestApp, query: &[(&str, &str)]) -> Value {
    let response = app
        .client
        .get(app.url("/_aws/ses"))
        .query(query)
        .send()
        .await
        .unwrap_or_else(|e| panic!("GET /_aws/ses: {e}"));
    assert_eq!(response.status(), 200);
    response
        .json()
        .await
        .unwrap_or_else(|e| panic!("GET /_aws/ses body: {e}"))
}

#[tokio::test]
async fn sent_mail_is_listed_in_localstack_shape_and_can_be_cleared() {
    let app = spawn_app().await;
    let username = unique_name("inbox");
    let email = format!("{username}@example.com");
    app.register(&username, &email, PASSWORD).await.expect(201);
    let other = unique_name("inbox");
    app.register(&other, &format!("{other}@example.com"), PASSWORD)
        .await
        .expect(201);

    let listed = inbox(&app, &[("email", &email)]).await;
    let messages = listed["messages"]
        .as_array()
        .unwrap_or_else(|| panic!("no messages array: {listed}"));
    assert_eq!(messages.len(), 1, "only the mail to {email}: {listed}");
    let message = &messages[0];
    assert!(message["Id"].as_str().is_some_and(|id| !id.is_empty()));
    assert!(message["Timestamp"]
        .as_str()
        .is_some_and(|t| t.contains('T')));
    assert_eq!(message["Source"], "no-reply@insta.test");
    assert_eq!(message["Destination"]["ToAddresses"][0], email.as_str());
    assert_eq!(message["Subject"], "Verify your email");
    assert!(message["Body"]["text_part"]
        .as_str()
        .is_some_and(|t| t.contains("Verification code: ")));
    assert!(message["Body"].get("html_part").is_some());

    // One message by id, then a targeted delete, then clearing everything.
    let id = message["Id"].as_str().unwrap_or_default().to_string();
    let by_id = inbox(&app, &[("id", &id)]).await;
    assert_eq!(by_id["messages"].as_array().map(Vec::len), Some(1));
    let deleted = app
        .client
        .delete(app.url("/_aws/ses"))
        .query(&[("id", &id)])
        .send()
        .await
        .unwrap_or_else(|e| panic!("DELETE /_aws/ses: {e}"));
    assert_eq!(deleted.status(), 204);
    assert_eq!(
        inbox(&app, &[("email", &email)]).await["messages"],
        serde_json::json!([])
    );
    let all = inbox(&app, &[]).await;
    assert_eq!(all["messages"].as_array().map(Vec::len), Some(1), "{all}");
    let cleared = app
        .client
        .delete(app.url("/_aws/ses"))
        .send()
        .await
        .unwrap_or_else(|e| panic!("DELETE /_aws/ses: {e}"));
    assert_eq!(cleared.status(), 204);
    assert_eq!(inbox(&app, &[]).await["messages"], serde_json::json!([]));
}

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        let name = entry.file_name();
        if name == "target" || name.to_string_lossy().starts_with('.') {
            continue;
        }
        if path.is_dir() {
            files(&path, out);
        } else if path
            .extension()
            .is_some_and(|e| e == "rs" || e == "sh" || e == "py")
        {
            out.push(path);
        }
    }
}

#[test]
fn no_code_reads_motos_state_dump() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut found = Vec::new();
    files(&root, &mut found);
    assert!(found.len() > 20, "the scan found the sources");
    let dump = ["moto-api", "data.json"].join("/");
    let readers: Vec<_> = found
        .iter()
        .filter(|f| std::fs::read_to_string(f).is_ok_and(|text| text.contains(&dump)))
        .collect();
    assert!(readers.is_empty(), "{dump} is read by {readers:?}");
}
