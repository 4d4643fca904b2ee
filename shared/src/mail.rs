//! Outgoing mail through SES. Locally (`MAIL_ECHO`) every message is also printed, so the
//! link and code can be read off the console, and the local stack attaches an [`Outbox`] that
//! keeps every sent message for `GET /_aws/ses` (never in Lambda). Without the `ses` feature
//! the SES client is not linked and sending fails (only the auth function sends mail).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

#[cfg(feature = "ses")]
use aws_sdk_ses::types::{Body, Content, Destination, Message};

use crate::config::Config;
use crate::error::ApiResult;

#[derive(Clone)]
pub struct Mailer {
    #[cfg(feature = "ses")]
    client: aws_sdk_ses::Client,
    from: String,
    echo: bool,
    outbox: Option<Outbox>,
}

pub struct Email {
    pub to: String,
    pub subject: String,
    pub text: String,
}

/// A message SES accepted, as the local stack lists it.
#[derive(Clone, Debug)]
pub struct SentMail {
    /// SES's MessageId.
    pub id: String,
    /// RFC 3339.
    pub timestamp: String,
    pub source: String,
    pub to: Vec<String>,
    pub subject: String,
    pub text: String,
    pub html: Option<String>,
}

/// The mail a local process sent, oldest first, in memory. Bounded: a long session keeps the
/// latest [`Outbox::CAPACITY`] messages.
#[derive(Clone, Default)]
pub struct Outbox {
    messages: Arc<Mutex<VecDeque<SentMail>>>,
}

impl Outbox {
    pub const CAPACITY: usize = 10_000;

    pub fn record(&self, mail: SentMail) {
        let mut messages = self.lock();
        if messages.len() >= Self::CAPACITY {
            messages.pop_front();
        }
        messages.push_back(mail);
    }

    /// Every message sent by or to `email` (any message when `None`), oldest first.
    pub fn list(&self, email: Option<&str>) -> Vec<SentMail> {
        let matches = |m: &SentMail| match email {
            None => true,
            Some(address) => {
                m.source.eq_ignore_ascii_case(address)
                    || m.to.iter().any(|to| to.eq_ignore_ascii_case(address))
            }
        };
        self.lock().iter().filter(|m| matches(m)).cloned().collect()
    }

    /// Drops the message with `id`, or every message when `None`.
    pub fn clear(&self, id: Option<&str>) {
        let mut messages = self.lock();
        match id {
            Some(id) => messages.retain(|m| m.id != id),
            None => messages.clear(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<SentMail>> {
        // A panic while holding the lock cannot leave the queue half-updated: keep using it.
        self.messages
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Mailer {
    #[cfg(feature = "ses")]
    pub fn new(client: aws_sdk_ses::Client, config: &Config) -> Self {
        Self {
            client,
            from: config.mail_from.clone(),
            echo: config.mail_echo,
            outbox: None,
        }
    }

    #[cfg(not(feature = "ses"))]
    pub fn new(config: &Config) -> Self {
        Self {
            from: config.mail_from.clone(),
            echo: config.mail_echo,
            outbox: None,
        }
    }

    /// The same mailer, also recording every message SES accepts into `outbox`.
    pub fn with_outbox(mut self, outbox: Outbox) -> Self {
        self.outbox = Some(outbox);
        self
    }

    #[cfg(not(feature = "ses"))]
    pub async fn send(&self, email: Email) -> ApiResult<()> {
        let _ = (&self.from, self.echo, &self.outbox);
        Err(crate::error::ApiError::internal(format!(
            "mail to {} not sent: this binary is built without the `ses` feature",
            email.to
        )))
    }

    #[cfg(feature = "ses")]
    pub async fn send(&self, email: Email) -> ApiResult<()> {
        if self.echo {
            println!(
                "\n=== mail to {} ===\nSubject: {}\n{}\n=== end of mail ===\n",
                email.to, email.subject, email.text
            );
        }
        let content = |text: &str| Content::builder().data(text).charset("UTF-8").build();
        let sent = self
            .client
            .send_email()
            .source(&self.from)
            .destination(Destination::builder().to_addresses(&email.to).build())
            .message(
                Message::builder()
                    .subject(content(&email.subject)?)
                    .body(Body::builder().text(content(&email.text)?).build())
                    .build(),
            )
            .send()
            .await?;
        if let Some(outbox) = &self.outbox {
            outbox.record(SentMail {
                id: sent.message_id().to_string(),
                timestamp: crate::time::now_rfc3339(),
                source: self.from.clone(),
                to: vec![email.to],
                subject: email.subject,
                text: email.text,
                html: None,
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mail(id: &str, to: &str) -> SentMail {
        SentMail {
            id: id.into(),
            timestamp: "2026-01-01T00:00:00Z".into(),
            source: "no-reply@insta.test".into(),
            to: vec![to.into()],
            subject: "s".into(),
            text: "t".into(),
            html: None,
        }
    }

    #[test]
    fn the_outbox_filters_by_address_and_clears() {
        let outbox = Outbox::default();
        outbox.record(mail("1", "a@x.test"));
        outbox.record(mail("2", "B@x.test"));
        assert_eq!(outbox.list(Some("b@x.test")).len(), 1);
        assert_eq!(outbox.list(Some("no-reply@insta.test")).len(), 2);
        assert_eq!(outbox.list(None).len(), 2);
        outbox.clear(Some("1"));
        assert_eq!(outbox.list(None)[0].id, "2");
        outbox.clear(None);
        assert!(outbox.list(None).is_empty());
    }

    #[test]
    fn the_outbox_is_bounded() {
        let outbox = Outbox::default();
        for i in 0..Outbox::CAPACITY + 5 {
            outbox.record(mail(&i.to_string(), "a@x.test"));
        }
        let all = outbox.list(None);
        assert_eq!(all.len(), Outbox::CAPACITY);
        assert_eq!(all[0].id, "5");
    }
}
