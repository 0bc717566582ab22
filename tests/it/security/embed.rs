//! Security findings: embed.
