//! Concurrent reads of one job share storage reads, without ever answering from the past.
//!
//! While a storage read of a job is in flight, further GETs of that job wait, and one new
//! read serves them all when the current one ends. Every GET is therefore answered by a read
//! that began after the GET arrived: as fresh as reading alone, while N concurrent readers
//! cost Vault about one read per round trip instead of N.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};

use tokio::sync::oneshot;
use vdk_secrets::JobRef;

use super::{StoreError, Stored};

type Outcome = Result<Arc<Stored>, StoreError>;

/// Per-job queues of readers waiting for the next storage read.
#[derive(Default)]
pub struct ReadBatcher {
    jobs: Mutex<HashMap<JobRef, Vec<oneshot::Sender<Outcome>>>>,
}

impl ReadBatcher {
    /// The result of a storage read of `job` that starts after this call; `read` performs one.
    pub async fn read<F, Fut>(self: &Arc<Self>, job: &JobRef, read: F) -> Outcome
    where
        F: Fn() -> Fut + Send + 'static,
        Fut: Future<Output = Result<Stored, StoreError>> + Send,
    {
        let (sender, receiver) = oneshot::channel();
        let lead = {
            let mut jobs = self.jobs.lock().unwrap_or_else(|p| p.into_inner());
            match jobs.get_mut(job) {
                // A reader task is running: join the queue for its next round.
                Some(queue) => {
                    queue.push(sender);
                    None
                }
                None => {
                    jobs.insert(job.clone(), Vec::new());
                    Some(sender)
                }
            }
        };
        if let Some(first) = lead {
            let batcher = self.clone();
            let job = job.clone();
            tokio::spawn(async move { batcher.serve_rounds(job, first, read).await });
        }
        receiver.await.unwrap_or_else(|_| {
            Err(StoreError::Unavailable(
                "the storage read was cancelled".into(),
            ))
        })
    }

    /// Reads for the current round, answers it, and goes on while readers queued meanwhile.
    async fn serve_rounds<F, Fut>(&self, job: JobRef, first: oneshot::Sender<Outcome>, read: F)
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Result<Stored, StoreError>>,
    {
        let mut round = vec![first];
        loop {
            let outcome = read().await.map(Arc::new);
            for reader in round {
                let _ = reader.send(outcome.clone());
            }
            let mut jobs = self.jobs.lock().unwrap_or_else(|p| p.into_inner());
            let queued = jobs.get_mut(&job).map(std::mem::take).unwrap_or_default();
            if queued.is_empty() {
                jobs.remove(&job);
                return;
            }
            round = queued;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::time::Duration;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_readers_share_rounds_and_each_sees_a_read_begun_after_it_arrived() {
        let batcher = Arc::new(ReadBatcher::default());
        let job = JobRef::new("t", "j").unwrap();
        // Each storage read returns the number of reads begun before it, as its version.
        let started = Arc::new(AtomicU64::new(0));
        let read = {
            let started = started.clone();
            move || {
                let started = started.clone();
                async move {
                    let n = started.fetch_add(1, Ordering::SeqCst) + 1;
                    tokio::time::sleep(Duration::from_millis(30)).await;
                    Ok(Stored::empty(n))
                }
            }
        };
        let mut readers = Vec::new();
        for _ in 0..20 {
            let (batcher, job, read) = (batcher.clone(), job.clone(), read.clone());
            let reads_begun_at_arrival = started.load(Ordering::SeqCst);
            readers.push(tokio::spawn(async move {
                let stored = batcher.read(&job, read).await.unwrap();
                (reads_begun_at_arrival, stored.version)
            }));
            tokio::time::sleep(Duration::from_millis(3)).await;
        }
        for reader in readers {
            let (begun_at_arrival, served_by) = reader.await.unwrap();
            assert!(
                served_by > begun_at_arrival,
                "served by a read that began after arrival"
            );
        }
        let reads = started.load(Ordering::SeqCst);
        assert!(
            reads < 10,
            "20 readers should share rounds, saw {reads} reads"
        );
        assert!(batcher.jobs.lock().unwrap().is_empty());
    }

    #[tokio::test]
    async fn errors_reach_every_reader_of_the_round() {
        let batcher = Arc::new(ReadBatcher::default());
        let job = JobRef::new("t", "j").unwrap();
        let read = || async { Err(StoreError::Unavailable("down".into())) };
        assert_eq!(
            batcher.read(&job, read).await.unwrap_err(),
            StoreError::Unavailable("down".into())
        );
    }
}
