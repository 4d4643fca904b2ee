//! Each user's newest image posts, for the `recentImages` of suggestions: one small item
//! `USER#<id>` / `RECENTIMAGES` with a map `images` of post id (a ULID, so it sorts by time) →
//! media key, kept by the table's stream (`fanout::recent_images`) from post INSERTs and
//! REMOVEs. Suggestions read it with their candidates' profiles in one BatchGetItem instead of
//! one Query per user. Entry writes are per document path, so replays and concurrent posts never
//! overwrite one another; a few more than `KEPT` can stay until the next post trims them.
//! The same capped-map writes keep `db::recent_follows`.

use std::collections::{BTreeMap, HashMap};

use aws_sdk_dynamodb::types::{AttributeValue, ConditionCheck, TransactWriteItem, Update};

use super::keys;
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
    map_entries(item, ATTRIBUTE)
}

/// The string entries of the map `attribute` (`None` when the item has no such map).
pub(crate) fn map_entries(item: &Item, attribute: &str) -> Option<BTreeMap<String, String>> {
    match item.get(attribute) {
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

/// The newest media keys (≤ `SHOWN`, newest first) of a `RECENTIMAGES` item read elsewhere
/// (suggestions read it in the BatchGetItem of their candidates).
pub fn shown_in(item: &Item) -> Vec<String> {
    entries(item).map(|e| shown(&e)).unwrap_or_default()
}

/// The oldest entries to drop so that, with `adding`, at most `kept` stay.
fn trimmed(entries: &BTreeMap<String, String>, adding: &str, kept: usize) -> Vec<String> {
    let mut ids: Vec<&str> = entries.keys().map(String::as_str).collect();
    if !entries.contains_key(adding) {
        ids.push(adding);
        ids.sort_unstable();
    }
    let excess = ids.len().saturating_sub(kept);
    ids.into_iter()
        .take(excess)
        .filter(|id| *id != adding)
        .map(str::to_string)
        .collect()
}

impl Db {
    /// An image post of `author` joins its recent images, unless the post is gone already (a
    /// late or replayed record must not bring a deleted post back): 1 GetItem + 1
    /// TransactWriteItems (the post's ConditionCheck and the entry), again on a lost race.
    pub async fn add_recent_image(
        &self,
        author: &str,
        post_id: &str,
        media_key: &str,
    ) -> ApiResult<()> {
        let post_exists = ConditionCheck::builder()
            .table_name(&self.table)
            .set_key(Some(keys::post(post_id).to_item()))
            .condition_expression("attribute_exists(PK)")
            .build()?;
        self.add_capped_entry(
            &keys::recent_images(author),
            ATTRIBUTE,
            KEPT,
            (post_id, media_key),
            post_exists,
        )
        .await
    }

    /// Sets `entry` (id → value; ids sort by time) in the map `attribute` of the small item `key`,
    /// dropping the oldest past `kept`, if `guard` holds (what the entry stands for still exists;
    /// otherwise nothing is written): 1 GetItem + 1 TransactWriteItems, again on a lost race.
    /// Writes are per document path, so replays and concurrent writers never overwrite one
    /// another; a few more than `kept` can stay until the next write trims them.
    pub(crate) async fn add_capped_entry(
        &self,
        key: &keys::Key,
        attribute: &str,
        kept: usize,
        (id, value): (&str, &str),
        guard: ConditionCheck,
    ) -> ApiResult<()> {
        for _ in 0..ATTEMPTS {
            let read = self.get_items(std::slice::from_ref(key), true).await?;
            let current = read
                .get(&(key.pk.clone(), key.sk.clone()))
                .and_then(|item| map_entries(item, attribute));
            let mut update = Update::builder()
                .table_name(&self.table)
                .set_key(Some(key.to_item()))
                .expression_attribute_names("#map", attribute);
            update = match &current {
                None => update
                    .update_expression("SET #map = :entry")
                    .condition_expression("attribute_not_exists(#map)")
                    .expression_attribute_values(
                        ":entry",
                        AttributeValue::M(HashMap::from([(id.to_string(), s(value))])),
                    ),
                Some(current) => {
                    let mut expression = "SET #map.#entry = :value".to_string();
                    let dropped = trimmed(current, id, kept);
                    if !dropped.is_empty() {
                        let names: Vec<String> = (0..dropped.len())
                            .map(|i| format!("#map.#old{i}"))
                            .collect();
                        expression.push_str(&format!(" REMOVE {}", names.join(", ")));
                    }
                    for (i, old) in dropped.iter().enumerate() {
                        update = update.expression_attribute_names(format!("#old{i}"), old);
                    }
                    update
                        .update_expression(expression)
                        .condition_expression("attribute_exists(#map)")
                        .expression_attribute_names("#entry", id)
                        .expression_attribute_values(":value", s(value))
                }
            };
            let writes = vec![
                TransactWriteItem::builder()
                    .condition_check(guard.clone())
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
                    return Ok(()); // What the entry stands for is gone.
                }
                Some(_) => continue, // The map appeared or went meanwhile: read again.
            }
        }
        Err(crate::error::ApiError::internal(
            "capped map: the item kept changing under the write",
        ))
    }

    /// Removes `entry` from the map `attribute` of `key`: 1 UpdateItem (nothing when the item or
    /// the entry is not there; never creates the item).
    pub(crate) async fn remove_capped_entry(
        &self,
        key: &keys::Key,
        attribute: &str,
        entry: &str,
    ) -> ApiResult<()> {
        let removed = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key.to_item()))
            .update_expression("REMOVE #map.#entry")
            .condition_expression("attribute_exists(#map)")
            .expression_attribute_names("#map", attribute)
            .expression_attribute_names("#entry", entry)
            .send()
            .await;
        match removed {
            Ok(_) => Ok(()),
            Err(err) if super::is_condition_failed(&err) => Ok(()),
            Err(err) => Err(err.into()),
        }
    }

    /// A deleted post leaves its author's recent images: 1 UpdateItem (nothing when the item
    /// or the entry is not there; never creates the item).
    pub async fn remove_recent_image(&self, author: &str, post_id: &str) -> ApiResult<()> {
        self.remove_capped_entry(&keys::recent_images(author), ATTRIBUTE, post_id)
            .await
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
        assert_eq!(trimmed(&full, "0199", KEPT), vec!["0110".to_string()]);
        // Replaying an entry that is there drops nothing.
        assert!(trimmed(&full, "0115", KEPT).is_empty());
        // An entry older than all kept ones is itself the one past the cap: nothing to remove
        // but the SET adds it; the next post trims it.
        assert!(trimmed(&full, "0100", KEPT).is_empty());
        assert!(trimmed(&map(&["01A"]), "01B", KEPT).is_empty());
    }
}
