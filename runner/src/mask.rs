//! Masking secret values in a job's output.
//!
//! Every value the job obtained is registered: each string leaf of a JSON value, each line of
//! a multi-line string, and the JSON-escaped form of each, since a job may print a value raw
//! or inside JSON. Output is passed on a line at a time, so a value split across several
//! writes is still recognised. Values shorter than [`MIN_MASKED_CHARS`] are not masked:
//! hiding every `1` or `on` would make output unreadable while protecting nothing.

use std::io::Write;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use serde_json::Value;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::pipe::AsyncWriteStream;

/// Values shorter than this many characters are left visible.
pub const MIN_MASKED_CHARS: usize = 4;

/// What replaces a masked value.
pub const MASK: &str = "***";

/// A partial line longer than this is passed on early (masked, keeping a tail that could
/// still be the start of a secret), so that output without newlines cannot grow unbounded.
const MAX_PENDING: usize = 64 * 1024;

/// The secret texts to hide, shared by the job's stdout and stderr.
#[derive(Clone, Default)]
pub struct Masker {
    texts: Arc<Mutex<Vec<String>>>,
}

impl Masker {
    /// Registers a value the job obtained, given as JSON text.
    pub fn register_json(&self, json: &str) {
        if let Ok(value) = serde_json::from_str::<Value>(json) {
            let mut found = Vec::new();
            collect(&value, &mut found);
            let mut texts = self.texts.lock().unwrap_or_else(|p| p.into_inner());
            for text in found {
                if !texts.contains(&text) {
                    texts.push(text);
                }
            }
            // Longest first, so that a value containing another is masked whole.
            texts.sort_by_key(|t| std::cmp::Reverse(t.len()));
        }
    }

    /// `line` with every registered text replaced by [`MASK`].
    pub fn mask(&self, line: &[u8]) -> Vec<u8> {
        let texts = self.texts.lock().unwrap_or_else(|p| p.into_inner());
        let mut out = line.to_vec();
        for text in texts.iter() {
            out = replace_all(&out, text.as_bytes(), MASK.as_bytes());
        }
        out
    }

    /// Where `buffer` may be cut so that `buffer[..cut]` can be masked and passed on while
    /// `buffer[cut..]` waits: the kept tail is as long as the longest secret (it may be the
    /// start of one), and the cut is moved back until no registered text occurs across it.
    /// None when that would move it back more than a few secrets' length: only texts that
    /// overlap themselves (`aaaa`, `abab`) chain that far, in output repeating them.
    fn safe_cut(&self, buffer: &[u8]) -> Option<usize> {
        let texts = self.texts.lock().unwrap_or_else(|p| p.into_inner());
        let longest = texts.first().map_or(0, String::len);
        let cut = buffer.len() - longest.min(buffer.len());
        let lowest = cut.saturating_sub(4 * longest).max(1);
        let across = |cut: usize| {
            texts.iter().map(String::as_bytes).find_map(|text| {
                let first = cut.saturating_sub(text.len().saturating_sub(1));
                (first..cut).find(|&start| buffer[start..].starts_with(text))
            })
        };
        let mut safe = cut;
        while let Some(start) = across(safe) {
            if start < lowest {
                return None;
            }
            safe = start;
        }
        Some(safe)
    }
}

fn collect(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::String(s) => {
            let mut add = |text: &str| {
                let text = text.trim_end_matches('\r');
                if text.chars().count() >= MIN_MASKED_CHARS {
                    out.push(text.to_string());
                }
            };
            for text in std::iter::once(s.as_str()).chain(s.split('\n')) {
                add(text);
                // The same text as it appears inside printed JSON.
                let escaped = serde_json::to_string(text).unwrap_or_default();
                if let Some(inner) = escaped.strip_prefix('"').and_then(|e| e.strip_suffix('"')) {
                    add(inner);
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect(v, out)),
        Value::Object(map) => map.values().for_each(|v| collect(v, out)),
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}

fn replace_all(haystack: &[u8], needle: &[u8], with: &[u8]) -> Vec<u8> {
    if needle.is_empty() || haystack.len() < needle.len() {
        return haystack.to_vec();
    }
    let mut out = Vec::with_capacity(haystack.len());
    let mut i = 0;
    while i < haystack.len() {
        if haystack[i..].starts_with(needle) {
            out.extend_from_slice(with);
            i += needle.len();
        } else {
            out.push(haystack[i]);
            i += 1;
        }
    }
    out
}

/// Where masked output goes.
#[derive(Clone)]
pub enum Sink {
    Stdout,
    Stderr,
    /// Kept in memory, for tests.
    #[cfg(test)]
    Memory(Arc<Mutex<Vec<u8>>>),
}

/// One of the job's output streams: buffers to line ends, masks, passes on.
#[derive(Clone)]
pub struct MaskedOutput {
    masker: Masker,
    sink: Sink,
    pending: Arc<Mutex<Vec<u8>>>,
}

impl MaskedOutput {
    pub fn new(masker: Masker, sink: Sink) -> Self {
        MaskedOutput {
            masker,
            sink,
            pending: Arc::default(),
        }
    }

    fn write_out(&self, bytes: &[u8]) {
        let masked = self.masker.mask(bytes);
        let _ = match &self.sink {
            Sink::Stdout => std::io::stdout().write_all(&masked),
            Sink::Stderr => std::io::stderr().write_all(&masked),
            #[cfg(test)]
            Sink::Memory(out) => {
                out.lock().unwrap().extend_from_slice(&masked);
                Ok(())
            }
        };
    }

    fn accept(&self, bytes: &[u8]) {
        let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        pending.extend_from_slice(bytes);
        if let Some(end) = pending.iter().rposition(|b| *b == b'\n') {
            let complete: Vec<u8> = pending.drain(..=end).collect();
            self.write_out(&complete);
        }
        if pending.len() > MAX_PENDING {
            // Keep a tail that could be the start of a secret, and never cut through one.
            // Where no such cut is near, the whole buffer goes out masked, so that memory stays
            // bounded: the price is that a secret begun in its last bytes and ended by the next
            // write is not recognised (in output repeating a self-overlapping secret only).
            let cut = self.masker.safe_cut(&pending).unwrap_or(pending.len());
            let head: Vec<u8> = pending.drain(..cut).collect();
            self.write_out(&head);
        }
    }

    /// Passes on what is left when the job ends.
    pub fn finish(&self) {
        let rest: Vec<u8> =
            std::mem::take(&mut *self.pending.lock().unwrap_or_else(|p| p.into_inner()));
        if !rest.is_empty() {
            self.write_out(&rest);
        }
        let _ = std::io::stdout().flush();
        let _ = std::io::stderr().flush();
    }
}

impl tokio::io::AsyncWrite for MaskedOutput {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        self.accept(buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        // Complete lines are already out; a partial line waits, as it may hold half a secret.
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

impl IsTerminal for MaskedOutput {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for MaskedOutput {
    fn p2_stream(&self) -> Box<dyn wasmtime_wasi::p2::OutputStream> {
        Box::new(AsyncWriteStream::new(64 * 1024, self.clone()))
    }

    fn async_stream(&self) -> Box<dyn tokio::io::AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_string_leaves_of_json_and_each_line_of_multi_line_values() {
        let m = Masker::default();
        m.register_json(r#"{"user": "admin-user", "password": "hunter2!", "port": 5432}"#);
        m.register_json(r#""-----BEGIN KEY-----\nMIIEabc123\n-----END KEY-----""#);
        let out = m.mask(b"login admin-user/hunter2! port 5432 MIIEabc123");
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "login ***/*** port 5432 ***"
        );
    }

    #[test]
    fn short_values_are_the_documented_exception() {
        let m = Masker::default();
        m.register_json(r#""abc""#);
        assert_eq!(m.mask(b"abc"), b"abc");
    }

    #[test]
    fn json_escaped_forms_are_masked_too() {
        let m = Masker::default();
        m.register_json(r#""pa\"ss\\word""#);
        let out = m.mask(br#"{"pw":"pa\"ss\\word"}"#);
        assert_eq!(String::from_utf8(out).unwrap(), r#"{"pw":"***"}"#);
    }

    /// What a job's writes come out as, through one masked stream.
    fn output_of(masker: &Masker, writes: &[&[u8]]) -> String {
        let memory = Arc::new(Mutex::new(Vec::new()));
        let stream = MaskedOutput::new(masker.clone(), Sink::Memory(memory.clone()));
        for write in writes {
            stream.accept(write);
        }
        stream.finish();
        String::from_utf8(memory.lock().unwrap().clone()).unwrap()
    }

    #[test]
    fn each_line_of_a_multi_line_value_is_masked_in_its_json_escaped_form() {
        let m = Masker::default();
        m.register_json(r#""user=\"ops\"\npath=C:\\keys""#);
        let out = m.mask(br#"{"a":"user=\"ops\"","b":"path=C:\\keys"}"#);
        assert_eq!(String::from_utf8(out).unwrap(), r#"{"a":"***","b":"***"}"#);
    }

    #[test]
    fn a_value_split_across_writes_is_masked() {
        let m = Masker::default();
        m.register_json(r#""correct-horse""#);
        let out = output_of(&m, &[b"pw=corr", b"ect-ho", b"rse\n"]);
        assert_eq!(out, "pw=***\n");
    }

    #[test]
    fn a_long_line_is_passed_on_early_without_cutting_through_a_secret() {
        let m = Masker::default();
        m.register_json(r#""correct-horse-battery""#);
        m.register_json(r#""tiny-but-long-enough""#);
        let secret = "correct-horse-battery";
        // Every offset of the secret around the point where the buffer is passed on early.
        for shift in 0..secret.len() + 2 {
            let filler = "x".repeat(MAX_PENDING - shift);
            let out = output_of(&m, &[filler.as_bytes(), secret.as_bytes(), b"tail"]);
            assert!(
                !out.contains("horse"),
                "shift {shift}: a piece of the secret shows"
            );
            assert_eq!(out, format!("{filler}***tail"), "shift {shift}");
        }
    }

    #[test]
    fn a_long_line_repeating_a_self_overlapping_secret_keeps_memory_bounded() {
        let m = Masker::default();
        m.register_json(r#""aaaa""#);
        let memory = Arc::new(Mutex::new(Vec::new()));
        let stream = MaskedOutput::new(m, Sink::Memory(memory.clone()));
        let run = "a".repeat(MAX_PENDING / 4);
        for _ in 0..12 {
            stream.accept(run.as_bytes());
        }
        assert!(stream.pending.lock().unwrap().len() <= MAX_PENDING);
        let out = String::from_utf8(memory.lock().unwrap().clone()).unwrap();
        assert!(!out.is_empty(), "output was passed on");
        assert!(!out.contains("aaaa"), "no whole secret shows");
    }
}
