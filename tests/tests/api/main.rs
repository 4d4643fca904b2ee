//! The black-box suite: one binary, real HTTP against the local stack, moto behind it.

mod account_deletion;
mod admin;
mod auth;
mod blocks;
mod fanout;
mod follow;
mod health;
mod lambda_events;
mod live_clients;
mod messages;
mod notifications;
mod openapi;
mod posts;
mod posts_comments;
mod posts_feeds;
mod posts_support;
mod realtime;
mod search;
mod search_history;
mod social_support;
mod stories;
mod template;
mod tokens;
mod uploads;
mod users;
mod ws_events;
