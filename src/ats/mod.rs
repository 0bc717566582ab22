//! One folder per ATS kind: payload types, parsing, mapping.

pub mod gupy;
pub mod xml_feed;
