//! `docs/openapi.yaml` and the routers must describe the same set of routes. The routers'
//! routes are read from the functions' source (every `.route("path", method(..)...)` call).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::social_support::{Access, Route};

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `(METHOD, path)` for every `.route(...)` call in `source`.
fn routes_in(source: &str) -> Vec<(String, String)> {
    let mut routes = Vec::new();
    let mut rest = source;
    while let Some(at) = rest.find(".route(") {
        rest = &rest[at + ".route(".len()..];
        let Some(open) = rest.find('"') else { break };
        let Some(close) = rest[open + 1..].find('"') else {
            break;
        };
        let path = rest[open + 1..open + 1 + close].to_string();
        // The call's arguments end at the parenthesis that closes `.route(`.
        let mut depth = 1;
        let mut end = rest.len();
        for (i, c) in rest.char_indices() {
            match c {
                '(' => depth += 1,
                ')' => {
                    depth -= 1;
                    if depth == 0 {
                        end = i;
                        break;
                    }
                }
                _ => {}
            }
        }
        let args = &rest[open + 1 + close..end];
        for method in METHODS {
            let called = args.match_indices(&format!("{method}(")).any(|(i, _)| {
                i == 0 || !args[..i].ends_with(|c: char| c.is_alphanumeric() || c == '_')
            });
            if called {
                routes.push((method.to_uppercase(), path.clone()));
            }
        }
        rest = &rest[end..];
    }
    routes
}

fn served_routes() -> BTreeSet<(String, String)> {
    let mut files = Vec::new();
    rust_files(&root().join("functions"), &mut files);
    files
        .iter()
        .flat_map(|f| routes_in(&std::fs::read_to_string(f).unwrap_or_default()))
        .collect()
}

fn documented_routes() -> BTreeSet<(String, String)> {
    let text = std::fs::read_to_string(root().join("docs/openapi.yaml"))
        .unwrap_or_else(|e| panic!("docs/openapi.yaml: {e}"));
    let doc: serde_yaml::Value =
        serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("docs/openapi.yaml: {e}"));
    let paths = doc["paths"].as_mapping().cloned().unwrap_or_default();
    paths
        .iter()
        .flat_map(|(path, item)| {
            let path = path.as_str().unwrap_or_default().to_string();
            METHODS
                .iter()
                .filter(|m| item.get(**m).is_some())
                .map(move |m| (m.to_uppercase(), path.clone()))
                .collect::<Vec<_>>()
        })
        .collect()
}

#[test]
fn the_route_parser_reads_multi_line_and_chained_routes() {
    let source = r#"
        Router::new()
            .route("/a", get(list).post(create))
            .route(
                "/b/{id}",
                delete(remove),
            )
            .route("/c", post(forget_password))
    "#;
    assert_eq!(
        routes_in(source),
        vec![
            ("GET".into(), "/a".into()),
            ("POST".into(), "/a".into()),
            ("DELETE".into(), "/b/{id}".into()),
            ("POST".into(), "/c".into()),
        ]
    );
}

#[test]
fn openapi_documents_exactly_the_routes_the_routers_serve() {
    let served = served_routes();
    let documented = documented_routes();
    assert!(
        served.len() >= 14,
        "the parser found too few routes: {served:?}"
    );
    let undocumented: Vec<_> = served.difference(&documented).collect();
    let unserved: Vec<_> = documented.difference(&served).collect();
    assert!(
        undocumented.is_empty(),
        "served but not in docs/openapi.yaml: {undocumented:?}"
    );
    assert!(
        unserved.is_empty(),
        "in docs/openapi.yaml but not served: {unserved:?}"
    );
}

/// `(METHOD, path) -> serves anonymous callers` for every route the document secures (a `{}`
/// alternative in `security` marks a route that also serves anonymous callers).
fn secured_routes() -> BTreeMap<(String, String), bool> {
    let text = std::fs::read_to_string(root().join("docs/openapi.yaml"))
        .unwrap_or_else(|e| panic!("docs/openapi.yaml: {e}"));
    let doc: serde_yaml::Value =
        serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("docs/openapi.yaml: {e}"));
    let paths = doc["paths"].as_mapping().cloned().unwrap_or_default();
    let mut secured = BTreeMap::new();
    for (path, item) in &paths {
        for method in METHODS {
            let Some(security) = item.get(method).and_then(|op| op.get("security")) else {
                continue;
            };
            let alternatives = security.as_sequence().cloned().unwrap_or_default();
            if alternatives.is_empty() {
                continue;
            }
            let optional = alternatives
                .iter()
                .any(|a| a.as_mapping().is_some_and(serde_yaml::Mapping::is_empty));
            secured.insert(
                (
                    method.to_uppercase(),
                    path.as_str().unwrap_or_default().to_string(),
                ),
                optional,
            );
        }
    }
    secured
}

#[test]
fn every_secured_route_has_a_token_test_with_its_documented_access() {
    let tables: [&[Route]; 12] = [
        crate::admin::ROUTES,
        crate::auth::ROUTES,
        crate::users::ROUTES,
        crate::follow::ROUTES,
        crate::search_history::ROUTES,
        crate::uploads::ROUTES,
        crate::posts::ROUTES,
        crate::posts_feeds::ROUTES,
        crate::posts_comments::ROUTES,
        crate::messages::ROUTES,
        crate::stories::ROUTES,
        crate::notifications::ROUTES,
    ];
    let mut tested = BTreeMap::new();
    for (method, path, access) in tables.iter().flat_map(|t| t.iter()) {
        let key = (method.to_string(), path.to_string());
        assert!(
            tested.insert(key, *access == Access::Optional).is_none(),
            "{method} {path} is listed twice"
        );
    }
    let secured = secured_routes();
    assert!(secured.len() >= 60, "too few secured routes: {secured:?}");
    let untested: Vec<_> = secured
        .keys()
        .filter(|k| !tested.contains_key(*k))
        .collect();
    let unsecured: Vec<_> = tested
        .keys()
        .filter(|k| !secured.contains_key(*k))
        .collect();
    assert!(
        untested.is_empty(),
        "secured routes without a token test: {untested:?}"
    );
    assert!(
        unsecured.is_empty(),
        "token-tested routes docs/openapi.yaml does not secure: {unsecured:?}"
    );
    for (route, optional) in &secured {
        assert_eq!(
            tested.get(route),
            Some(optional),
            "{route:?}: anonymous access in the token test vs docs/openapi.yaml"
        );
    }
}
