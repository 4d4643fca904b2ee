//! Profile edits: a strict whitelist of fields (anything else in a body changes nothing),
//! the picture from uploaded bytes or an accepted upload key, and the search index kept in step
//! (the profile's own GSI1 entry, moved in the same update).

use aws_sdk_dynamodb::types::{TransactWriteItem, Update};
use serde::Deserialize;

use futures_util::stream::{self, StreamExt};

use crate::db::keys;
use crate::db::listing::{string_attr, ListSource};
use crate::db::users::UserRecord;
use crate::db::{s, Item};
use crate::error::{ApiError, ApiResult};
use crate::pagination::{PageRequest, Start};
use crate::state::AppState;
use crate::uploads::Purpose;
use crate::validation::{self as v, FieldErrors};

pub const BIO_MAX: usize = 150;
pub const WEBSITE_MAX: usize = 200;
pub const GENDERS: [&str; 3] = ["male", "female", "other"];

/// The only fields a user may change about themselves. Unknown fields (role, isVerified,
/// counters, ids) are ignored by design.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProfilePatch {
    pub full_name: Option<String>,
    /// An empty string clears it.
    pub bio: Option<String>,
    pub website: Option<String>,
    pub gender: Option<String>,
    pub is_private: Option<bool>,
    pub profile_picture_key: Option<String>,
    /// Bytes of a `profilePicture` file part (multipart only).
    #[serde(skip)]
    pub profile_picture: Option<Vec<u8>>,
}

impl ProfilePatch {
    pub fn validate(&self) -> ApiResult<()> {
        let mut errors = FieldErrors::default();
        if let Some(name) = &self.full_name {
            errors.check(
                "fullName",
                v::required("fullName", name)
                    .and_then(|_| v::max_chars("fullName", name.trim(), v::FULL_NAME_MAX)),
            );
        }
        if let Some(bio) = &self.bio {
            errors.check("bio", v::max_chars("bio", bio.trim(), BIO_MAX));
        }
        if let Some(website) = &self.website {
            let website = website.trim();
            errors.check(
                "website",
                v::max_chars("website", website, WEBSITE_MAX).and_then(|_| {
                    let ok = website.is_empty()
                        || ((website.starts_with("https://") || website.starts_with("http://"))
                            && !website.contains(char::is_whitespace));
                    if ok {
                        Ok(())
                    } else {
                        Err("website must be an http(s) URL".to_string())
                    }
                }),
            );
        }
        if let Some(gender) = &self.gender {
            let gender = gender.trim().to_lowercase();
            if !gender.is_empty() && !GENDERS.contains(&gender.as_str()) {
                errors.add("gender", "gender must be one of male, female, other");
            }
        }
        if self.profile_picture.is_some() && self.profile_picture_key.is_some() {
            errors.add(
                "profilePicture",
                "send either a profilePicture file or a profilePictureKey, not both",
            );
        }
        errors.finish()
    }

    pub fn is_empty(&self) -> bool {
        self.full_name.is_none()
            && self.bio.is_none()
            && self.website.is_none()
            && self.gender.is_none()
            && self.is_private.is_none()
            && self.profile_picture_key.is_none()
            && self.profile_picture.is_none()
    }
}

/// An optional text field: trimmed, `None` when empty (cleared).
fn cleared(value: &str) -> Option<String> {
    Some(value.trim().to_string()).filter(|v| !v.is_empty())
}

/// Applies a validated patch: stores a new picture first, then the profile (with its search
/// index entry) in 1 write; the replaced picture is deleted afterwards.
pub async fn update_profile(
    state: &AppState,
    user: &UserRecord,
    patch: ProfilePatch,
) -> ApiResult<UserRecord> {
    patch.validate()?;
    let new_picture = if let Some(bytes) = patch.profile_picture {
        Some(
            state
                .media
                .store_bytes(&user.id, Purpose::Avatar, bytes)
                .await?,
        )
    } else if let Some(key) = patch.profile_picture_key.as_deref() {
        Some(
            state
                .media
                .accept_upload(&user.id, key.trim(), Purpose::Avatar, "profilePictureKey")
                .await?,
        )
    } else {
        None
    };

    let mut updated = user.clone();
    let mut sets = vec!["updatedAt = :now".to_string()];
    let mut removes: Vec<&str> = Vec::new();
    let mut values: Item = Item::new();
    let now = crate::time::now_rfc3339();
    values.insert(":now".into(), s(&now));
    updated.updated_at = now;

    if let Some(name) = &patch.full_name {
        let name = name.trim().to_string();
        sets.push("fullName = :fullName".into());
        values.insert(":fullName".into(), s(&name));
        // The profile's search-index entry follows the name.
        let index = crate::db::search::name_index(&name);
        if index.is_empty() {
            removes.push("GSI1PK");
            removes.push("GSI1SK");
        } else {
            for (attribute, value) in index {
                sets.push(format!("{attribute} = :{attribute}"));
                values.insert(format!(":{attribute}"), value);
            }
        }
        updated.full_name = name;
    }
    let mut optional = |field: &'static str, value: Option<String>, target: &mut Option<String>| {
        match &value {
            Some(v) => {
                sets.push(format!("{field} = :{field}"));
                values.insert(format!(":{field}"), s(v));
            }
            None => removes.push(field),
        }
        *target = value;
    };
    if let Some(bio) = &patch.bio {
        optional("bio", cleared(bio), &mut updated.bio);
    }
    if let Some(website) = &patch.website {
        optional("website", cleared(website), &mut updated.website);
    }
    if let Some(gender) = &patch.gender {
        optional(
            "gender",
            cleared(&gender.to_lowercase()),
            &mut updated.gender,
        );
    }
    if let Some(picture) = &new_picture {
        optional(
            "profilePictureKey",
            Some(picture.key.clone()),
            &mut updated.profile_picture_key,
        );
    }
    if let Some(is_private) = patch.is_private {
        sets.push("isPrivate = :isPrivate".into());
        values.insert(
            ":isPrivate".into(),
            aws_sdk_dynamodb::types::AttributeValue::Bool(is_private),
        );
        updated.is_private = is_private;
    }

    let mut expression = format!("SET {}", sets.join(", "));
    if !removes.is_empty() {
        expression.push_str(&format!(" REMOVE {}", removes.join(", ")));
    }
    let update = Update::builder()
        .table_name(&state.db.table)
        .set_key(Some(keys::user(&user.id).to_item()))
        .update_expression(expression)
        .condition_expression("attribute_exists(PK)")
        .set_expression_attribute_values(Some(values))
        .build()?;
    let committed = state
        .db
        .transact(vec![TransactWriteItem::builder().update(update).build()])
        .await;
    if !matches!(committed, Ok(true)) {
        if let Some(picture) = &new_picture {
            state.media.delete_quietly(&picture.key).await;
        }
        committed?;
        return Err(ApiError::unauthorized("Unauthorized - Invalid token"));
    }
    if new_picture.is_some() {
        if let Some(old) = &user.profile_picture_key {
            state.media.delete_quietly(old).await;
        }
    }
    if user.is_private && !updated.is_private {
        accept_pending_requests(state, &updated).await;
    }
    Ok(updated)
}

/// Requests read per pass when an account goes public.
const REQUESTS_PER_PASS: u32 = 100;
/// A bound on one profile update's work (10 000 requests); the rest stay listed for the owner.
const MAX_PASSES: usize = 100;
/// Acceptances run this many at a time.
const PARALLEL_ACCEPTS: usize = 8;

/// Going public approves every pending follow request, as Instagram does: each requester becomes
/// a follower (one transaction each, counters included) and hears `follow_accept`. The profile
/// change has already succeeded, so a failure here is logged and the request stays pending.
async fn accept_pending_requests(state: &AppState, owner: &UserRecord) {
    let source = ListSource::Gsi1(keys::follow_requests_list(&owner.id));
    let first_page = PageRequest {
        limit: REQUESTS_PER_PASS,
        start: Start::Offset(0),
    };
    for _ in 0..MAX_PASSES {
        let page = match state
            .db
            .list_page(&source, &first_page, false, Some(&["requesterId"]))
            .await
        {
            Ok(page) => page,
            Err(err) => {
                tracing::warn!(owner = %owner.id, error = %err, "listing requests to accept");
                return;
            }
        };
        let requesters: Vec<String> = page
            .items
            .iter()
            .filter_map(|item| string_attr(item, "requesterId").map(str::to_string))
            .collect();
        if requesters.is_empty() {
            return;
        }
        // Accepted requests leave the list, so every pass reads its first page again.
        let accepted = stream::iter(requesters)
            .map(|requester| async move {
                match state.db.accept_follow_request(&owner.id, &requester).await {
                    // `follow_accept` follows from the table's stream (`fanout`).
                    Ok(()) => true,
                    Err(err) => {
                        tracing::warn!(owner = %owner.id, %requester, error = %err, "auto-accepting a request");
                        false
                    }
                }
            })
            .buffer_unordered(PARALLEL_ACCEPTS)
            .collect::<Vec<bool>>()
            .await;
        if !accepted.contains(&true) || !page.has_more {
            return;
        }
    }
}

/// Removes the picture: 1 UpdateItem, then the object itself.
pub async fn remove_profile_picture(state: &AppState, user: &UserRecord) -> ApiResult<()> {
    let Some(old) = &user.profile_picture_key else {
        return Ok(());
    };
    state
        .db
        .client
        .update_item()
        .table_name(&state.db.table)
        .set_key(Some(keys::user(&user.id).to_item()))
        .update_expression("REMOVE profilePictureKey SET updatedAt = :now")
        .condition_expression("attribute_exists(PK)")
        .expression_attribute_values(":now", s(crate::time::now_rfc3339()))
        .send()
        .await?;
    state.media.delete_quietly(old).await;
    Ok(())
}
