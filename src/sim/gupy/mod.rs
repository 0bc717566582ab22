//! The Gupy simulator (placeholder while it is written).
