//! The interview suite simulator (work in progress).
