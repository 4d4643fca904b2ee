//! `cargo lambda watch` serves the real paths: `[workspace.metadata.lambda.watch.router]` maps
//! every route of docs/openapi.yaml to the function crate that serves it. The routes are loaded
//! into matchit 0.8, the router cargo-lambda itself builds, so a conflict fails here too.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The watch router as cargo-lambda reads it: from `cargo metadata`.
fn watch_router() -> BTreeMap<String, String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let output = std::process::Command::new(cargo)
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .current_dir(root())
        .output()
        .unwrap_or_else(|e| panic!("cargo metadata: {e}"));
    assert!(output.status.success(), "cargo metadata: {:?}", output);
    let metadata: Value = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("cargo metadata output: {e}"));
    let router = &metadata["metadata"]["lambda"]["watch"]["router"];
    router
        .as_object()
        .unwrap_or_else(|| panic!("no [workspace.metadata.lambda.watch.router]: {router}"))
        .iter()
        .map(|(path, function)| {
            let function = function
                .as_str()
                .unwrap_or_else(|| panic!("{path}: the function must be a crate name"));
            (path.clone(), function.to_string())
        })
        .collect()
}

/// `path -> function crate` for every `.route("path", ...)` in `functions/<crate>/src`.
fn routes_by_crate() -> BTreeMap<String, String> {
    fn scan(dir: &Path, crate_name: &str, out: &mut BTreeMap<String, String>) {
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                scan(&path, crate_name, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let source = std::fs::read_to_string(&path).unwrap_or_default();
                let mut rest = source.as_str();
                while let Some(at) = rest.find(".route(") {
                    rest = &rest[at + ".route(".len()..];
                    let Some(open) = rest.find('"') else { break };
                    let Some(close) = rest[open + 1..].find('"') else {
                        break;
                    };
                    let route = rest[open + 1..open + 1 + close].to_string();
                    if let Some(other) = out.insert(route.clone(), crate_name.to_string()) {
                        assert_eq!(other, crate_name, "{route} is served by two functions");
                    }
                    rest = &rest[open + 1 + close..];
                }
            }
        }
    }
    let mut out = BTreeMap::new();
    for entry in std::fs::read_dir(root().join("functions"))
        .into_iter()
        .flatten()
        .flatten()
    {
        let name = entry.file_name().to_string_lossy().to_string();
        scan(&entry.path().join("src"), &name, &mut out);
    }
    out
}

fn openapi_paths() -> Vec<String> {
    let text = std::fs::read_to_string(root().join("docs/openapi.yaml"))
        .unwrap_or_else(|e| panic!("docs/openapi.yaml: {e}"));
    let doc: serde_yaml::Value =
        serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("docs/openapi.yaml: {e}"));
    doc["paths"]
        .as_mapping()
        .into_iter()
        .flatten()
        .filter_map(|(path, _)| path.as_str().map(str::to_string))
        .collect()
}

/// `/api/users/{user_id}/block` -> `/api/users/p1/block`: a concrete request path.
fn concrete(path: &str) -> String {
    path.split('/')
        .map(|segment| {
            if segment.starts_with('{') {
                "p1"
            } else {
                segment
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

#[test]
fn the_watch_router_sends_every_documented_route_to_its_function() {
    let router_table = watch_router();
    let mut router = matchit::Router::new();
    for (path, function) in &router_table {
        router
            .insert(path.as_str(), function.clone())
            .unwrap_or_else(|e| panic!("cargo lambda watch would refuse {path}: {e}"));
    }
    let served = routes_by_crate();
    let documented = openapi_paths();
    assert!(documented.len() >= 50, "too few paths: {documented:?}");
    for path in &documented {
        let expected = served
            .get(path)
            .unwrap_or_else(|| panic!("{path} is documented but no function serves it"));
        let request = concrete(path);
        let matched = router
            .at(&request)
            .unwrap_or_else(|_| panic!("cargo lambda watch has no route for {path}"));
        assert_eq!(
            matched.value, expected,
            "cargo lambda watch sends {request} to {} but {expected} serves {path}",
            matched.value
        );
    }
    let crates: Vec<String> = served.values().cloned().collect();
    for (path, function) in &router_table {
        assert!(
            crates.contains(function),
            "{path} goes to {function}, which is not a function crate"
        );
        assert!(
            documented.contains(path),
            "{path} is in the watch router but not in docs/openapi.yaml"
        );
    }
}
