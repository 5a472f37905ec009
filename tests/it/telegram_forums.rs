//! Placeholder: written by the platform work.
