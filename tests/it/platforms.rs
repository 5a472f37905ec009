//! Platform sources end to end: filled in by the platform work.
