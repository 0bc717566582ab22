//! Liaison: a connector between Applicant Tracking Systems and a video-interview suite.

pub mod ats;
pub mod signature;
pub mod sim;
