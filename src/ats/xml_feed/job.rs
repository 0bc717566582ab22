//! One job of the feed, validated, and its content hash for change detection.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest, Sha256};

/// A job as read from the feed. Text fields are trimmed; empty ones are `None`.
#[derive(Debug, Clone, PartialEq)]
pub struct FeedJob {
    /// The feed's `data-id` attribute (increases for each new job); not part of the content.
    pub data_id: Option<u64>,
    /// The ATS's id for the job: the key of reconciliation.
    pub reference: String,
    pub name: String,
    pub url: Option<String>,
    pub summary: Option<String>,
    pub address: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    /// ISO 8601 date or date-time, as written in the feed (checked, not converted).
    pub start: Option<String>,
    pub end: Option<String>,
    pub salary_min: Option<f64>,
    pub salary_max: Option<f64>,
    /// [`FeedJob::compute_content_hash`], filled in by the parser.
    pub content_hash: ContentHash,
}

impl FeedJob {
    /// SHA-256 over a canonical serialisation of every content field (not `data_id`, which is
    /// the feed's bookkeeping: renumbering must not update every project).
    ///
    /// Each field is written as its name, then a presence byte, then a length-prefixed value,
    /// so no two different jobs share a serialisation. Numbers use Rust's shortest round-trip
    /// form, so `4000` and `4000.0` hash alike.
    pub fn compute_content_hash(&self) -> ContentHash {
        let mut hasher = Sha256::new();
        let mut field = |name: &str, value: Option<&str>| {
            hasher.update(name.as_bytes());
            match value {
                None => hasher.update([0u8]),
                Some(text) => {
                    hasher.update([1u8]);
                    hasher.update((text.len() as u64).to_be_bytes());
                    hasher.update(text.as_bytes());
                }
            }
        };
        let number = |value: Option<f64>| value.map(|n| n.to_string());
        field("reference", Some(&self.reference));
        field("name", Some(&self.name));
        field("url", self.url.as_deref());
        field("summary", self.summary.as_deref());
        field("address", self.address.as_deref());
        field("latitude", number(self.latitude).as_deref());
        field("longitude", number(self.longitude).as_deref());
        field("start", self.start.as_deref());
        field("end", self.end.as_deref());
        field("salary_min", number(self.salary_min).as_deref());
        field("salary_max", number(self.salary_max).as_deref());
        ContentHash(hasher.finalize().into())
    }
}

/// A SHA-256 digest, shown and serialised as lower-case hex.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct ContentHash(pub [u8; 32]);

impl ContentHash {
    pub fn to_hex(&self) -> String {
        crate::signature::hmac_sha256::to_hex(&self.0)
    }

    pub fn from_hex(text: &str) -> Option<Self> {
        if text.len() != 64 || !text.is_ascii() {
            return None;
        }
        let mut out = [0u8; 32];
        for (i, byte) in out.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&text[2 * i..2 * i + 2], 16).ok()?;
        }
        Some(Self(out))
    }
}

impl fmt::Display for ContentHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for ContentHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ContentHash({})", self.to_hex())
    }
}

impl Serialize for ContentHash {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_hex())
    }
}

impl<'de> Deserialize<'de> for ContentHash {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Self::from_hex(&text).ok_or_else(|| serde::de::Error::custom("expected 64 hex digits"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job() -> FeedJob {
        FeedJob {
            data_id: Some(1),
            reference: "af42dd".into(),
            name: "Data scientist".into(),
            url: None,
            summary: None,
            address: None,
            latitude: Some(48.5),
            longitude: None,
            start: None,
            end: None,
            salary_min: Some(4000.0),
            salary_max: None,
            content_hash: ContentHash::default(),
        }
    }

    #[test]
    fn every_content_field_changes_the_hash_but_data_id_does_not() {
        let base = job().compute_content_hash();
        let renumbered = FeedJob {
            data_id: Some(9),
            ..job()
        };
        assert_eq!(renumbered.compute_content_hash(), base);
        let variants = [
            FeedJob {
                name: "Data scientists".into(),
                ..job()
            },
            FeedJob {
                url: Some(String::new()),
                ..job()
            },
            FeedJob {
                latitude: Some(48.51),
                ..job()
            },
            FeedJob {
                salary_min: None,
                ..job()
            },
            FeedJob {
                salary_max: Some(4000.0),
                salary_min: None,
                ..job()
            },
            FeedJob {
                start: Some("2021-11-12".into()),
                ..job()
            },
        ];
        for variant in variants {
            assert_ne!(variant.compute_content_hash(), base, "{variant:?}");
        }
    }

    #[test]
    fn moving_text_between_fields_changes_the_hash() {
        let a = FeedJob {
            url: Some("ab".into()),
            summary: Some("c".into()),
            ..job()
        };
        let b = FeedJob {
            url: Some("a".into()),
            summary: Some("bc".into()),
            ..job()
        };
        assert_ne!(a.compute_content_hash(), b.compute_content_hash());
    }

    #[test]
    fn the_hash_round_trips_through_hex() {
        let hash = job().compute_content_hash();
        assert_eq!(ContentHash::from_hex(&hash.to_hex()), Some(hash));
        assert_eq!(ContentHash::from_hex("zz"), None);
    }
}
