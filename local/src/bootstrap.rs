//! Creates the table, the media bucket and the SES sender in moto from `template.yaml`, so the
//! local stack and AWS cannot drift apart: the template is the only definition.

use std::path::Path;

use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType, StreamSpecification, StreamViewType,
    TimeToLiveSpecification,
};
use serde::Deserialize;
use shared::aws::Clients;
use shared::Config;

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// `Resources.Table.Properties` of the template, as far as a table's shape goes.
#[derive(Debug, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct TableDefinition {
    pub attribute_definitions: Vec<AttributeDef>,
    pub key_schema: Vec<KeyDef>,
    #[serde(default)]
    pub global_secondary_indexes: Vec<IndexDef>,
    pub time_to_live_specification: Option<TtlDef>,
    /// The table's stream (the fanout function's source; polled locally by `streams`).
    pub stream_specification: Option<StreamDef>,
}

#[derive(Debug, Deserialize, PartialEq, Clone)]
#[serde(rename_all = "PascalCase")]
pub struct StreamDef {
    pub stream_view_type: String,
}

#[derive(Debug, Deserialize, PartialEq, Clone)]
#[serde(rename_all = "PascalCase")]
pub struct AttributeDef {
    pub attribute_name: String,
    pub attribute_type: String,
}

#[derive(Debug, Deserialize, PartialEq, Clone)]
#[serde(rename_all = "PascalCase")]
pub struct KeyDef {
    pub attribute_name: String,
    pub key_type: String,
}

#[derive(Debug, Deserialize, PartialEq, Clone)]
#[serde(rename_all = "PascalCase")]
pub struct IndexDef {
    pub index_name: String,
    pub key_schema: Vec<KeyDef>,
    pub projection: ProjectionDef,
}

#[derive(Debug, Deserialize, PartialEq, Clone)]
#[serde(rename_all = "PascalCase")]
pub struct ProjectionDef {
    pub projection_type: String,
    #[serde(default)]
    pub non_key_attributes: Vec<String>,
}

#[derive(Debug, Deserialize, PartialEq, Clone)]
#[serde(rename_all = "PascalCase")]
pub struct TtlDef {
    pub attribute_name: String,
    pub enabled: bool,
}

/// The repository's template, wherever the process was started from inside the workspace.
pub fn template_path() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../template.yaml")
}

/// Reads the table definition out of a SAM template.
pub fn table_definition(template: &Path) -> Result<TableDefinition, BoxError> {
    let text = std::fs::read_to_string(template)?;
    let doc: serde_yaml::Value = serde_yaml::from_str(&text)?;
    let properties = doc
        .get("Resources")
        .and_then(|r| r.get("Table"))
        .and_then(|t| t.get("Properties"))
        .ok_or("template.yaml has no Resources.Table.Properties")?;
    Ok(serde_yaml::from_value(properties.clone())?)
}

fn key_schema(keys: &[KeyDef]) -> Result<Vec<KeySchemaElement>, BoxError> {
    keys.iter()
        .map(|k| {
            Ok(KeySchemaElement::builder()
                .attribute_name(&k.attribute_name)
                .key_type(KeyType::from(k.key_type.as_str()))
                .build()?)
        })
        .collect()
}

/// Creates whatever is missing; safe to run against resources that already exist.
pub async fn ensure_resources(
    clients: &Clients,
    config: &Config,
    template: &Path,
) -> Result<(), BoxError> {
    ensure_table(
        &clients.dynamodb,
        &config.table_name,
        &table_definition(template)?,
    )
    .await?;
    ensure_bucket(&clients.s3, &config.media_bucket).await?;
    clients
        .ses
        .verify_email_identity()
        .email_address(&config.mail_from)
        .send()
        .await?;
    Ok(())
}

async fn ensure_table(
    client: &aws_sdk_dynamodb::Client,
    name: &str,
    def: &TableDefinition,
) -> Result<(), BoxError> {
    if client
        .describe_table()
        .table_name(name)
        .send()
        .await
        .is_ok()
    {
        return Ok(());
    }
    let mut create = client
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .set_key_schema(Some(key_schema(&def.key_schema)?));
    for attr in &def.attribute_definitions {
        create = create.attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name(&attr.attribute_name)
                .attribute_type(ScalarAttributeType::from(attr.attribute_type.as_str()))
                .build()?,
        );
    }
    if let Some(stream) = &def.stream_specification {
        create = create.stream_specification(
            StreamSpecification::builder()
                .stream_enabled(true)
                .stream_view_type(StreamViewType::from(stream.stream_view_type.as_str()))
                .build()?,
        );
    }
    for index in &def.global_secondary_indexes {
        create = create.global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name(&index.index_name)
                .set_key_schema(Some(key_schema(&index.key_schema)?))
                .projection(
                    Projection::builder()
                        .projection_type(ProjectionType::from(
                            index.projection.projection_type.as_str(),
                        ))
                        .set_non_key_attributes(
                            Some(index.projection.non_key_attributes.clone())
                                .filter(|names| !names.is_empty()),
                        )
                        .build(),
                )
                .build()?,
        );
    }
    if let Err(err) = create.send().await {
        // Another process (a parallel test) may have created it first.
        if client
            .describe_table()
            .table_name(name)
            .send()
            .await
            .is_err()
        {
            return Err(err.into());
        }
    }
    if let Some(ttl) = &def.time_to_live_specification {
        client
            .update_time_to_live()
            .table_name(name)
            .time_to_live_specification(
                TimeToLiveSpecification::builder()
                    .attribute_name(&ttl.attribute_name)
                    .enabled(ttl.enabled)
                    .build()?,
            )
            .send()
            .await?;
    }
    Ok(())
}

async fn ensure_bucket(client: &aws_sdk_s3::Client, bucket: &str) -> Result<(), BoxError> {
    if client.head_bucket().bucket(bucket).send().await.is_ok() {
        return Ok(());
    }
    if let Err(err) = client.create_bucket().bucket(bucket).send().await {
        if client.head_bucket().bucket(bucket).send().await.is_err() {
            return Err(err.into());
        }
    }
    Ok(())
}
