//! The operator's command: makes the first root, straight in the table the stack uses (never
//! through the API). Same configuration as the functions: `TABLE_NAME`, and the AWS
//! environment (`AWS_ENDPOINT_URL` points it at moto locally). Idempotent.
//!
//!     cargo run -p admin-cli -- grant-root --email someone@example.com

use std::process::ExitCode;

use aws_config::BehaviorVersion;
use shared::admin::manage::{grant_root, Granted};
use shared::db::Db;

const USAGE: &str = "usage: admin-cli grant-root --email <address>";

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let email = match args.as_slice() {
        [command, flag, email] if command == "grant-root" && flag == "--email" => email.clone(),
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    let Ok(table) = std::env::var("TABLE_NAME") else {
        eprintln!(
            "TABLE_NAME is not set (the stack's table; `make grant-root` sets the local one)"
        );
        return ExitCode::from(2);
    };
    let sdk = aws_config::defaults(BehaviorVersion::latest()).load().await;
    let db = Db::new(aws_sdk_dynamodb::Client::new(&sdk), table);
    match grant_root(&db, &email).await {
        Ok(Granted::Now(id)) => {
            println!("{email} ({id}) is root now");
            ExitCode::SUCCESS
        }
        Ok(Granted::Already(id)) => {
            println!("{email} ({id}) was root already: nothing changed");
            ExitCode::SUCCESS
        }
        Ok(Granted::NoSuchUser) => {
            eprintln!("no account has the email {email}: register it first");
            ExitCode::from(1)
        }
        Err(err) => {
            eprintln!("granting root failed: {err:?}");
            ExitCode::from(1)
        }
    }
}
