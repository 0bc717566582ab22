//! The `xml-feed` ATS kind: a job feed polled over HTTP and parsed as a stream
//! (`contracts/ats-generic.md`).

mod adapter;
pub mod draft;
pub mod items;
pub mod job;
pub mod limits;
pub mod parser;
pub mod poll;
mod preview;
pub mod reconcile;
pub mod snapshot;

pub use adapter::XmlFeedAdapter;
pub use job::{ContentHash, FeedJob};
pub use parser::{FeedError, FeedItem, FeedParser, JobError, ParserStats};
pub use reconcile::{Change, Reconciler, Reconciliation, reconcile};
