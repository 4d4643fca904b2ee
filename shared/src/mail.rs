//! Outgoing mail through SES. Locally (`MAIL_ECHO`) every message is also printed, so the
//! link and code can be read off the console.

use aws_sdk_ses::types::{Body, Content, Destination, Message};

use crate::config::Config;
use crate::error::ApiResult;

#[derive(Clone)]
pub struct Mailer {
    client: aws_sdk_ses::Client,
    from: String,
    echo: bool,
}

pub struct Email {
    pub to: String,
    pub subject: String,
    pub text: String,
}

impl Mailer {
    pub fn new(client: aws_sdk_ses::Client, config: &Config) -> Self {
        Self {
            client,
            from: config.mail_from.clone(),
            echo: config.mail_echo,
        }
    }

    pub async fn send(&self, email: Email) -> ApiResult<()> {
        if self.echo {
            println!(
                "\n=== mail to {} ===\nSubject: {}\n{}\n=== end of mail ===\n",
                email.to, email.subject, email.text
            );
        }
        let content = |text: String| Content::builder().data(text).charset("UTF-8").build();
        self.client
            .send_email()
            .source(&self.from)
            .destination(Destination::builder().to_addresses(email.to).build())
            .message(
                Message::builder()
                    .subject(content(email.subject)?)
                    .body(Body::builder().text(content(email.text)?).build())
                    .build(),
            )
            .send()
            .await?;
        Ok(())
    }
}
