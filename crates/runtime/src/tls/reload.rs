//! Settings built from the TLS files and rebuilt when the files change. Checking is lazy: the
//! next handshake after the interval has passed reads the files again (a few kilobytes), so no
//! background task is needed and an idle service does no work. New connections get the new
//! settings; established ones keep theirs.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::error::TlsError;
use super::material::{Material, TlsFiles};

/// Builds the settings from the files' contents.
pub(crate) type Build<T> = fn(&Material, &TlsFiles) -> Result<T, TlsError>;

/// The current settings of type `T` and what they were built from.
pub(crate) struct Reloading<T> {
    files: TlsFiles,
    interval: Duration,
    build: Build<T>,
    state: Mutex<State<T>>,
}

struct State<T> {
    checked: Instant,
    material: Material,
    current: Arc<T>,
}

impl<T> Reloading<T> {
    /// Reads and builds once; an error here is a start-up error.
    pub(crate) fn load(
        files: TlsFiles,
        interval: Duration,
        build: Build<T>,
    ) -> Result<Self, TlsError> {
        let material = Material::read(&files)?;
        let current = Arc::new(build(&material, &files)?);
        Ok(Self {
            files,
            interval,
            build,
            state: Mutex::new(State {
                checked: Instant::now(),
                material,
                current,
            }),
        })
    }

    /// The settings for a new connection, reloaded first when the interval has passed and the
    /// files changed. A change that does not build keeps the last good settings.
    pub(crate) fn current(&self) -> Arc<T> {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if state.checked.elapsed() >= self.interval {
            state.checked = Instant::now();
            self.refresh(&mut state);
        }
        Arc::clone(&state.current)
    }

    fn refresh(&self, state: &mut State<T>) {
        let Some(material) = self.read_if_changed(&state.material) else {
            return;
        };
        match (self.build)(&material, &self.files) {
            Ok(built) => {
                state.current = Arc::new(built);
                state.material = material;
                tracing::info!(cert = %self.files.cert.display(), "TLS certificate reloaded");
            }
            Err(error) => {
                tracing::warn!(%error, "changed TLS files do not load; keeping the loaded certificate");
            }
        }
    }

    /// The files' contents when they differ from `loaded`.
    fn read_if_changed(&self, loaded: &Material) -> Option<Material> {
        match Material::read(&self.files) {
            Ok(material) if material == *loaded => None,
            Ok(material) => Some(material),
            Err(error) => {
                tracing::warn!(%error, "TLS files unreadable; keeping the loaded certificate");
                None
            }
        }
    }
}
