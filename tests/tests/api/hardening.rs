//! Issue 10 (hardening): each test here failed before its fix.

use api_tests::TestUser;
use serde_json::{json, Value};

use crate::posts_support::*;
use crate::social_support::*;
use api_tests::PASSWORD;

fn ids_of(list: &Value) -> Vec<String> {
    list.as_array()
        .into_iter()
        .flatten()
        .filter_map(|u| u["_id"].as_str().map(str::to_string))
        .collect()
}

async fn block(app: &api_tests::TestApp, who: &TestUser, target: &str) {
    app.post(
        &format!("/api/users/{target}/block"),
        Some(&who.access_token),
        json!({}),
    )
    .await
    .expect(200);
}

// ---------- privacy ----------

#[tokio::test]
async fn suggestions_never_show_a_private_accounts_images_nor_someone_i_blocked() {
    let (app, _slot) = posts_app().await;
    let me = fixture_user(&app).await;
    let friend = fixture_user(&app).await;
    let private = fixture_user(&app).await;
    let public = fixture_user(&app).await;
    let i_blocked = fixture_user(&app).await;
    for target in [&private, &public, &i_blocked] {
        follow(&app, &friend, &target.id).await.expect(200);
        create_post(&app, target, "newest").await;
    }
    make_private(&app, &private).await;
    follow(&app, &me, &friend.id).await.expect(200);
    block(&app, &me, &i_blocked.id).await;

    // The public account's image comes from the table's stream: wait for it.
    let (response, _) = suggestions_once_images(&app, &me, &public.id, 1).await;
    let list = response.data().as_array().cloned().unwrap_or_default();
    assert!(!ids_of(response.data()).contains(&i_blocked.id), "{list:?}");
    let card = |id: &str| {
        list.iter()
            .find(|u| u["_id"] == id)
            .cloned()
            .unwrap_or_else(|| panic!("{id} not suggested: {list:?}"))
    };
    let public_card = card(&public.id);
    assert_eq!(
        public_card["recentImages"].as_array().map(Vec::len),
        Some(1)
    );
    let private_card = card(&private.id);
    assert_eq!(private_card["isPrivate"], true);
    assert_eq!(private_card["recentImages"], json!([]), "{private_card}");
}

#[tokio::test]
async fn a_private_accounts_stats_are_forbidden_to_non_followers() {
    let app = spawn_isolated_app().await;
    let owner = fixture_user(&app).await;
    let follower = fixture_user(&app).await;
    let stranger = fixture_user(&app).await;
    follow(&app, &follower, &owner.id).await.expect(200);
    make_private(&app, &owner).await;
    let path = format!("/api/posts/user/{}/stats", owner.id);
    app.get(&path, Some(&stranger.access_token))
        .await
        .expect(403);
    app.get(&path, None).await.expect(403);
    app.get(&path, Some(&follower.access_token))
        .await
        .expect(200);
    app.get(&path, Some(&owner.access_token)).await.expect(200);
}

// ---------- bounds ----------

#[tokio::test]
async fn offsets_past_ten_thousand_are_a_400_that_names_the_cursor() {
    let app = spawn_isolated_app().await;
    let me = fixture_user(&app).await;
    for path in [
        "/api/posts/feed?offset=4294967000".to_string(),
        "/api/posts/feed?offset=10001".to_string(),
        "/api/posts/feed?page=4294967295".to_string(),
        "/api/posts/feed?page=102&limit=100".to_string(),
        "/api/posts/explore?offset=4294967000".to_string(),
        format!("/api/follow/{}/followers?offset=4294967000", me.id),
        format!("/api/posts/user/{}?page=500000", me.id),
    ] {
        let response = app.get(&path, None).await;
        response.expect(400);
        assert!(
            response.message().contains("cursor"),
            "{path}: {}",
            response.body
        );
    }
    for offset in ["4294967000", "1001"] {
        let timeline = app
            .get(
                &format!("/api/posts/timeline?offset={offset}"),
                Some(&me.access_token),
            )
            .await;
        timeline.expect(400);
        assert!(timeline.message().contains("cursor"), "{}", timeline.body);
    }
    app.get("/api/posts/timeline?offset=1000", Some(&me.access_token))
        .await
        .expect(200);
    let deepest = app.get("/api/posts/feed?offset=10000", None).await;
    deepest.expect(200);
}

#[tokio::test]
async fn a_private_accounts_followers_are_refused_before_the_list_is_read() {
    let app = spawn_isolated_app().await;
    let owner = fixture_user(&app).await;
    let follower = fixture_user(&app).await;
    follow(&app, &follower, &owner.id).await.expect(200);
    make_private(&app, &owner).await;
    let refused = app
        .get(&format!("/api/follow/{}/followers", owner.id), None)
        .await;
    refused.expect(403);
    assert_eq!(
        refused.ddb_calls(),
        1,
        "only the owner and the relation are read"
    );
    let allowed = app
        .get(
            &format!("/api/follow/{}/followers", owner.id),
            Some(&follower.access_token),
        )
        .await;
    allowed.expect(200);
    assert_eq!(
        ids_of(&allowed.data()["followers"]),
        vec![follower.id.clone()]
    );
}

#[tokio::test]
async fn a_stranger_never_reads_the_messages_of_a_conversation() {
    let app = spawn_isolated_app().await;
    let (a, b, stranger) = (
        fixture_user(&app).await,
        fixture_user(&app).await,
        fixture_user(&app).await,
    );
    let conversation = crate::messages::conversation_between(&app, &a, &b).await;
    crate::messages::send_text(&app, &a, &b, &conversation, "secret")
        .await
        .expect(201);
    let refused = app
        .get(
            &format!("/api/messages/conversations/{conversation}/messages"),
            Some(&stranger.access_token),
        )
        .await;
    refused.expect(404);
    assert_eq!(
        refused.ddb_calls(),
        2,
        "auth + the membership, no message read"
    );
}

#[tokio::test]
async fn a_cursor_from_another_list_is_a_400() {
    let app = spawn_isolated_app().await;
    let (a, b) = (fixture_user(&app).await, fixture_user(&app).await);
    let mut followers = Vec::new();
    for _ in 0..3 {
        let fan = fixture_user(&app).await;
        follow(&app, &fan, &a.id).await.expect(200);
        followers.push(fan);
    }
    let first = app
        .get(&format!("/api/follow/{}/followers?limit=1", a.id), None)
        .await;
    first.expect(200);
    let cursor = first.data()["pagination"]["nextCursor"]
        .as_str()
        .unwrap_or_else(|| panic!("no cursor: {}", first.body))
        .to_string();
    let post = create_post(&app, &b, "cursor target").await;
    let conversation = crate::messages::conversation_between(&app, &a, &b).await;
    for path in [
        format!("/api/follow/{}/followers?cursor={cursor}", b.id),
        format!("/api/follow/{}/following?cursor={cursor}", a.id),
        format!("/api/posts/{post}/comments?cursor={cursor}"),
        format!("/api/posts/user/{}?cursor={cursor}", b.id),
        format!("/api/posts/feed?cursor={cursor}"),
        format!("/api/notifications?cursor={cursor}"),
        format!("/api/messages/conversations?cursor={cursor}"),
        format!("/api/messages/conversations/{conversation}/messages?cursor={cursor}"),
    ] {
        let response = app.get(&path, Some(&a.access_token)).await;
        response.expect(400);
        assert!(
            response.body["errors"]["cursor"].is_string(),
            "{path}: {}",
            response.body
        );
    }
    // The cursor still pages its own list.
    app.get(
        &format!("/api/follow/{}/followers?limit=1&cursor={cursor}", a.id),
        None,
    )
    .await
    .expect(200);
}

// ---------- argon2 and login throttling ----------

fn retry_after(response: &api_tests::TestResponse) -> u64 {
    response
        .headers
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no Retry-After: {:?}", response.headers))
}

/// Waits until at least `needed` seconds are left in the current fixed window of `window`
/// seconds, so that a burst the test sends lands in one window.
pub(crate) async fn fresh_window(window: i64, needed: i64) {
    let now = shared::time::now_epoch();
    let left = window - now.rem_euclid(window);
    if left < needed {
        tokio::time::sleep(std::time::Duration::from_secs(left.unsigned_abs() + 1)).await;
    }
}

#[tokio::test]
async fn concurrent_guesses_get_at_most_five_password_checks_by_email_and_username_together() {
    let app = spawn_isolated_app().await;
    let victim = fixture_user(&app).await;
    fresh_window(900, 30).await;
    let (mut checked, mut refused) = (0, 0);
    for wave in 0..2 {
        let guesses = (0..30).map(|i| {
            let identifier = if i % 2 == 0 {
                &victim.email
            } else {
                &victim.username
            };
            let guess = format!("wrong-{wave}-{i}");
            let app = &app;
            async move { app.login(identifier, &guess).await }
        });
        for answer in futures_util::future::join_all(guesses).await {
            match answer.status.as_u16() {
                401 => checked += 1,
                429 => {
                    answer.expect(429);
                    assert!((1..=900).contains(&retry_after(&answer)));
                    refused += 1;
                }
                other => panic!("{other}: {}", answer.body),
            }
        }
    }
    assert_eq!(checked, 5, "password checks ({refused} refused)");
    // One budget per account, whichever identifier is typed.
    app.login(&victim.username, PASSWORD).await.expect(429);
    app.login(&victim.email, PASSWORD).await.expect(429);
}

#[tokio::test]
async fn a_source_out_of_budget_is_refused_without_spending_its_victims_budget() {
    use shared::limits::{Action, Limit};
    let app = spawn_isolated_app_with(|config| {
        config.rate_limits.insert(
            Action::LoginSource,
            Limit {
                max: 3,
                window_secs: 900,
            },
        );
    })
    .await;
    fresh_window(900, 30).await;
    let victim = fixture_user(&app).await;
    // Successful logins give their attempt back.
    for _ in 0..4 {
        app.login(&victim.email, PASSWORD).await.expect(200);
    }
    for i in 0..3 {
        app.login(&api_tests::unique_name("nobody"), &format!("guess-{i}"))
            .await
            .expect(401);
    }
    let refused = app.login(&victim.email, "guess").await;
    refused.expect(429);
    assert!((1..=900).contains(&retry_after(&refused)));
    app.login(&victim.username, "guess").await.expect(429);

    // The victim's own budget is untouched: from a stack with the default per-source budget,
    // five failures are still checked before the account waits.
    let mut config = (*app.state.config).clone();
    config.rate_limits.remove(&Action::LoginSource);
    let other = api_tests::spawn_app_with(config).await;
    for _ in 0..5 {
        other.login(&victim.email, "wrong").await.expect(401);
    }
    other.login(&victim.email, PASSWORD).await.expect(429);
}

#[tokio::test]
async fn a_flood_of_logins_waits_for_a_bounded_hasher_and_overflow_is_a_503() {
    let app = spawn_isolated_app_with(|config| {
        config.hash_concurrency = 1;
        config.hash_queue = 2;
    })
    .await;
    // Each login reaches the hasher after three DynamoDB calls, which moto serialises, so the
    // arrivals are spread out: a wave is 40 logins, and a second wave runs only if the first
    // never filled the queue (80 failures stay inside the per-source budget of 100).
    let mut busy = 0;
    let mut served = 0;
    for wave in 0..2 {
        let logins = (0..40).map(|i| {
            let app = &app;
            async move {
                app.login(
                    &api_tests::unique_name(&format!("ghost{wave}_{i}")),
                    "guess",
                )
                .await
            }
        });
        for answer in futures_util::future::join_all(logins).await {
            match answer.status.as_u16() {
                401 => served += 1,
                503 => {
                    answer.expect(503);
                    assert!(retry_after(&answer) >= 1);
                    busy += 1;
                }
                other => panic!("{other}: {}", answer.body),
            }
        }
        if busy > 0 {
            break;
        }
    }
    assert!(
        busy > 0,
        "40 concurrent hashes on 1 turn + 2 waiters: some must be refused"
    );
    assert!(served > 0, "the turn and the waiters are served");

    // A reset token is checked before the new password is hashed: wrong tokens never queue.
    let resets = (0..16).map(|_| {
        let app = &app;
        async move {
            let forged = format!("{}.{}", ulid::Ulid::new(), "A".repeat(43));
            app.post(
                &format!("/api/auth/reset-password/{forged}"),
                None,
                json!({ "password": "new-password-1", "confirmPassword": "new-password-1" }),
            )
            .await
        }
    });
    for answer in futures_util::future::join_all(resets).await {
        answer.expect(400);
    }
}

#[tokio::test]
async fn mail_sends_are_limited_per_address_known_or_not() {
    use shared::limits::{Action, Limit};
    let app = spawn_isolated_app().await;
    let user = fixture_user(&app).await;
    fresh_window(30, 10).await;
    let ghost = format!("{}@example.com", api_tests::unique_name("ghost"));
    for email in [&user.email, &ghost] {
        let forgot =
            |email: &str| app.post("/api/auth/forgot-password", None, json!({ "email": email }));
        forgot(email).await.expect(200);
        let again = forgot(email).await;
        again.expect(429);
        assert!((1..=30).contains(&retry_after(&again)), "{}", again.body);
    }
    // Resending a verification is a budget of its own.
    app.post(
        "/api/auth/resend-verification-email",
        None,
        json!({ "email": user.email }),
    )
    .await
    .expect(200);

    // 10 per hour: with the 30-second budget raised, the 11th is refused.
    let app = spawn_isolated_app_with(|config| {
        config.rate_limits.insert(
            Action::MailBurst,
            Limit {
                max: 100,
                window_secs: 30,
            },
        );
    })
    .await;
    fresh_window(3600, 60).await;
    for _ in 0..10 {
        app.post("/api/auth/forgot-password", None, json!({ "email": ghost }))
            .await
            .expect(200);
    }
    let eleventh = app
        .post("/api/auth/forgot-password", None, json!({ "email": ghost }))
        .await;
    eleventh.expect(429);
    assert!((1..=3600).contains(&retry_after(&eleventh)));
}

// ---------- rate limits per action ----------

async fn post_json(
    app: &api_tests::TestApp,
    path: String,
    token: String,
    body: Value,
) -> api_tests::TestResponse {
    app.post(&path, Some(&token), body).await
}

async fn multipart_post_owned(
    app: &api_tests::TestApp,
    token: String,
    caption: String,
) -> api_tests::TestResponse {
    multipart_post(app, Some(&token), Some((JPEG.to_vec(), "p.jpg")), &caption).await
}

async fn multipart_story_owned(app: &api_tests::TestApp, token: String) -> api_tests::TestResponse {
    multipart_create(
        app,
        "/api/stories",
        "story",
        Some(&token),
        Some((JPEG.to_vec(), "s.jpg")),
        "",
    )
    .await
}

/// Sends `allowed` requests that must pass, then one more that must be a 429 with Retry-After
/// within the window and the envelope.
async fn assert_limit<F, Fut>(allowed: usize, window: u64, mut send: F)
where
    F: FnMut(usize) -> Fut,
    Fut: std::future::Future<Output = api_tests::TestResponse>,
{
    for i in 0..allowed {
        let response = send(i).await;
        assert!(
            response.status.is_success(),
            "#{}: {}",
            i + 1,
            response.body
        );
    }
    let refused = send(allowed).await;
    refused.expect(429);
    assert!(refused.message().contains("Too many"), "{}", refused.body);
    assert!((1..=window).contains(&retry_after(&refused)));
}

#[tokio::test]
async fn the_31st_comment_in_a_minute_is_a_429_with_retry_after() {
    let (app, _slot) = posts_app().await;
    let author = fixture_user(&app).await;
    let writer = fixture_user(&app).await;
    let post = create_post(&app, &author, "busy").await;
    fresh_window(60, 30).await;
    assert_limit(30, 60, |i| {
        post_json(
            &app,
            format!("/api/posts/{post}/comments"),
            writer.access_token.clone(),
            json!({ "content": format!("c{i}") }),
        )
    })
    .await;
    // Per user: the author still comments.
    add_comment(&app, &author, &post, None, "mine").await;
}

#[tokio::test]
async fn the_11th_post_and_the_11th_story_in_a_minute_are_429s() {
    let (app, _slot) = posts_app().await;
    let user = fixture_user(&app).await;
    fresh_window(60, 30).await;
    assert_limit(10, 60, |i| {
        multipart_post_owned(&app, user.access_token.clone(), format!("post {i}"))
    })
    .await;
    assert_limit(10, 60, |_| {
        multipart_story_owned(&app, user.access_token.clone())
    })
    .await;
}

#[tokio::test]
async fn the_61st_follow_and_the_31st_upload_in_a_minute_are_429s() {
    let app = spawn_isolated_app().await;
    let (fan, star) = (fixture_user(&app).await, fixture_user(&app).await);
    fresh_window(60, 30).await;
    assert_limit(60, 60, |_| {
        post_json(
            &app,
            format!("/api/follow/{}/follow", star.id),
            fan.access_token.clone(),
            json!({}),
        )
    })
    .await;
    assert_limit(30, 60, |_| {
        post_json(
            &app,
            "/api/uploads".into(),
            fan.access_token.clone(),
            json!({ "purpose": "post", "contentType": "image/jpeg", "size": 1000 }),
        )
    })
    .await;
}

#[tokio::test]
async fn the_61st_message_in_a_minute_is_a_429() {
    let app = spawn_isolated_app().await;
    let (a, b) = (fixture_user(&app).await, fixture_user(&app).await);
    let conversation = crate::messages::conversation_between(&app, &a, &b).await;
    fresh_window(60, 40).await;
    assert_limit(60, 60, |i| {
        post_json(
            &app,
            "/api/messages/messages".into(),
            a.access_token.clone(),
            json!({ "conversationId": conversation, "recipientId": b.id, "content": format!("m{i}") }),
        )
    })
    .await;
}

// ---------- smaller leaks ----------

/// The user's `mention` notifications (waits briefly for them to be stored).
async fn mentions_of(app: &api_tests::TestApp, user: &TestUser, expected: usize) -> Vec<Value> {
    let mut found = Vec::new();
    for _ in 0..40 {
        let response = app
            .get("/api/notifications?type=mention", Some(&user.access_token))
            .await;
        response.expect(200);
        found = response.data()["notifications"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        if found.len() >= expected {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    found
}

#[tokio::test]
async fn a_private_authors_mention_never_previews_to_a_non_follower() {
    let (app, _slot) = posts_app().await;
    let private = fixture_user(&app).await;
    let follower = fixture_user(&app).await;
    let stranger = fixture_user(&app).await;
    follow(&app, &follower, &private.id).await.expect(200);
    make_private(&app, &private).await;
    let caption = format!(
        "secret plans with @{} and @{}",
        follower.username, stranger.username
    );
    let post = create_post(&app, &private, &caption).await;
    let to_follower = mentions_of(&app, &follower, 1).await;
    assert_eq!(to_follower.len(), 1, "{to_follower:?}");
    assert!(
        to_follower[0]["preview"]
            .as_str()
            .is_some_and(|p| p.contains("secret")),
        "{to_follower:?}"
    );
    let to_stranger = mentions_of(&app, &stranger, 1).await;
    assert_eq!(to_stranger.len(), 1, "{to_stranger:?}");
    assert_eq!(to_stranger[0]["postId"], post.as_str());
    assert!(to_stranger[0]["preview"].is_null(), "{to_stranger:?}");

    // A comment on the private post, by a follower, mentioning the stranger: no preview either.
    add_comment(
        &app,
        &follower,
        &post,
        None,
        &format!("hidden words @{}", stranger.username),
    )
    .await;
    let to_stranger = mentions_of(&app, &stranger, 2).await;
    assert_eq!(to_stranger.len(), 2, "{to_stranger:?}");
    for mention in &to_stranger {
        assert!(mention["preview"].is_null(), "{mention}");
    }
}

#[tokio::test]
async fn comments_of_blocked_and_disabled_authors_are_hidden_and_a_blocked_author_cannot_edit() {
    let (app, _slot) = posts_app().await;
    let owner = fixture_user(&app).await;
    let troll = fixture_user(&app).await;
    let gone = fixture_user(&app).await;
    let reader = fixture_user(&app).await;
    let post = create_post(&app, &owner, "open thread").await;
    let trolling = add_comment(&app, &troll, &post, None, "troll").await;
    add_comment(&app, &gone, &post, None, "soon disabled").await;
    let kind = add_comment(&app, &reader, &post, None, "kind").await;
    block(&app, &owner, &troll.id).await;
    app.state
        .db
        .client
        .update_item()
        .table_name(&app.state.db.table)
        .set_key(Some(shared::db::keys::user(&gone.id).to_item()))
        .update_expression("SET #s = :s")
        .expression_attribute_names("#s", "status")
        .expression_attribute_values(
            ":s",
            aws_sdk_dynamodb::types::AttributeValue::S("disabled".into()),
        )
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));

    let seen = |viewer: &TestUser| {
        let path = format!("/api/posts/{post}/comments");
        let token = viewer.access_token.clone();
        let app = &app;
        async move {
            let response = app.get(&path, Some(&token)).await;
            response.expect(200);
            ids_of(&response.data()["comments"])
        }
    };
    assert_eq!(seen(&owner).await, vec![kind.clone()]);
    // Others do not see the disabled author either; the troll is only hidden from the blocker.
    let for_reader = seen(&reader).await;
    assert!(for_reader.contains(&trolling) && for_reader.contains(&kind));
    assert_eq!(for_reader.len(), 2, "{for_reader:?}");

    let edit = crate::social_support::patch(
        &app,
        &format!("/api/posts/{post}/comments/{trolling}"),
        Some(&troll.access_token),
        json!({ "content": "edited after the block" }),
    )
    .await;
    edit.expect(403);
}

#[tokio::test]
async fn search_history_never_shows_someone_who_blocked_me() {
    let app = spawn_isolated_app().await;
    let me = fixture_user(&app).await;
    let blocker = fixture_user(&app).await;
    let friend = fixture_user(&app).await;
    for searched in [&blocker, &friend] {
        app.post(
            "/api/search-history",
            Some(&me.access_token),
            json!({ "searchedUserId": searched.id, "searchQuery": "fx" }),
        )
        .await
        .expect(201);
    }
    block(&app, &blocker, &me.id).await;
    let history = app.get("/api/search-history", Some(&me.access_token)).await;
    history.expect(200);
    let shown: Vec<String> = history
        .data()
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["searchedUserId"].as_str().map(str::to_string))
        .collect();
    assert_eq!(shown, vec![friend.id.clone()], "{}", history.body);
    assert!(!history.body.to_string().contains(&blocker.username));
}

#[tokio::test]
async fn concurrent_story_creates_cannot_pass_the_cap_and_a_deleted_story_frees_its_slot() {
    let (app, _slot) = posts_app().await;
    let user = fixture_user(&app).await;
    let now = shared::time::now_epoch();
    let cap = shared::stories::MAX_ACTIVE_STORIES;
    for _ in 0..cap - 1 {
        let record = shared::db::stories::StoryRecord {
            story_id: ulid::Ulid::new().to_string(),
            author_id: user.id.clone(),
            caption: String::new(),
            media_key: "media/story/none.jpg".into(),
            media_type: shared::db::posts::PostMediaType::Image,
            view_count: 0,
            created_at: shared::time::now_rfc3339(),
            expires_at: now + 3600,
        };
        app.state
            .db
            .create_story(&record)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
    }
    fresh_window(60, 20).await;
    let creates = (0..5).map(|_| multipart_story_owned(&app, user.access_token.clone()));
    let answers = futures_util::future::join_all(creates).await;
    let created: Vec<String> = answers
        .iter()
        .filter(|a| a.status.as_u16() == 201)
        .filter_map(|a| a.data()["_id"].as_str().map(str::to_string))
        .collect();
    for answer in &answers {
        assert!(
            matches!(answer.status.as_u16(), 201 | 429),
            "{}",
            answer.body
        );
    }
    assert_eq!(created.len(), 1, "exactly one slot was left");
    // Deleting one frees its slot for the next story.
    crate::social_support::delete(
        &app,
        &format!("/api/stories/{}", created[0]),
        Some(&user.access_token),
    )
    .await
    .expect(200);
    multipart_story_owned(&app, user.access_token.clone())
        .await
        .expect(201);
    multipart_story_owned(&app, user.access_token.clone())
        .await
        .expect(429);
}

// ---------- WebSocket ----------

#[tokio::test]
async fn a_frame_on_a_revoked_connection_is_refused_and_the_socket_closes() {
    use std::time::Duration;
    let app = spawn_isolated_app().await;
    let (a, b) = (fixture_user(&app).await, fixture_user(&app).await);
    let conversation = crate::messages::conversation_between(&app, &a, &b).await;
    let mut socket = app.ws(&a).await;
    // The tokens are revoked behind the socket's back (no disconnect reached it).
    app.state
        .db
        .bump_token_version(&a.id)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    socket
        .send_json(json!({
            "action": "sendMessage", "conversationId": conversation,
            "recipientId": b.id, "content": "after revocation",
        }))
        .await;
    let answer = socket
        .next_frame(Duration::from_secs(5))
        .await
        .unwrap_or_else(|| panic!("no answer"));
    assert_eq!(answer["event"], "error", "{answer}");
    socket.expect_closed(Duration::from_secs(5)).await;
    let listed = app
        .get(
            &format!("/api/messages/conversations/{conversation}/messages"),
            Some(&b.access_token),
        )
        .await;
    listed.expect(200);
    assert_eq!(listed.data()["messages"], json!([]), "nothing was sent");
}

#[tokio::test]
async fn a_socket_outlives_its_access_token_only_by_re_authenticating() {
    use std::time::Duration;
    let app = spawn_isolated_app_with(|config| config.access_token_ttl_secs = 10).await;
    let user = fixture_user(&app).await;
    let mut kept = app.ws(&user).await;
    let mut lapsed = app.ws(&user).await;
    kept.send_json(json!({ "action": "ping" })).await;
    kept.expect_event("pong", Duration::from_secs(5)).await;
    tokio::time::sleep(Duration::from_secs(4)).await;
    let fresh = app.login(&user.email, PASSWORD).await;
    fresh.expect(200);
    let token = fresh.data()["accessToken"].as_str().unwrap_or_default();
    kept.send_json(json!({ "action": "auth", "token": token }))
        .await;
    let authenticated = kept
        .expect_event("authenticated", Duration::from_secs(5))
        .await;
    assert_eq!(authenticated["data"]["userId"], user.id.as_str());
    // Past the first token's lifetime (10 s), inside the second's.
    tokio::time::sleep(Duration::from_secs(7)).await;
    kept.send_json(json!({ "action": "ping" })).await;
    kept.expect_event("pong", Duration::from_secs(5)).await;
    lapsed.send_json(json!({ "action": "ping" })).await;
    let answer = lapsed
        .next_frame(Duration::from_secs(5))
        .await
        .unwrap_or_else(|| panic!("no answer"));
    assert_eq!(answer["event"], "error", "{answer}");
    lapsed.expect_closed(Duration::from_secs(5)).await;

    // Another user's token does not re-authenticate a connection.
    let other = fixture_user(&app).await;
    kept.send_json(json!({ "action": "auth", "token": other.access_token }))
        .await;
    let refused = kept.expect_event("error", Duration::from_secs(5)).await;
    assert!(refused["data"]["message"].is_string());
}

#[tokio::test]
async fn the_eleventh_connection_closes_the_oldest() {
    use std::time::Duration;
    let app = spawn_isolated_app().await;
    let user = fixture_user(&app).await;
    let mut oldest = app.ws(&user).await;
    let mut others = Vec::new();
    for _ in 0..9 {
        others.push(app.ws(&user).await);
    }
    oldest.send_json(json!({ "action": "ping" })).await;
    oldest.expect_event("pong", Duration::from_secs(5)).await;
    let mut newest = app.ws(&user).await;
    oldest.expect_closed(Duration::from_secs(5)).await;
    newest.send_json(json!({ "action": "ping" })).await;
    newest.expect_event("pong", Duration::from_secs(5)).await;
    let live = app
        .state
        .db
        .user_connections(&user.id)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(live.len(), 10, "{live:?}");
}

#[tokio::test]
async fn comments_of_a_private_post_and_viewers_of_a_story_are_refused_before_the_list_is_read() {
    let (app, _slot) = posts_app().await;
    let owner = fixture_user(&app).await;
    let stranger = fixture_user(&app).await;
    let post = create_post(&app, &owner, "members only").await;
    add_comment(&app, &owner, &post, None, "first").await;
    let story = multipart_story_owned(&app, owner.access_token.clone()).await;
    story.expect(201);
    let story = story.data()["_id"].as_str().unwrap_or_default().to_string();
    make_private(&app, &owner).await;

    let comments = app
        .get(
            &format!("/api/posts/{post}/comments"),
            Some(&stranger.access_token),
        )
        .await;
    comments.expect(403);
    assert_eq!(
        comments.ddb_calls(),
        3,
        "auth + the post + its author and the relation; no comment read"
    );
    let viewers = app
        .get(
            &format!("/api/stories/{story}/viewers"),
            Some(&stranger.access_token),
        )
        .await;
    viewers.expect(403);
    assert_eq!(viewers.ddb_calls(), 2, "auth + the story; no view read");
}
