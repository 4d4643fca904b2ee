//! The IAM check's parts (`api_tests::iam`); the check itself runs after the suite, on the log
//! the suite wrote (`iam_check` in `make test`).

use api_tests::iam::{actions_for, check_log, policies_by_function};

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

#[test]
fn a_call_no_policy_grants_fails_the_check() {
    let dir = std::env::temp_dir().join(format!("iam-{}", ulid::Ulid::new()));
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    let path = dir.join("calls.log");
    std::fs::write(&path, "health\tdynamodb:PutItem\n").unwrap_or_else(|e| panic!("{e}"));
    let verdict = check_log(path.to_str().unwrap_or_default());
    assert!(
        verdict
            .as_ref()
            .is_err_and(|why| why.contains("health calls dynamodb:PutItem")),
        "{verdict:?}"
    );
}
