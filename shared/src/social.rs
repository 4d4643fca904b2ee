//! Who may see what of whom. Posts, stories, comments and messages ask the same questions
//! as profiles: `Db::relation` (1 BatchGetItem) and `can_view`.

use std::collections::HashMap;

use crate::db::follows::FollowStatus;
use crate::db::keys::{self, Key};
use crate::db::listing::contains_key;
use crate::db::users::UserRecord;
use crate::db::{Db, Item};
use crate::error::ApiResult;

/// The viewer's standing with an account's owner.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Relation {
    pub follow_status: FollowStatus,
    /// The viewer blocked the owner.
    pub viewer_blocked_owner: bool,
    /// The owner blocked the viewer.
    pub owner_blocked_viewer: bool,
}

impl Relation {
    pub fn blocked_either_way(&self) -> bool {
        self.viewer_blocked_owner || self.owner_blocked_viewer
    }

    /// The keys whose existence decides the relation (read them in the same BatchGetItem as
    /// whatever else the route needs).
    pub fn keys(viewer: &str, owner: &str) -> Vec<Key> {
        vec![
            keys::following(viewer, owner),
            keys::follow_request(owner, viewer),
            keys::block(viewer, owner),
            keys::block(owner, viewer),
        ]
    }

    pub fn from_found(viewer: &str, owner: &str, found: &HashMap<(String, String), Item>) -> Self {
        if viewer == owner {
            return Self::default();
        }
        let follow_status = if contains_key(found, &keys::following(viewer, owner)) {
            FollowStatus::Following
        } else if contains_key(found, &keys::follow_request(owner, viewer)) {
            FollowStatus::Requested
        } else {
            FollowStatus::None
        };
        Self {
            follow_status,
            viewer_blocked_owner: contains_key(found, &keys::block(viewer, owner)),
            owner_blocked_viewer: contains_key(found, &keys::block(owner, viewer)),
        }
    }
}

/// How much of an account the viewer may see.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Visibility {
    /// Profile and content (posts, stories, follower lists).
    Full,
    /// The profile header only: a private account the viewer does not follow, or an account
    /// the viewer has blocked.
    ProfileOnly,
    /// Nothing: the owner blocked the viewer. Answer as if the account did not exist.
    Hidden,
}

impl Visibility {
    pub fn content_visible(self) -> bool {
        self == Self::Full
    }
}

/// The one rule for private accounts and blocks.
pub fn can_view(viewer: Option<&str>, owner: &UserRecord, relation: &Relation) -> Visibility {
    if viewer == Some(owner.id.as_str()) {
        return Visibility::Full;
    }
    if relation.owner_blocked_viewer {
        return Visibility::Hidden;
    }
    if relation.viewer_blocked_owner {
        return Visibility::ProfileOnly;
    }
    if !owner.is_private || relation.follow_status == FollowStatus::Following {
        Visibility::Full
    } else {
        Visibility::ProfileOnly
    }
}

impl Db {
    /// The viewer's relation to `owner`: 1 BatchGetItem.
    pub async fn relation(&self, viewer: &str, owner: &str) -> ApiResult<Relation> {
        if viewer == owner {
            return Ok(Relation::default());
        }
        let found = self.get_items(&Relation::keys(viewer, owner), true).await?;
        Ok(Relation::from_found(viewer, owner, &found))
    }

    /// A profile and the viewer's relation to it in 1 BatchGetItem, with `extra` keys read along
    /// (returned in the map). `None` when the profile does not exist.
    pub async fn profile_with_relation(
        &self,
        viewer: Option<&str>,
        owner: &str,
        extra: Vec<Key>,
    ) -> ApiResult<Option<(UserRecord, Relation, HashMap<(String, String), Item>)>> {
        let profile_key = keys::user(owner);
        let mut wanted = vec![profile_key.clone()];
        if let Some(viewer) = viewer.filter(|v| *v != owner) {
            wanted.extend(Relation::keys(viewer, owner));
        }
        wanted.extend(extra);
        let mut found = self.get_items(&wanted, true).await?;
        let Some(item) = crate::db::listing::take_item(&mut found, &profile_key) else {
            return Ok(None);
        };
        let user: UserRecord = serde_dynamo::from_item(item)?;
        let relation = match viewer {
            Some(viewer) => Relation::from_found(viewer, owner, &found),
            None => Relation::default(),
        };
        Ok(Some((user, relation, found)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owner(is_private: bool) -> UserRecord {
        UserRecord {
            id: "owner".into(),
            username: "owner".into(),
            email: "o@example.com".into(),
            full_name: "Owner".into(),
            password_hash: String::new(),
            is_verified: true,
            role: Default::default(),
            status: Default::default(),
            permissions: None,
            token_version: 0,
            bio: None,
            website: None,
            gender: None,
            is_private,
            profile_picture_key: None,
            followers_count: 0,
            following_count: 0,
            posts_count: 0,
            created_at: String::new(),
            updated_at: String::new(),
            providers: Default::default(),
            large_account: false,
            followed_large: Vec::new(),
        }
    }

    #[test]
    fn private_accounts_show_content_to_followers_and_themselves() {
        let private = owner(true);
        let stranger = Relation::default();
        let follower = Relation {
            follow_status: FollowStatus::Following,
            ..Relation::default()
        };
        let requester = Relation {
            follow_status: FollowStatus::Requested,
            ..Relation::default()
        };
        assert_eq!(can_view(None, &private, &stranger), Visibility::ProfileOnly);
        assert_eq!(
            can_view(Some("x"), &private, &stranger),
            Visibility::ProfileOnly
        );
        assert_eq!(
            can_view(Some("x"), &private, &requester),
            Visibility::ProfileOnly
        );
        assert_eq!(can_view(Some("x"), &private, &follower), Visibility::Full);
        assert_eq!(
            can_view(Some("owner"), &private, &stranger),
            Visibility::Full
        );
        assert_eq!(can_view(None, &owner(false), &stranger), Visibility::Full);
    }

    #[test]
    fn blocks_win_over_everything() {
        let blocked = Relation {
            owner_blocked_viewer: true,
            follow_status: FollowStatus::Following,
            ..Relation::default()
        };
        assert_eq!(
            can_view(Some("x"), &owner(false), &blocked),
            Visibility::Hidden
        );
        let blocker = Relation {
            viewer_blocked_owner: true,
            ..Relation::default()
        };
        assert_eq!(
            can_view(Some("x"), &owner(false), &blocker),
            Visibility::ProfileOnly
        );
    }
}

/// Which side of someone's follow graph a list shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Connections {
    Followers,
    Following,
}

/// One page of an account's followers or following, newest first, for `viewer`: 1 BatchGetItem
/// (the owner and the viewer's relation: authorised before anything the request asks for is
/// read), 1 Query and 1 BatchGetItem of the listed users. A private account's lists only for
/// itself and its followers (403); hidden from users it blocked (404).
pub async fn connections_page(
    state: &crate::state::AppState,
    viewer: Option<&str>,
    owner_id: &str,
    which: Connections,
    request: &crate::pagination::PageRequest,
) -> ApiResult<(Vec<crate::views::UserCard>, crate::pagination::Pagination)> {
    use crate::db::listing::{take_item, ListSource};
    use crate::error::ApiError;
    let (source, id_attribute) = match which {
        Connections::Followers => (
            ListSource::Gsi1(keys::followers_list(owner_id)),
            "followerId",
        ),
        Connections::Following => (
            ListSource::Gsi1(keys::following_list(owner_id)),
            "followeeId",
        ),
    };
    let not_found = || ApiError::not_found("User not found");
    let (owner, relation, _) = state
        .db
        .profile_with_relation(viewer, owner_id, Vec::new())
        .await?
        .ok_or_else(not_found)?;
    match can_view(viewer, &owner, &relation) {
        Visibility::Hidden => return Err(not_found()),
        Visibility::ProfileOnly => {
            return Err(ApiError::forbidden(
                "This account is private: only its followers can see this list",
            ))
        }
        Visibility::Full => {}
    }
    let page = state
        .db
        .list_page(&source, request, true, Some(&[id_attribute]))
        .await?;
    let ids: Vec<String> = page
        .items
        .iter()
        .filter_map(|item| crate::db::listing::string_attr(item, id_attribute).map(str::to_string))
        .collect();
    let user_keys: Vec<Key> = ids.iter().map(|id| keys::user(id)).collect();
    let mut found = if user_keys.is_empty() {
        HashMap::new()
    } else {
        state.db.get_items(&user_keys, false).await?
    };
    let mut cards = Vec::with_capacity(ids.len());
    for id in &ids {
        if let Some(item) = take_item(&mut found, &keys::user(id)) {
            let user: UserRecord = serde_dynamo::from_item(item)?;
            cards.push(crate::views::UserCard::from_record(&user, &state.media).await);
        }
    }
    let total = match which {
        Connections::Followers => owner.followers_count,
        Connections::Following => owner.following_count,
    };
    Ok((
        cards,
        page.pagination(Some(u64::try_from(total).unwrap_or_default())),
    ))
}

/// The answer of `GET .../:userId/followers|following`, served under `/api/follow` and (as live
/// clients call it) `/api/users`: one page of connections.
pub async fn connections_answer(
    state: &crate::AppState,
    viewer: Option<&str>,
    user_id: &str,
    query: &crate::pagination::ListQuery,
    which: Connections,
) -> ApiResult<crate::http::Envelope<serde_json::Value>> {
    let request = query.page_request()?;
    let (users, pagination) = connections_page(state, viewer, user_id, which, &request).await?;
    Ok(match which {
        Connections::Followers => crate::http::ok(
            "Followers retrieved successfully",
            pagination.list("followers", users, "totalFollowers"),
        ),
        Connections::Following => crate::http::ok(
            "Following retrieved successfully",
            pagination.list("following", users, "totalFollowing"),
        ),
    })
}
