//! What clients see of an entity. Records never leave the library as they are stored.

use serde::Serialize;

use crate::db::users::{Role, UserRecord};
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
    pub followers_count: i64,
    pub following_count: i64,
    pub posts_count: i64,
    pub created_at: String,
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
            followers_count: user.followers_count,
            following_count: user.following_count,
            posts_count: user.posts_count,
            created_at: user.created_at.clone(),
        }
    }
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
