//! A one-value channel whose receiver is a future: how wgpu's callbacks (a mapped buffer, work
//! done on the queue) reach async code. Natively the device is polled until the callback has
//! run, so the future is ready when first polled; in the browser the callback runs when the
//! WebGPU promise resolves, and the future wakes its task then.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

struct Slot<T> {
    value: Option<T>,
    /// The sender is gone: no value will come (wgpu dropped the callback without calling it).
    closed: bool,
    waker: Option<Waker>,
}

/// The sending half: called once from a wgpu callback.
pub struct Sender<T>(Arc<Mutex<Slot<T>>>);

/// The receiving half: resolves to the value, or to `Err(Closed)` when the sender was dropped
/// without sending.
pub struct Receiver<T>(Arc<Mutex<Slot<T>>>);

/// The callback was dropped without being called (the device was lost or destroyed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Closed;

/// A new channel.
pub fn channel<T>() -> (Sender<T>, Receiver<T>) {
    let slot = Arc::new(Mutex::new(Slot {
        value: None,
        closed: false,
        waker: None,
    }));
    (Sender(slot.clone()), Receiver(slot))
}

fn lock<T>(slot: &Mutex<Slot<T>>) -> std::sync::MutexGuard<'_, Slot<T>> {
    // A panic while holding this lock leaves a plain Option behind: still consistent.
    slot.lock().unwrap_or_else(|e| e.into_inner())
}

impl<T> Sender<T> {
    /// Delivers `value` and wakes the receiver.
    pub fn send(self, value: T) {
        let waker = {
            let mut slot = lock(&self.0);
            slot.value = Some(value);
            slot.waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let waker = {
            let mut slot = lock(&self.0);
            slot.closed = true;
            slot.waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

impl<T> Future for Receiver<T> {
    type Output = Result<T, Closed>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut slot = lock(&self.0);
        if let Some(value) = slot.value.take() {
            return Poll::Ready(Ok(value));
        }
        if slot.closed {
            return Poll::Ready(Err(Closed));
        }
        slot.waker = Some(cx.waker().clone());
        Poll::Pending
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sent_value_arrives() {
        let (tx, rx) = channel();
        tx.send(7u32);
        assert_eq!(pollster::block_on(rx), Ok(7));
    }

    #[test]
    fn a_dropped_sender_closes_the_channel() {
        let (tx, rx) = channel::<u32>();
        drop(tx);
        assert_eq!(pollster::block_on(rx), Err(Closed));
    }

    #[test]
    fn a_value_sent_from_another_thread_wakes_the_receiver() {
        let (tx, rx) = channel();
        let sender = std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(20));
            tx.send("mapped");
        });
        assert_eq!(pollster::block_on(rx), Ok("mapped"));
        sender.join().expect("sender thread");
    }
}
