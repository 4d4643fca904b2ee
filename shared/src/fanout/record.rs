//! One stream record, decoded: what happened to which item, with its images as SDK attribute
//! maps (the event's DynamoDB JSON converted by serde_dynamo), and the `eventID` every write
//! made for it is conditioned on.

use aws_lambda_events::event::dynamodb::EventRecord;

use crate::db::keys::Key;
use crate::db::listing::string_attr;
use crate::db::Item;
use crate::error::{ApiError, ApiResult};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChangeKind {
    Insert,
    Modify,
    Remove,
}

/// A record as the rules read it.
#[derive(Clone, Debug)]
pub struct Change {
    pub event_id: String,
    pub kind: ChangeKind,
    pub key: Key,
    /// The item after the write (INSERT, MODIFY).
    pub new: Option<Item>,
    /// The item before the write (MODIFY, REMOVE).
    pub old: Option<Item>,
}

fn image(raw: &serde_dynamo::Item) -> Option<Item> {
    if raw.is_empty() {
        None
    } else {
        Some(Item::from(raw.clone()))
    }
}

impl Change {
    pub fn from_record(record: &EventRecord) -> ApiResult<Self> {
        let kind = match record.event_name.as_str() {
            "INSERT" => ChangeKind::Insert,
            "MODIFY" => ChangeKind::Modify,
            "REMOVE" => ChangeKind::Remove,
            other => {
                return Err(ApiError::internal(format!(
                    "stream record with eventName {other:?}"
                )))
            }
        };
        if record.event_id.is_empty() {
            return Err(ApiError::internal("stream record without an eventID"));
        }
        let keys_item = Item::from(record.change.keys.clone());
        let Some(key) = Key::of_item(&keys_item) else {
            return Err(ApiError::internal("stream record without string PK and SK"));
        };
        Ok(Self {
            event_id: record.event_id.clone(),
            kind,
            key,
            new: image(&record.change.new_image),
            old: image(&record.change.old_image),
        })
    }

    /// The image a rule reads: the new one, or for a REMOVE the old one.
    pub fn image(&self) -> ApiResult<&Item> {
        let image = match self.kind {
            ChangeKind::Remove => self.old.as_ref(),
            _ => self.new.as_ref(),
        };
        image.ok_or_else(|| ApiError::internal("stream record without its image"))
    }

    /// A string attribute of [`Change::image`] the rule cannot do without.
    pub fn required(&self, name: &str) -> ApiResult<String> {
        string_attr(self.image()?, name)
            .filter(|v| !v.is_empty())
            .map(str::to_string)
            .ok_or_else(|| {
                ApiError::internal(format!(
                    "stream record of {}/{} without a string {name}",
                    self.key.pk, self.key.sk
                ))
            })
    }
}
