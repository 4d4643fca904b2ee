//! The few most recent likers kept on a liked item (a post or a comment), so every post and
//! comment can answer `likedBy` without another read. `recentLikers` is a map of user id →
//! the like's ULID: the like transaction sets the liker's own entry and removes the oldest ones
//! past the cap (distinct document paths, so concurrent likes never overwrite each other), and
//! an unlike removes its entry. Concurrent likes can leave a few more than the cap for a while;
//! the next like trims them, and readers show at most `SHOWN`.

use std::collections::BTreeMap;

use aws_sdk_dynamodb::types::{TransactWriteItem, Update};
use ulid::Ulid;

use super::keys::Key;
use super::{n, s};
use crate::error::ApiResult;

/// How many likers a post or comment shows in `likedBy`.
pub const SHOWN: usize = 20;

/// User id → ULID of their like. `None` on items written before the map existed.
pub type RecentLikers = Option<BTreeMap<String, String>>;

pub const ATTRIBUTE: &str = "recentLikers";

/// `likedBy` as clients read it: the viewer first when the viewer likes the item, then the most
/// recent other likers, at most `SHOWN` ids. The viewer's id is there exactly when `viewer_likes`.
pub fn liked_by(recent: &RecentLikers, viewer: Option<&str>, viewer_likes: bool) -> Vec<String> {
    let mut ids: Vec<String> = Vec::with_capacity(SHOWN);
    if let (Some(viewer), true) = (viewer, viewer_likes) {
        ids.push(viewer.to_string());
    }
    if let Some(recent) = recent {
        let mut others: Vec<(&String, &String)> = recent
            .iter()
            .filter(|(id, _)| Some(id.as_str()) != viewer)
            .collect();
        others.sort_by(|a, b| b.1.cmp(a.1));
        ids.extend(
            others
                .into_iter()
                .take(SHOWN - ids.len())
                .map(|(id, _)| id.clone()),
        );
    }
    ids
}

/// The counter change of a like or unlike on `key`, with the liker's entry in the same update:
/// `ADD likes ±1`, then `SET recentLikers.<me>` and the removal of the oldest entries past the
/// cap (judged from `read`, the item as read before), or `REMOVE recentLikers.<me>`.
pub fn counter_update(
    table: &str,
    key: &Key,
    read: &RecentLikers,
    user_id: &str,
    on: bool,
) -> ApiResult<TransactWriteItem> {
    let mut update = Update::builder()
        .table_name(table)
        .set_key(Some(key.to_item()))
        .condition_expression("attribute_exists(PK)")
        .expression_attribute_names("#likes", "likes")
        .expression_attribute_names("#recent", ATTRIBUTE)
        .expression_attribute_values(":delta", n(if on { 1 } else { -1 }));
    let expression = match (read, on) {
        (None, true) => {
            let entry = BTreeMap::from([(user_id.to_string(), Ulid::new().to_string())]);
            update = update.expression_attribute_values(
                ":mine",
                aws_sdk_dynamodb::types::AttributeValue::M(
                    entry.into_iter().map(|(k, v)| (k, s(v))).collect(),
                ),
            );
            "ADD #likes :delta SET #recent = if_not_exists(#recent, :mine)".to_string()
        }
        (None, false) => "ADD #likes :delta".to_string(),
        (Some(recent), true) => {
            update = update
                .expression_attribute_names("#me", user_id)
                .expression_attribute_values(":at", s(Ulid::new().to_string()));
            // Keep the newest SHOWN - 1 others: with this like that makes SHOWN.
            let mut others: Vec<(&String, &String)> =
                recent.iter().filter(|(id, _)| *id != user_id).collect();
            others.sort_by(|a, b| b.1.cmp(a.1));
            let mut removes = Vec::new();
            for (i, (id, _)) in others.into_iter().skip(SHOWN - 1).enumerate() {
                let name = format!("#old{i}");
                update = update.expression_attribute_names(&name, id.as_str());
                removes.push(format!("#recent.{name}"));
            }
            let mut expression = "ADD #likes :delta SET #recent.#me = :at".to_string();
            if !removes.is_empty() {
                expression.push_str(" REMOVE ");
                expression.push_str(&removes.join(", "));
            }
            expression
        }
        (Some(_), false) => {
            update = update.expression_attribute_names("#me", user_id);
            "ADD #likes :delta REMOVE #recent.#me".to_string()
        }
    };
    let update = update.update_expression(expression).build()?;
    Ok(TransactWriteItem::builder().update(update).build())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn recent(entries: &[(&str, &str)]) -> RecentLikers {
        Some(
            entries
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    #[test]
    fn the_viewer_comes_first_and_only_when_liking() {
        let r = recent(&[("a", "01"), ("me", "02"), ("b", "03")]);
        assert_eq!(liked_by(&r, Some("me"), true), vec!["me", "b", "a"]);
        assert_eq!(liked_by(&r, Some("me"), false), vec!["b", "a"]);
        assert_eq!(liked_by(&r, None, false), vec!["b", "me", "a"]);
        assert_eq!(liked_by(&None, Some("me"), true), vec!["me"]);
        assert!(liked_by(&None, Some("me"), false).is_empty());
    }

    #[test]
    fn at_most_shown_ids() {
        let many: Vec<(String, String)> = (0..50)
            .map(|i| (format!("u{i:02}"), format!("{i:02}")))
            .collect();
        let r = Some(many.into_iter().collect());
        let shown = liked_by(&r, Some("me"), true);
        assert_eq!(shown.len(), SHOWN);
        assert_eq!(shown[0], "me");
        assert_eq!(shown[1], "u49");
    }
}
