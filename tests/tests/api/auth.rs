//! Every `/api/auth` route: success and every unhappy path.

use std::collections::HashSet;

use api_tests::{spawn_app, unique_name, TestApp, PASSWORD};
use aws_sdk_dynamodb::types::AttributeValue;
use futures_util::future::join_all;
use serde_json::json;

fn email_for(username: &str) -> String {
    format!("{username}@example.com")
}

/// Rewrites an attribute of an item straight in the table (simulates time passing or an admin).
async fn set_attribute(app: &TestApp, pk: &str, sk: &str, name: &str, value: AttributeValue) {
    let result = app
        .state
        .db
        .client
        .update_item()
        .table_name(&app.state.db.table)
        .key("PK", AttributeValue::S(pk.into()))
        .key("SK", AttributeValue::S(sk.into()))
        .update_expression("SET #a = :v")
        .expression_attribute_names("#a", name)
        .expression_attribute_values(":v", value)
        .send()
        .await;
    assert!(result.is_ok(), "update failed: {result:?}");
}

// ---------- register ----------

#[tokio::test]
async fn register_creates_an_unverified_user_and_mails_a_link_and_a_code() {
    let app = spawn_app().await;
    let username = unique_name("reg");
    let email = email_for(&username);
    let response = app
        .register(&username.to_uppercase(), &email.to_uppercase(), PASSWORD)
        .await;
    response.expect(201);
    let user = &response.data()["user"];
    assert_eq!(
        user["username"],
        username.as_str(),
        "usernames are lower-cased"
    );
    assert_eq!(user["email"], email.as_str(), "emails are lower-cased");
    assert_eq!(user["isVerified"], false);
    assert!(user["_id"].as_str().is_some_and(|id| id.len() == 26));
    assert!(user.get("passwordHash").is_none() && user.get("password").is_none());
    assert_eq!(
        response.ddb_calls(),
        2,
        "the per-source budget (1 UpdateItem), then one transaction"
    );

    let mail = app.last_mail(&email, "Verify").await;
    assert_eq!(mail.field("Verification code").len(), 6);
    assert!(mail.body.contains("http://app.test/verify-email/"));
}

#[tokio::test]
async fn register_names_each_invalid_field() {
    let app = spawn_app().await;
    let good = json!({
        "email": "ok@example.com", "username": unique_name("ok"), "password": PASSWORD,
        "confirmPassword": PASSWORD, "fullName": "Ok"
    });
    let cases = [
        ("email", json!("not-an-email")),
        ("email", json!("")),
        ("username", json!("a")),
        ("username", json!("has space")),
        ("username", json!("x".repeat(31))),
        ("password", json!("short")),
        ("confirmPassword", json!("different-password")),
        ("fullName", json!("")),
        ("fullName", json!("n".repeat(61))),
    ];
    for (field, value) in cases {
        let mut body = good.clone();
        body[field] = value.clone();
        let response = app.post("/api/auth/register", None, body).await;
        response.expect(400);
        assert!(
            response.body["errors"][field].is_string(),
            "{field}={value} should be named: {}",
            response.body
        );
        assert!(
            response.message().contains(field),
            "message names {field}: {}",
            response.message()
        );
    }
}

#[tokio::test]
async fn register_rejects_bodies_that_are_not_json() {
    let app = spawn_app().await;
    let no_type = app
        .send(app.client.post(app.url("/api/auth/register")).body("{}"))
        .await;
    no_type.expect(415);
    let malformed = app
        .send(
            app.client
                .post(app.url("/api/auth/register"))
                .header("content-type", "application/json")
                .body("{not json"),
        )
        .await;
    malformed.expect(400);
    let huge = app
        .send(
            app.client
                .post(app.url("/api/auth/register"))
                .header("content-type", "application/json")
                .body(format!(
                    "{{\"fullName\":\"{}\"}}",
                    "x".repeat(2 * 1024 * 1024)
                )),
        )
        .await;
    huge.expect(413);
}

#[tokio::test]
async fn register_refuses_a_taken_username_or_email_with_409() {
    let app = spawn_app().await;
    let user = app.signed_in_user().await;
    let other = unique_name("other");

    let same_name = app
        .register(&user.username.to_uppercase(), &email_for(&other), PASSWORD)
        .await;
    same_name.expect(409);
    assert_eq!(same_name.message(), "Username already taken");

    let same_email = app
        .register(&other, &user.email.to_uppercase(), PASSWORD)
        .await;
    same_email.expect(409);
    assert_eq!(same_email.message(), "Email already registered");

    // The losing attempts claimed nothing: the other name is still free.
    app.register(&other, &email_for(&other), PASSWORD)
        .await
        .expect(201);
}

#[tokio::test]
async fn twenty_concurrent_registrations_of_one_username_create_exactly_one_user() {
    // Its own table: moto rolls 19 failed transactions back by restoring table snapshots,
    // which would undo the other tests' writes to a shared table.
    let app = crate::social_support::spawn_isolated_app().await;
    let username = unique_name("race");
    let attempts = (0..20).map(|i| {
        let email = format!("{username}.{i}@example.com");
        let app = &app;
        let username = username.clone();
        async move {
            app.register(&username, &email, PASSWORD)
                .await
                .status
                .as_u16()
        }
    });
    let statuses = join_all(attempts).await;
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 409).count(),
        19,
        "{statuses:?}"
    );
}

// ---------- login ----------

#[tokio::test]
async fn login_by_email_or_username_returns_both_token_shapes() {
    let app = spawn_app().await;
    let user = app.signed_in_user().await;
    for identifier in [user.email.to_uppercase(), user.username.clone()] {
        let response = app.login(&identifier, PASSWORD).await;
        response.expect(200);
        let data = response.data();
        assert_eq!(data["user"]["_id"], user.id.as_str());
        assert_eq!(data["user"]["email"], user.email.as_str());
        assert!(data["accessToken"].is_string() && data["refreshToken"].is_string());
        assert_eq!(data["tokens"]["accessToken"], data["accessToken"]);
        assert_eq!(data["tokens"]["refreshToken"], data["refreshToken"]);
    }
    let profile_check = app
        .post(
            "/api/auth/verify-jwt-token",
            Some(&user.access_token),
            json!({}),
        )
        .await;
    profile_check.expect(200);
}

#[tokio::test]
async fn unknown_user_and_wrong_password_answer_the_same_401() {
    let app = spawn_app().await;
    let user = app.signed_in_user().await;
    let wrong = app.login(&user.email, "wrong-password").await;
    let unknown = app.login("nobody-here@example.com", PASSWORD).await;
    wrong.expect(401);
    unknown.expect(401);
    assert_eq!(wrong.body, unknown.body);
}

#[tokio::test]
async fn login_requires_an_identifier_and_a_password() {
    let app = spawn_app().await;
    app.post("/api/auth/login", None, json!({ "password": PASSWORD }))
        .await
        .expect(400);
    app.post("/api/auth/login", None, json!({ "email": "a@b.co" }))
        .await
        .expect(400);
}

#[tokio::test]
async fn repeated_failed_logins_are_locked_out_with_429_and_retry_after() {
    let app = spawn_app().await;
    let user = app.signed_in_user().await;
    for _ in 0..5 {
        app.login(&user.email, "wrong-password").await.expect(401);
    }
    let locked = app.login(&user.email, PASSWORD).await;
    locked.expect(429);
    let retry_after: u64 = locked.headers["retry-after"]
        .to_str()
        .unwrap_or("0")
        .parse()
        .unwrap_or(0);
    assert!(
        (1..=900).contains(&retry_after),
        "Retry-After {retry_after}"
    );
    // One budget per account: the username waits out the same window.
    app.login(&user.username, PASSWORD).await.expect(429);
}

#[tokio::test]
async fn a_disabled_account_cannot_log_in_and_its_tokens_stop_working() {
    let app = spawn_app().await;
    let user = app.signed_in_user().await;
    set_attribute(
        &app,
        &format!("USER#{}", user.id),
        "PROFILE",
        "status",
        AttributeValue::S("disabled".into()),
    )
    .await;
    app.login(&user.email, PASSWORD).await.expect(403);
    app.post(
        "/api/auth/verify-jwt-token",
        Some(&user.access_token),
        json!({}),
    )
    .await
    .expect(401);
    app.post(
        "/api/auth/refresh-token",
        None,
        json!({ "refreshToken": user.refresh_token }),
    )
    .await
    .expect(401);
}

// ---------- refresh and logout ----------

#[tokio::test]
async fn refresh_rotates_the_pair_and_spends_the_old_token() {
    let app = spawn_app().await;
    let user = app.signed_in_user().await;
    let response = app
        .post(
            "/api/auth/refresh-token",
            None,
            json!({ "refreshToken": user.refresh_token }),
        )
        .await;
    response.expect(200);
    assert_eq!(response.ddb_calls(), 2, "BatchGet + conditional update");
    let new_refresh = response.data()["refreshToken"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let new_access = response.data()["accessToken"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert_ne!(new_refresh, user.refresh_token);
    assert_eq!(
        response.data()["tokens"]["refreshToken"],
        new_refresh.as_str()
    );
    app.post("/api/auth/verify-jwt-token", Some(&new_access), json!({}))
        .await
        .expect(200);
    app.post(
        "/api/auth/refresh-token",
        None,
        json!({ "refreshToken": new_refresh }),
    )
    .await
    .expect(200);
}

#[tokio::test]
async fn reusing_a_spent_refresh_token_revokes_the_whole_family() {
    let app = spawn_app().await;
    let user = app.signed_in_user().await;
    let rotated = app
        .post(
            "/api/auth/refresh-token",
            None,
            json!({ "refreshToken": user.refresh_token }),
        )
        .await;
    rotated.expect(200);
    let current = rotated.data()["refreshToken"]
        .as_str()
        .unwrap_or_default()
        .to_string();

    let replay = app
        .post(
            "/api/auth/refresh-token",
            None,
            json!({ "refreshToken": user.refresh_token }),
        )
        .await;
    replay.expect(401);
    assert!(replay.message().contains("reuse"), "{}", replay.message());
    // The legitimate holder's newer token died with the family.
    app.post(
        "/api/auth/refresh-token",
        None,
        json!({ "refreshToken": current }),
    )
    .await
    .expect(401);
}

#[tokio::test]
async fn refresh_rejects_missing_malformed_and_forged_tokens() {
    let app = spawn_app().await;
    let user = app.signed_in_user().await;
    app.post("/api/auth/refresh-token", None, json!({}))
        .await
        .expect(400);
    app.post(
        "/api/auth/refresh-token",
        None,
        json!({ "refreshToken": "garbage" }),
    )
    .await
    .expect(401);
    let mut parts: Vec<&str> = user.refresh_token.split('.').collect();
    let forged_secret = "A".repeat(43);
    parts[2] = &forged_secret;
    app.post(
        "/api/auth/refresh-token",
        None,
        json!({ "refreshToken": parts.join(".") }),
    )
    .await
    .expect(401);
    // A forged secret does not revoke the real session.
    app.post(
        "/api/auth/refresh-token",
        None,
        json!({ "refreshToken": user.refresh_token }),
    )
    .await
    .expect(200);
}

#[tokio::test]
async fn logout_ends_that_session_only() {
    let app = spawn_app().await;
    let user = app.signed_in_user().await;
    let second = app.login(&user.email, PASSWORD).await;
    let second_refresh = second.data()["refreshToken"]
        .as_str()
        .unwrap_or_default()
        .to_string();

    app.post(
        "/api/auth/logout",
        None,
        json!({ "refreshToken": user.refresh_token }),
    )
    .await
    .expect(401);
    let response = app
        .post(
            "/api/auth/logout",
            Some(&user.access_token),
            json!({ "refreshToken": user.refresh_token }),
        )
        .await;
    response.expect(200);
    assert_eq!(response.message(), "Logout successful");
    app.post(
        "/api/auth/refresh-token",
        None,
        json!({ "refreshToken": user.refresh_token }),
    )
    .await
    .expect(401);
    app.post(
        "/api/auth/refresh-token",
        None,
        json!({ "refreshToken": second_refresh }),
    )
    .await
    .expect(200);
    app.post("/api/auth/logout", Some(&user.access_token), json!({}))
        .await
        .expect(400);
}

#[tokio::test]
async fn logout_refuses_another_users_refresh_token() {
    let app = spawn_app().await;
    let alice = app.signed_in_user().await;
    let bob = app.signed_in_user().await;
    app.post(
        "/api/auth/logout",
        Some(&alice.access_token),
        json!({ "refreshToken": bob.refresh_token }),
    )
    .await
    .expect(403);
    app.post(
        "/api/auth/refresh-token",
        None,
        json!({ "refreshToken": bob.refresh_token }),
    )
    .await
    .expect(200);
}

// ---------- email verification ----------

#[tokio::test]
async fn the_emailed_link_verifies_once() {
    let app = spawn_app().await;
    let user = app.signed_in_user().await;
    let token = app
        .last_mail(&user.email, "Verify")
        .await
        .field("Verification token");
    let response = app
        .post(&format!("/api/auth/verify-email/{token}"), None, json!({}))
        .await;
    response.expect(200);
    assert_eq!(response.data()["user"]["isVerified"], true);
    app.post(&format!("/api/auth/verify-email/{token}"), None, json!({}))
        .await
        .expect(400);
    app.post("/api/auth/verify-email/not-a-token", None, json!({}))
        .await
        .expect(400);
    let login = app.login(&user.email, PASSWORD).await;
    assert_eq!(login.data()["user"]["isVerified"], true);
}

#[tokio::test]
async fn an_expired_link_is_refused_even_while_its_item_exists() {
    let app = spawn_app().await;
    let user = app.signed_in_user().await;
    let token = app
        .last_mail(&user.email, "Verify")
        .await
        .field("Verification token");
    set_attribute(
        &app,
        &format!("USER#{}", user.id),
        "TOKEN#verify",
        "expiresAt",
        AttributeValue::N("1000".into()),
    )
    .await;
    app.post(&format!("/api/auth/verify-email/{token}"), None, json!({}))
        .await
        .expect(400);
}

#[tokio::test]
async fn the_code_verifies_once_and_wrong_codes_are_limited() {
    let app = spawn_app().await;
    let user = app.signed_in_user().await;
    let code = app
        .last_mail(&user.email, "Verify")
        .await
        .field("Verification code");
    let wrong = if code == "000000" { "111111" } else { "000000" };

    app.post(
        "/api/auth/verify-by-code",
        None,
        json!({ "email": user.email, "code": "12ab" }),
    )
    .await
    .expect(400);
    app.post("/api/auth/verify-by-code", None, json!({ "code": code }))
        .await
        .expect(400);
    app.post(
        "/api/auth/verify-by-code",
        None,
        json!({ "email": user.email, "code": wrong }),
    )
    .await
    .expect(400);
    let ok = app
        .post(
            "/api/auth/verify-by-code",
            None,
            json!({ "email": user.email.to_uppercase(), "code": code }),
        )
        .await;
    ok.expect(200);
    assert_eq!(ok.data()["user"]["isVerified"], true);
    app.post(
        "/api/auth/verify-by-code",
        None,
        json!({ "email": user.email, "code": code }),
    )
    .await
    .expect(400);
}

#[tokio::test]
async fn after_five_wrong_codes_even_the_right_one_is_refused() {
    let app = spawn_app().await;
    let user = app.signed_in_user().await;
    let code = app
        .last_mail(&user.email, "Verify")
        .await
        .field("Verification code");
    let wrong = if code == "000000" { "111111" } else { "000000" };
    for _ in 0..5 {
        app.post(
            "/api/auth/verify-by-code",
            None,
            json!({ "email": user.email, "code": wrong }),
        )
        .await
        .expect(400);
    }
    let locked = app
        .post(
            "/api/auth/verify-by-code",
            None,
            json!({ "email": user.email, "code": code }),
        )
        .await;
    locked.expect(429);
    assert!(locked.headers.contains_key("retry-after"));
}

#[tokio::test]
async fn resend_answers_the_same_for_known_and_unknown_emails_and_replaces_the_code() {
    let app = spawn_app().await;
    let user = app.signed_in_user().await;
    let first = app.last_mail(&user.email, "Verify").await;
    // Step past the resend cooldown.
    set_attribute(
        &app,
        &format!("USER#{}", user.id),
        "TOKEN#verify",
        "sentAt",
        AttributeValue::N("1000".into()),
    )
    .await;

    let known = app
        .post(
            "/api/auth/resend-verification-email",
            None,
            json!({ "email": user.email }),
        )
        .await;
    let unknown = app
        .post(
            "/api/auth/resend-verification-email",
            None,
            json!({ "email": "ghost@example.com" }),
        )
        .await;
    known.expect(200);
    assert_eq!(known.body, unknown.body);
    app.post("/api/auth/resend-verification-email", None, json!({}))
        .await
        .expect(400);

    let mails = app.mail_to(&user.email).await;
    assert_eq!(mails.len(), 2, "a second verification email was sent");
    let old_token = first.field("Verification token");
    app.post(
        &format!("/api/auth/verify-email/{old_token}"),
        None,
        json!({}),
    )
    .await
    .expect(400);
    let new_token = mails[1].field("Verification token");
    app.post(
        &format!("/api/auth/verify-email/{new_token}"),
        None,
        json!({}),
    )
    .await
    .expect(200);
}

#[tokio::test]
async fn resend_within_the_cooldown_sends_nothing_more() {
    let app = spawn_app().await;
    let user = app.signed_in_user().await;
    app.post(
        "/api/auth/resend-verification-email",
        None,
        json!({ "email": user.email }),
    )
    .await
    .expect(200);
    assert_eq!(app.mail_to(&user.email).await.len(), 1);
}

// ---------- passwords ----------

#[tokio::test]
async fn password_reset_works_once_and_revokes_every_session() {
    let app = spawn_app().await;
    let user = app.signed_in_user().await;
    let known = app
        .post(
            "/api/auth/forgot-password",
            None,
            json!({ "email": user.email }),
        )
        .await;
    let unknown = app
        .post(
            "/api/auth/forgot-password",
            None,
            json!({ "email": "ghost@example.com" }),
        )
        .await;
    known.expect(200);
    assert_eq!(known.body, unknown.body);

    let token = app
        .last_mail(&user.email, "Reset")
        .await
        .field("Reset token");
    let path = format!("/api/auth/reset-password/{token}");
    app.post(
        &path,
        None,
        json!({ "password": "short", "confirmPassword": "short" }),
    )
    .await
    .expect(400);
    app.post(
        &path,
        None,
        json!({ "password": "new-password-1", "confirmPassword": "other-password" }),
    )
    .await
    .expect(400);
    app.post(
        &path,
        None,
        json!({ "password": "new-password-1", "confirmPassword": "new-password-1" }),
    )
    .await
    .expect(200);
    app.post(
        &path,
        None,
        json!({ "password": "new-password-2", "confirmPassword": "new-password-2" }),
    )
    .await
    .expect(400);

    app.post(
        "/api/auth/verify-jwt-token",
        Some(&user.access_token),
        json!({}),
    )
    .await
    .expect(401);
    app.post(
        "/api/auth/refresh-token",
        None,
        json!({ "refreshToken": user.refresh_token }),
    )
    .await
    .expect(401);
    app.login(&user.email, PASSWORD).await.expect(401);
    app.login(&user.email, "new-password-1").await.expect(200);
}

#[tokio::test]
async fn an_invalid_reset_token_is_refused() {
    let app = spawn_app().await;
    let body = json!({ "password": "new-password-1", "confirmPassword": "new-password-1" });
    app.post("/api/auth/reset-password/nonsense", None, body.clone())
        .await
        .expect(400);
    let forged = format!("{}.{}", ulid::Ulid::new(), "A".repeat(43));
    app.post(&format!("/api/auth/reset-password/{forged}"), None, body)
        .await
        .expect(400);
}

#[tokio::test]
async fn change_password_returns_a_new_pair_and_revokes_the_others() {
    let app = spawn_app().await;
    let user = app.signed_in_user().await;
    let token = Some(user.access_token.as_str());
    let change = |current: &str, new: &str, confirm: &str| json!({ "currentPassword": current, "newPassword": new, "confirmPassword": confirm });
    app.post(
        "/api/auth/change-password",
        None,
        change(PASSWORD, "brand-new-pass", "brand-new-pass"),
    )
    .await
    .expect(401);
    let wrong = app
        .post(
            "/api/auth/change-password",
            token,
            change("wrong-one", "brand-new-pass", "brand-new-pass"),
        )
        .await;
    wrong.expect(400);
    assert!(wrong.body["errors"]["currentPassword"].is_string());
    app.post(
        "/api/auth/change-password",
        token,
        change(PASSWORD, "brand-new-pass", "mismatch-pass"),
    )
    .await
    .expect(400);
    app.post(
        "/api/auth/change-password",
        token,
        change(PASSWORD, "short", "short"),
    )
    .await
    .expect(400);

    let changed = app
        .post(
            "/api/auth/change-password",
            token,
            change(PASSWORD, "brand-new-pass", "brand-new-pass"),
        )
        .await;
    changed.expect(200);
    assert_eq!(
        changed.ddb_calls(),
        3,
        "auth read + one transaction + the lookup of open sockets to close"
    );
    let new_access = changed.data()["accessToken"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let new_refresh = changed.data()["refreshToken"]
        .as_str()
        .unwrap_or_default()
        .to_string();

    app.post("/api/auth/verify-jwt-token", token, json!({}))
        .await
        .expect(401);
    app.post(
        "/api/auth/refresh-token",
        None,
        json!({ "refreshToken": user.refresh_token }),
    )
    .await
    .expect(401);
    app.post("/api/auth/verify-jwt-token", Some(&new_access), json!({}))
        .await
        .expect(200);
    app.post(
        "/api/auth/refresh-token",
        None,
        json!({ "refreshToken": new_refresh }),
    )
    .await
    .expect(200);
    app.login(&user.email, "brand-new-pass").await.expect(200);
}

#[tokio::test]
async fn invalidate_all_revokes_every_token_issued_before() {
    let app = spawn_app().await;
    let user = app.signed_in_user().await;
    let other_device = app.login(&user.email, PASSWORD).await;
    let other_access = other_device.data()["accessToken"]
        .as_str()
        .unwrap_or_default()
        .to_string();

    app.post("/api/auth/invalidate-all-jwt-tokens", None, json!({}))
        .await
        .expect(401);
    let response = app
        .post(
            "/api/auth/invalidate-all-jwt-tokens",
            Some(&user.access_token),
            json!({}),
        )
        .await;
    response.expect(200);
    for access in [&user.access_token, &other_access] {
        let revoked = app
            .post("/api/auth/verify-jwt-token", Some(access), json!({}))
            .await;
        revoked.expect(401);
        assert!(revoked.message().contains("revoked"));
    }
    app.post(
        "/api/auth/refresh-token",
        None,
        json!({ "refreshToken": user.refresh_token }),
    )
    .await
    .expect(401);
    app.login(&user.email, PASSWORD).await.expect(200);
}

#[tokio::test]
async fn verify_jwt_token_can_return_the_user_and_a_new_pair() {
    let app = spawn_app().await;
    let user = app.signed_in_user().await;
    let token = Some(user.access_token.as_str());
    let plain = app
        .post("/api/auth/verify-jwt-token", token, json!({}))
        .await;
    plain.expect(200);
    assert_eq!(plain.data()["valid"], true);
    assert!(plain.data().get("user").is_none());

    let empty_body = app
        .send(
            app.client
                .post(app.url("/api/auth/verify-jwt-token"))
                .bearer_auth(&user.access_token),
        )
        .await;
    empty_body.expect(200);

    let full = app
        .post(
            "/api/auth/verify-jwt-token",
            token,
            json!({ "refreshToken": true, "refreshUser": true }),
        )
        .await;
    full.expect(200);
    assert_eq!(full.data()["user"]["_id"], user.id.as_str());
    let refresh = full.data()["refreshToken"].as_str().unwrap_or_default();
    app.post(
        "/api/auth/refresh-token",
        None,
        json!({ "refreshToken": refresh }),
    )
    .await
    .expect(200);
    app.post("/api/auth/verify-jwt-token", None, json!({}))
        .await
        .expect(401);
}

#[tokio::test]
async fn every_auth_route_answers_with_an_id_per_user() {
    // Two users signed in at once keep separate identities (no shared state between requests).
    let app = spawn_app().await;
    let users = join_all((0..4).map(|_| app.signed_in_user())).await;
    let ids: HashSet<_> = users.iter().map(|u| u.id.clone()).collect();
    assert_eq!(ids.len(), 4);
    for user in &users {
        let me = app
            .post(
                "/api/auth/verify-jwt-token",
                Some(&user.access_token),
                json!({ "refreshUser": true }),
            )
            .await;
        assert_eq!(me.data()["user"]["_id"], user.id.as_str());
    }
}

/// The `/api/auth` routes that act for a signed-in user.
pub const ROUTES: &[crate::social_support::Route] = {
    use crate::social_support::Access::Token;
    &[
        ("POST", "/api/auth/logout", Token),
        ("POST", "/api/auth/change-password", Token),
        ("POST", "/api/auth/invalidate-all-jwt-tokens", Token),
        ("POST", "/api/auth/verify-jwt-token", Token),
    ]
};

#[tokio::test]
async fn every_signed_in_route_needs_a_valid_token() {
    let app = spawn_app().await;
    crate::social_support::assert_bad_tokens_get_401(&app, ROUTES).await;
}
