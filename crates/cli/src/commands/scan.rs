//! `durapipe scan`: every item of the table, as a JSON array.

use anyhow::Context as _;

use crate::args::Target;
use crate::aws;

pub async fn run(target: &Target) -> anyhow::Result<()> {
    let config = aws::target_config(target).await?;
    let ddb = aws_sdk_dynamodb::Client::new(&config);
    let table = target.names().table;
    let mut items = Vec::new();
    let mut start = None;
    loop {
        let out = ddb
            .scan()
            .table_name(&table)
            .set_exclusive_start_key(start)
            .send()
            .await
            .with_context(|| format!("Scan of {table} failed (is the stack running?)"))?;
        for item in out.items.unwrap_or_default() {
            let json = durapipe_aws::convert::from_attribute_map(&item)
                .context("an item holds a set or binary attribute, which JSON cannot show")?;
            items.push(serde_json::Value::Object(json));
        }
        match out.last_evaluated_key {
            Some(key) if !key.is_empty() => start = Some(key),
            _ => break,
        }
    }
    println!("{}", serde_json::to_string_pretty(&items)?);
    Ok(())
}
