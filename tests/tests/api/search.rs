//! `GET /api/users/search`: prefix match on username and full-name words, case-insensitive,
//! exact username first then by followers, no emails, kept in step with renames.

use serde_json::json;

use crate::social_support::*;

fn usernames(data: &serde_json::Value) -> Vec<String> {
    data.as_array()
        .into_iter()
        .flatten()
        .filter_map(|u| u["username"].as_str().map(str::to_string))
        .collect()
}

#[tokio::test]
async fn search_ranks_exact_username_first_then_by_followers() {
    let app = spawn_isolated_app().await;
    let word = unique_word();
    let exact = named_user(&app, &word, "Exact Match").await;
    let popular = named_user(&app, &format!("{word}_popular"), "Popular One").await;
    let quiet = named_user(&app, &format!("{word}.quiet"), "Quiet One").await;
    let by_name = named_user(&app, &format!("x{word}"), &format!("{word}son Anna")).await;
    for _ in 0..2 {
        let fan = fixture_user(&app).await;
        follow(&app, &fan, &popular.id).await.expect(200);
    }
    let fan = fixture_user(&app).await;
    follow(&app, &fan, &by_name.id).await.expect(200);

    let response = app
        .get(
            &format!("/api/users/search?q={}", word.to_uppercase()),
            None,
        )
        .await;
    response.expect(200);
    assert_eq!(response.ddb_calls(), 2, "1 Query + 1 BatchGet");
    let found = usernames(response.data());
    assert_eq!(
        found,
        vec![
            exact.username.clone(),
            popular.username.clone(),
            by_name.username.clone(),
            quiet.username.clone()
        ],
        "exact first, then by followers"
    );
    for user in response.data().as_array().into_iter().flatten() {
        assert!(user.get("email").is_none(), "no email: {user}");
    }

    // Full-name prefixes, several words included.
    let response = app
        .get(&format!("/api/users/search?q={word}SON%20%20an"), None)
        .await;
    response.expect(200);
    assert_eq!(usernames(response.data()), vec![by_name.username.clone()]);

    let limited = app
        .get(&format!("/api/users/search?q={word}&limit=1"), None)
        .await;
    assert_eq!(usernames(limited.data()), vec![exact.username.clone()]);

    // Someone who blocked the searcher does not show up for them.
    let searcher = fixture_user(&app).await;
    app.post(
        &format!("/api/users/{}/block", searcher.id),
        Some(&popular.access_token),
        json!({}),
    )
    .await
    .expect(200);
    let response = app
        .get(
            &format!("/api/users/search?q={word}"),
            Some(&searcher.access_token),
        )
        .await;
    response.expect(200);
    assert_eq!(response.ddb_calls(), 3, "auth + 1 Query + 1 BatchGet");
    let found = usernames(response.data());
    assert!(!found.contains(&popular.username), "{found:?}");
    assert_eq!(found.len(), 3);
}

#[tokio::test]
async fn search_follows_renames_and_refuses_bad_queries() {
    let app = spawn_isolated_app().await;
    let word = unique_word();
    let other = unique_word();
    let user = named_user(&app, &format!("{word}_r"), &format!("Old{word} Name")).await;
    let found = app
        .get(&format!("/api/users/search?q=old{word}"), None)
        .await;
    assert_eq!(usernames(found.data()), vec![user.username.clone()]);

    patch(
        &app,
        "/api/users/profile",
        Some(&user.access_token),
        json!({ "fullName": format!("New{other} Name") }),
    )
    .await
    .expect(200);
    let old = app
        .get(&format!("/api/users/search?q=old{word}"), None)
        .await;
    old.expect(200);
    assert_eq!(usernames(old.data()), Vec::<String>::new());
    let new = app
        .get(&format!("/api/users/search?q=new{other}"), None)
        .await;
    assert_eq!(usernames(new.data()), vec![user.username.clone()]);

    for query in ["", "q=", "q=%20", "q=a"] {
        let response = app.get(&format!("/api/users/search?{query}"), None).await;
        response.expect(400);
        assert!(response.body["errors"]["q"].is_string(), "{query}");
    }
    app.get("/api/users/search?q=ab&limit=x", None)
        .await
        .expect(400);
}

#[tokio::test]
async fn suggestions_put_friends_of_friends_first_and_skip_followed_blocked_and_self() {
    let app = spawn_isolated_app().await;
    let me = fixture_user(&app).await;
    let friend = fixture_user(&app).await;
    let friend_of_friend = fixture_user(&app).await;
    let already = fixture_user(&app).await;
    let blocked_me = fixture_user(&app).await;
    follow(&app, &me, &friend.id).await.expect(200);
    follow(&app, &me, &already.id).await.expect(200);
    follow(&app, &friend, &friend_of_friend.id)
        .await
        .expect(200);
    follow(&app, &friend, &already.id).await.expect(200);
    follow(&app, &friend, &blocked_me.id).await.expect(200);
    app.post(
        &format!("/api/users/{}/block", me.id),
        Some(&blocked_me.access_token),
        json!({}),
    )
    .await
    .expect(200);

    // Friends of friends come from the table's stream (`RECENTFOLLOWS`): a bounded wait.
    let deadline = std::time::Instant::now() + crate::posts_support::STREAM_WAIT;
    let list = loop {
        let response = app
            .get("/api/users/suggested?limit=30", Some(&me.access_token))
            .await;
        response.expect(200);
        let list = response.data().as_array().cloned().unwrap_or_default();
        // (It may lead as a popular account before that, without its mutual count.)
        if list
            .first()
            .is_some_and(|u| u["_id"] == friend_of_friend.id.as_str() && u["mutualCount"] == 1)
        {
            break list;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the friend of a friend is not first: {}",
            response.body
        );
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    };
    let ids: Vec<&str> = list.iter().filter_map(|u| u["_id"].as_str()).collect();
    for excluded in [&me.id, &friend.id, &already.id, &blocked_me.id] {
        assert!(!ids.contains(&excluded.as_str()), "{excluded} suggested");
    }
    let first = &list[0];
    assert_eq!(first["mutualCount"], 1);
    assert_eq!(first["isFollowing"], false);
    assert!(first["recentImages"].is_array());
    assert!(first.get("email").is_none());
    for field in ["followersCount", "followingCount", "postsCount"] {
        assert!(first[field].is_i64(), "{field}");
    }

    app.get("/api/users/suggested?limit=0", Some(&me.access_token))
        .await
        .expect(400);
}
