//! The timeline fanned out on write by the table's stream (`shared/src/fanout/timeline.rs`):
//! entries follow the follow graph (a follow copies recent posts in, an unfollow or a block
//! takes them out, private accounts reach only followers), racing follows and posts settle on
//! the current graph, large accounts are merged at read time, and a replayed record writes
//! nothing twice. Every wait is bounded (`STREAM_WAIT`).

use api_tests::{TestApp, TestUser};
use serde_json::json;

use crate::posts_support::*;
use crate::social_support::*;

fn newest_first(mut ids: Vec<String>) -> Vec<String> {
    ids.sort_by(|a, b| b.cmp(a));
    ids
}

#[tokio::test]
async fn a_follow_copies_recent_posts_in_and_an_unfollow_takes_them_out() {
    let (app, _slot) = posts_app().await;
    let me = app.signed_in_user().await;
    let author = app.signed_in_user().await;
    let first = create_post(&app, &author, "before the follow 1").await;
    let second = create_post(&app, &author, "before the follow 2").await;
    // The author's own timeline has them; mine is empty.
    timeline_becomes(&app, &author, &[second.clone(), first.clone()]).await;
    timeline_becomes(&app, &me, &[]).await;

    follow(&app, &me, &author.id).await.expect(200);
    timeline_becomes(&app, &me, &[second.clone(), first.clone()]).await;
    let third = create_post(&app, &author, "after the follow").await;
    timeline_becomes(&app, &me, &[third.clone(), second.clone(), first.clone()]).await;

    unfollow(&app, &me, &author.id).await.expect(200);
    // Off the page at once (the read checks the follow edge), out of the table soon after.
    let page = app.get("/api/posts/timeline", Some(&me.access_token)).await;
    page.expect(200);
    assert_eq!(post_ids(&page), Vec::<String>::new());
    stored_entries_become(&app, &me, Some(&author.id), &[]).await;
    // The author's own entries stay.
    assert_eq!(
        stored_entries(&app, &author, None).await,
        vec![third, second, first]
    );
}

#[tokio::test]
async fn a_private_accounts_posts_reach_only_its_followers_and_a_block_takes_them_out() {
    let (app, _slot) = posts_app().await;
    let owner = app.signed_in_user().await;
    let follower = app.signed_in_user().await;
    let requester = app.signed_in_user().await;
    make_private(&app, &owner).await;
    follow(&app, &follower, &owner.id).await.expect(200);
    app.post(
        &format!("/api/follow/requests/{}/accept", follower.id),
        Some(&owner.access_token),
        json!({}),
    )
    .await
    .expect(200);
    follow(&app, &requester, &owner.id).await.expect(200); // pending
    let post = create_post(&app, &owner, "for my followers").await;

    timeline_becomes(&app, &follower, std::slice::from_ref(&post)).await;
    stored_entries_become(&app, &owner, None, std::slice::from_ref(&post)).await;
    assert!(stored_entries(&app, &requester, None).await.is_empty());
    timeline_becomes(&app, &requester, &[]).await;

    // Accepting the request copies the post in.
    app.post(
        &format!("/api/follow/requests/{}/accept", requester.id),
        Some(&owner.access_token),
        json!({}),
    )
    .await
    .expect(200);
    timeline_becomes(&app, &requester, std::slice::from_ref(&post)).await;

    // A block drops the follow edges both ways, and with them the entries.
    app.post(
        &format!("/api/users/{}/block", follower.id),
        Some(&owner.access_token),
        json!({}),
    )
    .await
    .expect(200);
    timeline_becomes(&app, &follower, &[]).await;
    stored_entries_become(&app, &follower, None, &[]).await;
}

#[tokio::test]
async fn racing_follows_unfollows_and_posts_settle_on_the_current_graph() {
    let (app, _slot) = posts_app().await;
    let me = app.signed_in_user().await;
    let kept_a = app.signed_in_user().await;
    let kept_b = app.signed_in_user().await;
    let dropped = app.signed_in_user().await;
    let authors = [&kept_a, &kept_b, &dropped];

    // Each author posts three times while I follow all three and then unfollow one.
    let posting = futures_util::future::join_all(authors.iter().map(|author| {
        let app = &app;
        async move {
            let mut ids = Vec::new();
            for n in 0..3 {
                ids.push(create_post(app, author, &format!("race {n}")).await);
            }
            ids
        }
    }));
    let following = async {
        for author in authors {
            follow(&app, &me, &author.id).await.expect(200);
        }
        unfollow(&app, &me, &dropped.id).await.expect(200);
    };
    let (posted, ()) = tokio::join!(posting, following);
    let mine = create_post(&app, &me, "mine").await;

    let mut expected: Vec<String> = posted[0].iter().chain(&posted[1]).cloned().collect();
    expected.push(mine);
    let expected = newest_first(expected);
    timeline_becomes(&app, &me, &expected).await;
    // What is stored agrees once the stream has caught up: nothing of the unfollowed author.
    stored_entries_become(&app, &me, None, &expected).await;

    // Cursor pages walk the same order without gaps or repeats.
    let mut walked = Vec::new();
    let mut path = "/api/posts/timeline?limit=2".to_string();
    loop {
        let page = app.get(&path, Some(&me.access_token)).await;
        page.expect(200);
        walked.extend(post_ids(&page));
        match page.data()["pagination"]["nextCursor"].as_str() {
            Some(next) => path = format!("/api/posts/timeline?limit=2&cursor={next}"),
            None => break,
        }
    }
    assert_eq!(walked, expected);
}

/// Whether `user`'s item lists `author` among the large accounts it follows.
async fn follows_large(app: &TestApp, user: &TestUser, author: &TestUser) -> bool {
    app.state
        .db
        .get_user(&user.id)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .is_some_and(|u| u.followed_large.contains(&author.id))
}

async fn follows_large_becomes(app: &TestApp, user: &TestUser, author: &TestUser, want: bool) {
    let deadline = std::time::Instant::now() + STREAM_WAIT;
    while follows_large(app, user, author).await != want {
        assert!(
            std::time::Instant::now() < deadline,
            "followedLarge of {} did not become {want} within {STREAM_WAIT:?}",
            user.username
        );
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
}

#[tokio::test]
async fn a_large_account_is_merged_at_read_time_instead_of_fanned_out() {
    // Fan-out on write serves at most 2 followers here.
    let (app, _slot) = posts_app_with(|config| config.timeline_fanout_max_followers = 2).await;
    let star = app.signed_in_user().await;
    let fans = [
        app.signed_in_user().await,
        app.signed_in_user().await,
        app.signed_in_user().await,
    ];
    let reader = app.signed_in_user().await;
    let own = create_post(&app, &reader, "the reader's own").await;
    timeline_becomes(&app, &reader, std::slice::from_ref(&own)).await;
    follow(&app, &fans[0], &star.id).await.expect(200);
    follow(&app, &fans[1], &star.id).await.expect(200);
    let early = create_post(&app, &star, "while small").await;
    stored_entries_become(&app, &fans[0], None, std::slice::from_ref(&early)).await;

    // The third follower takes the star past the threshold: every follower lists it as large.
    follow(&app, &fans[2], &star.id).await.expect(200);
    for fan in &fans {
        follows_large_becomes(&app, fan, &star, true).await;
    }
    let late = create_post(&app, &star, "while large").await;
    // The star's own entry is written; no follower's is.
    stored_entries_become(&app, &star, None, &[late.clone(), early.clone()]).await;
    let both = [late.clone(), early.clone()];
    for fan in &fans {
        timeline_becomes(&app, fan, &both).await;
        assert!(!stored_entries(&app, fan, None).await.contains(&late));
    }
    // The merge is one more Query per followed large account, whatever else is followed.
    let merged = app
        .get("/api/posts/timeline", Some(&fans[2].access_token))
        .await;
    assert_eq!(
        merged.ddb_calls(),
        4,
        "auth + entries + the star's posts + hydration"
    );
    let plain = app
        .get("/api/posts/timeline", Some(&reader.access_token))
        .await;
    assert_eq!(plain.ddb_calls(), 3, "auth + entries + hydration");

    // A new follower of a large account is entered in the set, not backfilled.
    follow(&app, &reader, &star.id).await.expect(200);
    follows_large_becomes(&app, &reader, &star, true).await;
    timeline_becomes(&app, &reader, &newest_first(vec![late, early, own.clone()])).await;
    assert_eq!(stored_entries(&app, &reader, None).await, vec![own]);
    // An unfollow takes it out again, and the posts leave the page at once.
    unfollow(&app, &fans[2], &star.id).await.expect(200);
    let after = app
        .get("/api/posts/timeline", Some(&fans[2].access_token))
        .await;
    assert_eq!(post_ids(&after), Vec::<String>::new());
    follows_large_becomes(&app, &fans[2], &star, false).await;
}

#[tokio::test]
async fn a_replayed_post_record_writes_each_entry_once() {
    let (app, _slot) = posts_app().await;
    let author = app.signed_in_user().await;
    let follower = app.signed_in_user().await;
    follow(&app, &follower, &author.id).await.expect(200);
    let post = create_post(&app, &author, "replayed").await;
    timeline_becomes(&app, &follower, std::slice::from_ref(&post)).await;

    // The same record again, twice in one batch and once more alone: still one entry each.
    let record = api_tests::stream_record(
        "INSERT",
        1,
        api_tests::post_image(&post, &author.id, "replayed"),
    );
    for batch in [vec![record.clone(), record.clone()], vec![record]] {
        let failed = local::streams::invoke(&app.state, &batch)
            .await
            .unwrap_or_else(|e| panic!("invoking fanout: {e}"));
        assert_eq!(failed, None);
    }
    assert_eq!(
        stored_entries(&app, &follower, None).await,
        vec![post.clone()]
    );
    assert_eq!(
        stored_entries(&app, &author, None).await,
        vec![post.clone()]
    );
    timeline_becomes(&app, &follower, std::slice::from_ref(&post)).await;
}
