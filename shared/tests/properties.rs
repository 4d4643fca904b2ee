//! Property tests: the parsers that see client input never panic, whatever the input, and keep
//! their invariants (cursor decoding, paging arithmetic, the multipart reader, mention and hashtag
//! extraction, username and email normalisation, budget windows).

use axum::body::Body;
use axum::extract::Request;
use proptest::prelude::*;
use shared::db::throttle::window_of;
use shared::http::{read_media_form, CaptionedMedia, FilePart};
use shared::pagination::{
    decode_cursor, encode_cursor, ListQuery, PageRequest, Pagination, Start, MAX_LIMIT, MAX_OFFSET,
};
use shared::posts::{hashtags, mentions};
use shared::validation::{email, normalize_email, normalize_username, username};

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 512,
        ..ProptestConfig::default()
    }
}

/// Strings that look like numbers some of the time.
fn numberish() -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        Just(None),
        any::<u64>().prop_map(|n| Some(n.to_string())),
        any::<i64>().prop_map(|n| Some(n.to_string())),
        (0u32..20_000).prop_map(|n| Some(n.to_string())),
        ".{0,24}".prop_map(Some),
    ]
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn cursor_decoding_never_panics(raw in ".{0,300}") {
        let _ = decode_cursor(&raw);
    }

    #[test]
    fn cursor_decoding_never_panics_on_base64_of_anything(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        use base64::Engine;
        let cursor = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&bytes);
        let _ = decode_cursor(&cursor);
    }

    #[test]
    fn cursors_round_trip(
        pk in "[A-Z]{1,8}#[0-9A-Z]{1,26}",
        sk in ".{1,40}",
        number in any::<i64>(),
    ) {
        let key = std::collections::HashMap::from([
            ("PK".to_string(), aws_sdk_dynamodb::types::AttributeValue::S(pk)),
            ("SK".to_string(), aws_sdk_dynamodb::types::AttributeValue::S(sk)),
            ("n".to_string(), aws_sdk_dynamodb::types::AttributeValue::N(number.to_string())),
        ]);
        prop_assert_eq!(decode_cursor(&encode_cursor(&key)).ok(), Some(key));
    }

    #[test]
    fn paging_arithmetic_stays_in_bounds(
        limit in numberish(),
        page in numberish(),
        offset in numberish(),
    ) {
        let query = ListQuery { limit, page, offset, cursor: None };
        for default in [1, 20, 50, MAX_LIMIT] {
            if let Ok(request) = query.page_request_with_default(default) {
                prop_assert!((1..=MAX_LIMIT).contains(&request.limit));
                match request.start {
                    Start::Offset(offset) => prop_assert!(offset <= MAX_OFFSET),
                    Start::After(_) => prop_assert!(false, "no cursor was sent"),
                }
                let page = request.current_page();
                prop_assert!((1..=MAX_OFFSET + 1).contains(&page));
            }
        }
    }

    #[test]
    fn pagination_json_never_panics(
        current_page in any::<u32>(),
        limit in any::<u32>(),
        total in proptest::option::of(any::<u64>()),
        has_more in any::<bool>(),
        offset in proptest::option::of(any::<u32>()),
    ) {
        let pagination = Pagination { current_page, limit, offset, total, has_more, next_cursor: None };
        let json = pagination.to_json("totalItems");
        // Pages are counted where a total is kept, and null where none is.
        prop_assert_eq!(json["totalPages"].is_u64(), total.is_some());
        prop_assert_eq!(json["totalPages"].is_null(), total.is_none());
        let list = pagination.list("items", Vec::<u8>::new(), "totalItems");
        prop_assert_eq!(&list["hasMore"], &json["hasMore"]);
        prop_assert_eq!(&list["total"], &json["totalItems"]);
        let request = PageRequest { limit: limit.max(1), start: Start::Offset(limit) };
        let _ = request.current_page();
    }

    #[test]
    fn budget_windows_end_after_now(now in -1_000_000_000_000i64..1_000_000_000_000, window in any::<i64>()) {
        let (_, ends) = window_of(now, window);
        prop_assert!(ends > now);
    }

    #[test]
    fn mentions_and_hashtags_are_normalised_and_unique(caption in ".{0,400}") {
        for tags in [hashtags(&caption), mentions(&caption)] {
            let mut seen = std::collections::HashSet::new();
            for tag in &tags {
                prop_assert!(!tag.is_empty());
                prop_assert_eq!(tag.to_lowercase(), tag.clone());
                prop_assert!(seen.insert(tag.clone()), "duplicate {}", tag);
            }
        }
    }

    #[test]
    fn usernames_and_emails_normalise_idempotently(raw in ".{0,80}") {
        let name = normalize_username(&raw);
        prop_assert_eq!(normalize_username(&name), name.clone());
        let _ = username(&name);
        let address = normalize_email(&raw);
        prop_assert_eq!(normalize_email(&address), address.clone());
        let _ = email(&address);
    }
}

const FILE: FilePart = FilePart {
    names: &["file"],
    limit: 4096,
    too_large: "use an upload",
};

async fn read(content_type: &str, body: Vec<u8>) {
    let request = match Request::builder()
        .method("POST")
        .uri("/api/posts")
        .header("content-type", content_type)
        .body(Body::from(body))
    {
        Ok(request) => request,
        Err(_) => return,
    };
    let _ = read_media_form::<CaptionedMedia, _>(request, &(), &FILE).await;
}

fn runtime() -> tokio::runtime::Runtime {
    match tokio::runtime::Builder::new_current_thread().build() {
        Ok(runtime) => runtime,
        Err(err) => panic!("runtime: {err}"),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn the_multipart_reader_never_panics_on_garbage(
        boundary in "[a-zA-Z0-9'()+_,./:=?-]{1,70}",
        body in proptest::collection::vec(any::<u8>(), 0..2048),
    ) {
        runtime().block_on(read(&format!("multipart/form-data; boundary={boundary}"), body));
    }

    #[test]
    fn the_multipart_reader_never_panics_on_near_valid_forms(
        boundary in "[a-zA-Z0-9]{1,40}",
        parts in proptest::collection::vec(
            ("[a-z]{0,8}", proptest::collection::vec(any::<u8>(), 0..6000), any::<bool>()),
            0..4,
        ),
        cut in any::<usize>(),
    ) {
        let mut body = Vec::new();
        for (name, bytes, is_file) in &parts {
            body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
            let disposition = if *is_file {
                format!("Content-Disposition: form-data; name=\"{name}\"; filename=\"f.jpg\"\r\n\r\n")
            } else {
                format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n")
            };
            body.extend_from_slice(disposition.as_bytes());
            body.extend_from_slice(bytes);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
        // Sometimes the body is cut short.
        if cut % 3 == 0 && !body.is_empty() {
            body.truncate(cut % body.len());
        }
        runtime().block_on(read(&format!("multipart/form-data; boundary={boundary}"), body));
    }

    #[test]
    fn the_json_branch_never_panics(body in proptest::collection::vec(any::<u8>(), 0..512)) {
        runtime().block_on(read("application/json", body));
    }
}
