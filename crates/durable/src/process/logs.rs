//! A function's captured output: the children's stdout and stderr, line by line, in a bounded
//! in-memory buffer (the oldest lines are dropped first) and forwarded to `tracing`.

use std::collections::VecDeque;
use std::sync::Mutex;

use tokio::io::{AsyncRead, AsyncReadExt as _};

/// Longest line kept; the rest of a longer line is dropped (the line is marked truncated).
pub const MAX_LINE_BYTES: usize = 256 * 1024;

/// Which stream a line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    /// The child's stdout.
    Stdout,
    /// The child's stderr.
    Stderr,
}

/// One line a sandbox wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    /// The sandbox (process) that wrote it, numbered from 1 per function.
    pub sandbox: u64,
    /// The stream.
    pub stream: Stream,
    /// The text, without the line end (invalid UTF-8 replaced).
    pub text: String,
    /// Whether the line was longer than [`MAX_LINE_BYTES`] and cut.
    pub truncated: bool,
}

/// The last `capacity` lines of a function.
#[derive(Debug)]
pub(crate) struct LogBuffer {
    function: String,
    capacity: usize,
    lines: Mutex<VecDeque<LogLine>>,
}

impl LogBuffer {
    pub(crate) fn new(function: &str, capacity: usize) -> Self {
        Self {
            function: function.to_owned(),
            capacity,
            lines: Mutex::new(VecDeque::new()),
        }
    }

    fn push(&self, line: LogLine) {
        tracing::debug!(
            function = self.function,
            sandbox = line.sandbox,
            stream = ?line.stream,
            "{}",
            line.text
        );
        if self.capacity == 0 {
            return;
        }
        if let Ok(mut lines) = self.lines.lock() {
            while lines.len() >= self.capacity {
                lines.pop_front();
            }
            lines.push_back(line);
        }
    }

    pub(crate) fn snapshot(&self) -> Vec<LogLine> {
        self.lines
            .lock()
            .map(|l| l.iter().cloned().collect())
            .unwrap_or_default()
    }
}

/// Reads `reader` to its end, pushing each line into `buffer`.
pub(crate) async fn capture<R: AsyncRead + Unpin>(
    mut reader: R,
    buffer: &LogBuffer,
    sandbox: u64,
    stream: Stream,
) {
    let mut chunk = vec![0u8; 8192];
    let mut line: Vec<u8> = Vec::new();
    let mut truncated = false;
    let emit = |line: &mut Vec<u8>, truncated: &mut bool| {
        if line.last() == Some(&b'\r') {
            line.pop();
        }
        buffer.push(LogLine {
            sandbox,
            stream,
            text: String::from_utf8_lossy(line).into_owned(),
            truncated: *truncated,
        });
        line.clear();
        *truncated = false;
    };
    loop {
        let n = match reader.read(&mut chunk).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        for part in chunk
            .get(..n)
            .unwrap_or_default()
            .split_inclusive(|b| *b == b'\n')
        {
            let (body, ends) = match part.split_last() {
                Some((b'\n', body)) => (body, true),
                _ => (part, false),
            };
            let room = MAX_LINE_BYTES.saturating_sub(line.len());
            if body.len() > room {
                truncated = true;
            }
            line.extend_from_slice(body.get(..room.min(body.len())).unwrap_or_default());
            if ends {
                emit(&mut line, &mut truncated);
            }
        }
    }
    if !line.is_empty() || truncated {
        emit(&mut line, &mut truncated);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn lines_are_split_bounded_and_the_oldest_dropped() {
        let buffer = LogBuffer::new("f", 2);
        let long = "x".repeat(MAX_LINE_BYTES + 10);
        let input = format!("one\r\ntwo\n{long}\nlast-without-newline");
        capture(input.as_bytes(), &buffer, 1, Stream::Stdout).await;
        let lines = buffer.snapshot();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0].text.len(), MAX_LINE_BYTES);
        assert!(lines[0].truncated);
        assert_eq!(lines[1].text, "last-without-newline");
        assert!(!lines[1].truncated);

        let buffer = LogBuffer::new("f", 10);
        capture("a\r\nb\n".as_bytes(), &buffer, 3, Stream::Stderr).await;
        let texts: Vec<_> = buffer.snapshot().into_iter().map(|l| l.text).collect();
        assert_eq!(texts, ["a", "b"]);
    }
}
