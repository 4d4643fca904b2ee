//! The table's stream as Lambda's event source mapping runs it, against moto: the shards of the
//! table's latest stream are read with GetShardIterator/GetRecords, each batch becomes the same
//! `DynamoDBEvent` JSON Lambda sends (`eventID`, `eventName`, `eventSourceARN`,
//! `dynamodb.Keys/NewImage/OldImage/SequenceNumber/StreamViewType`), and the `fanout` function's
//! handler gets it. Its `batchItemFailures` are honoured as ReportBatchItemFailures does: the batch
//! is retried from the failed record, [`MAX_ATTEMPTS`] times at most; then that record is
//! dead-lettered (kept in [`StreamPoller::dead_letters`] and logged, as the failure queue would
//! get it) and the shard moves on, so a poison record never blocks it.
//!
//! Shards that exist when the poller starts are read from their end (what was written before
//! belongs to an earlier run); shards found later from TRIM_HORIZON. An empty poll sleeps
//! [`IDLE`], or [`QUIET_IDLE`] once the stream has been quiet for [`QUIET_AFTER`].

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_sdk_dynamodbstreams::types::{AttributeValue, Record, ShardIteratorType};
use aws_sdk_dynamodbstreams::Client;
use base64::Engine;
use serde_json::{json, Map, Value};
use shared::AppState;

use crate::bootstrap::BoxError;

/// Sleep after a poll of every shard returned nothing.
pub const IDLE: Duration = Duration::from_millis(20);
/// The sleep once the stream has been quiet for [`QUIET_AFTER`] (many idle test tables would
/// otherwise keep moto busy).
pub const QUIET_IDLE: Duration = Duration::from_millis(250);
pub const QUIET_AFTER: Duration = Duration::from_secs(2);
/// Records per GetRecords (Lambda's BatchSize).
pub const BATCH_SIZE: i32 = 100;
/// Invocations of one failing record before it is dead-lettered.
pub const MAX_ATTEMPTS: u32 = 3;
/// How often the stream is described again for new shards.
const RESCAN: Duration = Duration::from_secs(2);

/// A record the handler kept failing on, as the on-failure destination would receive it.
#[derive(Clone, Debug)]
pub struct DeadLetter {
    pub event_id: String,
    pub sequence_number: String,
    /// The record as the handler got it (DynamoDB JSON).
    pub record: Value,
    pub attempts: u32,
}

/// A running poller: what it dead-lettered, for the tests (and `make dev`'s log).
#[derive(Clone, Default)]
pub struct StreamPoller {
    dead: Arc<Mutex<Vec<DeadLetter>>>,
}

impl StreamPoller {
    pub fn dead_letters(&self) -> Vec<DeadLetter> {
        self.dead.lock().map(|d| d.clone()).unwrap_or_default()
    }

    fn dead_letter(&self, letter: DeadLetter) {
        tracing::error!(
            event_id = %letter.event_id,
            sequence = %letter.sequence_number,
            attempts = letter.attempts,
            record = %letter.record,
            "stream record dead-lettered"
        );
        if let Ok(mut dead) = self.dead.lock() {
            dead.push(letter);
        }
    }
}

/// Starts polling the stream of `state`'s table on the current runtime. Returns once every
/// existing shard's position is known, so nothing written afterwards is missed.
pub async fn spawn(state: AppState) -> Result<StreamPoller, BoxError> {
    let sdk = shared::aws::load_sdk_config(&state.config).await;
    let client = Client::new(&sdk);
    let described = state
        .db
        .client
        .describe_table()
        .table_name(&state.db.table)
        .send()
        .await?;
    let stream_arn = described
        .table
        .and_then(|t| t.latest_stream_arn)
        .ok_or("the table has no stream: StreamSpecification in template.yaml")?;
    let mut shards = Shards::default();
    shards.discover(&client, &stream_arn, true).await?;
    let poller = StreamPoller::default();
    let running = poller.clone();
    tokio::spawn(async move {
        run(state, client, stream_arn, shards, running).await;
    });
    Ok(poller)
}

/// Where the poller is in each shard: after this sequence number, or (`None`) at its start.
/// Every poll takes a fresh iterator from that position: moto swaps a table's stream for a copy
/// when a transaction rolls back, and an old iterator would keep reading the discarded one.
#[derive(Default)]
struct Shards {
    after: HashMap<String, Option<String>>,
}

impl Shards {
    /// Adds the stream's shards not known yet: at their end when `skip_existing` (the records
    /// there belong to an earlier run), else at their start.
    async fn discover(
        &mut self,
        client: &Client,
        stream_arn: &str,
        skip_existing: bool,
    ) -> Result<(), BoxError> {
        let stream = client
            .describe_stream()
            .stream_arn(stream_arn)
            .send()
            .await?;
        let shard_ids: Vec<String> = stream
            .stream_description
            .and_then(|d| d.shards)
            .unwrap_or_default()
            .into_iter()
            .filter_map(|s| s.shard_id)
            .collect();
        for shard_id in shard_ids {
            if self.after.contains_key(&shard_id) {
                continue;
            }
            let mut after = None;
            if skip_existing {
                loop {
                    let records = read(client, stream_arn, &shard_id, after.as_deref()).await?;
                    match records.last().and_then(record_sequence) {
                        Some(last) => after = Some(last),
                        None => break,
                    }
                }
            }
            self.after.insert(shard_id, after);
        }
        Ok(())
    }
}

fn record_sequence(record: &Record) -> Option<String> {
    record.dynamodb.as_ref()?.sequence_number.clone()
}

/// One GetShardIterator (after `after`, or at the shard's start) and one GetRecords.
async fn read(
    client: &Client,
    stream_arn: &str,
    shard_id: &str,
    after: Option<&str>,
) -> Result<Vec<Record>, BoxError> {
    let request = client
        .get_shard_iterator()
        .stream_arn(stream_arn)
        .shard_id(shard_id);
    let request = match after {
        Some(sequence) => request
            .shard_iterator_type(ShardIteratorType::AfterSequenceNumber)
            .sequence_number(sequence),
        None => request.shard_iterator_type(ShardIteratorType::TrimHorizon),
    };
    let Some(iterator) = request.send().await?.shard_iterator else {
        return Ok(Vec::new());
    };
    let out = client
        .get_records()
        .shard_iterator(iterator)
        .limit(BATCH_SIZE)
        .send()
        .await?;
    Ok(out.records.unwrap_or_default())
}

async fn run(
    state: AppState,
    client: Client,
    stream_arn: String,
    mut shards: Shards,
    poller: StreamPoller,
) {
    let mut scanned = Instant::now();
    let mut last_record = Instant::now();
    loop {
        if scanned.elapsed() >= RESCAN {
            scanned = Instant::now();
            if let Err(err) = shards.discover(&client, &stream_arn, false).await {
                tracing::warn!(%err, "describing the table's stream");
            }
        }
        let mut busy = false;
        let positions: Vec<(String, Option<String>)> = shards
            .after
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        for (shard_id, after) in positions {
            match read(&client, &stream_arn, &shard_id, after.as_deref()).await {
                Ok(records) => {
                    let Some(last) = records.last().and_then(record_sequence) else {
                        continue;
                    };
                    busy = true;
                    let batch: Vec<Value> = records
                        .iter()
                        .map(|r| record_json(r, &stream_arn))
                        .collect();
                    deliver(&state, &poller, batch).await;
                    shards.after.insert(shard_id, Some(last));
                }
                Err(err) => {
                    tracing::warn!(%err, %shard_id, "reading the table's stream");
                    tokio::time::sleep(IDLE).await;
                }
            }
        }
        if busy {
            last_record = Instant::now();
        } else if last_record.elapsed() < QUIET_AFTER {
            tokio::time::sleep(IDLE).await;
        } else {
            tokio::time::sleep(QUIET_IDLE).await;
        }
    }
}

/// Hands `batch` to the handler until every record is processed or dead-lettered.
async fn deliver(state: &AppState, poller: &StreamPoller, mut batch: Vec<Value>) {
    let mut attempts = 0;
    while !batch.is_empty() {
        attempts += 1;
        let failed = match invoke(state, &batch).await {
            Ok(failed) => failed,
            Err(err) => {
                // The whole invocation failed (Lambda would bisect): the first record is blamed.
                tracing::warn!(%err, "stream batch failed as a whole");
                batch.first().and_then(sequence_of)
            }
        };
        let Some(failed) = failed else {
            return;
        };
        let at = batch
            .iter()
            .position(|r| sequence_of(r).as_deref() == Some(failed.as_str()))
            .unwrap_or(0);
        batch.drain(..at);
        if attempts >= MAX_ATTEMPTS {
            let record = batch.remove(0);
            poller.dead_letter(DeadLetter {
                event_id: record["eventID"].as_str().unwrap_or_default().to_string(),
                sequence_number: failed,
                record,
                attempts,
            });
            attempts = 0;
        } else {
            tokio::time::sleep(Duration::from_millis(20 * u64::from(attempts))).await;
        }
    }
}

/// One invocation of the fanout handler with the event Lambda would send; the first failed
/// record's sequence number, if any.
pub async fn invoke(state: &AppState, batch: &[Value]) -> Result<Option<String>, BoxError> {
    let event = serde_json::from_value(json!({ "Records": batch }))?;
    let response = shared::calls::as_function("fanout", fanout::handle(state, event)).await;
    Ok(response
        .batch_item_failures
        .into_iter()
        .find_map(|f| f.item_identifier))
}

fn sequence_of(record: &Value) -> Option<String> {
    record["dynamodb"]["SequenceNumber"]
        .as_str()
        .map(str::to_string)
}

/// A stream record as Lambda puts it into a `DynamoDBEvent`.
pub fn record_json(record: &Record, stream_arn: &str) -> Value {
    let mut dynamodb = Map::new();
    if let Some(change) = &record.dynamodb {
        if let Some(at) = &change.approximate_creation_date_time {
            dynamodb.insert(
                "ApproximateCreationDateTime".into(),
                json!(at.as_secs_f64().floor()),
            );
        }
        for (name, image) in [
            ("Keys", &change.keys),
            ("NewImage", &change.new_image),
            ("OldImage", &change.old_image),
        ] {
            if let Some(image) = image {
                dynamodb.insert(name.into(), item_json(image));
            }
        }
        if let Some(sequence) = &change.sequence_number {
            dynamodb.insert("SequenceNumber".into(), json!(sequence));
        }
        dynamodb.insert("SizeBytes".into(), json!(change.size_bytes.unwrap_or(0)));
        if let Some(view) = &change.stream_view_type {
            dynamodb.insert("StreamViewType".into(), json!(view.as_str()));
        }
    }
    json!({
        "eventID": record.event_id,
        "eventName": record.event_name.as_ref().map(|n| n.as_str()),
        "eventVersion": record.event_version.clone().unwrap_or_else(|| "1.1".into()),
        "eventSource": "aws:dynamodb",
        "awsRegion": record.aws_region,
        "eventSourceARN": stream_arn,
        "dynamodb": dynamodb,
    })
}

fn item_json(item: &HashMap<String, AttributeValue>) -> Value {
    Value::Object(
        item.iter()
            .map(|(name, value)| (name.clone(), value_json(value)))
            .collect(),
    )
}

/// DynamoDB JSON of one attribute value (`{"S": ...}`, `{"N": ...}`, ...).
fn value_json(value: &AttributeValue) -> Value {
    let b64 = |b: &aws_sdk_dynamodbstreams::primitives::Blob| {
        base64::engine::general_purpose::STANDARD.encode(b.as_ref())
    };
    match value {
        AttributeValue::S(s) => json!({ "S": s }),
        AttributeValue::N(n) => json!({ "N": n }),
        AttributeValue::B(b) => json!({ "B": b64(b) }),
        AttributeValue::Bool(b) => json!({ "BOOL": b }),
        AttributeValue::Null(_) => json!({ "NULL": true }),
        AttributeValue::Ss(ss) => json!({ "SS": ss }),
        AttributeValue::Ns(ns) => json!({ "NS": ns }),
        AttributeValue::Bs(bs) => json!({ "BS": bs.iter().map(b64).collect::<Vec<_>>() }),
        AttributeValue::L(l) => json!({ "L": l.iter().map(value_json).collect::<Vec<_>>() }),
        AttributeValue::M(m) => json!({ "M": item_json(m) }),
        _ => json!({ "NULL": true }),
    }
}
