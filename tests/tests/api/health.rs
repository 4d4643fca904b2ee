use api_tests::spawn_app;

#[tokio::test]
async fn health_reports_ok_and_reaches_the_table() {
    let app = spawn_app().await;
    let response = app.get("/api/health", None).await;
    response.expect(200);
    assert_eq!(response.message(), "OK");
    assert_eq!(response.data()["status"], "OK");
    assert_eq!(response.ddb_calls(), 1);
}

#[tokio::test]
async fn alive_answers_pass_without_touching_the_table() {
    let app = spawn_app().await;
    let response = app.get("/api/alive", None).await;
    response.expect(200);
    assert_eq!(response.data()["status"], "pass");
    assert_eq!(response.ddb_calls(), 0);
}

#[tokio::test]
async fn unknown_routes_answer_the_envelope_404() {
    let app = spawn_app().await;
    let response = app.get("/api/nope", None).await;
    response.expect(404);
    assert_eq!(response.message(), "Route not found");
}
