//! Reads behind the global feed (day buckets `FEED#<yyyy-mm-dd>`, newest first) and the
//! timeline (each followed author's `POSTSBY#` listing, read in parallel and merged).

use futures_util::stream::{self, StreamExt, TryStreamExt};

use super::keys;
use super::{s, Db, Item};
use crate::error::ApiResult;

/// How many followed accounts' listings the timeline reads at once.
const TIMELINE_PARALLEL_QUERIES: usize = 16;

impl Db {
    /// Enters `day` in the feed's day index before a post lands in that day's bucket. An
    /// idempotent PutItem outside the post's transaction (concurrent posts would otherwise
    /// conflict on this one item), made once per day per process.
    pub async fn mark_feed_day(&self, day: &str) -> ApiResult<()> {
        let already = self
            .feed_day_marked
            .lock()
            .map(|last| *last == day)
            .unwrap_or(false);
        if already {
            return Ok(());
        }
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(keys::feed_day(day).to_item()))
            .send()
            .await?;
        if let Ok(mut last) = self.feed_day_marked.lock() {
            *last = day.to_string();
        }
        Ok(())
    }

    /// Days older than `before` that have a feed bucket, newest first, none older than
    /// `oldest` when given, at most `limit`. 1 Query.
    pub async fn feed_days_before(
        &self,
        before: &str,
        oldest: Option<&str>,
        limit: usize,
    ) -> ApiResult<Vec<String>> {
        let query = self
            .client
            .query()
            .table_name(&self.table)
            .expression_attribute_values(":pk", s(keys::FEED_DAYS))
            .expression_attribute_values(":before", s(before))
            .projection_expression("SK")
            .scan_index_forward(false)
            // `BETWEEN` includes `before` itself, hence one more.
            .limit(i32::try_from(limit + 1).unwrap_or(i32::MAX));
        let query = match oldest {
            Some(oldest) => query
                .key_condition_expression("PK = :pk AND SK BETWEEN :oldest AND :before")
                .expression_attribute_values(":oldest", s(oldest)),
            None => query.key_condition_expression("PK = :pk AND SK < :before"),
        };
        let out = query.send().await?;
        Ok(out
            .items
            .unwrap_or_default()
            .iter()
            .filter_map(|item| super::listing::string_attr(item, keys::SK))
            .filter(|day| *day != before)
            .take(limit)
            .map(str::to_string)
            .collect())
    }

    /// Up to `limit` entries of one feed bucket, newest first, after `start` (a key of that
    /// bucket) when given; the key to continue from when the bucket has more. 1 Query.
    pub async fn feed_bucket_entries(
        &self,
        day: &str,
        start: Option<Item>,
        limit: usize,
    ) -> ApiResult<(Vec<Item>, Option<Item>)> {
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("PK = :pk")
            .expression_attribute_values(":pk", s(keys::feed_bucket(day)))
            .projection_expression("PK, SK, postId, authorId")
            .scan_index_forward(false)
            .limit(i32::try_from(limit.max(1)).unwrap_or(i32::MAX))
            .set_exclusive_start_key(start)
            .send()
            .await?;
        Ok((out.items.unwrap_or_default(), out.last_evaluated_key))
    }

    /// The newest `limit` post ids of each author older than `before` (a post ULID), read with
    /// one Query per author, `TIMELINE_PARALLEL_QUERIES` at a time. Answers `(postId, authorId)`.
    pub async fn newest_posts_of(
        &self,
        authors: &[String],
        before: Option<&str>,
        limit: usize,
    ) -> ApiResult<Vec<(String, String)>> {
        let queries: Vec<_> = authors
            .iter()
            .cloned()
            .map(|author| {
                let mut query = self
                    .client
                    .query()
                    .table_name(&self.table)
                    .index_name(keys::GSI1)
                    .expression_attribute_names("#pk", keys::GSI1PK)
                    .expression_attribute_values(":pk", s(keys::posts_by(&author)))
                    .projection_expression("postId")
                    .scan_index_forward(false)
                    .limit(i32::try_from(limit.max(1)).unwrap_or(i32::MAX));
                query = match before {
                    Some(before) => query
                        .key_condition_expression("#pk = :pk AND #sk < :before")
                        .expression_attribute_names("#sk", keys::GSI1SK)
                        .expression_attribute_values(":before", s(before)),
                    None => query.key_condition_expression("#pk = :pk"),
                };
                async move {
                    let out = query.send().await?;
                    Ok::<_, crate::error::ApiError>(
                        out.items
                            .unwrap_or_default()
                            .iter()
                            .filter_map(|item| {
                                super::listing::string_attr(item, "postId")
                                    .map(|id| (id.to_string(), author.clone()))
                            })
                            .collect(),
                    )
                }
            })
            .collect();
        let per_author: Vec<Vec<(String, String)>> = stream::iter(queries)
            .buffer_unordered(TIMELINE_PARALLEL_QUERIES)
            .try_collect()
            .await?;
        Ok(per_author.into_iter().flatten().collect())
    }
}
