//! Each user's newest image posts, for the `recentImages` of suggestions: one small item
//! `USER#<id>` / `RECENTIMAGES` with a map `images` of post id (a ULID, so it sorts by time) →
//! media key, kept by the table's stream (`fanout::recent_images`) from post INSERTs and
//! REMOVEs. Suggestions read it for all suggested users in one BatchGetItem instead of one
//! Query per user. Entry writes are per document path, so replays and concurrent posts never
//! overwrite one another; a few more than `KEPT` can stay until the next post trims them.

use std::collections::{BTreeMap, HashMap};

use aws_sdk_dynamodb::types::{AttributeValue, ConditionCheck, TransactWriteItem, Update};

use super::keys;
use super::listing::take_item;
use super::{s, Db, Item};
use crate::error::ApiResult;

/// How many a suggestion shows.
pub const SHOWN: usize = 3;
/// How many are kept, so deleting a few recent posts still leaves `SHOWN` to show.
pub const KEPT: usize = 12;
const ATTRIBUTE: &str = "images";
/// Attempts when a concurrent writer created or dropped the map between the read and the write.
const ATTEMPTS: usize = 3;

/// Post id → media key, as stored.
fn entries(item: &Item) -> Option<BTreeMap<String, String>> {
    match item.get(ATTRIBUTE) {
        Some(AttributeValue::M(map)) => Some(
            map.iter()
                .filter_map(|(post, key)| Some((post.clone(), key.as_s().ok()?.clone())))
                .collect(),
        ),
        _ => None,
    }
}

/// The newest `SHOWN` media keys, newest first.
fn shown(entries: &BTreeMap<String, String>) -> Vec<String> {
    entries.values().rev().take(SHOWN).cloned().collect()
}

/// The oldest entries to drop so that, with `adding`, at most `KEPT` stay.
fn trimmed(entries: &BTreeMap<String, String>, adding: &str) -> Vec<String> {
    let mut ids: Vec<&str> = entries.keys().map(String::as_str).collect();
    if !entries.contains_key(adding) {
        ids.push(adding);
        ids.sort_unstable();
    }
    let excess = ids.len().saturating_sub(KEPT);
    ids.into_iter()
        .take(excess)
        .filter(|id| *id != adding)
        .map(str::to_string)
        .collect()
}

impl Db {
    /// The newest image media keys (≤ `SHOWN`, newest first) of each user: 1 BatchGetItem
    /// (eventually consistent: the stream keeps the items a little behind anyway).
    pub async fn recent_images_of(
        &self,
        user_ids: &[String],
    ) -> ApiResult<HashMap<String, Vec<String>>> {
        if user_ids.is_empty() {
            return Ok(HashMap::new());
        }
        let wanted: Vec<keys::Key> = user_ids.iter().map(|id| keys::recent_images(id)).collect();
        let mut found = self.get_items(&wanted, false).await?;
        Ok(user_ids
            .iter()
            .map(|id| {
                let images = take_item(&mut found, &keys::recent_images(id))
                    .and_then(|item| entries(&item))
                    .map(|e| shown(&e))
                    .unwrap_or_default();
                (id.clone(), images)
            })
            .collect())
    }

    /// An image post of `author` joins its recent images, unless the post is gone already (a
    /// late or replayed record must not bring a deleted post back): 1 GetItem + 1
    /// TransactWriteItems (the post's ConditionCheck and the entry), again on a lost race.
    pub async fn add_recent_image(
        &self,
        author: &str,
        post_id: &str,
        media_key: &str,
    ) -> ApiResult<()> {
        let key = keys::recent_images(author);
        for _ in 0..ATTEMPTS {
            let read = self.get_items(std::slice::from_ref(&key), true).await?;
            let current = read
                .get(&(key.pk.clone(), key.sk.clone()))
                .and_then(entries);
            let mut update = Update::builder()
                .table_name(&self.table)
                .set_key(Some(key.to_item()))
                .expression_attribute_names("#images", ATTRIBUTE);
            update = match &current {
                None => update
                    .update_expression("SET #images = :entry")
                    .condition_expression("attribute_not_exists(#images)")
                    .expression_attribute_values(
                        ":entry",
                        AttributeValue::M(HashMap::from([(post_id.to_string(), s(media_key))])),
                    ),
                Some(current) => {
                    let mut expression = "SET #images.#post = :key".to_string();
                    let dropped = trimmed(current, post_id);
                    if !dropped.is_empty() {
                        let names: Vec<String> = (0..dropped.len())
                            .map(|i| format!("#images.#old{i}"))
                            .collect();
                        expression.push_str(&format!(" REMOVE {}", names.join(", ")));
                    }
                    for (i, old) in dropped.iter().enumerate() {
                        update = update.expression_attribute_names(format!("#old{i}"), old);
                    }
                    update
                        .update_expression(expression)
                        .condition_expression("attribute_exists(#images)")
                        .expression_attribute_names("#post", post_id)
                        .expression_attribute_values(":key", s(media_key))
                }
            };
            let writes = vec![
                TransactWriteItem::builder()
                    .condition_check(
                        ConditionCheck::builder()
                            .table_name(&self.table)
                            .set_key(Some(keys::post(post_id).to_item()))
                            .condition_expression("attribute_exists(PK)")
                            .build()?,
                    )
                    .build(),
                TransactWriteItem::builder().update(update.build()?).build(),
            ];
            match self.transact_with_reasons(writes).await? {
                None => return Ok(()),
                Some(reasons)
                    if reasons
                        .first()
                        .is_some_and(|r| r == "ConditionalCheckFailed") =>
                {
                    return Ok(()); // The post is gone.
                }
                Some(_) => continue, // The map appeared or went meanwhile: read again.
            }
        }
        Err(crate::error::ApiError::internal(
            "recent images: the item kept changing under the write",
        ))
    }

    /// A deleted post leaves its author's recent images: 1 UpdateItem (nothing when the item
    /// or the entry is not there; never creates the item).
    pub async fn remove_recent_image(&self, author: &str, post_id: &str) -> ApiResult<()> {
        let removed = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(keys::recent_images(author).to_item()))
            .update_expression("REMOVE #images.#post")
            .condition_expression("attribute_exists(#images)")
            .expression_attribute_names("#images", ATTRIBUTE)
            .expression_attribute_names("#post", post_id)
            .send()
            .await;
        match removed {
            Ok(_) => Ok(()),
            Err(err) if super::is_condition_failed(&err) => Ok(()),
            Err(err) => Err(err.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(ids: &[&str]) -> BTreeMap<String, String> {
        ids.iter()
            .map(|id| (id.to_string(), format!("media/{id}")))
            .collect()
    }

    #[test]
    fn the_newest_are_shown_newest_first() {
        assert_eq!(
            shown(&map(&["01A", "01C", "01B", "01D"])),
            vec!["media/01D", "media/01C", "media/01B"]
        );
        assert!(shown(&map(&[])).is_empty());
    }

    #[test]
    fn adding_past_the_cap_drops_the_oldest_only() {
        let ids: Vec<String> = (10..10 + KEPT).map(|i| format!("01{i}")).collect();
        let full = map(&ids.iter().map(String::as_str).collect::<Vec<_>>());
        assert_eq!(trimmed(&full, "0199"), vec!["0110".to_string()]);
        // Replaying an entry that is there drops nothing.
        assert!(trimmed(&full, "0115").is_empty());
        // An entry older than all kept ones is itself the one past the cap: nothing to remove
        // but the SET adds it; the next post trims it.
        assert!(trimmed(&full, "0100").is_empty());
        assert!(trimmed(&map(&["01A"]), "01B").is_empty());
    }
}
