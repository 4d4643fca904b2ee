//! The SAM template is the one definition of the AWS resources: the local table is created from
//! it, the code's index names must exist in it, and every function has a Lambda in it.

use api_tests::spawn_app;
use local::bootstrap::{table_definition, template_path};
use shared::db::keys;

fn template() -> serde_yaml::Value {
    let text =
        std::fs::read_to_string(template_path()).unwrap_or_else(|e| panic!("template.yaml: {e}"));
    serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("template.yaml: {e}"))
}

#[tokio::test]
async fn the_local_table_matches_the_template() {
    let app = spawn_app().await;
    let definition = table_definition(&template_path()).unwrap_or_else(|e| panic!("{e}"));
    let described = app
        .state
        .db
        .client
        .describe_table()
        .table_name(&app.state.db.table)
        .send()
        .await
        .unwrap_or_else(|e| panic!("describe: {e:?}"));
    let table = described.table.unwrap_or_else(|| panic!("no table"));

    let key_schema = |keys: &[aws_sdk_dynamodb::types::KeySchemaElement]| {
        keys.iter()
            .map(|k| {
                (
                    k.attribute_name().to_string(),
                    k.key_type().as_str().to_string(),
                )
            })
            .collect::<Vec<_>>()
    };
    let expected_keys: Vec<_> = definition
        .key_schema
        .iter()
        .map(|k| (k.attribute_name.clone(), k.key_type.clone()))
        .collect();
    assert_eq!(key_schema(table.key_schema()), expected_keys);

    let mut expected_attrs: Vec<_> = definition
        .attribute_definitions
        .iter()
        .map(|a| (a.attribute_name.clone(), a.attribute_type.clone()))
        .collect();
    let mut attrs: Vec<_> = table
        .attribute_definitions()
        .iter()
        .map(|a| {
            (
                a.attribute_name().to_string(),
                a.attribute_type().as_str().to_string(),
            )
        })
        .collect();
    expected_attrs.sort();
    attrs.sort();
    assert_eq!(attrs, expected_attrs);

    let mut expected_indexes: Vec<_> = definition
        .global_secondary_indexes
        .iter()
        .map(|i| {
            let keys: Vec<_> = i
                .key_schema
                .iter()
                .map(|k| (k.attribute_name.clone(), k.key_type.clone()))
                .collect();
            (i.index_name.clone(), keys)
        })
        .collect();
    let mut indexes: Vec<_> = table
        .global_secondary_indexes()
        .iter()
        .map(|i| {
            (
                i.index_name().unwrap_or_default().to_string(),
                key_schema(i.key_schema()),
            )
        })
        .collect();
    expected_indexes.sort();
    indexes.sort();
    assert_eq!(indexes, expected_indexes);
}

#[test]
fn the_codes_key_names_exist_in_the_template() {
    let definition = table_definition(&template_path()).unwrap_or_else(|e| panic!("{e}"));
    let attributes: Vec<_> = definition
        .attribute_definitions
        .iter()
        .map(|a| a.attribute_name.as_str())
        .collect();
    for name in [keys::PK, keys::SK, keys::GSI1PK, keys::GSI1SK] {
        assert!(
            attributes.contains(&name),
            "{name} is not defined in template.yaml"
        );
    }
    assert!(definition
        .global_secondary_indexes
        .iter()
        .any(|i| i.index_name == keys::GSI1));
    assert_eq!(
        definition
            .time_to_live_specification
            .map(|t| t.attribute_name),
        Some(keys::TTL.to_string())
    );
}

/// `(logical id, resource)` of every `AWS::Serverless::Function`.
fn functions_in_template() -> Vec<(String, serde_yaml::Value)> {
    template()["Resources"]
        .as_mapping()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .filter(|(_, r)| r["Type"] == "AWS::Serverless::Function")
        .map(|(id, r)| (id.as_str().unwrap_or_default().to_string(), r))
        .collect()
}

fn function_crates() -> Vec<String> {
    let functions = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../functions");
    let entries = std::fs::read_dir(&functions).unwrap_or_else(|e| panic!("{e}"));
    let mut names: Vec<String> = entries
        .flatten()
        .filter(|e| e.path().join("Cargo.toml").is_file())
        .map(|e| e.file_name().to_string_lossy().to_string())
        .collect();
    names.sort();
    names
}

/// `sam build` builds each function with cargo-lambda from its workspace member (so each binary
/// gets only its own crate's features of the shared library).
#[test]
fn every_function_has_a_lambda_built_by_cargo_lambda() {
    let lambdas = functions_in_template();
    let crates = function_crates();
    assert!(crates.len() >= 12, "found the function crates: {crates:?}");
    for name in &crates {
        let uri = format!("functions/{name}");
        let Some((id, lambda)) = lambdas
            .iter()
            .find(|(_, r)| r["Properties"]["CodeUri"].as_str() == Some(uri.as_str()))
        else {
            panic!("functions/{name} has no Lambda with CodeUri {uri}");
        };
        assert_eq!(
            lambda["Metadata"]["BuildMethod"], "rust-cargolambda",
            "{id}: Metadata.BuildMethod"
        );
        assert_eq!(
            lambda["Metadata"]["BuildProperties"]["Binary"].as_str(),
            Some(name.as_str()),
            "{id}: Metadata.BuildProperties.Binary"
        );
    }
    for (id, lambda) in &lambdas {
        let uri = lambda["Properties"]["CodeUri"].as_str().unwrap_or_default();
        assert!(
            crates.iter().any(|c| uri == format!("functions/{c}")),
            "{id}: CodeUri {uri} is not a function crate"
        );
    }
}

/// A function that may push (has `WS_MANAGEMENT_ENDPOINT`) links the Management API client
/// (`realtime` feature of the shared crate), one that may send mail links SES (`ses`), and no
/// other function links either.
#[test]
fn each_function_links_the_sdk_clients_its_lambda_may_use() {
    for (id, lambda) in functions_in_template() {
        let uri = lambda["Properties"]["CodeUri"].as_str().unwrap_or_default();
        let manifest = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("..")
            .join(uri)
            .join("Cargo.toml");
        let manifest = std::fs::read_to_string(&manifest).unwrap_or_else(|e| panic!("{id}: {e}"));
        let shared_line = manifest
            .lines()
            .find(|l| l.starts_with("shared"))
            .unwrap_or_default();
        let pushes =
            !lambda["Properties"]["Environment"]["Variables"]["WS_MANAGEMENT_ENDPOINT"].is_null();
        let policies = serde_yaml::to_string(&lambda["Properties"]["Policies"]).unwrap_or_default();
        let mails = policies.contains("ses:SendEmail");
        assert_eq!(
            shared_line.contains("\"realtime\""),
            pushes,
            "{id}: the realtime feature ({shared_line}) and WS_MANAGEMENT_ENDPOINT disagree"
        );
        assert_eq!(
            shared_line.contains("\"ses\""),
            mails,
            "{id}: the ses feature ({shared_line}) and the ses:SendEmail policy disagree"
        );
        // The JWT master secret: read at start-up by exactly the functions built to, with
        // GetSecretValue on that one secret; never resolved into anyone's environment.
        let variables = &lambda["Properties"]["Environment"]["Variables"];
        let reads_secret = !variables["JWT_SECRET_ID"].is_null();
        assert!(
            variables["JWT_SECRET"].is_null(),
            "{id}: JWT_SECRET in the environment"
        );
        assert_eq!(
            shared_line.contains("\"secrets\""),
            reads_secret,
            "{id}: the secrets feature ({shared_line}) and JWT_SECRET_ID disagree"
        );
        assert_eq!(
            policies.contains("secretsmanager:GetSecretValue"),
            reads_secret,
            "{id}: GetSecretValue without JWT_SECRET_ID, or the reverse"
        );
        if reads_secret {
            assert!(
                policies.contains(":secret:${JwtSecretName}-*"),
                "{id}: GetSecretValue must name the JWT secret only: {policies}"
            );
        }
    }
    let globals = serde_yaml::to_string(&template()["Globals"]).unwrap_or_default();
    assert!(
        !globals.contains("JWT_SECRET"),
        "Globals must not carry the secret: {globals}"
    );
}
