//! Memory bounds of the feed parser, and the byte source wrapper that enforces the bound on a
//! single XML token (quick-xml buffers a whole token, so one endless text node would otherwise
//! grow without limit).

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncBufRead, AsyncRead, ReadBuf};

/// Size caps, in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FeedLimits {
    /// A `<job>` element larger than this is skipped with a per-job error.
    pub max_job_bytes: u64,
    /// A field's text larger than this makes its job invalid.
    pub max_field_bytes: usize,
    /// One XML token (tag, text run) larger than this is a fatal error: the parser cannot
    /// resynchronise inside a token.
    pub max_token_bytes: u64,
}

impl Default for FeedLimits {
    fn default() -> Self {
        Self {
            max_job_bytes: 1024 * 1024,
            max_field_bytes: 256 * 1024,
            max_token_bytes: 1024 * 1024 + 4096,
        }
    }
}

/// Passes bytes through until `allowance` is used up, then fails the read. The parser renews
/// the allowance before each token.
pub(crate) struct LimitedReader<R> {
    inner: R,
    allowance: u64,
    tripped: bool,
}

impl<R> LimitedReader<R> {
    pub(crate) fn new(inner: R) -> Self {
        Self {
            inner,
            allowance: u64::MAX,
            tripped: false,
        }
    }

    pub(crate) fn renew(&mut self, allowance: u64) {
        self.allowance = allowance;
    }

    /// Whether the last failure came from the allowance, not from the source.
    pub(crate) fn tripped(&self) -> bool {
        self.tripped
    }
}

impl<R: AsyncRead + Unpin> AsyncRead for LimitedReader<R> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        // Not used by quick-xml's buffered reader, but kept correct.
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<R: AsyncBufRead + Unpin> AsyncBufRead for LimitedReader<R> {
    fn poll_fill_buf(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<&[u8]>> {
        let this = self.get_mut();
        if this.allowance == 0 {
            this.tripped = true;
            return Poll::Ready(Err(io::Error::other("XML token exceeds the size limit")));
        }
        let allowance = this.allowance;
        match Pin::new(&mut this.inner).poll_fill_buf(cx) {
            Poll::Ready(Ok(bytes)) => {
                let visible = usize::try_from(allowance)
                    .unwrap_or(usize::MAX)
                    .min(bytes.len());
                Poll::Ready(Ok(&bytes[..visible]))
            }
            other => other,
        }
    }

    fn consume(self: Pin<&mut Self>, amt: usize) {
        let this = self.get_mut();
        this.allowance = this.allowance.saturating_sub(amt as u64);
        Pin::new(&mut this.inner).consume(amt);
    }
}
