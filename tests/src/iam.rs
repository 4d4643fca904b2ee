//! What the IAM check needs: the actions an SDK operation requires and the actions each
//! function's policy in `template.yaml` grants. `make test` runs the suite with `AWS_CALL_LOG`
//! set (`shared::calls` records `<function>\t<service>:<operation>` for every distinct call), then
//! `iam_check` (src/bin/iam_check.rs) holds the log against the template.

use std::collections::{BTreeMap, BTreeSet};

/// The IAM actions an SDK operation needs (none for the transaction wrappers, whose items each
/// need their own action: the Put, Update, Delete and ConditionCheck operations the same code
/// also makes alone are what the log shows).
pub fn actions_for(service: &str, operation: &str) -> Vec<String> {
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

pub fn policies_by_function() -> BTreeMap<String, BTreeSet<String>> {
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

/// Holds the log at `path` against the template: the calls no policy grants, or why the log
/// proves too little.
pub fn check_log(path: &str) -> Result<usize, String> {
    let log = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
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
    if !missing.is_empty() {
        return Err(missing.join("\n"));
    }
    // The suite reaches every function: a near-empty log would prove nothing.
    let functions: BTreeSet<&str> = checked.iter().map(|(f, _)| f.as_str()).collect();
    for expected in [
        "auth", "users", "posts", "comments", "messages", "fanout", "ws", "uploads",
    ] {
        if !functions.contains(expected) {
            return Err(format!("no recorded call of {expected}: {functions:?}"));
        }
    }
    if checked.len() < 40 {
        return Err(format!("only {} calls recorded", checked.len()));
    }
    Ok(checked.len())
}
