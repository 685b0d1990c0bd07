//! The DynamoDB emulation: a durable table store ([`Tables`]) and its AWS JSON 1.0 facade.

mod api;
mod api_items;
mod api_meta;
mod errors;
mod expr;
mod items;
pub mod members;
mod meta;
mod path;
mod store;
mod update;
mod value;

pub use api::handle;
pub use errors::{CancellationReason, DdbError};
pub use expr::{Condition, Placeholders};
pub use items::{QueryOptions, WriteOp};
pub use meta::TimeToLive;
pub use path::{Path, Step};
pub use store::{
    table_arn, KeyAttribute, ScanOptions, ScanPage, Segment, TableDefinition, TableDescription,
    Tables, SCAN_PAGE_BYTES,
};
pub use update::Update;
pub use value::{Item, MAX_ITEM_BYTES};
