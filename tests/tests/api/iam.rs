//! Every AWS call a function made during the suite is granted by that function's IAM policy in
//! `template.yaml`. `make test` runs the suite with `AWS_CALL_LOG` set, so `shared::calls`
//! records `<function>\t<service>:<operation>` for every distinct call (the local stack
//! attributes each router's, the stream's and the WebSocket's calls to their Lambda; a function
//! binary under the fake runtime records as itself), then runs this check on the log.

use std::collections::{BTreeMap, BTreeSet};

/// The IAM actions an SDK operation needs (none for the transaction wrappers, whose items each
/// need their own action: the Put, Update, Delete and ConditionCheck operations the same code
/// also makes alone are what the log shows).
fn actions_for(service: &str, operation: &str) -> Vec<String> {
    match (service, operation) {
        ("dynamodb", "TransactWriteItems") => vec![],
        ("dynamodb", "TransactGetItems") => vec!["dynamodb:GetItem".into()],
        ("s3", "HeadObject") => vec!["s3:GetObject".into()],
        ("s3", "CopyObject") => vec!["s3:GetObject".into(), "s3:PutObject".into()],
        ("s3", "ListObjectsV2") => vec!["s3:ListBucket".into()],
        ("execute-api", _) => vec!["execute-api:ManageConnections".into()],
        (service, operation) => vec![format!("{service}:{operation}")],
    }
}

/// Every `service:Action` string anywhere under a function's `Policies`.
fn granted(policies: &serde_yaml::Value, into: &mut BTreeSet<String>) {
    match policies {
        serde_yaml::Value::String(s) if s.contains(':') && !s.contains(' ') => {
            into.insert(s.clone());
        }
        serde_yaml::Value::Sequence(items) => items.iter().for_each(|v| granted(v, into)),
        serde_yaml::Value::Mapping(map) => map.values().for_each(|v| granted(v, into)),
        serde_yaml::Value::Tagged(tagged) => granted(&tagged.value, into),
        _ => {}
    }
}

fn policies_by_function() -> BTreeMap<String, BTreeSet<String>> {
    let path = local::bootstrap::template_path();
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("template.yaml: {e}"));
    let template: serde_yaml::Value =
        serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("template.yaml: {e}"));
    let mut out = BTreeMap::new();
    for (_, resource) in template["Resources"]
        .as_mapping()
        .cloned()
        .unwrap_or_default()
    {
        if resource["Type"] != "AWS::Serverless::Function" {
            continue;
        }
        let Some(name) = resource["Properties"]["CodeUri"]
            .as_str()
            .and_then(|uri| uri.strip_prefix("functions/"))
        else {
            continue;
        };
        let mut actions = BTreeSet::new();
        granted(&resource["Properties"]["Policies"], &mut actions);
        out.insert(name.to_string(), actions);
    }
    out
}

#[test]
#[ignore = "run by `make test` after the suite, on the log the suite wrote (AWS_CALL_LOG)"]
fn every_recorded_aws_call_is_granted_by_its_functions_policy() {
    let path = std::env::var("AWS_CALL_LOG")
        .unwrap_or_else(|_| panic!("AWS_CALL_LOG names the log the suite wrote"));
    let log = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let policies = policies_by_function();
    let mut checked = BTreeSet::new();
    let mut missing = Vec::new();
    for line in log.lines() {
        let Some((function, call)) = line.split_once('\t') else {
            continue;
        };
        let Some(granted) = policies.get(function) else {
            continue; // Not a Lambda (the test process's own set-up, the bench, the CLI).
        };
        let Some((service, operation)) = call.split_once(':') else {
            continue;
        };
        for action in actions_for(service, operation) {
            checked.insert((function.to_string(), action.clone()));
            if !granted.contains(&action) {
                missing.push(format!(
                    "{function} calls {call}: its policy lacks {action}"
                ));
            }
        }
    }
    missing.sort();
    missing.dedup();
    assert!(missing.is_empty(), "{}", missing.join("\n"));
    // The suite reaches every function: a near-empty log would prove nothing.
    let functions: BTreeSet<&str> = checked.iter().map(|(f, _)| f.as_str()).collect();
    for expected in [
        "auth", "users", "posts", "comments", "messages", "fanout", "ws", "uploads",
    ] {
        assert!(
            functions.contains(expected),
            "no recorded call of {expected}: {functions:?}"
        );
    }
    assert!(checked.len() >= 40, "only {} calls recorded", checked.len());
}

#[test]
fn operations_map_to_their_iam_actions() {
    assert_eq!(actions_for("dynamodb", "Query"), vec!["dynamodb:Query"]);
    assert!(actions_for("dynamodb", "TransactWriteItems").is_empty());
    assert_eq!(
        actions_for("s3", "CopyObject"),
        vec!["s3:GetObject", "s3:PutObject"]
    );
    assert_eq!(
        actions_for("execute-api", "PostToConnection"),
        vec!["execute-api:ManageConnections"]
    );
    let policies = policies_by_function();
    assert!(policies["health"].contains("dynamodb:GetItem"));
    assert!(!policies["health"].contains("dynamodb:PutItem"));
}
