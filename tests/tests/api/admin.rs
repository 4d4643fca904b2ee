//! `/api/admin` and `/api/reports`: the role and permission matrix, rank rules, disabling,
//! the user directory's filters and counts, reports and their resolution, the audit trail, and
//! the operator's `admin-cli grant-root`.

use api_tests::{TestApp, TestResponse, TestUser};
use reqwest::Method;
use serde_json::{json, Value};
use shared::admin::manage::{grant_root, Granted};

use crate::posts_support::*;
use crate::social_support::*;

pub const ROUTES: &[Route] = &[
    ("GET", "/api/admin/users", Access::Token),
    ("POST", "/api/admin/users", Access::Token),
    ("GET", "/api/admin/users/{user_id}", Access::Token),
    ("PUT", "/api/admin/users/{user_id}", Access::Token),
    ("DELETE", "/api/admin/users/{user_id}", Access::Token),
    ("GET", "/api/admin/reports", Access::Token),
    ("GET", "/api/admin/reports/{report_id}", Access::Token),
    ("PUT", "/api/admin/reports/{report_id}", Access::Token),
    ("GET", "/api/admin/audit", Access::Token),
    ("POST", "/api/reports", Access::Token),
];

#[tokio::test]
async fn every_admin_route_needs_a_valid_token() {
    let app = api_tests::spawn_app().await;
    assert_bad_tokens_get_401(&app, ROUTES).await;
}

/// A signed-in user made root by the operator's grant (what `admin-cli grant-root` calls).
pub async fn root_user(app: &TestApp) -> TestUser {
    let user = fixture_user(app).await;
    match grant_root(&app.state.db, &user.email).await {
        Ok(Granted::Now(_)) => user,
        other => panic!("grant-root: {other:?}"),
    }
}

async fn put_user(app: &TestApp, actor: &TestUser, target: &str, body: Value) -> TestResponse {
    app.request(
        Method::PUT,
        &format!("/api/admin/users/{target}"),
        Some(&actor.access_token),
        Some(body),
    )
    .await
}

/// A user promoted to admin by `root` (the admin defaults: userRead, userModify, postRead,
/// postModify; no inserts).
pub async fn admin_user(app: &TestApp, root: &TestUser) -> TestUser {
    let user = fixture_user(app).await;
    let promoted = put_user(app, root, &user.id, json!({ "role": "admin" })).await;
    promoted.expect(200);
    assert_eq!(promoted.data()["user"]["role"], "admin");
    user
}

#[tokio::test]
async fn the_role_matrix_checks_each_routes_permission() {
    let app = spawn_isolated_app().await;
    let root = root_user(&app).await;
    let admin = admin_user(&app, &root).await;
    let user = fixture_user(&app).await;
    let target = fixture_user(&app).await;
    let new_user = |name: &str| {
        json!({
            "email": format!("{name}@example.com"),
            "username": name,
            "fullName": "Made By Admin",
        })
    };
    let check = |who: &'static str, response: TestResponse, expected: u16, what: &str| {
        assert_eq!(
            response.status.as_u16(),
            expected,
            "{who} {what}: {}",
            response.body
        );
        assert_eq!(response.body["success"], expected < 400);
    };
    for (who, actor, reads, inserts) in [
        ("user", &user, 403, 403),
        ("admin", &admin, 200, 403),
        ("root", &root, 200, 201),
    ] {
        let token = Some(actor.access_token.as_str());
        check(
            who,
            app.get("/api/admin/users", token).await,
            reads,
            "lists users",
        );
        check(
            who,
            app.get(&format!("/api/admin/users/{}", target.id), token)
                .await,
            reads,
            "reads a user",
        );
        check(
            who,
            app.get("/api/admin/reports", token).await,
            reads,
            "lists reports",
        );
        check(
            who,
            app.get("/api/admin/audit", token).await,
            reads,
            "reads the audit",
        );
        let name = api_tests::unique_name("made");
        check(
            who,
            app.post("/api/admin/users", token, new_user(&name)).await,
            inserts,
            "creates a user",
        );
        check(
            who,
            put_user(
                &app,
                actor,
                &target.id,
                json!({ "permissions": { "postRead": true, "postInsert": true } }),
            )
            .await,
            reads,
            "changes permissions",
        );
    }
    // Profiles and login answers carry role and permissions (seed 004).
    let own = app
        .get("/api/users/profile", Some(&user.access_token))
        .await;
    assert_eq!(own.data()["role"], "user");
    assert_eq!(own.data()["permissions"]["postRead"], true);
    assert_eq!(own.data()["permissions"]["userRead"], false);
    let login = app.login(&root.email, &root.password).await;
    login.expect(200);
    assert_eq!(login.data()["user"]["role"], "root");
    assert_eq!(login.data()["user"]["permissions"]["userInsert"], true);

    // The created user is verified and can sign in with the password answered once.
    let name = api_tests::unique_name("temp");
    let made = app
        .post(
            "/api/admin/users",
            Some(&root.access_token),
            new_user(&name),
        )
        .await;
    made.expect(201);
    assert_eq!(made.data()["user"]["status"], "active");
    let temporary = made.data()["temporaryPassword"]
        .as_str()
        .unwrap_or_default();
    assert!(temporary.len() >= 16);
    app.login(&format!("{name}@example.com"), temporary)
        .await
        .expect(200);
    app.post(
        "/api/admin/users",
        Some(&root.access_token),
        new_user(&name),
    )
    .await
    .expect(409);
}

#[tokio::test]
async fn nobody_edits_a_peer_a_superior_or_their_own_role() {
    let app = spawn_isolated_app().await;
    let root = root_user(&app).await;
    let other_root = root_user(&app).await;
    let admin = admin_user(&app, &root).await;
    let peer = admin_user(&app, &root).await;
    let user = fixture_user(&app).await;

    // An admin may disable a user, but not a peer or root, and may not change roles.
    put_user(&app, &admin, &peer.id, json!({ "status": "disabled" }))
        .await
        .expect(403);
    put_user(&app, &admin, &root.id, json!({ "status": "disabled" }))
        .await
        .expect(403);
    let roles = put_user(&app, &admin, &user.id, json!({ "role": "admin" })).await;
    roles.expect(403);
    assert!(roles.message().contains("Only root"), "{}", roles.body);
    // Nobody promotes themselves or edits their own account.
    put_user(&app, &admin, &admin.id, json!({ "role": "admin" }))
        .await
        .expect(403);
    put_user(&app, &root, &root.id, json!({ "status": "disabled" }))
        .await
        .expect(403);
    // Root is never granted through the API, and roots do not edit each other.
    let granted = put_user(&app, &root, &user.id, json!({ "role": "root" })).await;
    granted.expect(403);
    put_user(&app, &root, &other_root.id, json!({ "role": "user" }))
        .await
        .expect(403);
    // Unknown fields and values are refused, and the user stays as it was.
    put_user(&app, &root, &user.id, json!({ "email": "x@example.com" }))
        .await
        .expect(400);
    put_user(&app, &root, &user.id, json!({ "status": "banned" }))
        .await
        .expect(400);
    put_user(
        &app,
        &root,
        "01JXXXXXXXXXXXXXXXXXXXXXXX",
        json!({ "status": "disabled" }),
    )
    .await
    .expect(404);
    // Root demotes an admin: the role index and the permissions follow.
    let demoted = put_user(&app, &root, &peer.id, json!({ "role": "user" })).await;
    demoted.expect(200);
    assert_eq!(
        demoted.data()["updatedFields"],
        json!(["role", "permissions"])
    );
    assert_eq!(demoted.data()["user"]["permissions"]["userModify"], false);
    let admins = app
        .get("/api/admin/users?role=admin", Some(&root.access_token))
        .await;
    assert_eq!(admins.data()["usersCount"], 1);
    assert_eq!(admins.data()["users"][0]["_id"], admin.id.as_str());
}

#[tokio::test]
async fn a_disabled_user_is_refused_at_once_and_their_content_hidden_until_re_enabled() {
    let app = spawn_isolated_app().await;
    let root = root_user(&app).await;
    let admin = admin_user(&app, &root).await;
    let user = app.signed_in_user().await;
    let viewer = fixture_user(&app).await;
    let post = create_post(&app, &user, "soon hidden").await;
    let mut socket = app.ws(&user).await;

    let disabled = put_user(&app, &admin, &user.id, json!({ "status": "disabled" })).await;
    disabled.expect(200);
    assert_eq!(disabled.data()["updatedFields"], json!(["status"]));
    assert_eq!(disabled.data()["user"]["status"], "disabled");
    // The live token is refused on the next request, the socket closes, login is 403.
    app.get("/api/users/profile", Some(&user.access_token))
        .await
        .expect(401);
    socket
        .expect_closed(std::time::Duration::from_secs(3))
        .await;
    app.login(&user.email, &user.password).await.expect(403);
    app.post(
        "/api/auth/refresh-token",
        None,
        json!({ "refreshToken": user.refresh_token }),
    )
    .await
    .expect(401);
    // Their content is gone from reads.
    get_post(&app, Some(&viewer), &post).await.expect(404);
    app.get(
        &format!("/api/users/{}", user.id),
        Some(&viewer.access_token),
    )
    .await
    .expect(404);
    let feed = app.get("/api/posts/feed?limit=50", None).await;
    assert!(!post_ids(&feed).contains(&post));
    let disabled_list = app
        .get(
            "/api/admin/users?status=disabled",
            Some(&admin.access_token),
        )
        .await;
    assert_eq!(disabled_list.data()["usersCount"], 1);

    // Re-enabled: the content is back and they can sign in again.
    put_user(&app, &admin, &user.id, json!({ "status": "active" }))
        .await
        .expect(200);
    get_post(&app, Some(&viewer), &post).await.expect(200);
    app.login(&user.email, &user.password).await.expect(200);
}

#[tokio::test]
async fn the_directory_filters_sorts_and_counts_exactly() {
    let app = spawn_isolated_app().await;
    let root = root_user(&app).await;
    let admin = admin_user(&app, &root).await;
    let mut plain = Vec::new();
    for _ in 0..5 {
        plain.push(fixture_user(&app).await);
    }
    put_user(&app, &root, &plain[0].id, json!({ "status": "disabled" }))
        .await
        .expect(200);
    put_user(
        &app,
        &root,
        &plain[1].id,
        json!({ "status": "unverified-email" }),
    )
    .await
    .expect(200);
    let token = Some(root.access_token.as_str());
    let list = |query: &str| directory(&app, &root, query.to_string());
    let ids = |response: &TestResponse| -> Vec<String> {
        response.data()["users"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|u| u["_id"].as_str().unwrap_or_default().to_string())
            .collect()
    };
    let everyone = list("limit=100").await;
    assert_eq!(everyone.data()["usersCount"], 7);
    assert_eq!(ids(&everyone).len(), 7);
    let newest: Vec<String> = ids(&everyone);
    let oldest = ids(&list("limit=100&sort=createdAt").await);
    let mut reversed = oldest.clone();
    reversed.reverse();
    assert_eq!(newest, reversed, "sort=createdAt is -createdAt reversed");
    assert_eq!(oldest[0], root.id, "root was made first");

    let counted = |query: &'static str, expected: u64| {
        let response = directory(&app, &root, query.to_string());
        async move {
            let response = response.await;
            assert_eq!(
                response.data()["usersCount"],
                expected,
                "{query}: {}",
                response.body
            );
            let shown = response.data()["users"].as_array().map_or(0, Vec::len) as u64;
            assert_eq!(shown, expected.min(30), "{query}");
        }
    };
    counted("status=disabled", 1).await;
    counted("status=unverified-email", 1).await;
    counted("status=active", 5).await;
    counted("role=admin", 1).await;
    counted("role=root", 1).await;
    counted("role=user", 5).await;
    counted("role=user&status=active", 3).await;
    counted("permissions=userModify", 2).await;
    counted("permissions=postRead", 7).await;
    let by_name = list(&format!("username={}", plain[2].username)).await;
    assert_eq!(ids(&by_name), vec![plain[2].id.clone()]);
    assert_eq!(by_name.data()["usersCount"], 1);
    let by_email = list(&format!("email={}", plain[3].email.to_uppercase())).await;
    assert_eq!(ids(&by_email), vec![plain[3].id.clone()]);
    assert_eq!(
        list("email=nobody@example.com").await.data()["usersCount"],
        0
    );
    let named = list("fullName=fixture&limit=100").await;
    assert_eq!(
        named.data()["usersCount"],
        7,
        "every fixture is 'Fixture User'"
    );
    assert_eq!(
        list("lastName=user&status=disabled").await.data()["usersCount"],
        1
    );

    // Pages: by cursor and by skip, each user once.
    let mut seen: Vec<String> = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let query = match &cursor {
            Some(cursor) => format!("limit=3&cursor={cursor}"),
            None => "limit=3".to_string(),
        };
        let page = list(&query).await;
        seen.extend(ids(&page));
        match page.data()["nextCursor"].as_str() {
            Some(next) => cursor = Some(next.to_string()),
            None => break,
        }
        assert!(seen.len() <= 7, "no endless paging");
    }
    assert_eq!(seen, newest);
    assert_eq!(ids(&list("limit=2&skip=2").await), newest[2..4].to_vec());
    // Bad filters are named 400s.
    for query in [
        "status=banned",
        "role=god",
        "permissions=readPosts",
        "sort=name",
        "limit=x",
        "skip=99999",
        "cursor=%%%",
    ] {
        let response = app.get(&format!("/api/admin/users?{query}"), token).await;
        assert_eq!(response.status.as_u16(), 400, "{query}: {}", response.body);
    }
    let _ = admin;
}

/// `GET /api/admin/users?<query>` as `actor`, expected to answer 200.
async fn directory(app: &TestApp, actor: &TestUser, query: String) -> TestResponse {
    let response = app
        .get(
            &format!("/api/admin/users?{query}"),
            Some(&actor.access_token),
        )
        .await;
    response.expect(200);
    response
}

/// The `action` of each audit entry the query lists, as `actor` reads them.
async fn audit_actions(app: &TestApp, actor: &TestUser, query: &str) -> Vec<String> {
    let audit = app
        .get(
            &format!("/api/admin/audit?{query}"),
            Some(&actor.access_token),
        )
        .await;
    audit.expect(200);
    audit.data()["entries"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["action"].as_str().map(str::to_string))
        .collect()
}

async fn file_report(app: &TestApp, who: &TestUser, body: Value) -> TestResponse {
    app.post("/api/reports", Some(&who.access_token), body)
        .await
}

async fn notifications_of(app: &TestApp, who: &TestUser, kind: &str) -> Vec<Value> {
    let response = app
        .get(
            &format!("/api/notifications?type={kind}"),
            Some(&who.access_token),
        )
        .await;
    response.expect(200);
    response.data()["notifications"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

#[tokio::test]
async fn three_reports_on_a_post_are_resolved_by_one_action() {
    let app = spawn_isolated_app().await;
    let root = root_user(&app).await;
    let admin = admin_user(&app, &root).await;
    let owner = fixture_user(&app).await;
    let post = create_post(&app, &owner, "reported").await;
    let reporters = many_users(&app, 3).await;
    let body =
        json!({ "targetType": "post", "targetId": post, "reason": "spam", "details": "buy now" });
    let mut report_ids = Vec::new();
    for reporter in &reporters {
        let filed = file_report(&app, reporter, body.clone()).await;
        filed.expect(201);
        assert_eq!(filed.data()["status"], "open");
        report_ids.push(filed.data()["_id"].as_str().unwrap_or_default().to_string());
    }
    // One open report per reporter and target.
    file_report(&app, &reporters[0], body.clone())
        .await
        .expect(409);
    // Bad input and invisible targets.
    for (bad, status) in [
        (
            json!({ "targetType": "post", "targetId": post, "reason": "boring" }),
            400,
        ),
        (
            json!({ "targetType": "planet", "targetId": post, "reason": "spam" }),
            400,
        ),
        (
            json!({ "targetType": "post", "targetId": "01JXXXXXXXXXXXXXXXXXXXXXXX", "reason": "spam" }),
            404,
        ),
    ] {
        file_report(&app, &reporters[0], bad).await.expect(status);
    }

    // Users cannot read reports; admins see them oldest first.
    app.get("/api/admin/reports", Some(&owner.access_token))
        .await
        .expect(403);
    let open = app
        .get("/api/admin/reports", Some(&admin.access_token))
        .await;
    open.expect(200);
    let listed: Vec<&str> = open.data()["reports"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r["_id"].as_str())
        .collect();
    assert_eq!(
        listed,
        report_ids.iter().map(String::as_str).collect::<Vec<_>>()
    );
    let one = app
        .get(
            &format!("/api/admin/reports/{}", report_ids[1]),
            Some(&admin.access_token),
        )
        .await;
    one.expect(200);
    assert_eq!(one.data()["openReportsOnTarget"], 3);
    assert_eq!(one.data()["target"]["caption"], "reported");

    let resolve_path = format!("/api/admin/reports/{}", report_ids[0]);
    app.request(
        Method::PUT,
        &resolve_path,
        Some(&admin.access_token),
        Some(json!({ "action": "ban" })),
    )
    .await
    .expect(400);
    let resolved = app
        .request(
            Method::PUT,
            &resolve_path,
            Some(&admin.access_token),
            Some(json!({ "action": "remove_content", "note": "spam" })),
        )
        .await;
    resolved.expect(200);
    assert_eq!(resolved.data()["resolvedCount"], 3);
    get_post(&app, Some(&owner), &post).await.expect(404);
    for reporter in &reporters {
        let heard = notifications_of(&app, reporter, "report_resolved").await;
        assert_eq!(heard.len(), 1, "{heard:?}");
    }
    let moderation = notifications_of(&app, &owner, "moderation").await;
    assert_eq!(moderation.len(), 1);
    assert_eq!(moderation[0]["postId"], post.as_str());
    // Resolved now: listed as such, and a second resolution is a conflict.
    let done = app
        .get(
            "/api/admin/reports?status=resolved&targetType=post",
            Some(&admin.access_token),
        )
        .await;
    assert_eq!(done.data()["reports"].as_array().map(Vec::len), Some(3));
    assert_eq!(
        done.data()["reports"][0]["resolution"]["action"],
        "remove_content"
    );
    app.request(
        Method::PUT,
        &resolve_path,
        Some(&admin.access_token),
        Some(json!({ "action": "dismiss" })),
    )
    .await
    .expect(409);
    // The reporter may report again once the earlier report is resolved (the post is gone: 404).
    file_report(&app, &reporters[0], body).await.expect(404);

    // The audit trail holds the resolution and the removal.
    let actions = audit_actions(&app, &root, &format!("targetId={post}")).await;
    assert!(
        actions.iter().any(|a| a == "report.resolve")
            && actions.iter().any(|a| a == "content.remove"),
        "{actions:?}"
    );
    app.get("/api/admin/audit", Some(&owner.access_token))
        .await
        .expect(403);
}

#[tokio::test]
async fn messages_are_reported_by_participants_and_users_are_disabled_by_report() {
    let app = spawn_isolated_app().await;
    let root = root_user(&app).await;
    let admin = admin_user(&app, &root).await;
    let sender = fixture_user(&app).await;
    let recipient = fixture_user(&app).await;
    let stranger = fixture_user(&app).await;
    let conversation = crate::messages::conversation_between(&app, &sender, &recipient).await;
    let message = crate::messages::sent(&app, &sender, &recipient, &conversation, "rude").await;
    let report = json!({ "targetType": "message", "targetId": message, "reason": "harassment" });
    file_report(&app, &stranger, report.clone())
        .await
        .expect(404);
    let filed = file_report(&app, &recipient, report).await;
    filed.expect(201);
    let user_report = file_report(
        &app,
        &stranger,
        json!({ "targetType": "user", "targetId": sender.id, "reason": "harassment" }),
    )
    .await;
    user_report.expect(201);
    file_report(
        &app,
        &stranger,
        json!({ "targetType": "user", "targetId": stranger.id, "reason": "other" }),
    )
    .await
    .expect(400);

    let disabled = app
        .request(
            Method::PUT,
            &format!(
                "/api/admin/reports/{}",
                user_report.data()["_id"].as_str().unwrap_or_default()
            ),
            Some(&admin.access_token),
            Some(json!({ "action": "disable_user" })),
        )
        .await;
    disabled.expect(200);
    app.get("/api/users/profile", Some(&sender.access_token))
        .await
        .expect(401);
    let actions = audit_actions(&app, &root, &format!("actorId={}", admin.id)).await;
    assert!(
        actions.iter().any(|a| a == "user.update") && actions.iter().any(|a| a == "report.resolve"),
        "{actions:?}"
    );
}

#[tokio::test]
async fn moderators_delete_any_post_comment_or_story_and_the_owner_hears() {
    let app = spawn_isolated_app().await;
    let root = root_user(&app).await;
    let admin = admin_user(&app, &root).await;
    let owner = fixture_user(&app).await;
    let bystander = fixture_user(&app).await;
    let post = create_post(&app, &owner, "moderate me").await;
    let comment = add_comment(&app, &owner, &post, None, "and me").await;
    let story = crate::stories::create_story(&app, &owner).await;
    // Without postModify, an admin cannot; a plain user never.
    put_user(
        &app,
        &root,
        &admin.id,
        json!({ "permissions": { "userRead": true, "postRead": true } }),
    )
    .await
    .expect(200);
    delete(
        &app,
        &format!("/api/posts/{post}"),
        Some(&admin.access_token),
    )
    .await
    .expect(403);
    delete(
        &app,
        &format!("/api/posts/{post}"),
        Some(&bystander.access_token),
    )
    .await
    .expect(403);
    put_user(
        &app,
        &root,
        &admin.id,
        json!({ "permissions": { "postModify": true, "postRead": true } }),
    )
    .await
    .expect(200);
    let token = Some(admin.access_token.as_str());
    delete(
        &app,
        &format!("/api/posts/{post}/comments/{comment}"),
        token,
    )
    .await
    .expect(200);
    delete(&app, &format!("/api/stories/{story}"), token)
        .await
        .expect(200);
    delete(&app, &format!("/api/posts/{post}"), token)
        .await
        .expect(200);
    get_post(&app, None, &post).await.expect(404);
    let heard = notifications_of(&app, &owner, "moderation").await;
    assert_eq!(heard.len(), 3, "{heard:?}");
    let removals = audit_actions(&app, &root, &format!("actorId={}", admin.id))
        .await
        .iter()
        .filter(|a| *a == "content.remove")
        .count();
    assert_eq!(removals, 3);
}

#[tokio::test]
async fn admin_cli_grants_root_idempotently() {
    let app = api_tests::spawn_app().await;
    let user = app.signed_in_user().await;
    let binary = api_tests::lambda::binary_dir().join("admin-cli");
    let run = |email: &str| {
        let mut command = std::process::Command::new(&binary);
        command
            .args(["grant-root", "--email", email])
            .env("TABLE_NAME", &app.state.db.table);
        command
            .output()
            .unwrap_or_else(|e| panic!("running admin-cli: {e}"))
    };
    let first = run(&user.email);
    assert!(first.status.success(), "{first:?}");
    assert!(String::from_utf8_lossy(&first.stdout).contains("is root now"));
    let again = run(&user.email.to_uppercase());
    assert!(again.status.success(), "{again:?}");
    assert!(String::from_utf8_lossy(&again.stdout).contains("was root already"));
    let unknown = run("nobody-at-all@example.com");
    assert_eq!(unknown.status.code(), Some(1));
    let usage = std::process::Command::new(&binary)
        .arg("grant-root")
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(usage.status.code(), Some(2));
    let own = app
        .get("/api/users/profile", Some(&user.access_token))
        .await;
    assert_eq!(own.data()["role"], "root");
    assert_eq!(own.data()["permissions"]["userInsert"], true);
    let audit = app
        .get(
            &format!("/api/admin/audit?targetId={}", user.id),
            Some(&user.access_token),
        )
        .await;
    audit.expect(200);
    assert_eq!(audit.data()["entries"][0]["action"], "user.grant-root");
    assert_eq!(audit.data()["entries"][0]["actorId"], "operator");
}

#[tokio::test]
async fn reports_are_rate_limited_per_user() {
    let app = spawn_isolated_app().await;
    let reporter = fixture_user(&app).await;
    let targets = many_users(&app, 11).await;
    for (i, target) in targets.iter().enumerate() {
        let filed = file_report(
            &app,
            &reporter,
            json!({ "targetType": "user", "targetId": target.id, "reason": "spam" }),
        )
        .await;
        if i < 10 {
            filed.expect(201);
        } else {
            // The 11th within the hour (10 / hour by default).
            filed.expect(429);
            let retry_after: u64 = filed.headers["retry-after"]
                .to_str()
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or_default();
            assert!(retry_after > 0, "{}", filed.body);
        }
    }
}
