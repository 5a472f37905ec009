//! The settings in force in a running service. The scheduler replaces them
//! as a whole when SIGHUP brings a valid config; the HTTP endpoint and each
//! crawl read a consistent snapshot.

use crate::config::Settings;
use std::sync::{Arc, RwLock};

/// A shared, replaceable `Settings`; cheap to clone.
#[derive(Clone)]
pub struct LiveSettings(Arc<RwLock<Arc<Settings>>>);

impl LiveSettings {
    pub fn new(settings: Settings) -> LiveSettings {
        LiveSettings(Arc::new(RwLock::new(Arc::new(settings))))
    }

    /// The settings in force now.
    pub fn current(&self) -> Arc<Settings> {
        Arc::clone(&self.0.read().unwrap_or_else(|p| p.into_inner()))
    }

    /// Puts `settings` in force for every later reader.
    pub fn replace(&self, settings: Arc<Settings>) {
        *self.0.write().unwrap_or_else(|p| p.into_inner()) = settings;
    }
}
