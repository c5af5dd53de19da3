//! [`Ticker`]: the thread that advances an engine's epoch.

use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

use wasmtime::Engine;

use crate::error::HostError;

/// The thread that advances the engine's epoch, which is how deadlines interrupt
/// wasm code. Dropping it stops the thread.
pub(crate) struct Ticker {
    stop: Option<mpsc::Sender<()>>,
    handle: Option<JoinHandle<()>>,
}

impl Ticker {
    /// Starts the thread: it advances `engine`'s epoch every `tick` until dropped.
    pub(crate) fn start(engine: Engine, tick: Duration) -> Result<Ticker, HostError> {
        let (stop, stopped) = mpsc::channel::<()>();
        let handle = std::thread::Builder::new()
            .name("otai-plugin-host-epoch".into())
            .spawn(move || {
                // Ends when the host drops the sender.
                while let Err(mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(tick) {
                    engine.increment_epoch();
                }
            })
            .map_err(HostError::Thread)?;
        Ok(Ticker {
            stop: Some(stop),
            handle: Some(handle),
        })
    }
}

impl Drop for Ticker {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(handle) = self.handle.take() {
            let _ = handle.join();
        }
    }
}
