//! Random bytes and mutated valid feeds never make the parser panic or loop.

use liaison::ats::xml_feed::FeedParser;
use liaison::ats::xml_feed::limits::FeedLimits;
use proptest::prelude::*;

use super::generated::{generated_job, generated_xml};

fn parse_blocking(bytes: &[u8]) -> usize {
    let limits = FeedLimits {
        max_job_bytes: 2048,
        max_field_bytes: 512,
        max_token_bytes: 4096,
    };
    futures::executor::block_on(async {
        let mut parser = FeedParser::with_limits(bytes, limits);
        let mut count = 0;
        // A fatal error ends the feed; every later call must answer "no more items".
        loop {
            match parser.next_item().await {
                Ok(Some(_)) => count += 1,
                Ok(None) => break,
                Err(_) => {
                    assert_eq!(parser.next_item().await, Ok(None));
                    break;
                }
            }
        }
        count
    })
}

fn valid_feed_bytes() -> Vec<u8> {
    let body: String = (0..5)
        .map(|i| generated_xml(&generated_job(i, 0)))
        .collect();
    format!("<?xml version=\"1.0\"?>\n<jobs>\n{body}</jobs>\n").into_bytes()
}

#[derive(Debug, Clone)]
enum Mutation {
    Overwrite(prop::sample::Index, u8),
    Delete(prop::sample::Index),
    Insert(prop::sample::Index, u8),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<prop::sample::Index>(), any::<u8>()).prop_map(|(i, b)| Mutation::Overwrite(i, b)),
        any::<prop::sample::Index>().prop_map(Mutation::Delete),
        (
            any::<prop::sample::Index>(),
            prop::sample::select(b"<>/&;\"=!?[]x \xff".to_vec())
        )
            .prop_map(|(i, b)| Mutation::Insert(i, b)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        parse_blocking(&bytes);
    }

    #[test]
    fn arbitrary_markup_never_panics(text in "[<>/a-z\"=&;# \\[\\]!?-]{0,300}") {
        parse_blocking(format!("<jobs>{text}</jobs>").as_bytes());
    }

    #[test]
    fn mutated_valid_feeds_never_panic(mutations in proptest::collection::vec(mutation(), 1..8)) {
        let mut bytes = valid_feed_bytes();
        for m in mutations {
            match m {
                Mutation::Overwrite(i, b) => { let i = i.index(bytes.len()); bytes[i] = b; }
                Mutation::Delete(i) => { let i = i.index(bytes.len()); bytes.remove(i); }
                Mutation::Insert(i, b) => { let i = i.index(bytes.len()); bytes.insert(i, b); }
            }
        }
        let count = parse_blocking(&bytes);
        prop_assert!(count <= 6 + 8);
    }
}
