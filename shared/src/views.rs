//! What clients see of an entity. Records never leave the library as they are stored.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::db::users::{ProviderLink, Role, UserRecord};
use crate::media::Media;

/// A loadable URL for the user's avatar, if they have one.
pub async fn profile_picture_url(user: &UserRecord, media: &Media) -> Option<String> {
    match &user.profile_picture_key {
        Some(key) => media.url(key).await,
        None => None,
    }
}

/// The signed-in user's own profile: includes the email and account state.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OwnUser {
    #[serde(rename = "_id")]
    pub id: String,
    pub email: String,
    pub username: String,
    pub full_name: String,
    pub profile_picture: Option<String>,
    pub bio: Option<String>,
    pub website: Option<String>,
    pub gender: Option<String>,
    pub is_private: bool,
    pub is_verified: bool,
    pub role: Role,
    /// What the account may do (seed 004): root everything, users `postRead`.
    pub permissions: crate::admin::permissions::Permissions,
    /// `active` or `unverified-email` (a disabled account cannot sign in to see its profile).
    pub status: &'static str,
    pub followers_count: i64,
    pub following_count: i64,
    pub posts_count: i64,
    pub created_at: String,
    /// How the account signs in (seed 004): `local` (a password) and each linked provider,
    /// e.g. `{"google": {"userId": "1143...", "picture": "..."}}`.
    pub provider: BTreeMap<String, ProviderLink>,
}

impl OwnUser {
    pub async fn from_record(user: &UserRecord, media: &Media) -> Self {
        let profile_picture = profile_picture_url(user, media).await;
        Self {
            id: user.id.clone(),
            email: user.email.clone(),
            username: user.username.clone(),
            full_name: user.full_name.clone(),
            profile_picture,
            bio: user.bio.clone(),
            website: user.website.clone(),
            gender: user.gender.clone(),
            is_private: user.is_private,
            is_verified: user.is_verified,
            role: user.role,
            permissions: crate::admin::permissions::effective(user),
            status: user.admin_state(),
            followers_count: user.followers_count,
            following_count: user.following_count,
            posts_count: user.posts_count,
            created_at: user.created_at.clone(),
            provider: sign_in_methods(user),
        }
    }
}

fn sign_in_methods(user: &UserRecord) -> BTreeMap<String, ProviderLink> {
    let mut methods = user.providers.clone();
    if user.has_password() {
        methods.insert(
            "local".into(),
            ProviderLink {
                user_id: user.id.clone(),
                email: None,
                picture: None,
            },
        );
    }
    methods
}

/// How another user appears inside lists: post authors, participants, followers.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UserSummary {
    #[serde(rename = "_id")]
    pub id: String,
    pub username: String,
    pub full_name: String,
    pub profile_picture: Option<String>,
}

impl UserSummary {
    pub async fn from_record(user: &UserRecord, media: &Media) -> Self {
        let profile_picture = profile_picture_url(user, media).await;
        Self {
            id: user.id.clone(),
            username: user.username.clone(),
            full_name: user.full_name.clone(),
            profile_picture,
        }
    }
}

async fn picture_url(user: &UserRecord, media: &Media) -> Option<String> {
    match &user.profile_picture_key {
        Some(key) => media.url(key).await,
        None => None,
    }
}

/// Another user's profile as the viewer sees it: counts and the viewer's standing, never the email.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PublicProfile {
    #[serde(rename = "_id")]
    pub id: String,
    pub username: String,
    pub full_name: String,
    pub profile_picture: Option<String>,
    pub bio: Option<String>,
    pub website: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gender: Option<String>,
    pub is_private: bool,
    pub is_verified: bool,
    pub followers_count: i64,
    pub following_count: i64,
    pub posts_count: i64,
    pub is_following: bool,
    pub follow_status: crate::db::follows::FollowStatus,
    /// The viewer has blocked this account.
    pub is_blocked: bool,
    pub created_at: String,
}

impl PublicProfile {
    pub async fn from_record(
        user: &UserRecord,
        relation: &crate::social::Relation,
        media: &Media,
    ) -> Self {
        use crate::db::follows::FollowStatus;
        Self {
            id: user.id.clone(),
            username: user.username.clone(),
            full_name: user.full_name.clone(),
            profile_picture: picture_url(user, media).await,
            bio: user.bio.clone(),
            website: user.website.clone(),
            gender: user.gender.clone(),
            is_private: user.is_private,
            is_verified: user.is_verified,
            followers_count: user.followers_count,
            following_count: user.following_count,
            posts_count: user.posts_count,
            is_following: relation.follow_status == FollowStatus::Following,
            follow_status: relation.follow_status,
            is_blocked: relation.viewer_blocked_owner,
            created_at: user.created_at.clone(),
        }
    }
}

/// A user inside lists (followers, following, requests, blocked, search results).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UserCard {
    #[serde(rename = "_id")]
    pub id: String,
    pub username: String,
    pub full_name: String,
    pub profile_picture: Option<String>,
    pub bio: Option<String>,
    pub is_private: bool,
    pub is_verified: bool,
    pub followers_count: i64,
}

impl UserCard {
    pub async fn from_record(user: &UserRecord, media: &Media) -> Self {
        Self {
            id: user.id.clone(),
            username: user.username.clone(),
            full_name: user.full_name.clone(),
            profile_picture: picture_url(user, media).await,
            bio: user.bio.clone(),
            is_private: user.is_private,
            is_verified: user.is_verified,
            followers_count: user.followers_count,
        }
    }

    /// Cards for `ids` in that order, skipping users that no longer exist.
    pub async fn for_ids(
        ids: &[String],
        users: &std::collections::HashMap<String, UserRecord>,
        media: &Media,
    ) -> Vec<Self> {
        let mut cards = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(user) = users.get(id) {
                cards.push(Self::from_record(user, media).await);
            }
        }
        cards
    }
}

/// A user as admins see them (seed 004's shape beside this API's own fields).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AdminUser {
    #[serde(rename = "_id")]
    pub id: String,
    /// Seed 004 names the id `id`.
    #[serde(rename = "id")]
    pub plain_id: String,
    pub username: String,
    pub email: String,
    pub full_name: String,
    pub first_name: String,
    pub last_name: String,
    /// `active`, `disabled` or `unverified-email`.
    pub status: &'static str,
    pub role: Role,
    pub permissions: crate::admin::permissions::Permissions,
    pub is_verified: bool,
    pub is_private: bool,
    pub profile_picture: Option<String>,
    pub followers_count: i64,
    pub following_count: i64,
    pub posts_count: i64,
    pub created_at: String,
    pub updated_at: String,
}

/// Seed 004's `firstName`/`lastName` from the one full name this API keeps.
pub fn split_name(full_name: &str) -> (String, String) {
    let trimmed = full_name.trim();
    match trimmed.split_once(char::is_whitespace) {
        Some((first, last)) => (first.to_string(), last.trim().to_string()),
        None => (trimmed.to_string(), String::new()),
    }
}

impl AdminUser {
    pub async fn from_record(user: &UserRecord, media: &Media) -> Self {
        let (first_name, last_name) = split_name(&user.full_name);
        Self {
            id: user.id.clone(),
            plain_id: user.id.clone(),
            username: user.username.clone(),
            email: user.email.clone(),
            full_name: user.full_name.clone(),
            first_name,
            last_name,
            status: user.admin_state(),
            role: user.role,
            permissions: crate::admin::permissions::effective(user),
            is_verified: user.is_verified,
            is_private: user.is_private,
            profile_picture: picture_url(user, media).await,
            followers_count: user.followers_count,
            following_count: user.following_count,
            posts_count: user.posts_count,
            created_at: user.created_at.clone(),
            updated_at: user.updated_at.clone(),
        }
    }
}
