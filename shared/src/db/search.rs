//! The user search index, on items registration already writes (so sign-up stays one
//! transaction of the same size): the username claim carries `GSI1PK = SEARCH#<first two
//! characters>` / `GSI1SK = <username>`, the profile the same for its lower-cased full name.
//! A prefix search is one Query on GSI1 with `begins_with`, no Scan. A rename moves the profile's
//! entry in the same update; deleting the claim and the profile removes both entries.

use super::keys::{self, SEARCH_PREFIX_LEN};
use super::listing::string_attr;
use super::users::UserRecord;
use super::{s, Db, Item};
use crate::error::ApiResult;

/// Matches read from the index before ranking; the best `limit` of them are answered.
pub const SEARCH_CANDIDATES: i32 = 100;

/// A search query or term as the index stores it: lower case, single spaces, no `#`.
pub fn normalize_term(raw: &str) -> String {
    raw.to_lowercase()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .filter(|c| *c != '#')
        .collect()
}

/// The GSI1 attributes that make `term` findable by prefix (none for a term too short).
fn index_attributes(term: &str) -> Item {
    let term = normalize_term(term);
    if term.chars().count() < SEARCH_PREFIX_LEN {
        return Item::new();
    }
    let prefix: String = term.chars().take(SEARCH_PREFIX_LEN).collect();
    Item::from([
        (keys::GSI1PK.to_string(), s(keys::search_partition(&prefix))),
        (keys::GSI1SK.to_string(), s(term)),
    ])
}

/// Index attributes of the username claim item.
pub fn username_index(username: &str) -> Item {
    index_attributes(username)
}

/// Index attributes of the profile item.
pub fn name_index(full_name: &str) -> Item {
    index_attributes(full_name)
}

impl Db {
    /// Ids of users whose username or full name starts with `query` (normalised, at least
    /// `SEARCH_PREFIX_LEN` characters), without repeats. 1 Query.
    pub async fn search_user_ids(&self, query: &str) -> ApiResult<Vec<String>> {
        let query = normalize_term(query);
        let prefix: String = query.chars().take(SEARCH_PREFIX_LEN).collect();
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(keys::GSI1)
            .key_condition_expression("#pk = :pk AND begins_with(#sk, :term)")
            .expression_attribute_names("#pk", keys::GSI1PK)
            .expression_attribute_names("#sk", keys::GSI1SK)
            .expression_attribute_names("#id", "id")
            .expression_attribute_names("#userId", "userId")
            .expression_attribute_values(":pk", s(keys::search_partition(&prefix)))
            .expression_attribute_values(":term", s(query))
            .projection_expression("#id, #userId")
            .limit(SEARCH_CANDIDATES)
            .send()
            .await?;
        let mut ids: Vec<String> = Vec::new();
        for item in out.items.unwrap_or_default() {
            // The claim names its user in `userId`, the profile in `id`.
            if let Some(id) = string_attr(&item, "userId").or_else(|| string_attr(&item, "id")) {
                if !ids.iter().any(|known| known == id) {
                    ids.push(id.to_string());
                }
            }
        }
        Ok(ids)
    }
}

/// Whether a user matches the whole query, by username or full name prefix.
pub fn matches(user: &UserRecord, query: &str) -> bool {
    user.username.starts_with(query) || normalize_term(&user.full_name).starts_with(query)
}

/// Exact username first, then the most followed, then alphabetical.
pub fn rank(users: &mut [UserRecord], query: &str) {
    users.sort_by(|a, b| {
        let exact = |u: &UserRecord| u.username != query;
        exact(a)
            .cmp(&exact(b))
            .then(b.followers_count.cmp(&a.followers_count))
            .then(a.username.cmp(&b.username))
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terms_are_normalised_and_short_ones_skipped() {
        assert_eq!(normalize_term("  John   VAN#Doe "), "john vandoe");
        let name = name_index("John Doe");
        assert_eq!(
            name[keys::GSI1PK].as_s().ok().map(String::as_str),
            Some("SEARCH#jo")
        );
        assert_eq!(
            name[keys::GSI1SK].as_s().ok().map(String::as_str),
            Some("john doe")
        );
        assert!(name_index("J").is_empty());
    }
}
