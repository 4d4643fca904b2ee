//! The `message` notification of a direct message, from the message item's INSERT: to the
//! recipient, collapsed per conversation (a repeat while it is unread refreshes it), never when
//! either blocked the other (checked in the notification's transaction), once per `eventID`.
//! The `new_message` frame itself is pushed by the request (it is the message, not a
//! notification of it).

use super::record::Change;
use crate::db::messages::MessageRecord;
use crate::error::ApiResult;
use crate::notifications::{deliver_once, NewNotification, NotificationType};
use crate::state::AppState;

/// 1 GetItem of the sender + the notification's transaction (or its refresh) + its push.
pub async fn message(state: &AppState, change: &Change) -> ApiResult<()> {
    let message: MessageRecord = serde_dynamo::from_item(change.image()?.clone())?;
    let Some(sender) = state.db.get_user(&message.sender_id).await? else {
        return Ok(()); // A deleted account notifies nobody.
    };
    deliver_once(state, &sender, &notification_of(&message), &change.event_id).await
}

fn notification_of(message: &MessageRecord) -> NewNotification {
    let preview = message.content.as_deref().unwrap_or("sent a photo");
    NewNotification::new(NotificationType::Message, &message.recipient_id)
        .conversation(&message.conversation_id)
        .preview(preview)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(content: Option<&str>) -> MessageRecord {
        MessageRecord {
            id: "m".into(),
            conversation_id: "c".into(),
            sender_id: "a".into(),
            recipient_id: "b".into(),
            message_type: if content.is_some() { "text" } else { "image" }.into(),
            content: content.map(str::to_string),
            media_key: None,
            is_read: false,
            read_at: None,
            created_at: String::new(),
        }
    }

    #[test]
    fn the_notification_names_the_conversation_and_previews_the_text() {
        let text = notification_of(&record(Some("hi")));
        assert_eq!(text.recipient, "b");
        assert_eq!(text.kind, NotificationType::Message);
        assert_eq!(text.conversation_id.as_deref(), Some("c"));
        assert_eq!(text.preview.as_deref(), Some("hi"));
        let photo = notification_of(&record(None));
        assert_eq!(photo.preview.as_deref(), Some("sent a photo"));
    }
}
