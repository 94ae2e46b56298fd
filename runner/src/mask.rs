//! Masking secret values in a job's output: the core's rules ([`vdk_secrets::mask`]) applied
//! to the job's stdout and stderr streams.
//!
//! Every value the job obtained is registered with one [`SharedMasker`]. Output is passed on
//! a line at a time, so a value split across several writes is still recognised; a partial
//! line longer than [`MAX_PENDING`] is passed on early, cut where no value is cut in two.

use std::io::Write;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};

use vdk_secrets::mask::Masker;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::pipe::AsyncWriteStream;

/// A partial line longer than this is passed on early (masked, keeping a tail that could
/// still be the start of a secret), so that output without newlines cannot grow unbounded.
const MAX_PENDING: usize = 64 * 1024;

/// The values to hide, shared by the job's store, stdout and stderr.
#[derive(Clone, Default)]
pub struct SharedMasker(Arc<Mutex<Masker>>);

impl SharedMasker {
    fn lock(&self) -> MutexGuard<'_, Masker> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Registers a value the job obtained, given as JSON text.
    pub fn register_json(&self, json: &str) {
        self.lock().add_json(json);
    }

    /// `bytes` with every registered value hidden.
    pub fn mask(&self, bytes: &[u8]) -> Vec<u8> {
        self.lock().mask_bytes(bytes)
    }

    fn safe_cut(&self, buffer: &[u8]) -> Option<usize> {
        self.lock().safe_cut(buffer)
    }
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
    masker: SharedMasker,
    sink: Sink,
    pending: Arc<Mutex<Vec<u8>>>,
}

impl MaskedOutput {
    pub fn new(masker: SharedMasker, sink: Sink) -> Self {
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

    fn masker(values: &[&str]) -> SharedMasker {
        let m = SharedMasker::default();
        for v in values {
            m.register_json(v);
        }
        m
    }

    /// What a job's writes come out as, through one masked stream.
    fn output_of(masker: &SharedMasker, writes: &[&[u8]]) -> String {
        let memory = Arc::new(Mutex::new(Vec::new()));
        let stream = MaskedOutput::new(masker.clone(), Sink::Memory(memory.clone()));
        for write in writes {
            stream.accept(write);
        }
        stream.finish();
        String::from_utf8(memory.lock().unwrap().clone()).unwrap()
    }

    #[test]
    fn a_value_split_across_writes_is_masked() {
        let m = masker(&[r#""correct-horse""#]);
        let out = output_of(&m, &[b"pw=corr", b"ect-ho", b"rse\n"]);
        assert_eq!(out, "pw=***\n");
    }

    #[test]
    fn a_value_written_one_character_at_a_time_is_masked() {
        let m = masker(&[r#""correct-horse""#]);
        let writes: Vec<&[u8]> = b"pw=correct-horse!\n".chunks(1).collect();
        assert_eq!(output_of(&m, &writes), "pw=***!\n");
    }

    #[test]
    fn a_long_line_is_passed_on_early_without_cutting_through_a_secret() {
        let m = masker(&[r#""correct-horse-battery""#, r#""tiny-but-long-enough""#]);
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
        let m = masker(&[r#""aaaa""#]);
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
