//! The DynamoDB emulation: a durable table store ([`Tables`]) and its AWS JSON 1.0 facade.

mod api;
mod errors;
mod expr;
mod members;
mod store;
mod value;

pub use api::handle;
pub use errors::DdbError;
pub use expr::Condition;
pub use store::{
    table_arn, KeyAttribute, ScanOptions, ScanPage, Segment, TableDefinition, TableDescription,
    Tables,
};
pub use value::{Item, MAX_ITEM_BYTES};
