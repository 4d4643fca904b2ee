//! The user search index: one small item per searchable term of a user (the username and each
//! word of the full name) under `SEARCH#<first two characters>`, so a prefix search is one
//! Query with `begins_with` and no Scan. Kept in step with the profile in the same
//! transactions that create, rename and delete users.

use std::collections::BTreeSet;

use aws_sdk_dynamodb::types::TransactWriteItem;

use super::follows::{delete_any, put_any};
use super::keys::{self, SEARCH_PREFIX_LEN};
use super::listing::string_attr;
use super::users::UserRecord;
use super::{s, Db};
use crate::error::ApiResult;

/// Matches read from the index before ranking; the best `limit` of them are answered.
pub const SEARCH_CANDIDATES: i32 = 100;

/// A search query or term as the index stores it: lower case, no `#` (the key separator).
pub fn normalize_term(raw: &str) -> String {
    raw.trim()
        .to_lowercase()
        .chars()
        .filter(|c| *c != '#')
        .collect()
}

/// The searchable terms of a user: the username and every full-name word of 2+ characters.
pub fn search_terms(username: &str, full_name: &str) -> BTreeSet<String> {
    let mut terms = BTreeSet::from([normalize_term(username)]);
    terms.extend(
        full_name
            .split_whitespace()
            .map(normalize_term)
            .filter(|word| word.chars().count() >= SEARCH_PREFIX_LEN),
    );
    terms
}

fn term_item(term: &str, user_id: &str) -> super::Item {
    let mut item = keys::search_term(term, user_id).to_item();
    item.insert("userId".into(), s(user_id));
    item
}

impl Db {
    /// Index writes for a new user (part of the registration transaction).
    pub fn search_index_puts(&self, user: &UserRecord) -> ApiResult<Vec<TransactWriteItem>> {
        search_terms(&user.username, &user.full_name)
            .iter()
            .map(|term| put_any(&self.table, term_item(term, &user.id)))
            .collect()
    }

    /// Index writes that follow a change of full name (only the terms that changed).
    pub fn search_index_changes(
        &self,
        user: &UserRecord,
        new_full_name: &str,
    ) -> ApiResult<Vec<TransactWriteItem>> {
        let before = search_terms(&user.username, &user.full_name);
        let after = search_terms(&user.username, new_full_name);
        let mut writes = Vec::new();
        for gone in before.difference(&after) {
            writes.push(delete_any(&self.table, &keys::search_term(gone, &user.id))?);
        }
        for new in after.difference(&before) {
            writes.push(put_any(&self.table, term_item(new, &user.id))?);
        }
        Ok(writes)
    }

    /// Index deletes for a user who is going away.
    pub fn search_index_deletes(&self, user: &UserRecord) -> ApiResult<Vec<TransactWriteItem>> {
        search_terms(&user.username, &user.full_name)
            .iter()
            .map(|term| delete_any(&self.table, &keys::search_term(term, &user.id)))
            .collect()
    }

    /// Ids of users with a term starting with `query` (normalised, at least
    /// `SEARCH_PREFIX_LEN` characters), in index order, without repeats. 1 Query.
    pub async fn search_user_ids(&self, query: &str) -> ApiResult<Vec<String>> {
        let first_word = query.split_whitespace().next().unwrap_or_default();
        let prefix: String = first_word.chars().take(SEARCH_PREFIX_LEN).collect();
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("PK = :pk AND begins_with(SK, :term)")
            .expression_attribute_values(":pk", s(keys::search_partition(&prefix)))
            .expression_attribute_values(":term", s(first_word))
            .projection_expression("userId")
            .limit(SEARCH_CANDIDATES)
            .send()
            .await?;
        let mut ids: Vec<String> = Vec::new();
        for item in out.items.unwrap_or_default() {
            if let Some(id) = string_attr(&item, "userId") {
                if !ids.iter().any(|known| known == id) {
                    ids.push(id.to_string());
                }
            }
        }
        Ok(ids)
    }
}

/// Whether a user matches the whole (possibly multi-word) query, by username or full name.
pub fn matches(user: &UserRecord, query: &str) -> bool {
    let name = user.full_name.to_lowercase();
    let compact: String = query.split_whitespace().collect();
    user.username.starts_with(&compact)
        || name.starts_with(query)
        || name.contains(&format!(" {query}"))
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
    fn terms_cover_username_and_name_words() {
        let terms = search_terms("john.doe", "John  van Doe J");
        assert_eq!(
            terms.into_iter().collect::<Vec<_>>(),
            vec!["doe", "john", "john.doe", "van"]
        );
        assert_eq!(normalize_term(" Ab#C "), "abc");
    }
}
