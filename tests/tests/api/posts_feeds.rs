//! `/api/posts/feed`, `/timeline`, `/explore` and `/hashtag/:tag`: order, pagination while
//! posts are added, private accounts, blocks and deletions kept out, authors hydrated.

use std::collections::HashSet;

use api_tests::{TestApp, TestUser};
use serde_json::json;

use crate::posts_support::*;
use crate::social_support::*;

async fn page(
    app: &TestApp,
    path: &str,
    viewer: Option<&TestUser>,
) -> (Vec<String>, Option<String>) {
    let response = app.get(path, viewer.map(|v| v.access_token.as_str())).await;
    response.expect(200);
    for post in response.data()["posts"].as_array().into_iter().flatten() {
        assert!(
            post["user"]["username"].is_string(),
            "author hydrated: {post}"
        );
    }
    (
        post_ids(&response),
        response.data()["pagination"]["nextCursor"]
            .as_str()
            .map(str::to_string),
    )
}

#[tokio::test]
async fn the_feed_pages_newest_first_without_duplicates_or_gaps_while_posts_are_added() {
    let (app, _slot) = posts_app().await;
    let author = app.signed_in_user().await;
    let mut created = Vec::new();
    for i in 0..5 {
        created.push(create_post(&app, &author, &format!("post {i}")).await);
    }
    let newest_first: Vec<String> = created.iter().rev().cloned().collect();

    let first = app.get("/api/posts/feed?limit=2", None).await;
    first.expect(200);
    assert!(
        first.ddb_calls() <= 2,
        "1 Query + 1 BatchGet: {}",
        first.ddb_calls()
    );
    assert_eq!(post_ids(&first), newest_first[..2].to_vec());
    assert_eq!(first.data()["pagination"]["hasMore"], true);
    let mut cursor = first.data()["pagination"]["nextCursor"]
        .as_str()
        .map(str::to_string);
    // New posts arrive while the reader pages on: the cursor continues where it was.
    let late = [
        create_post(&app, &author, "late 1").await,
        create_post(&app, &author, "late 2").await,
    ];
    let mut seen = post_ids(&first);
    while let Some(next) = cursor {
        let (ids, more) = page(
            &app,
            &format!("/api/posts/feed?limit=2&cursor={next}"),
            None,
        )
        .await;
        seen.extend(ids);
        cursor = more;
    }
    assert_eq!(seen, newest_first, "no duplicates, no gaps");
    let (top, _) = page(&app, "/api/posts/feed?limit=2", None).await;
    assert_eq!(top, vec![late[1].clone(), late[0].clone()]);

    // Offset pages agree.
    let (second, _) = page(&app, "/api/posts/feed?limit=3&offset=3", None).await;
    let (all, _) = page(&app, "/api/posts/feed?limit=100", None).await;
    assert_eq!(all.len(), 7);
    assert_eq!(second, all[3..6].to_vec());
    let unique: HashSet<&String> = all.iter().collect();
    assert_eq!(unique.len(), all.len());
    app.get("/api/posts/feed?cursor=garbage", None)
        .await
        .expect(400);
}

#[tokio::test]
async fn the_feed_keeps_private_blocked_and_deleted_posts_out() {
    let (app, _slot) = posts_app().await;
    let public = app.signed_in_user().await;
    let private = app.signed_in_user().await;
    let viewer = app.signed_in_user().await;
    make_private(&app, &private).await;
    let hidden = create_post(&app, &private, "private post").await;
    let visible = create_post(&app, &public, "public post").await;
    let deleted = create_post(&app, &public, "deleted soon").await;
    delete(
        &app,
        &format!("/api/posts/{deleted}"),
        Some(&public.access_token),
    )
    .await
    .expect(200);
    let (ids, _) = page(&app, "/api/posts/feed", Some(&viewer)).await;
    assert_eq!(ids, vec![visible.clone()]);
    assert!(!ids.contains(&hidden));

    app.post(
        &format!("/api/users/{}/block", viewer.id),
        Some(&public.access_token),
        json!({}),
    )
    .await
    .expect(200);
    let (ids, _) = page(&app, "/api/posts/feed", Some(&viewer)).await;
    assert!(ids.is_empty(), "{ids:?}");
    let (ids, _) = page(&app, "/api/posts/feed", None).await;
    assert_eq!(ids, vec![visible]);
}

#[tokio::test]
async fn the_timeline_shows_followed_accounts_and_mine_newest_first() {
    let (app, _slot) = posts_app().await;
    let me = app.signed_in_user().await;
    let friend = app.signed_in_user().await;
    let private_friend = app.signed_in_user().await;
    let stranger = app.signed_in_user().await;
    make_private(&app, &private_friend).await;
    follow(&app, &me, &friend.id).await.expect(200);
    follow(&app, &me, &private_friend.id).await.expect(200);
    app.post(
        &format!("/api/follow/requests/{}/accept", me.id),
        Some(&private_friend.access_token),
        json!({}),
    )
    .await
    .expect(200);

    let a = create_post(&app, &friend, "friend 1").await;
    let b = create_post(&app, &stranger, "stranger").await;
    let c = create_post(&app, &me, "mine").await;
    let d = create_post(&app, &private_friend, "private friend").await;
    let e = create_post(&app, &friend, "friend 2").await;

    // The stream fans the posts out; then the timeline is 1 Query + 1 BatchGetItem after auth.
    let whole = [e.clone(), d.clone(), c.clone(), a.clone()];
    timeline_becomes(&app, &me, &whole).await;
    let response = app
        .get("/api/posts/timeline?limit=2", Some(&me.access_token))
        .await;
    assert_eq!(response.ddb_calls(), 3, "auth + 1 Query + 1 BatchGetItem");
    response.expect(200);
    assert_eq!(post_ids(&response), vec![e.clone(), d.clone()]);
    let mut cursor = response.data()["pagination"]["nextCursor"]
        .as_str()
        .map(str::to_string);
    let late = create_post(&app, &friend, "late").await;
    let mut seen = post_ids(&response);
    while let Some(next) = cursor {
        let (ids, more) = page(
            &app,
            &format!("/api/posts/timeline?limit=2&cursor={next}"),
            Some(&me),
        )
        .await;
        seen.extend(ids);
        cursor = more;
    }
    assert_eq!(seen, whole.to_vec());
    assert!(!seen.contains(&b));
    stored_entries_become(&app, &stranger, None, std::slice::from_ref(&b)).await;
    let mut with_late = vec![late.clone()];
    with_late.extend(whole.iter().cloned());
    timeline_becomes(&app, &me, &with_late).await;
    let (top, _) = page(&app, "/api/posts/timeline?limit=1", Some(&me)).await;
    assert_eq!(top, vec![late.clone()]);
    let (offset, _) = page(&app, "/api/posts/timeline?limit=2&offset=2", Some(&me)).await;
    assert_eq!(offset, vec![d.clone(), c.clone()]);

    // Unfollowed and deleted content leaves.
    unfollow(&app, &me, &friend.id).await.expect(200);
    delete(&app, &format!("/api/posts/{c}"), Some(&me.access_token))
        .await
        .expect(200);
    // Both leave the page at once (the read keeps only followed authors and live posts)...
    let (ids, _) = page(&app, "/api/posts/timeline", Some(&me)).await;
    assert_eq!(ids, vec![d.clone()]);
    // ...and the stream deletes their entries.
    stored_entries_become(&app, &me, None, std::slice::from_ref(&d)).await;
    app.get("/api/posts/timeline", None).await.expect(401);
}

#[tokio::test]
async fn explore_ranks_by_engagement_score() {
    let (app, _slot) = posts_app().await;
    let author = app.signed_in_user().await;
    let fans = many_users(&app, 3).await;
    let quiet = create_post(&app, &author, "quiet").await;
    let liked = create_post(&app, &author, "liked").await;
    let discussed = create_post(&app, &author, "discussed").await;
    for fan in &fans {
        like(&app, fan, &liked).await.expect(200);
    }
    for fan in fans.iter().take(2) {
        app.post(
            &format!("/api/posts/{discussed}/comments"),
            Some(&fan.access_token),
            json!({ "content": "nice" }),
        )
        .await
        .expect(201);
    }
    let response = app.get("/api/posts/explore", None).await;
    response.expect(200);
    assert_eq!(
        post_ids(&response),
        vec![discussed.clone(), liked.clone(), quiet.clone()]
    );
    let posts = response.data()["posts"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let scores: Vec<f64> = posts
        .iter()
        .map(|p| p["engagementScore"].as_f64().unwrap_or(-1.0))
        .collect();
    assert!(scores[0] > scores[1] && scores[1] > scores[2], "{scores:?}");
    assert!(scores[0] <= 4.0 && scores[0] > 3.9, "{scores:?}");
    let (second, _) = page(&app, "/api/posts/explore?limit=1&page=2", None).await;
    assert_eq!(second, vec![liked.clone()]);
}

#[tokio::test]
async fn hashtags_list_posts_newest_first_and_follow_edits() {
    let (app, _slot) = posts_app().await;
    let author = app.signed_in_user().await;
    let tag = format!("tag{}", unique_word());
    let first = create_post(&app, &author, &format!("one #{tag}")).await;
    let second = create_post(&app, &author, &format!("two #{}", tag.to_uppercase())).await;
    create_post(&app, &author, "untagged").await;
    let response = app.get(&format!("/api/posts/hashtag/{tag}"), None).await;
    response.expect(200);
    assert_eq!(post_ids(&response), vec![second.clone(), first.clone()]);
    assert_eq!(response.ddb_calls(), 2, "1 Query + 1 BatchGet");
    let (by_hash, _) = page(&app, &format!("/api/posts/hashtag/%23{tag}"), None).await;
    assert_eq!(by_hash, vec![second.clone(), first.clone()]);
    patch(
        &app,
        &format!("/api/posts/{first}"),
        Some(&author.access_token),
        json!({ "caption": "no tag now" }),
    )
    .await
    .expect(200);
    delete(
        &app,
        &format!("/api/posts/{second}"),
        Some(&author.access_token),
    )
    .await
    .expect(200);
    let (ids, _) = page(&app, &format!("/api/posts/hashtag/{tag}"), None).await;
    assert!(ids.is_empty(), "{ids:?}");
    app.get("/api/posts/hashtag/not%20a%20tag", None)
        .await
        .expect(400);
}

#[tokio::test]
async fn suggestions_carry_the_newest_image_posts() {
    let (app, _slot) = posts_app().await;
    let star = app.signed_in_user().await;
    let fan = app.signed_in_user().await;
    let me = app.signed_in_user().await;
    follow(&app, &fan, &star.id).await.expect(200);
    for i in 0..4 {
        create_post(&app, &star, &format!("image {i}")).await;
    }
    multipart_post(
        &app,
        Some(&star.access_token),
        Some((mp4(), "v.mp4")),
        "a video",
    )
    .await
    .expect(201);
    let (response, star_card) = suggestions_once_images(&app, &me, &star.id, 3).await;
    // I follow nobody: auth + 1 BatchGetItem (the POPULAR item) + 1 BatchGetItem (the
    // candidates' profiles, exclusions and recent images). No Query per suggestion.
    assert_eq!(response.ddb_calls(), 3);
    let images = star_card["recentImages"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let first = images[0].as_str().unwrap_or_default();
    assert_eq!(fetch_bytes(&app, first).await, JPEG);
}

#[tokio::test]
async fn the_feed_reads_back_over_empty_days_through_the_day_index() {
    use aws_sdk_dynamodb::types::AttributeValue;
    use shared::db::keys;

    let (app, _slot) = posts_app().await;
    let author = app.signed_in_user().await;
    let older = create_post(&app, &author, "three weeks ago").await;
    let newer = create_post(&app, &author, "today").await;

    // The end of the feed: today's bucket, the day index, the hydration. No walk over empty days.
    let all = app.get("/api/posts/feed?limit=100", None).await;
    all.expect(200);
    assert_eq!(post_ids(&all), vec![newer.clone(), older.clone()]);
    assert!(all.ddb_calls() <= 3, "{}", all.ddb_calls());

    // Move the older post's entry 20 days back: the feed reaches it with one Query more, not 20.
    let today = shared::db::posts::day_of(&older);
    let past = time::OffsetDateTime::now_utc().date() - time::Duration::days(20);
    let past = shared::db::posts::day_string(past);
    let db = &app.state.db;
    let moved = keys::feed_entry(&past, &older);
    let marker = keys::feed_day(&past);
    let result = db
        .client
        .transact_write_items()
        .transact_items(
            aws_sdk_dynamodb::types::TransactWriteItem::builder()
                .put(
                    aws_sdk_dynamodb::types::Put::builder()
                        .table_name(&db.table)
                        .set_item(Some(moved.to_item()))
                        .item("postId", AttributeValue::S(older.clone()))
                        .item("authorId", AttributeValue::S(author.id.clone()))
                        .build()
                        .unwrap_or_else(|e| panic!("{e}")),
                )
                .build(),
        )
        .transact_items(
            aws_sdk_dynamodb::types::TransactWriteItem::builder()
                .put(
                    aws_sdk_dynamodb::types::Put::builder()
                        .table_name(&db.table)
                        .set_item(Some(marker.to_item()))
                        .build()
                        .unwrap_or_else(|e| panic!("{e}")),
                )
                .build(),
        )
        .transact_items(
            aws_sdk_dynamodb::types::TransactWriteItem::builder()
                .delete(
                    aws_sdk_dynamodb::types::Delete::builder()
                        .table_name(&db.table)
                        .set_key(Some(keys::feed_entry(&today, &older).to_item()))
                        .build()
                        .unwrap_or_else(|e| panic!("{e}")),
                )
                .build(),
        )
        .send()
        .await;
    result.unwrap_or_else(|e| panic!("moving the entry: {e:?}"));

    let first = app.get("/api/posts/feed?limit=1", None).await;
    first.expect(200);
    assert_eq!(post_ids(&first), vec![newer.clone()]);
    assert!(
        first.ddb_calls() <= 4,
        "today's bucket, then the look-ahead for hasMore: day index + the old bucket, hydration: {}",
        first.ddb_calls()
    );
    let cursor = first.data()["pagination"]["nextCursor"]
        .as_str()
        .unwrap_or_else(|| panic!("more after the first: {}", first.body))
        .to_string();
    let next = app
        .get(&format!("/api/posts/feed?limit=1&cursor={cursor}"), None)
        .await;
    next.expect(200);
    assert_eq!(post_ids(&next), vec![older.clone()]);
    assert!(
        next.ddb_calls() <= 4,
        "the rest of the cursor's bucket + the day index + the old bucket + hydration: {}",
        next.ddb_calls()
    );
    assert_eq!(next.data()["pagination"]["hasMore"], false);
}

pub const ROUTES: &[Route] = &[
    ("GET", "/api/posts/feed", Access::Optional),
    ("GET", "/api/posts/timeline", Access::Token),
    ("GET", "/api/posts/explore", Access::Optional),
    ("GET", "/api/posts/hashtag/{tag}", Access::Optional),
    ("GET", "/api/posts/user/{user_id}", Access::Optional),
    ("GET", "/api/posts/user/{user_id}/stats", Access::Optional),
];

#[tokio::test]
async fn every_route_needs_a_valid_token_or_none() {
    let app = api_tests::spawn_app().await;
    assert_bad_tokens_get_401(&app, ROUTES).await;
}

#[tokio::test]
async fn every_list_refuses_bad_paging() {
    let (app, _slot) = posts_app().await;
    let me = app.signed_in_user().await;
    let paths = [
        "/api/posts/feed".to_string(),
        "/api/posts/timeline".to_string(),
        "/api/posts/explore".to_string(),
        "/api/posts/hashtag/sunset".to_string(),
        format!("/api/posts/user/{}", me.id),
    ];
    assert_bad_paging_gets_400(&app, Some(&me.access_token), &paths).await;
}
